import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../cli/precog';
import { progressReporter } from '../../cli/commands/backtest';

async function precog(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {} };
  const code = await runCli(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('precog backtest: usage errors, all at once, before anything starts (exit 2)', () => {
  it('names every bad argument', async () => {
    const r = await precog(['backtest', '--strategy', 'quarter_live', '--model', 'nfl_matrix@1', '--balance', '-5', '--seed', 'x',
      '--source', 'mysql://x', '--from', 'yesterday', '--latency-ms', '1.5']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: invalid backtest arguments');
    expect(r.err).toContain('--strategy: expected NAME@VERSION (e.g. quarter_live@v1.1), got "quarter_live"');
    expect(r.err).toContain('--model: expected NAME@VERSION (e.g. quarter_live@v1.1), got "nfl_matrix@1"');
    expect(r.err).toContain('--source: expected a postgres:// URL');
    expect(r.err).toContain('--source needs --to (ISO instant)');
    expect(r.err).toContain('--from: expected an ISO instant (2026-09-13T17:00:00Z), got "yesterday"');
    expect(r.err).toContain('--balance: expected positive dollars with at most 4 decimals (e.g. 2000), got "-5"');
    expect(r.err).toContain('--seed: expected a whole number (0 to 999999999), got "x"');
    expect(r.err).toContain('--latency-ms: expected whole milliseconds, got "1.5"');
  });

  it('needs a source, and one only; --json gives the error as JSON', async () => {
    const none = await precog(['backtest', '--strategy', 'a@v1.0', '--balance', '100', '--seed', '1']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('give a source: --tape DIR (repeatable) or --source DATABASE_URL with --from and --to');
    const both = await precog(['backtest', '--strategy', 'a@v1.0', '--balance', '100', '--seed', '1', '--tape', 'x', '--source', 'postgres://h/db',
      '--from', '2026-09-13T17:00:00Z', '--to', '2026-09-13T16:00:00Z', '--json']);
    expect(both.code).toBe(2);
    const error = JSON.parse(both.err) as { error: string; issues: string[] };
    expect(error.issues).toEqual(['--tape and --source: give one source, not both', '--from 2026-09-13T17:00:00Z must be before --to 2026-09-13T16:00:00Z']);
  });

  it('progress: a line per 5 % step off a terminal, the last one final', () => {
    const lines: Array<[string, boolean]> = [];
    const report = progressReporter({ out: () => undefined, env: {}, progress: (text, final) => lines.push([text, final]) }, 'replaying x');
    for (let done = 0; done <= 1000; done += 10) report(done, 1000);
    expect(lines).toHaveLength(21);
    expect(lines[0]).toEqual(['replaying x [....................] 0%', false]);
    expect(lines[10]).toEqual(['replaying x [##########..........] 50%', false]);
    expect(lines.at(-1)).toEqual(['replaying x [####################] 100%', true]);
  });
});

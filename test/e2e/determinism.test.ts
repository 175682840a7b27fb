import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import { runScenarioToEnd, startLocalRun } from '../helpers/localRun';

/**
 * The local runtime is a discrete-event simulation: the same scenario on the same (new) database
 * gives a byte-identical report.json, whatever the pace, the machine's load or an interruption.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const newDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'precog-exact-'));
  dirs.push(d);
  return d;
};
const ok = (run: { code: number | null; output: string }) => expect(run.code, run.output.slice(-3000)).toBe(0);

describe.sequential('exact local runs', () => {
  it('the same scenario twice, and paced: byte-identical report.json', async () => {
    const first = await runScenarioToEnd('comeback', newDir(), createTestDatabase);
    ok(first);
    const second = await runScenarioToEnd('comeback', newDir(), createTestDatabase);
    ok(second);
    // Pacing only waits on the wall between events: 68 game minutes at 300x take ≥ 13.6 s of wall.
    const paced = await runScenarioToEnd('comeback', newDir(), createTestDatabase, ['--pace', '300']);
    ok(paced);
    const report = JSON.parse(first.reportJson);
    expect(report.trades.length).toBeGreaterThan(0);
    expect(second.reportJson).toBe(first.reportJson);
    expect(paced.reportJson).toBe(first.reportJson);
  }, 600_000);

  it('two runs of the default scenario side by side under a CPU hog: the same report.json', async () => {
    // A child busy-looping on a core for the whole test: the runs are slower, not different.
    const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      const [a, b] = await Promise.all([
        runScenarioToEnd('sunday-slate', newDir(), createTestDatabase),
        runScenarioToEnd('sunday-slate', newDir(), createTestDatabase),
      ]);
      ok(a);
      ok(b);
      expect(JSON.parse(a.reportJson).trades.length).toBeGreaterThan(0);
      expect(b.reportJson).toBe(a.reportJson);
    } finally {
      hog.kill('SIGKILL');
    }
  }, 900_000);

  it('interrupted (Ctrl-C) and resumed: the report equals an uninterrupted run\'s (but for `resumed`)', async () => {
    const whole = await runScenarioToEnd('comeback', newDir(), createTestDatabase);
    ok(whole);

    const db = await createTestDatabase();
    try {
      const dir = newDir();
      const args = ['--scenario', 'comeback', '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report')];
      // Paced until the interruption (so that it lands in the third quarter, positions open),
      // then resumed unpaced: neither the pace nor the stop shows in the report.
      const first = startLocalRun([...args, '--pace', '120'], db.url);
      await first.waitFor(/^Q3 12:00 .*open [1-9]/m);
      first.child.kill('SIGINT');
      const stopped = await first.exited;
      expect(stopped.code, first.output().slice(-3000)).toBe(130);
      expect(first.output()).toMatch(/interrupted: finishing the invocations in progress/);
      expect(first.output()).not.toMatch(/^SETTLED/m);

      const second = startLocalRun(args, db.url);
      const { code } = await second.exited;
      expect(code, second.output().slice(-3000)).toBe(0);
      expect(second.output()).toMatch(/resuming comeback/);
      const resumed = JSON.parse(readFileSync(path.join(dir, 'report', 'report.json'), 'utf8'));
      const uninterrupted = JSON.parse(whole.reportJson);
      expect(resumed.resumed).toBe(true);
      expect(uninterrupted.resumed).toBe(false);
      expect(JSON.stringify({ ...resumed, resumed: null }, null, 2)).toBe(JSON.stringify({ ...uninterrupted, resumed: null }, null, 2));
    } finally {
      await db.drop();
    }
  }, 600_000);
});

import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, EXIT_OK, EXIT_USAGE, PRECOG_VERSION } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';

/**
 * Every CLI usage error exits 2 (issue 18, item 11; documented in `precog --help` and
 * docs/cli.md): one bad argument, option or value per command and subcommand, each reported naming
 * the bad thing, before any database is touched: DATABASE_URL points at a closed port, so a
 * command that reached for the database would exit 1 instead.
 */

const NO_DATABASE = 'postgres://nobody@127.0.0.1:1/no_database';
const precog = (...args: string[]) => runPrecog(NO_DATABASE, args);

function leaves(command: Command, path: string[] = []): string[] {
  if (command.commands.length === 0) return [path.join(' ')];
  return command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

const BAD_ENTRY_CONFIG = JSON.stringify({ model: { name: 'nfl_matrix' }, kind: 'overtime', min_edge: '1.5', max_spread: 0.1, surprise: true });

/** [command, a bad invocation, what the message must name]. */
const USAGE_ERRORS: ReadonlyArray<readonly [command: string, args: readonly string[], names: RegExp]> = [
  ['ab', ['ab'], /missing required argument 'strategy'/],
  ['attribution', ['attribution', '--limit', '0'], /option '--limit <n>' argument '0' is invalid\. expected a positive whole number/],
  ['breaker list', ['breaker', 'list', 'open'], /too many arguments for 'list'/],
  ['breaker resolve', ['breaker', 'resolve', 'abc', '--action', 'fixed'], /value 'abc' is invalid for argument 'id'\. expected a positive whole number/],
  ['breaker trip', ['breaker', 'trip', 'bogus', '--reason', 'x'], /value 'bogus' is invalid for argument 'type'\. Allowed choices are manual/],
  ['config get', ['config', 'get', 'exits.stop_los_pct'], /unknown rule "exits\.stop_los_pct"; did you mean exits\.stop_loss_pct/],
  ['config keys', ['config', 'keys', 'sizing'], /too many arguments for 'keys'/],
  ['config list', ['config', 'list', '--expired'], /unknown option '--expired'/],
  ['config set', ['config', 'set', 'exits.stop_loss_pct', '0.5', '--reason', 'r'], /exits\.stop_loss_pct expects a decimal from -1 to 0, got "0\.5"/],
  ['config unset', ['config', 'unset', 'exits.stop_loss_pct', '--reason', ' '], /option '--reason <text>' argument ' ' is invalid\. must not be empty/],
  ['archive export', ['archive', 'export', '--table', 'trades', '--from', '2024-01', '--to', '2024-02', '--dir', '/nonexistent/archive'], /option '--table <table>' argument 'trades' is invalid\. Allowed choices are markets, game_states/],
  ['archive list', ['archive', 'list', 'markets'], /too many arguments for 'list'/],
  ['archive restore', ['archive', 'restore', '--table', 'markets', '--from', '2024-13', '--to', '2024-04', '--dir', '/nonexistent/archive'], /--from <month>' argument '2024-13' is invalid/],
  ['backtest', ['backtest', '--strategy', 'quarter_live', '--balance', '2000', '--seed', '1', '--tape', '/nonexistent/tape'], /--strategy: expected NAME@VERSION/],
  ['db check', ['db', 'check', 'markets'], /too many arguments for 'check'/],
  ['desync list', ['desync', 'list', 'open'], /too many arguments for 'list'/],
  ['desync resolve', ['desync', 'resolve', '0', '--note', 'x'], /value '0' is invalid for argument 'id'\. expected a positive whole number/],
  ['dlq list', ['dlq', 'list', '--queue', 'entries'], /argument 'entries' is invalid\. Allowed choices are entry, exit, all/],
  ['dlq redrive', ['dlq', 'redrive', '--limit', '-1'], /option '--limit <n>' argument '-1' is invalid/],
  ['edges', ['edges', '--action', 'buy'], /argument 'buy' is invalid\. Allowed choices are auto_execute, alert, ignore/],
  ['exits', ['exits', '--status', 'done'], /argument 'done' is invalid\. Allowed choices are active, filled, stopped, superseded, cancelled/],
  ['health', ['health', '--stale-after', '0'], /option '--stale-after <periods>' argument '0' is invalid/],
  ['invoke', ['invoke', 'trade-everything'], /value 'trade-everything' is invalid for argument 'function'\. Allowed choices are archive-partitions, check-health/],
  ['matrix import', ['matrix', 'import', '/nonexistent/matrix.csv'], /cannot read matrix file \/nonexistent\/matrix\.csv: no such file/],
  ['migrate', ['migrate', 'now'], /too many arguments for 'migrate'/],
  ['model activate', ['model', 'activate', 'elo_nfl', '1.0'], /value '1\.0' is invalid for argument 'version'\. expected a version like v1\.0/],
  ['model create', ['model', 'create', 'elo_nfl', 'v1.1', '--type', 'neural', '--config', '{}'], /argument 'neural' is invalid\. Allowed choices are elo, matrix/],
  ['model deprecate', ['model', 'deprecate', 'elo_nfl', 'latest'], /value 'latest' is invalid for argument 'version'/],
  ['model list', ['model', 'list', '--status', 'testing'], /argument 'testing' is invalid\. Allowed choices are draft, training, validating, active, deprecated/],
  ['model status', ['model', 'status', 'elo_nfl', 'v1.0', 'retired'], /value 'retired' is invalid for argument 'status'\. Allowed choices are draft, training, validating, active, deprecated/],
  ['model validate', ['model', 'validate', 'elo_nfl', 'v1.0', '--data', '/nonexistent/states.csv'], /cannot read data file \/nonexistent\/states\.csv: no such file/],
  ['orders', ['orders', '--status', 'open'], /argument 'open' is invalid\. Allowed choices are pending, resting/],
  ['pnl', ['pnl', '--since', 'yesterday'], /option '--since <time>' argument 'yesterday' is invalid/],
  ['positions', ['positions', '--open'], /unknown option '--open'/],
  ['preflight', ['preflight', '--env', 'staging'], /argument 'staging' is invalid\. Allowed choices are demo, production/],
  ['reconcile', ['reconcile', 'now'], /too many arguments for 'reconcile'/],
  ['strategy activate', ['strategy', 'activate', 'halftime_entry', 'v1'], /value 'v1' is invalid for argument 'version'\. expected a version like v1\.0/],
  ['strategy create', ['strategy', 'create', 'halftime_entry', 'v1.2', '--type', 'entry', '--config', BAD_ENTRY_CONFIG],
    /invalid entry strategy halftime_entry v1\.2: 5 problems/],
  ['strategy deprecate', ['strategy', 'deprecate', 'halftime_entry', 'v1.0.0.0'], /value 'v1\.0\.0\.0' is invalid for argument 'version'/],
  ['strategy list', ['strategy', 'list', '--status', 'training'], /argument 'training' is invalid\. Allowed choices are draft, testing, active, inactive, deprecated/],
  ['strategy show', ['strategy', 'show', 'halftime_entry', 'one'], /value 'one' is invalid for argument 'version'\. expected a version like v1\.0/],
  ['strategy status', ['strategy', 'status', 'halftime_entry', 'v1.0', 'paused'], /value 'paused' is invalid for argument 'status'\. Allowed choices are draft, testing, active, inactive, deprecated/],
  ['tape export', ['tape', 'export', '--from', '2026-09-13T21:00:00Z', '--to', '2026-09-13T17:00:00Z', '/nonexistent/tape'], /--from \(2026-09-13T21:00:00\.000Z\) must be before --to/],
  ['tape import', ['tape', 'import', '/nonexistent/tape'], /cannot read tape \/nonexistent\/tape: no such directory/],
  ['tape show', ['tape', 'show', '/nonexistent/tape'], /cannot read tape \/nonexistent\/tape: no such directory/],
  ['trades', ['trades', '--position', 'x'], /option '--position <id>' argument 'x' is invalid/],
];

describe('every CLI usage error exits 2', () => {
  it('the table covers every command and subcommand', () => {
    const program = buildProgram({ out: () => {}, err: () => {}, env: {} });
    expect([...new Set(USAGE_ERRORS.map(([command]) => command))].sort()).toEqual(leaves(program).sort());
  });

  it.each(USAGE_ERRORS.map(([command, args, names]) => [command, args.join(' '), args, names] as const))(
    'precog %s: `%s` exits 2 naming the bad thing',
    async (_command, _text, args, names) => {
      const r = await precog(...args);
      expect(r.code, r.err).toBe(EXIT_USAGE);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^error: /);
      expect(r.err).toMatch(names);
      expect(r.err).toMatch(/\(run with --help for usage\)$/);
      const json = await precog(...args, '--json');
      expect(json.code, json.err).toBe(EXIT_USAGE);
      expect(json.out).toBe('');
      const error = JSON.parse(json.err);
      expect(error).toMatchObject({ error: expect.any(String), code: expect.any(String) });
      expect(`${error.error}\n${(error.issues ?? []).join('\n')}`).toMatch(names);
    },
  );

  it('a strategy config: every invalid field at once, each with what it allows', async () => {
    const r = await precog('strategy', 'create', 'halftime_entry', 'v1.2', '--type', 'entry', '--config', BAD_ENTRY_CONFIG, '--json');
    expect(r.code).toBe(EXIT_USAGE);
    const { issues } = JSON.parse(r.err);
    expect(issues).toEqual([
      expect.stringMatching(/^config\.model\.version: .*\(missing\)$/),
      expect.stringMatching(/^config\.kind: .*"pre_game"\|"halftime"\|"live"\|"settlement".*\(got "overtime"\)$/),
      'config.min_edge: must be between 0 and 1 (got "1.5")',
      'config.max_spread: write decimals as strings, e.g. "0.08" (got 0.1)',
      'config.surprise: unknown field',
    ]);
  });

  it('unknown commands and missing subcommands exit 2; --help and --version exit 0', async () => {
    expect((await precog('frobnicate')).code).toBe(EXIT_USAGE);
    for (const group of ['breaker', 'config', 'desync', 'dlq', 'matrix', 'model', 'strategy']) {
      const r = await precog(group);
      expect(r.code, group).toBe(EXIT_USAGE);
      expect(r.err).toMatch(new RegExp(`^Usage: precog ${group}`));
    }
    const version = await precog('--version');
    expect(version.code).toBe(EXIT_OK);
    expect(version.out).toBe(`precog ${PRECOG_VERSION}`);
    expect(PRECOG_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect((await precog('-V')).out).toBe(version.out);
  });
});

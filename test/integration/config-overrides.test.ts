import { userInfo } from 'node:os';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from '../../cli/precog';
import { OVERRIDABLE_KEYS, resolveTradingRules } from '../../shared/config/overrides';
import { DEFAULT_TRADING_RULES } from '../../shared/config/tradingRules';
import { dec } from '../../shared/domain/decimal';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase();

interface Row {
  key: string;
  /** The JSON text of override_value. */
  value: string;
  dataType?: string | null;
  /** SQL expressions relative to now(), e.g. "now() - interval '1 hour'". */
  appliedAt?: string;
  expiresAt?: string;
  active?: boolean;
}

async function insert(row: Row): Promise<number> {
  const { rows } = await db().pool.query(
    `INSERT INTO config_overrides (config_key, override_value, data_type, reason, applied_by, applied_at, expires_at, active)
     VALUES ($1, $2::jsonb, $3, 'test', 'tester', ${row.appliedAt ?? 'now()'}, ${row.expiresAt ?? 'NULL'}, $4)
     RETURNING override_id`,
    [row.key, row.value, row.dataType === undefined ? 'decimal' : row.dataType, row.active ?? true],
  );
  return rows[0].override_id as number;
}

async function rows() {
  const { rows: all } = await db().pool.query(
    `SELECT override_id, config_key, override_value, data_type, reason, applied_by, applied_at, expires_at, active FROM config_overrides ORDER BY override_id`,
  );
  return all;
}

const precog = (args: string[], env: NodeJS.ProcessEnv = {}) => runPrecog(db().url, args, env);

beforeEach(async () => {
  await db().pool.query('TRUNCATE config_overrides');
});

describe('resolveTradingRules on config_overrides rows', () => {
  it('applies rows over the environment over the defaults; the latest applied_at wins per key', async () => {
    const older = await insert({ key: 'exits.stop_loss_pct', value: '{"value": "-0.12"}', appliedAt: "now() - interval '1 hour'" });
    const latest = await insert({ key: 'exits.stop_loss_pct', value: '{"value": "-0.10"}', appliedAt: "now() - interval '1 minute'" });
    // inserted last but applied earliest: applied_at decides, not the id
    await insert({ key: 'exits.stop_loss_pct', value: '{"value": "-0.20"}', appliedAt: "now() - interval '2 hours'" });
    const env = { PRECOG_RULE__EXITS__STOP_LOSS_PCT: '-0.05', PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS: '7' };
    const { rules, applied, warnings } = await resolveTradingRules(db().pool, env);
    expect(warnings).toEqual([]);
    expect(rules.exits.stopLossPct).toEqual(dec('-0.1'));
    expect(rules.sizing.maxOpenPositions).toBe(7);
    expect(rules.fees).toEqual(DEFAULT_TRADING_RULES.fees);
    expect(applied.find((a) => a.key === 'exits.stop_loss_pct')).toMatchObject({ source: 'override', overrideId: latest, reason: 'test', appliedBy: 'tester' });
    expect(older).not.toBe(latest);
    expect(DEFAULT_TRADING_RULES.exits.stopLossPct).toEqual(dec('-0.15'));
  });

  it('reads every type back exactly, including a decimal stored by hand as a JSON number', async () => {
    await insert({ key: 'fees.taker_rate', value: '{"value": 0.1000000000000000055511151231257827}' });
    await insert({ key: 'exit_execution.high.limit_attempts', value: '{"value": null}', dataType: 'int' });
    await insert({ key: 'circuit_breakers.rapid_loss.liquidate', value: '{"value": false}', dataType: 'bool' });
    await insert({ key: 'default_execution_mode', value: '{"value": "live"}', dataType: 'string' });
    await insert({ key: 'exits.partial_exits', value: '{"value": [{"at_gain_pct": "0.3", "sell_fraction_of_original": "0.4"}]}', dataType: 'json' });
    await insert({ key: 'sizing.max_open_positions', value: '{"value": 12}', dataType: null });
    const { rules, warnings } = await resolveTradingRules(db().pool, {});
    expect(warnings).toEqual([]);
    expect(rules.fees.takerRate.toFixed()).toBe('0.1000000000000000055511151231257827');
    expect(rules.exitExecution.HIGH.limitAttempts).toBeNull();
    expect(rules.circuitBreakers.rapidLoss.liquidate).toBe(false);
    expect(rules.defaultExecutionMode).toBe('live');
    expect(rules.exits.partialExits).toEqual([{ atGainPct: dec('0.3'), sellFractionOfOriginal: dec('0.4') }]);
    expect(rules.sizing.maxOpenPositions).toBe(12);
  });

  it('an expired override stops applying without anyone deleting it', async () => {
    const id = await insert({
      key: 'sizing.max_open_positions', value: '{"value": 3}', dataType: 'int',
      appliedAt: "now() - interval '1 hour'", expiresAt: "now() + interval '1 hour'",
    });
    expect((await resolveTradingRules(db().pool, {})).rules.sizing.maxOpenPositions).toBe(3);
    const later = new Date(Date.now() + 2 * 3_600_000);
    const { rules, applied } = await resolveTradingRules(db().pool, {}, later);
    expect(rules.sizing.maxOpenPositions).toBe(DEFAULT_TRADING_RULES.sizing.maxOpenPositions);
    expect(applied).toEqual([]);
    expect((await rows()).map((r) => [r.override_id, r.active])).toEqual([[id, true]]); // still there, still active
  });

  it('an override stops applying at its expires_at exactly, and the one it overrode comes back', async () => {
    await insert({ key: 'sizing.max_open_positions', value: '{"value": 5}', dataType: 'int', appliedAt: "now() - interval '1 hour'" });
    const id = await insert({ key: 'sizing.max_open_positions', value: '{"value": 2}', dataType: 'int', expiresAt: "date_trunc('milliseconds', now()) + interval '1 minute'" });
    // The read's clock is injected: the instants either side of the stored expiry (whole
    // milliseconds, as a JS Date holds it), no waiting.
    const { rows: [{ expires_at: expiresAt }] } = await db().pool.query('SELECT expires_at FROM config_overrides WHERE override_id = $1', [id]);
    const at = (ms: number) => new Date((expiresAt as Date).getTime() + ms);
    expect((await resolveTradingRules(db().pool, {})).rules.sizing.maxOpenPositions).toBe(2);
    expect((await resolveTradingRules(db().pool, {}, at(-1))).rules.sizing.maxOpenPositions).toBe(2);
    expect((await resolveTradingRules(db().pool, {}, at(0))).rules.sizing.maxOpenPositions).toBe(5);
    expect(await rows()).toHaveLength(2);
  });

  it('ignores deactivated rows', async () => {
    await insert({ key: 'alert_ev', value: '{"value": "0.3"}', active: false });
    await insert({ key: 'alert_ev', value: '{"value": "0.2"}', appliedAt: "now() - interval '1 day'" });
    const { rules } = await resolveTradingRules(db().pool, {});
    expect(rules.alertEv).toEqual(dec('0.2'));
  });

  it('skips a stored row that no longer validates and reports it; an older valid row of the key still applies', async () => {
    const removed = await insert({ key: 'exits.removed_in_v2', value: '{"value": "0.1"}' });
    await insert({ key: 'sizing.kelly_fraction', value: '{"value": "0.2"}', appliedAt: "now() - interval '1 day'" });
    const outOfRange = await insert({ key: 'sizing.kelly_fraction', value: '{"value": "3"}' });
    const wrongType = await insert({ key: 'sizing.max_open_positions', value: '{"value": 4}', dataType: 'float' });
    const unwrapped = await insert({ key: 'alert_ev', value: '"0.1"' });
    const { rules, applied, warnings } = await resolveTradingRules(db().pool, {});
    expect(rules.sizing.kellyFraction).toEqual(dec('0.2'));
    expect(rules.sizing.maxOpenPositions).toBe(DEFAULT_TRADING_RULES.sizing.maxOpenPositions);
    expect(rules.alertEv).toEqual(DEFAULT_TRADING_RULES.alertEv);
    expect(applied.map((a) => a.key)).toEqual(['sizing.kelly_fraction']);
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`^config_overrides #${removed} \\(exits\\.removed_in_v2\\) skipped: unknown rule "exits\\.removed_in_v2"`)),
      expect.stringMatching(new RegExp(`^config_overrides #${outOfRange} \\(sizing\\.kelly_fraction\\) skipped: sizing\\.kelly_fraction expects a decimal from 0 to 1, got "3"`)),
      expect.stringMatching(new RegExp(`^config_overrides #${wrongType} \\(sizing\\.max_open_positions\\) skipped: stored as float, but sizing\\.max_open_positions is int`)),
      expect.stringMatching(new RegExp(`^config_overrides #${unwrapped} \\(alert_ev\\) skipped: override_value must be \\{"value": …\\}`)),
    ]);
  });
});

describe('precog config', () => {
  it('set validates, inserts a row and prints what changed and the value in effect', async () => {
    const set = await precog(['config', 'set', 'exits.stop_loss_pct', '-0.10', '--reason', 'tighter stops for the playoffs', '--by', 'alice']);
    expect(set.err).toBe('');
    expect(set.code).toBe(EXIT_OK);
    const [row] = await rows();
    expect(row).toMatchObject({
      config_key: 'exits.stop_loss_pct', override_value: { value: '-0.1' }, data_type: 'decimal',
      reason: 'tighter stops for the playoffs', applied_by: 'alice', expires_at: null, active: true,
    });
    expect(set.out).toContain(`exits.stop_loss_pct: -0.15 (default) → -0.1 (override #${row.override_id})`);
    expect(set.out).toMatch(/by alice, no expiry; reason: tighter stops for the playoffs/);
    expect((await resolveTradingRules(db().pool, {})).rules.exits.stopLossPct).toEqual(dec('-0.1'));

    const again = await precog(['config', 'set', 'exits.stop_loss_pct', '-0.08', '--reason', 'even tighter', '--json']);
    expect(again.code).toBe(EXIT_OK);
    const json = JSON.parse(again.out);
    expect(json).toMatchObject({
      key: 'exits.stop_loss_pct', dataType: 'decimal', value: '-0.08',
      previous: { value: '-0.1', source: 'override', overrideId: row.override_id },
      effective: { value: '-0.08', source: 'override', overrideId: json.override.id },
      override: { reason: 'even tighter', appliedBy: userInfo().username, expiresAt: null },
      warnings: [],
    });
  });

  it('set takes --expires or --expires-in (not both); other types; env values show as the previous layer', async () => {
    const at = await precog(['config', 'set', 'sizing.max_open_positions', '4', '--reason', 'r', '--expires', '2099-12-01T00:00:00Z', '--json']);
    expect(at.code).toBe(EXIT_OK);
    expect(JSON.parse(at.out).override.expiresAt).toBe('2099-12-01T00:00:00.000Z');
    const before = Date.now();
    const inTwoHours = await precog(['config', 'set', 'circuit_breakers.daily_loss.liquidate', 'false', '--reason', 'r', '--expires-in', '2h', '--json']);
    expect(inTwoHours.code).toBe(EXIT_OK);
    const expiresAt = Date.parse(JSON.parse(inTwoHours.out).override.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1_000);
    expect(expiresAt - before).toBeLessThan(2 * 3_600_000 + 60_000);

    const env = { PRECOG_RULE__DEFAULT_EXECUTION_MODE: 'live' };
    const mode = await precog(['config', 'set', 'default_execution_mode', 'paper', '--reason', 'back to paper', '--json'], env);
    expect(JSON.parse(mode.out).previous).toEqual({ value: 'live', source: 'env', variable: 'PRECOG_RULE__DEFAULT_EXECUTION_MODE' });
    const tranches = '[{"at_gain_pct": "0.2", "sell_fraction_of_original": "0.5"}]';
    expect((await precog(['config', 'set', 'exits.partial_exits', tranches, '--reason', 'one tranche'])).code).toBe(EXIT_OK);
    const stored = (await rows()).map((r) => [r.config_key, r.data_type, r.override_value]);
    expect(stored).toEqual([
      ['sizing.max_open_positions', 'int', { value: 4 }],
      ['circuit_breakers.daily_loss.liquidate', 'bool', { value: false }],
      ['default_execution_mode', 'string', { value: 'paper' }],
      ['exits.partial_exits', 'json', { value: [{ at_gain_pct: '0.2', sell_fraction_of_original: '0.5' }] }],
    ]);
  });

  it('set refuses an unknown key or a wrong value as a usage error (exit 2), a broken environment with exit 1, writing nothing', async () => {
    const unknown = await precog(['config', 'set', 'exits.stop_los_pct', '-0.1', '--reason', 'r']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/unknown rule "exits\.stop_los_pct"; did you mean exits\.stop_loss_pct\?/);
    const wrong = await precog(['config', 'set', 'exits.stop_loss_pct', 'abc', '--reason', 'r']);
    expect(wrong.code).toBe(EXIT_USAGE);
    expect(wrong.err).toBe('error: exits.stop_loss_pct expects a decimal like -0.15, got "abc"\n(run with --help for usage)');
    const range = await precog(['config', 'set', 'monitor.interval_seconds', '0', '--reason', 'r', '--json']);
    expect(range.code).toBe(EXIT_USAGE);
    expect(JSON.parse(range.err)).toEqual({ error: 'monitor.interval_seconds expects a positive whole number, got "0"', code: 'precog.invalidValue' });
    const brokenEnv = await precog(['config', 'set', 'alert_ev', '0.1', '--reason', 'r'], { PRECOG_RULE__ALERT_EV: 'x' });
    expect(brokenEnv.code).toBe(EXIT_FAILURE);
    expect(brokenEnv.err).toMatch(/PRECOG_RULE__ALERT_EV/);

    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1'])).code).toBe(EXIT_USAGE); // no --reason
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', '  '])).code).toBe(EXIT_USAGE);
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '--reason', 'r'])).code).toBe(EXIT_USAGE); // no value
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', 'r', '--expires', '2020-01-01T00:00:00Z'])).code).toBe(EXIT_USAGE);
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', 'r', '--expires', 'tomorrow'])).code).toBe(EXIT_USAGE);
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', 'r', '--expires', '2099-02-31'])).code).toBe(EXIT_USAGE);
    expect((await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', 'r', '--expires-in', 'soon'])).code).toBe(EXIT_USAGE);
    const both = await precog(['config', 'set', 'exits.stop_loss_pct', '-0.1', '--reason', 'r', '--expires', '2099-01-01', '--expires-in', '2h']);
    expect(both.code).toBe(EXIT_USAGE);
    expect(both.err).toMatch(/cannot be used with/);
    expect(await rows()).toEqual([]);
  });

  it('get shows the value in effect and where it comes from', async () => {
    const byDefault = await precog(['config', 'get', 'exit_execution.high.wait_seconds']);
    expect(byDefault.code).toBe(EXIT_OK);
    expect(byDefault.out).toMatch(/^exit_execution\.high\.wait_seconds = 10\n {2}source: default\n {2}default: 10\n {2}type: int, a positive whole number$/);

    const env = { PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS: '15' };
    const fromEnv = JSON.parse((await precog(['config', 'get', 'exit_execution.high.wait_seconds', '--json'], env)).out);
    expect(fromEnv).toMatchObject({ value: 15, source: 'env', variable: 'PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS', default: 10 });

    await precog(['config', 'set', 'exit_execution.high.wait_seconds', '20', '--reason', 'slow venue', '--by', 'bob', '--expires', '2099-01-01']);
    const text = await precog(['config', 'get', 'exit_execution.high.wait_seconds'], env);
    expect(text.out).toMatch(/= 20\n {2}source: override #\d+ by bob at .*, expires 2099-01-01T00:00:00\.000Z; reason: slow venue\n {2}environment: PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS=15 \(overridden\)/);
    const json = JSON.parse((await precog(['config', 'get', 'exit_execution.high.wait_seconds', '--json'], env)).out);
    expect(json).toMatchObject({
      key: 'exit_execution.high.wait_seconds', dataType: 'int', value: 20, source: 'override', default: 10,
      override: { reason: 'slow venue', appliedBy: 'bob', expiresAt: '2099-01-01T00:00:00.000Z' },
      env: { variable: 'PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS', value: 15 },
    });
    expect(json.overrideId).toBe(json.override.id);

    const unknown = await precog(['config', 'get', 'exit_execution.hihg.wait_seconds']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/did you mean exit_execution\.high\.wait_seconds/);
  });

  it('list shows overrides in force (with --all also expired and deactivated), newest applied first, with their status', async () => {
    const superseded = await insert({ key: 'alert_ev', value: '{"value": "0.1"}', appliedAt: "now() - interval '2 hours'" });
    const inEffect = await insert({ key: 'alert_ev', value: '{"value": "0.12"}', appliedAt: "now() - interval '1 hour'" });
    const expired = await insert({ key: 'sizing.kelly_fraction', value: '{"value": "0.2"}', appliedAt: "now() - interval '2 hours'", expiresAt: "now() - interval '1 hour'" });
    const inactive = await insert({ key: 'fees.taker_rate', value: '{"value": "0.05"}', active: false });
    const invalid = await insert({ key: 'exits.gone', value: '{"value": "1"}' });

    const list = JSON.parse((await precog(['config', 'list', '--json'])).out);
    expect(list.map((r: { id: number; status: string }) => [r.id, r.status])).toEqual([
      [invalid, 'invalid'], [inEffect, 'in_effect'], [superseded, 'superseded'],
    ]);
    expect(list[1]).toMatchObject({ key: 'alert_ev', value: '0.12', dataType: 'decimal', reason: 'test', appliedBy: 'tester', active: true });
    expect(list[0].problem).toMatch(/unknown rule/);
    const all = JSON.parse((await precog(['config', 'list', '--all', '--json'])).out);
    expect(all.map((r: { id: number; status: string }) => [r.id, r.status])).toEqual([
      [invalid, 'invalid'], [inactive, 'inactive'], [inEffect, 'in_effect'], [expired, 'expired'], [superseded, 'superseded'],
    ]);
    const text = await precog(['config', 'list']);
    expect(text.code).toBe(EXIT_OK);
    expect(text.out).toContain(`#${inEffect} alert_ev = 0.12 [in effect] by tester at`);
    await db().pool.query('TRUNCATE config_overrides');
    expect((await precog(['config', 'list'])).out).toMatch(/^no overrides in force/);
  });

  it('keys lists every overridable key with its type and default', async () => {
    const keys = await precog(['config', 'keys', '--json']);
    expect(keys.code).toBe(EXIT_OK);
    const listed = JSON.parse(keys.out);
    expect(listed.map((k: { key: string }) => k.key)).toEqual(OVERRIDABLE_KEYS.map((k) => k.key));
    expect(listed.find((k: { key: string }) => k.key === 'exits.stop_loss_pct')).toEqual({
      key: 'exits.stop_loss_pct', dataType: 'decimal', default: '-0.15', expects: 'a decimal from -1 to 0', envVar: 'PRECOG_RULE__EXITS__STOP_LOSS_PCT',
    });
    expect(listed.find((k: { key: string }) => k.key === 'default_execution_mode')).toMatchObject({ dataType: 'string', default: 'paper', allowed: ['paper', 'live'] });
    const text = await precog(['config', 'keys']);
    expect(text.out).toMatch(/exit_execution\.high\.wait_seconds\s+int\s+10\s+\(a positive whole number\)/);
  });

  it('unset deactivates the key\'s overrides in force and keeps the rows', async () => {
    await precog(['config', 'set', 'sizing.max_open_positions', '4', '--reason', 'first', '--by', 'alice']);
    await precog(['config', 'set', 'sizing.max_open_positions', '5', '--reason', 'second', '--by', 'alice']);
    const env = { PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS: '8' };
    const unset = await precog(['config', 'unset', 'sizing.max_open_positions', '--reason', 'season over', '--by', 'carol'], env);
    expect(unset.code).toBe(EXIT_OK);
    const kept = await rows();
    expect(kept).toHaveLength(2);
    expect(kept.map((r) => r.active)).toEqual([false, false]);
    expect(kept[1].reason).toMatch(/^second \[unset by carol at \d{4}-\d\d-\d\dT[\d:.]+Z: season over\]$/);
    expect(unset.out).toBe(`sizing.max_open_positions: deactivated overrides #${kept[0].override_id}, #${kept[1].override_id}\n  in effect: 8 (environment PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS)`);
    expect((await resolveTradingRules(db().pool, {})).rules.sizing.maxOpenPositions).toBe(DEFAULT_TRADING_RULES.sizing.maxOpenPositions);
    const status = JSON.parse((await precog(['config', 'list', '--all', '--json'])).out);
    expect(status.map((r: { status: string }) => r.status)).toEqual(['inactive', 'inactive']);

    const nothing = await precog(['config', 'unset', 'sizing.max_open_positions', '--reason', 'again', '--json']);
    expect(nothing.code).toBe(EXIT_OK);
    expect(JSON.parse(nothing.out)).toEqual({ key: 'sizing.max_open_positions', deactivated: [], effective: { value: 10, source: 'default' } });

    expect((await precog(['config', 'unset', 'sizing.max_open_positions'])).code).toBe(EXIT_USAGE); // no --reason
    const unknown = await precog(['config', 'unset', 'sizing.max_open_position', '--reason', 'r']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/did you mean sizing\.max_open_positions/);
  });

  it('unset also clears rows of a key no longer known (left over from an earlier release)', async () => {
    const stale = await insert({ key: 'exits.gone', value: '{"value": "1"}' });
    const unset = await precog(['config', 'unset', 'exits.gone', '--reason', 'cleanup', '--json']);
    expect(unset.code).toBe(EXIT_OK);
    expect(JSON.parse(unset.out)).toEqual({ key: 'exits.gone', deactivated: [stale] });
    expect((await resolveTradingRules(db().pool, {})).warnings).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config/environment';
import {
  OVERRIDABLE_KEYS,
  REGISTRY_PROBLEMS,
  UnknownRuleError,
  applyOverrides,
  environmentOverrides,
  formatRuleValue,
  keyFromEnvVar,
  keySegment,
  overridableKey,
  parseOverride,
  resolveTradingRules,
  ruleEnvVar,
  ruleValue,
  suggestKeys,
} from '../../shared/config/overrides';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import type { Queryable } from '../../shared/db/transaction';
import { Decimal, dec } from '../../shared/domain/decimal';

/** Every leaf of the defaults, walked independently of the registry: [property path, value]. */
function leaves(node: unknown, path: string[] = []): Array<[string[], unknown]> {
  if (node !== null && typeof node === 'object' && !Array.isArray(node) && !Decimal.isDecimal(node)) {
    return Object.entries(node).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, node]];
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const value = (key: string, raw: string) => parseOverride(key, raw).value;

describe('the registry of overridable keys', () => {
  it('covers every leaf of DEFAULT_TRADING_RULES, one key per leaf, with no problems', () => {
    expect(REGISTRY_PROBLEMS).toEqual([]);
    const paths = leaves(DEFAULT_TRADING_RULES).map(([path]) => path.join('.'));
    expect(OVERRIDABLE_KEYS.map((k) => k.path.join('.'))).toEqual(paths);
    expect(new Set(OVERRIDABLE_KEYS.map((k) => k.key)).size).toBe(OVERRIDABLE_KEYS.length);
    for (const k of OVERRIDABLE_KEYS) {
      expect(k.key).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/); // the config_overrides.config_key CHECK
      expect(k.key).toBe(k.path.map(keySegment).join('.'));
    }
  });

  it('names keys in dotted snake_case mirroring the object path', () => {
    expect(keySegment('stopLossPct')).toBe('stop_loss_pct');
    expect(keySegment('maxCiWidthExclusive')).toBe('max_ci_width_exclusive');
    expect(keySegment('HIGH')).toBe('high');
    expect(keySegment('pre_game')).toBe('pre_game');
    const byKey = new Map(OVERRIDABLE_KEYS.map((k) => [k.key, k]));
    expect(byKey.get('exits.stop_loss_pct')?.path).toEqual(['exits', 'stopLossPct']);
    expect(byKey.get('circuit_breakers.daily_loss.max_loss_usd')?.path).toEqual(['circuitBreakers', 'dailyLoss', 'maxLossUsd']);
    expect(byKey.get('exit_execution.high.wait_seconds')?.path).toEqual(['exitExecution', 'HIGH', 'waitSeconds']);
    expect(byKey.get('min_edge_by_kind.halftime')?.path).toEqual(['minEdgeByKind', 'halftime']);
    expect(byKey.get('auto_execute_ev_by_sport.nfl')?.path).toEqual(['autoExecuteEvBySport', 'nfl']);
  });

  it.each([
    ['exits.stop_loss_pct', 'decimal'],
    ['fees.taker_rate', 'decimal'],
    ['sizing.max_open_positions', 'int'],
    ['exit_execution.critical.limit_attempts', 'int'],
    ['circuit_breakers.daily_loss.liquidate', 'bool'],
    ['default_execution_mode', 'string'],
    ['exit_execution.high.first_order', 'string'],
    ['exit_execution.high.then', 'string'],
    ['circuit_breakers.rapid_loss.reset', 'string'],
    ['exits.priorities.rebalance', 'string'],
    ['exits.partial_exits', 'json'],
  ])('infers the type of %s from its default: %s', (key, dataType) => {
    expect(overridableKey(key).dataType).toBe(dataType);
  });

  it('declares the allowed values of every string key (the default among them)', () => {
    for (const k of OVERRIDABLE_KEYS.filter((k) => k.dataType === 'string')) {
      expect(k.allowed, k.key).toBeDefined();
      expect(k.allowed).toContain(k.defaultValue);
    }
    expect(overridableKey('default_execution_mode').allowed).toEqual(['paper', 'live']);
    expect(overridableKey('exit_execution.low.first_order').allowed).toEqual(['market', 'limit_aggressive', 'limit_mid', 'limit_conservative']);
  });

  it('accepts every default written as text (the defaults are sensible by its own rules) and round-trips it', () => {
    for (const k of OVERRIDABLE_KEYS) {
      const parsed = parseOverride(k.key, k.example);
      expect(parsed.dataType).toBe(k.dataType);
      expect(formatRuleValue(parsed.value)).toBe(formatRuleValue(k.defaultValue));
    }
    expect(value('exits.partial_exits', overridableKey('exits.partial_exits').example)).toEqual(DEFAULT_TRADING_RULES.exits.partialExits);
  });
});

describe('parseOverride', () => {
  it('parses decimals exactly from strings, signed where the key allows it', () => {
    expect(value('exits.stop_loss_pct', '-0.10')).toEqual(dec('-0.1'));
    expect((value('fees.taker_rate', '0.1000000000000000055511151231257827') as Decimal).toFixed()).toBe('0.1000000000000000055511151231257827');
    expect(value('sizing.max_position_usd', ' 750 ')).toEqual(dec('750'));
    expect(value('exits.edge_disappeared_edge', '-0.01')).toEqual(dec('-0.01'));
    expect(parseOverride('alert_ev', '0.1').dataType).toBe('decimal');
  });

  it('refuses malformed and out-of-range decimals with the key, an example and the value', () => {
    expect(configError(() => parseOverride('exits.stop_loss_pct', 'abc')).message).toBe('exits.stop_loss_pct expects a decimal like -0.15, got "abc"');
    for (const raw of ['', 'NaN', 'Infinity', '0x10', '1,5', '-']) expect(() => parseOverride('exits.stop_loss_pct', raw)).toThrow(ConfigError);
    expect(configError(() => parseOverride('exits.stop_loss_pct', '0.5')).message).toBe('exits.stop_loss_pct expects a decimal from -1 to 0, got "0.5"');
    expect(configError(() => parseOverride('fees.taker_rate', '1.5')).message).toMatch(/fees\.taker_rate expects a decimal from 0 to 1/);
    expect(configError(() => parseOverride('sizing.max_position_usd', '-1')).message).toMatch(/expects a non-negative decimal, got "-1"/);
    expect(() => parseOverride('min_edge_by_kind.halftime', '-0.02')).toThrow(/from 0 to 1/);
  });

  it('parses integers: counts are non-negative, durations positive, limit_attempts may be null', () => {
    expect(value('sizing.max_open_positions', '0')).toBe(0);
    expect(value('sizing.max_open_positions', '25')).toBe(25);
    expect(value('exit_execution.high.limit_attempts', 'null')).toBeNull();
    expect(value('exit_execution.critical.limit_attempts', '3')).toBe(3);
    expect(configError(() => parseOverride('sizing.max_open_positions', '1.5')).message).toBe('sizing.max_open_positions expects a whole number like 10, got "1.5"');
    for (const raw of ['1e3', 'ten', '', '99999999999999999999']) expect(() => parseOverride('sizing.max_open_positions', raw)).toThrow(/expects a whole number/);
    expect(() => parseOverride('sizing.max_open_positions', '-1')).toThrow(/expects a non-negative whole number, got "-1"/);
    expect(() => parseOverride('monitor.interval_seconds', '0')).toThrow(/expects a positive whole number, got "0"/);
    expect(() => parseOverride('execution.entry_lock_timeout_ms', '-5')).toThrow(/positive whole number/);
    expect(() => parseOverride('sizing.max_open_positions', 'null')).toThrow(ConfigError);
  });

  it('parses booleans', () => {
    expect(value('circuit_breakers.daily_loss.liquidate', 'false')).toBe(false);
    expect(value('circuit_breakers.daily_loss.liquidate', 'TRUE')).toBe(true);
    expect(configError(() => parseOverride('circuit_breakers.daily_loss.liquidate', 'yes')).message).toBe('circuit_breakers.daily_loss.liquidate expects true or false, got "yes"');
  });

  it('parses enum strings to their canonical spelling and lists the allowed values on refusal', () => {
    expect(value('default_execution_mode', 'live')).toBe('live');
    expect(value('exits.priorities.rebalance', 'medium')).toBe('MEDIUM');
    expect(value('exit_execution.high.then', 'stop_and_alert')).toBe('stop_and_alert');
    expect(configError(() => parseOverride('default_execution_mode', 'real')).message).toBe('default_execution_mode expects one of paper, live, got "real"');
    expect(() => parseOverride('exit_execution.high.first_order', 'limit')).toThrow(/one of market, limit_aggressive, limit_mid, limit_conservative/);
  });

  it('parses JSON keys against a schema derived from the default (decimals as strings, snake_case fields)', () => {
    const tranches = value('exits.partial_exits', '[{"at_gain_pct": "0.2", "sell_fraction_of_original": "0.6"}]');
    expect(tranches).toEqual([{ atGainPct: dec('0.2'), sellFractionOfOriginal: dec('0.6') }]);
    expect(value('exits.partial_exits', '[]')).toEqual([]);
    const bad = (raw: string) => configError(() => parseOverride('exits.partial_exits', raw)).message;
    expect(bad('[{"at_gain_pct": 0.2, "sell_fraction_of_original": "0.6"}]')).toMatch(/\[0\]\.at_gain_pct: write decimals as strings/);
    expect(bad('[{"at_gain_pct": "0.2"}]')).toMatch(/\[0\]\.sell_fraction_of_original: missing/);
    expect(bad('[{"at_gain_pct": "0.2", "sell_fraction_of_original": "0.6", "x": 1}]')).toMatch(/Unrecognized key/);
    expect(bad('{"at_gain_pct": "0.2"}')).toMatch(/^exits\.partial_exits expects JSON like \[/);
    expect(bad('not json')).toMatch(/not valid JSON/);
    expect(bad('[{"at_gain_pct": "0.2", "sell_fraction_of_original": "0.6"}, {"at_gain_pct": "0.3", "sell_fraction_of_original": "0.6"}]')).toMatch(/sell 1\.2 of the original quantity/);
    expect(bad('[{"at_gain_pct": "0.3", "sell_fraction_of_original": "0.2"}, {"at_gain_pct": "0.2", "sell_fraction_of_original": "0.2"}]')).toMatch(/above the previous tranche/);
    expect(bad('[{"at_gain_pct": "0", "sell_fraction_of_original": "0.2"}]')).toMatch(/must be above 0/);
  });

  it('refuses an unknown key, naming it and suggesting the closest known keys', () => {
    const typo = configError(() => parseOverride('exits.stop_los_pct', '-0.1'));
    expect(typo).toBeInstanceOf(UnknownRuleError);
    expect(typo.message).toMatch(/^unknown rule "exits\.stop_los_pct"; did you mean exits\.stop_loss_pct\?/);
    expect((typo as UnknownRuleError).suggestions[0]).toBe('exits.stop_loss_pct');
    expect(suggestKeys('stop_loss_pct')).toEqual(['exits.stop_loss_pct']);
    expect(suggestKeys('exits.stopLossPct')).toEqual(['exits.stop_loss_pct']);
    expect(suggestKeys('PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS')).toEqual(['sizing.max_open_positions']);
    expect(suggestKeys('sizing.max_open_position')).toContain('sizing.max_open_positions');
    expect(suggestKeys('exit_execution.hihg.wait_seconds')[0]).toBe('exit_execution.high.wait_seconds');
    const nothing = configError(() => parseOverride('zzzz.qqqq', '1'));
    expect(nothing.message).toMatch(/unknown rule "zzzz\.qqqq" \(`precog config keys` lists every key\)/);
    expect(configError(() => parseOverride('exits.trailing_stop', '1')).message).toMatch(/exits\.trailing_stop is a group of rules.*exits\.trailing_stop\.activation_gain_pct/);
  });
});

describe('applyOverrides', () => {
  it('returns new deeply frozen rules, leaves the defaults untouched and shares untouched branches', () => {
    const before = DEFAULT_TRADING_RULES.exits.stopLossPct;
    const rules = applyOverrides(DEFAULT_TRADING_RULES, [
      { key: 'exits.stop_loss_pct', value: '-0.10' },
      { key: 'exit_execution.high.wait_seconds', value: 20 },
      { key: 'exits.partial_exits', value: '[{"at_gain_pct": "0.2", "sell_fraction_of_original": "0.5"}]' },
    ]);
    expect(rules).not.toBe(DEFAULT_TRADING_RULES);
    expect(rules.exits.stopLossPct).toEqual(dec('-0.1'));
    expect(rules.exitExecution.HIGH.waitSeconds).toBe(20);
    expect(rules.exits.partialExits).toEqual([{ atGainPct: dec('0.2'), sellFractionOfOriginal: dec('0.5') }]);
    expect(DEFAULT_TRADING_RULES.exits.stopLossPct).toBe(before);
    expect(DEFAULT_TRADING_RULES.exitExecution.HIGH.waitSeconds).toBe(10);
    expect(DEFAULT_TRADING_RULES.exits.partialExits).toHaveLength(2);
    expect(rules.fees).toBe(DEFAULT_TRADING_RULES.fees);
    expect(rules.exitExecution.LOW).toBe(DEFAULT_TRADING_RULES.exitExecution.LOW);
    for (const node of [rules, rules.exits, rules.exits.partialExits, rules.exits.partialExits[0], rules.exitExecution, rules.exitExecution.HIGH]) {
      expect(Object.isFrozen(node)).toBe(true);
    }
    expect(() => {
      (rules.exits as { stopLossPct: Decimal }).stopLossPct = dec('0');
    }).toThrow(TypeError);
  });

  it('applies in order (later wins), with no overrides still a new frozen object', () => {
    const rules = applyOverrides(DEFAULT_TRADING_RULES, [
      { key: 'sizing.max_open_positions', value: '4' },
      { key: 'sizing.max_open_positions', value: '6' },
    ]);
    expect(rules.sizing.maxOpenPositions).toBe(6);
    const none = applyOverrides(DEFAULT_TRADING_RULES, []);
    expect(none).not.toBe(DEFAULT_TRADING_RULES);
    expect(none).toEqual(DEFAULT_TRADING_RULES);
    expect(Object.isFrozen(none)).toBe(true);
  });

  it('accepts typed values, validates them, and never takes a JS number for a decimal', () => {
    const rules = applyOverrides(DEFAULT_TRADING_RULES, [
      { key: 'exits.stop_loss_pct', value: dec('-0.2') },
      { key: 'circuit_breakers.daily_loss.liquidate', value: false },
      { key: 'exit_execution.high.limit_attempts', value: null },
      { key: 'exits.partial_exits', value: [{ atGainPct: dec('0.3'), sellFractionOfOriginal: dec('1') }] },
    ]);
    expect(rules.exits.stopLossPct).toEqual(dec('-0.2'));
    expect(rules.circuitBreakers.dailyLoss.liquidate).toBe(false);
    expect(rules.exitExecution.HIGH.limitAttempts).toBeNull();
    expect(rules.exits.partialExits[0]?.sellFractionOfOriginal).toEqual(dec('1'));
    expect(() => applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'exits.stop_loss_pct', value: -0.1 }])).toThrow(/never a JS number/);
    expect(() => applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'exits.stop_loss_pct', value: dec('0.3') }])).toThrow(/from -1 to 0/);
    expect(() => applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'sizing.max_open_positions', value: 2.5 }])).toThrow(/whole number/);
    expect(() => applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'nope', value: '1' }])).toThrow(UnknownRuleError);
    expect(() => applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'exits.partial_exits', value: [{ atGainPct: 0.3, sellFractionOfOriginal: dec('1') }] }]))
      .toThrow(/write decimals as strings/);
  });

  it('reads back with ruleValue', () => {
    const rules = applyOverrides(DEFAULT_TRADING_RULES, [{ key: 'auto_execute_ev_by_sport.nba', value: '0.2' }]);
    expect(ruleValue(rules, 'auto_execute_ev_by_sport.nba')).toEqual(dec('0.2'));
    expect(ruleValue(DEFAULT_TRADING_RULES, 'default_execution_mode')).toBe('paper');
  });
});

describe('environment layer: PRECOG_RULE__<KEY>', () => {
  it('maps keys to variable names and back', () => {
    expect(ruleEnvVar('exits.stop_loss_pct')).toBe('PRECOG_RULE__EXITS__STOP_LOSS_PCT');
    expect(ruleEnvVar('circuit_breakers.daily_loss.max_loss_usd')).toBe('PRECOG_RULE__CIRCUIT_BREAKERS__DAILY_LOSS__MAX_LOSS_USD');
    for (const k of OVERRIDABLE_KEYS) {
      expect(k.envVar).toBe(ruleEnvVar(k.key));
      expect(keyFromEnvVar(k.envVar)).toBe(k.key);
    }
  });

  it('parses the variables with the same validation and ignores other variables', () => {
    const found = environmentOverrides({
      PRECOG_RULE__EXITS__STOP_LOSS_PCT: '-0.10',
      PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS: '15',
      PRECOG_RULE__DEFAULT_EXECUTION_MODE: 'live',
      PATH: '/usr/bin',
      PRECOG_RULES: 'not ours',
    });
    expect(found).toEqual([
      { key: 'default_execution_mode', value: 'live', dataType: 'string', variable: 'PRECOG_RULE__DEFAULT_EXECUTION_MODE' },
      { key: 'exit_execution.high.wait_seconds', value: 15, dataType: 'int', variable: 'PRECOG_RULE__EXIT_EXECUTION__HIGH__WAIT_SECONDS' },
      { key: 'exits.stop_loss_pct', value: dec('-0.1'), dataType: 'decimal', variable: 'PRECOG_RULE__EXITS__STOP_LOSS_PCT' },
    ]);
    expect(environmentOverrides({})).toEqual([]);
  });

  it('refuses a bad value or an unknown key with a ConfigError naming each variable', () => {
    const bad = configError(() => environmentOverrides({ PRECOG_RULE__EXITS__STOP_LOSS_PCT: 'abc', PRECOG_RULE__EXITS__STOP_LOS_PCT: '-0.1' }));
    expect(bad.message).toMatch(/^invalid trading rules configuration: /);
    expect(bad.message).toContain('PRECOG_RULE__EXITS__STOP_LOSS_PCT: exits.stop_loss_pct expects a decimal like -0.15, got "abc"');
    expect(bad.message).toContain('PRECOG_RULE__EXITS__STOP_LOS_PCT: unknown rule exits.stop_los_pct (did you mean PRECOG_RULE__EXITS__STOP_LOSS_PCT?)');
    expect(() => environmentOverrides({ PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS: '' })).toThrow(/PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS: sizing\.max_open_positions expects/);
  });
});

describe('resolveTradingRules: default < environment < config_overrides', () => {
  /** A stand-in for the database: returns these rows for the one query (in applied order). */
  function fakeDb(rows: Array<{ id: number; key: string; value: string | null; dataType?: string; appliedAt?: string }>): Queryable & { queries: number } {
    const db = {
      queries: 0,
      query: async () => {
        db.queries++;
        return {
          rows: rows.map((r) => ({
            override_id: r.id, config_key: r.key, data_type: r.dataType ?? overridableKey(r.key).dataType, override_value: { value: r.value },
            reason: 'test', applied_by: 'tester', applied_at: new Date(r.appliedAt ?? '2026-01-01T00:00:00Z'), expires_at: null,
            active: true, expired: false, wrapped: true, value_text: r.value,
          })),
        };
      },
    };
    return db as unknown as Queryable & { queries: number };
  }

  it('applies the environment over the defaults and rows over the environment, reporting where each value comes from', async () => {
    const env = { PRECOG_RULE__EXITS__STOP_LOSS_PCT: '-0.12', PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS: '8' };
    const db = fakeDb([{ id: 7, key: 'exits.stop_loss_pct', value: '-0.10' }]);
    const { rules, applied, warnings } = await resolveTradingRules(db, env);
    expect(db.queries).toBe(1);
    expect(warnings).toEqual([]);
    expect(rules.exits.stopLossPct).toEqual(dec('-0.1')); // override > env
    expect(rules.sizing.maxOpenPositions).toBe(8); // env > default
    expect(rules.sizing.kellyFraction).toEqual(DEFAULT_TRADING_RULES.sizing.kellyFraction); // default
    expect(applied.map((a) => [a.key, a.source, a.overrideId ?? a.variable])).toEqual([
      ['exits.stop_loss_pct', 'override', 7],
      ['sizing.max_open_positions', 'env', 'PRECOG_RULE__SIZING__MAX_OPEN_POSITIONS'],
    ]);
    expect(Object.isFrozen(rules.exits)).toBe(true);
    expect(DEFAULT_TRADING_RULES.exits.stopLossPct).toEqual(dec('-0.15'));
  });

  it('lets the later row win, skips rows that no longer validate with a warning, and fails on a broken environment', async () => {
    const db = fakeDb([
      { id: 1, key: 'sizing.max_open_positions', value: '4' },
      { id: 2, key: 'sizing.max_open_positions', value: '6' },
      { id: 3, key: 'exits.removed_rule', value: '1', dataType: 'int' },
      { id: 4, key: 'sizing.max_open_positions', value: 'lots' },
    ]);
    const { rules, applied, warnings } = await resolveTradingRules(db, {});
    expect(rules.sizing.maxOpenPositions).toBe(6);
    expect(applied).toHaveLength(1);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^config_overrides #3 \(exits\.removed_rule\) skipped: unknown rule/);
    expect(warnings[1]).toMatch(/^config_overrides #4 \(sizing\.max_open_positions\) skipped: .*expects a whole number/);
    await expect(resolveTradingRules(fakeDb([]), { PRECOG_RULE__FEES__TAKER_RATE: '7%' })).rejects.toThrow(/PRECOG_RULE__FEES__TAKER_RATE/);
  });

  it('is the defaults, as a new frozen object, when nothing is overridden', async () => {
    const { rules, applied, warnings } = await resolveTradingRules(fakeDb([]), {});
    expect(rules).toEqual(DEFAULT_TRADING_RULES);
    expect(applied).toEqual([]);
    expect(warnings).toEqual([]);
    const typed: TradingRules = rules;
    expect(Object.isFrozen(typed)).toBe(true);
  });
});

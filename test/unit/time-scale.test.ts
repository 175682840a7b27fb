import { afterEach, describe, expect, it } from 'vitest';
import { currentRules, forgetRules, setRuleTimeScale } from '../../shared/config/runtimeRules';
import { dilateRules } from '../../shared/config/timeScale';
import { DEFAULT_TRADING_RULES, EXIT_PRIORITIES, type TradingRules } from '../../shared/config/tradingRules';
import { useTestDatabase } from '../helpers/database';

/**
 * Time dilation of the trading rules for the local runtime's sped-up games: the game durations are
 * divided by the speed, everything else (freshness, lock timeouts, prices, counts) stays.
 */

const R = DEFAULT_TRADING_RULES;

/** Every duration dilateRules divides, read from a rules object: [what, value]. */
function gameDurations(rules: TradingRules): Array<[string, number]> {
  return [
    ['monitor.intervalSeconds', rules.monitor.intervalSeconds],
    ['monitor.urgentIntervalSeconds', rules.monitor.urgentIntervalSeconds],
    ...EXIT_PRIORITIES.map((p): [string, number] => [`exitExecution.${p}.waitSeconds`, rules.exitExecution[p].waitSeconds]),
    ['execution.entryOrderTtlSeconds', rules.execution.entryOrderTtlSeconds],
    ['execution.staleEntrySeconds', rules.execution.staleEntrySeconds],
    ['exits.timeUrgentMinutesBeforeClose', rules.exits.timeUrgentMinutesBeforeClose],
    ['circuitBreakers.apiFailures.windowSeconds', rules.circuitBreakers.apiFailures.windowSeconds],
    ['circuitBreakers.rapidLoss.windowSeconds', rules.circuitBreakers.rapidLoss.windowSeconds],
    ['circuitBreakers.tradeRate.windowSeconds', rules.circuitBreakers.tradeRate.windowSeconds],
  ];
}

/** The rules with the dilated durations put back to the defaults' values: what must equal the defaults. */
function undilated(rules: TradingRules): TradingRules {
  const b = rules.circuitBreakers;
  return {
    ...rules,
    monitor: { ...rules.monitor, intervalSeconds: R.monitor.intervalSeconds, urgentIntervalSeconds: R.monitor.urgentIntervalSeconds },
    exitExecution: Object.fromEntries(EXIT_PRIORITIES.map((p) => [p, { ...rules.exitExecution[p], waitSeconds: R.exitExecution[p].waitSeconds }])) as TradingRules['exitExecution'],
    execution: { ...rules.execution, entryOrderTtlSeconds: R.execution.entryOrderTtlSeconds, staleEntrySeconds: R.execution.staleEntrySeconds },
    exits: { ...rules.exits, timeUrgentMinutesBeforeClose: R.exits.timeUrgentMinutesBeforeClose },
    circuitBreakers: {
      ...b,
      apiFailures: { ...b.apiFailures, windowSeconds: R.circuitBreakers.apiFailures.windowSeconds },
      rapidLoss: { ...b.rapidLoss, windowSeconds: R.circuitBreakers.rapidLoss.windowSeconds },
      tradeRate: { ...b.tradeRate, windowSeconds: R.circuitBreakers.tradeRate.windowSeconds },
    },
  };
}

describe('dilateRules', () => {
  it('divides every game duration by the speed', () => {
    const fast = dilateRules(R, 60);
    const before = gameDurations(R);
    const after = gameDurations(fast);
    expect(after.map(([what]) => what)).toEqual(before.map(([what]) => what));
    for (const [i, [what, value]] of after.entries()) {
      expect([what, value]).toEqual([what, before[i]![1] / 60]);
    }
    // The defaults worked by hand.
    expect(fast.monitor.intervalSeconds).toBe(0.5);
    expect(fast.exitExecution.HIGH.waitSeconds).toBe(10 / 60);
    expect(fast.exitExecution.LOW.waitSeconds).toBe(1);
    expect(fast.execution.entryOrderTtlSeconds).toBe(5);
    expect(fast.execution.staleEntrySeconds).toBe(15);
    expect(fast.exits.timeUrgentMinutesBeforeClose).toBe(5 / 60);
    expect(fast.circuitBreakers.rapidLoss.windowSeconds).toBe(15);
  });

  it('leaves freshness, data-stale limits, lock timeouts and every non-duration rule as they are', () => {
    const fast = dilateRules(R, 60);
    expect(fast.freshness).toEqual({ maxPriceAgeSeconds: 120, maxGameStateAgeSeconds: 60 });
    expect(fast.freshness).toEqual(R.freshness);
    expect(fast.circuitBreakers.dataStale).toEqual(R.circuitBreakers.dataStale);
    expect(fast.execution.entryLockTimeoutMs).toBe(20_000);
    expect(fast.monitor.staleAfterIntervals).toBe(R.monitor.staleAfterIntervals);
    // Everything else, deep: with the durations put back the rules are the defaults.
    expect(undilated(fast)).toEqual(R);
    // The check above is not vacuous: the dilated rules differ from the defaults.
    expect(fast).not.toEqual(R);
  });

  it('does not touch the rules it is given', () => {
    const copy = JSON.stringify(R);
    dilateRules(R, 120);
    expect(JSON.stringify(R)).toBe(copy);
    expect(R.monitor.intervalSeconds).toBe(30);
  });

  it('composes: dilating by 6 then by 10 is dilating by 60', () => {
    const twice = gameDurations(dilateRules(dilateRules(R, 6), 10));
    const once = gameDurations(dilateRules(R, 60));
    for (const [i, [, value]] of twice.entries()) expect(value).toBeCloseTo(once[i]![1], 12);
  });

  it('a speed below 1 stretches the durations', () => {
    expect(dilateRules(R, 0.5).monitor.intervalSeconds).toBe(60);
  });

  it('speed 1 returns the very same object', () => {
    expect(dilateRules(R, 1)).toBe(R);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses speed %s', (speed) => {
    expect(() => dilateRules(R, speed)).toThrow(RangeError);
    expect(() => dilateRules(R, speed)).toThrow(/speed must be a positive number/);
  });
});

describe('setRuleTimeScale and currentRules', () => {
  const db = useTestDatabase();
  const noEnv = { env: {} };

  afterEach(async () => {
    setRuleTimeScale(1);
    forgetRules();
    await db().pool.query('DELETE FROM config_overrides');
  });

  it('currentRules returns the rules dilated by the scale, and scale 1 restores them', async () => {
    expect((await currentRules(db().pool, noEnv)).monitor.intervalSeconds).toBe(30);
    setRuleTimeScale(60);
    const fast = await currentRules(db().pool, noEnv);
    expect(fast).toEqual(dilateRules(R, 60));
    expect(fast.monitor.intervalSeconds).toBe(0.5);
    setRuleTimeScale(1);
    const normal = await currentRules(db().pool, noEnv);
    expect(normal).toEqual(R);
    expect(normal.exitExecution.MEDIUM.waitSeconds).toBe(30);
  });

  it('a new scale takes effect at once, despite the rules cache', async () => {
    setRuleTimeScale(60);
    await currentRules(db().pool, { ...noEnv, maxAgeMs: 60_000 });
    setRuleTimeScale(120);
    expect((await currentRules(db().pool, { ...noEnv, maxAgeMs: 60_000 })).monitor.intervalSeconds).toBe(0.25);
  });

  it('dilates the overridden rules: an operator\'s override is game time too', async () => {
    await db().pool.query(
      `INSERT INTO config_overrides (config_key, override_value, data_type) VALUES ('monitor.interval_seconds', '{"value": 20}', 'int')`,
    );
    expect((await currentRules(db().pool, noEnv)).monitor.intervalSeconds).toBe(20);
    setRuleTimeScale(10);
    const fast = await currentRules(db().pool, noEnv);
    expect(fast.monitor.intervalSeconds).toBe(2);
    expect(fast.monitor.urgentIntervalSeconds).toBe(0.5);
    expect(fast.freshness.maxPriceAgeSeconds).toBe(120);
  });

  it.each([0, -2, Number.NaN, Number.POSITIVE_INFINITY])('refuses scale %s and keeps the one it had', async (speed) => {
    setRuleTimeScale(60);
    expect(() => setRuleTimeScale(speed)).toThrow(RangeError);
    expect((await currentRules(db().pool, noEnv)).monitor.intervalSeconds).toBe(0.5);
  });
});

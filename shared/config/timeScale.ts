import type { ExitPriority, TradingRules } from './tradingRules';

/**
 * Time dilation for the local runtime's sped-up games (`npm start -- --speed 60`: a game minute
 * per second). The functions keep running on the wall clock and PostgreSQL's now(), so the rules'
 * durations that are about the GAME (how often positions are watched, how long an exit limit
 * waits before it walks, how long an entry rests, the breakers' look-back windows, "5 minutes to
 * the close") are divided by the speed: the system then sees the game as it would in real time.
 *
 * Not dilated: the data-freshness limits (ingestion runs as often as the machine makes it, so data
 * is fresher than in AWS, never staler) and technical timeouts (lock waits, HTTP): those are about
 * the machine, not the game. Speed 1 returns the rules unchanged. Deployed functions never call
 * this: only `local/runtime.ts` does, through `setRuleTimeScale`.
 */
export function dilateRules(rules: TradingRules, speed: number): TradingRules {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, not ${speed}`);
  if (speed === 1) return rules;
  const d = (seconds: number) => seconds / speed;
  const exitExecution = Object.fromEntries(
    Object.entries(rules.exitExecution).map(([priority, rule]) => [priority, { ...rule, waitSeconds: d(rule.waitSeconds) }]),
  ) as unknown as Record<ExitPriority, TradingRules['exitExecution'][ExitPriority]>;
  const b = rules.circuitBreakers;
  return {
    ...rules,
    exits: { ...rules.exits, timeUrgentMinutesBeforeClose: d(rules.exits.timeUrgentMinutesBeforeClose) },
    monitor: { ...rules.monitor, intervalSeconds: d(rules.monitor.intervalSeconds), urgentIntervalSeconds: d(rules.monitor.urgentIntervalSeconds) },
    exitExecution,
    execution: {
      ...rules.execution,
      entryOrderTtlSeconds: d(rules.execution.entryOrderTtlSeconds),
      staleEntrySeconds: d(rules.execution.staleEntrySeconds),
    },
    circuitBreakers: {
      ...b,
      apiFailures: { ...b.apiFailures, windowSeconds: d(b.apiFailures.windowSeconds) },
      rapidLoss: { ...b.rapidLoss, windowSeconds: d(b.rapidLoss.windowSeconds) },
      tradeRate: { ...b.tradeRate, windowSeconds: d(b.tradeRate.windowSeconds) },
    },
  };
}

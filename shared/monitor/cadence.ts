import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import type { SweepResult } from './sweep';

/**
 * The monitor's cadence inside one invocation. EventBridge fires once a minute, the rules want
 * every position evaluated every 30 s and an urgent one every 5 s: so one invocation sweeps all
 * positions, then on every 5 s tick sweeps the urgent ones (those the last sweep found near a
 * stop, a target or the trailing stop), and all of them again once 30 s have passed, until the
 * next tick would not finish before the deadline (the function's timeout minus a margin).
 */

export interface CadenceDeps {
  /** One sweep: every position (no ids), or the ones given. */
  sweep: (positionIds?: number[]) => Promise<SweepResult>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Epoch ms by which the last sweep must have finished. */
  deadline: number;
  rules?: TradingRules;
}

export interface CadenceSweep {
  at: number;
  kind: 'full' | 'urgent';
  positions: number;
  ms: number;
  skipped?: string;
}

export async function runCadence(deps: CadenceDeps, options: { once?: boolean } = {}): Promise<CadenceSweep[]> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const fullEvery = rules.monitor.intervalSeconds * 1000;
  const tick = rules.monitor.urgentIntervalSeconds * 1000;
  const sweeps: CadenceSweep[] = [];
  let lastFull = Number.NEGATIVE_INFINITY;
  let urgent: number[] = [];
  let slowest = 0;
  for (;;) {
    const at = deps.now();
    let result: SweepResult | undefined;
    if (at - lastFull >= fullEvery) {
      result = await deps.sweep();
      lastFull = at;
      sweeps.push({ at, kind: 'full', positions: result.positions, ms: deps.now() - at, skipped: result.skipped });
    } else if (urgent.length > 0) {
      result = await deps.sweep(urgent);
      sweeps.push({ at, kind: 'urgent', positions: result.positions, ms: deps.now() - at, skipped: result.skipped });
    }
    if (result) {
      // A skipped sweep (another invocation holds the lock) says nothing about urgency.
      if (!result.skipped) urgent = result.urgent;
      slowest = Math.max(slowest, deps.now() - at);
    }
    if (options.once) return sweeps;
    const next = at + tick;
    // Stop when the next sweep (as slow as the slowest so far) would run past the deadline.
    if (next + slowest > deps.deadline) return sweeps;
    const wait = next - deps.now();
    if (wait > 0) await deps.sleep(wait);
  }
}

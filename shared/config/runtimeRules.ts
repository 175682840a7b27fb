import { nowMs } from '../clock/clock';
import type { Queryable } from '../db/transaction';
import { resolveTradingRules } from './overrides';
import { dilateRules } from './timeScale';
import type { TradingRules } from './tradingRules';

/**
 * The trading rules a function runs with: code defaults < PRECOG_RULE__ environment <
 * config_overrides rows, re-read at most every `maxAgeMs` per container so that an operator's
 * `precog config set` takes effect within seconds without a redeploy.
 */
let cached: { at: number; rules: TradingRules } | undefined;
/** The local runtime's speed factor (1 everywhere else): see dilateRules. */
let timeScale = 1;

/** Sped-up local games only: every later `currentRules` returns the rules dilated by `speed`. */
export function setRuleTimeScale(speed: number): void {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, not ${speed}`);
  timeScale = speed;
  cached = undefined;
}

export async function currentRules(
  db: Queryable,
  options: { maxAgeMs?: number; log?: (message: string, extra: object) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<TradingRules> {
  const maxAge = options.maxAgeMs ?? 15_000;
  // The rules' age on the application's clock (virtual in a simulation, where a re-read depends
  // on simulated time, not on how fast the machine runs); a clock moved back re-reads too.
  const age = cached ? nowMs() - cached.at : Number.POSITIVE_INFINITY;
  if (cached && age >= 0 && age < maxAge) return cached.rules;
  const resolved = await resolveTradingRules(db, options.env ?? process.env);
  for (const w of resolved.warnings) options.log?.('config override ignored', { warning: w });
  const rules = timeScale === 1 ? resolved.rules : dilateRules(resolved.rules, timeScale);
  cached = { at: nowMs(), rules };
  return rules;
}

/** Forget the cached rules (tests; a function that has just written an override). */
export function forgetRules(): void {
  cached = undefined;
}

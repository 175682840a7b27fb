import { nowMs } from '../clock/clock';
import type { Queryable } from '../db/transaction';
import { resolveTradingRules } from './overrides';
import type { TradingRules } from './tradingRules';

/**
 * The trading rules a function runs with: code defaults < PRECOG_RULE__ environment <
 * config_overrides rows, re-read at most every `maxAgeMs` per container so that an operator's
 * `precog config set` takes effect within seconds without a redeploy.
 */
let cached: { at: number; rules: TradingRules } | undefined;

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
  cached = { at: nowMs(), rules: resolved.rules };
  return resolved.rules;
}

/** Forget the cached rules (tests; a function that has just written an override). */
export function forgetRules(): void {
  cached = undefined;
}

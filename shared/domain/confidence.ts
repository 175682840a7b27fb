import { DEFAULT_TRADING_RULES, type ConfidenceLevel, type TradingRules } from '../config/tradingRules';
import { Decimal } from './decimal';

export type { ConfidenceLevel } from '../config/tradingRules';

/** What the probability source says about its own reliability. */
export interface ConfidenceInput {
  /** Observations behind the probability (a matrix cell's sample size); null/undefined: unknown. */
  sampleSize: number | null | undefined;
  /** Confidence interval of the probability; either bound null/undefined: unknown. */
  ciLower: Decimal | null | undefined;
  ciUpper: Decimal | null | undefined;
  /**
   * Age in seconds of the live data the probability rests on (the game state). null: the
   * probability rests on no live data (a pre-game figure), so freshness does not apply.
   * Infinity (never ingested) is stale; a small negative age (clock skew) counts as fresh.
   */
  dataAgeSeconds: number | null;
}

/**
 * confidence_level of a probability (trading-rules.md, "Edge and expected value"):
 *
 * - low when the sample size or either CI bound is unknown, or when the data is older than the
 *   game-state freshness limit (age > `freshness.maxGameStateAgeSeconds`, 60 s; exactly 60 s is
 *   still fresh);
 * - high when samples ≥ 500 AND CI width (upper − lower) < 0.10;
 * - medium when samples ≥ 200 OR CI width ≤ 0.15;
 * - low otherwise.
 *
 * The spec's medium bands, "200–500 samples or CI width 0.10–0.15", are read as the band just
 * below high on each axis ("at least 200", "at most 0.15"). Taking the ranges literally would make
 * confidence fall as evidence grows (600 samples with a 0.20-wide CI would be low while 400 would
 * be medium; a 0.05-wide CI with 100 samples low while a 0.12-wide one medium); this reading agrees
 * with the literal one inside its ranges and is monotone: more samples or a narrower CI never
 * lower the level.
 */
export function confidenceLevel(input: ConfidenceInput, rules: TradingRules = DEFAULT_TRADING_RULES): ConfidenceLevel {
  const { sampleSize, ciLower, ciUpper, dataAgeSeconds } = input;
  if (dataAgeSeconds !== null && (typeof dataAgeSeconds !== 'number' || Number.isNaN(dataAgeSeconds))) {
    throw new RangeError(`dataAgeSeconds must be a number or null, got ${String(dataAgeSeconds)}`);
  }
  if (sampleSize !== null && sampleSize !== undefined) {
    if (!Number.isSafeInteger(sampleSize) || sampleSize < 0) {
      throw new RangeError(`sampleSize must be a non-negative integer, got ${String(sampleSize)}`);
    }
  }
  const lower = ciBound(ciLower, 'ciLower');
  const upper = ciBound(ciUpper, 'ciUpper');
  if (lower && upper && lower.gt(upper)) {
    throw new RangeError(`ciLower ${lower.toString()} is above ciUpper ${upper.toString()}`);
  }

  if (dataAgeSeconds !== null && dataAgeSeconds > rules.freshness.maxGameStateAgeSeconds) return 'low';
  if (sampleSize === null || sampleSize === undefined || !lower || !upper) return 'low';

  const width = upper.minus(lower);
  const { high, medium } = rules.confidence;
  if (sampleSize >= high.minSampleSize && width.lt(high.maxCiWidthExclusive)) return 'high';
  if (sampleSize >= medium.minSampleSize || width.lte(medium.maxCiWidth)) return 'medium';
  return 'low';
}

function ciBound(value: Decimal | null | undefined, name: string): Decimal | null {
  if (value === null || value === undefined) return null;
  if (!Decimal.isDecimal(value)) throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  if (!value.isFinite() || value.lt(0) || value.gt(1)) {
    throw new RangeError(`${name} must be within 0..1, got ${value.toString()}`);
  }
  return value;
}

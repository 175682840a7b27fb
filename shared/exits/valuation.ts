import { Decimal } from '../domain/decimal';
import { COUNT_DECIMALS } from '../domain/quantity';

/**
 * Marking an open position to market (the monitor's `current_price`, `unrealized_pnl`,
 * `unrealized_pnl_pct`):
 *
 *   currentPrice      = bid                       the side's best bid: what selling now gets
 *   unrealizedPnl     = bid × quantity − costBasis                exact, then 4 decimals (half-up)
 *   unrealizedPnlPct  = unrealizedPnl / costBasis                 a fraction (−0.15 = −15%),
 *                       rounded half-up (away from zero on a tie) to 4 decimals and clamped to
 *                       the DECIMAL(6,4) column's range [−99.9999, 99.9999]
 *
 * All three are null without a bid (nothing to sell into); the percentage is also null when the
 * cost basis is 0. The quotient is truncated at 200 significant digits before the 4-decimal
 * rounding, so the result is the correctly rounded exact quotient (no double rounding).
 * Fees are not part of the mark (they are recorded on the position).
 */

const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_DOWN });
const PCT_MAX = new Decimal('99.9999');
const PCT_MIN = PCT_MAX.negated();

/** Marks an open position at the price it could be sold at now: its side's best bid. */
export function valuePosition(input: { quantity: Decimal; costBasis: Decimal; bid: Decimal | null }): {
  currentPrice: Decimal | null;
  unrealizedPnl: Decimal | null;
  unrealizedPnlPct: Decimal | null;
} {
  const { quantity, costBasis, bid } = input;
  if (!Decimal.isDecimal(quantity) || !quantity.isFinite() || quantity.lt(0) || quantity.decimalPlaces() > COUNT_DECIMALS) {
    throw new RangeError(`quantity must be a non-negative count with at most ${COUNT_DECIMALS} decimals, got ${String(quantity)}`);
  }
  assertDecimal(costBasis, 'costBasis');
  if (costBasis.lt(0)) throw new RangeError(`costBasis must not be negative, got ${costBasis.toString()}`);
  if (bid === null) return { currentPrice: null, unrealizedPnl: null, unrealizedPnlPct: null };
  assertDecimal(bid, 'bid');

  const pnlExact = new Exact(bid).times(new Exact(quantity)).minus(costBasis);
  const unrealizedPnl = new Decimal(pnlExact.toDecimalPlaces(4, Decimal.ROUND_HALF_UP));
  let unrealizedPnlPct: Decimal | null = null;
  if (!costBasis.isZero()) {
    const pct = new Decimal(pnlExact.dividedBy(costBasis).toDecimalPlaces(4, Decimal.ROUND_HALF_UP));
    unrealizedPnlPct = Decimal.min(PCT_MAX, Decimal.max(PCT_MIN, pct));
  }
  return { currentPrice: bid, unrealizedPnl, unrealizedPnlPct };
}

function assertDecimal(value: unknown, name: string): asserts value is Decimal {
  if (!Decimal.isDecimal(value)) throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  if (!(value as Decimal).isFinite()) throw new RangeError(`${name} must be finite, got ${String(value)}`);
}

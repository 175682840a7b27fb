import { Decimal } from './decimal';

/**
 * Contract quantities. Kalshi counts are fixed-point with 2 decimals (fractional contracts,
 * granularity 0.01, exist since March 2026), so a count is a Decimal, never a JS number. Precog
 * itself trades whole contracts; what it reads from the venue (a counterparty filling 2.97 of 5,
 * a fractional holding) is kept exactly.
 */

/** Decimal places of a contract count at Kalshi (and in the NUMERIC(12,2) columns). */
export const COUNT_DECIMALS = 2;

const COUNT_TEXT = /^[+-]?\d+(\.\d{1,2})?$/;

/**
 * A count from code: a safe integer, or a string/Decimal with at most 2 decimals. Anything finer
 * throws: a third decimal cannot be traded or stored and would be silently rounded.
 */
export function qty(value: number | string | Decimal): Decimal {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`a count given as a number must be a whole number, got ${value}`);
    return new Decimal(value);
  }
  if (typeof value === 'string') {
    if (!COUNT_TEXT.test(value.trim())) throw new RangeError(`not a count with at most ${COUNT_DECIMALS} decimals: ${JSON.stringify(value)}`);
    return new Decimal(value.trim());
  }
  if (!Decimal.isDecimal(value) || !value.isFinite()) throw new TypeError('expected a count');
  if (value.decimalPlaces() > COUNT_DECIMALS) throw new RangeError(`count ${value.toFixed()} has more than ${COUNT_DECIMALS} decimals`);
  return value;
}

export const NO_CONTRACTS = new Decimal(0);

export function isWholeCount(count: Decimal): boolean {
  return count.isInteger();
}

/** For people: "5" for whole counts, "2.97" (exactly) for fractional ones, never "5.00". */
export function formatCount(count: Decimal): string {
  return count.toFixed();
}

/** Kalshi's fixed-point wire text for a count in a request ("5.00", "2.97"). */
export function countWireText(count: Decimal): string {
  return qty(count).toFixed(COUNT_DECIMALS);
}

/**
 * A whole count as a JS integer, for wire formats that carry whole contracts only (the entry
 * queue message: entries are always whole). Throws on a fraction instead of truncating.
 */
export function wholeCountNumber(count: Decimal): number {
  if (!count.isInteger() || !count.abs().lte(Number.MAX_SAFE_INTEGER)) throw new RangeError(`count ${count.toFixed()} is not a whole number of contracts`);
  return count.toNumber();
}

/** Sums counts exactly. */
export function sumCounts(counts: Iterable<Decimal>): Decimal {
  let total = NO_CONTRACTS;
  for (const c of counts) total = total.plus(c);
  return total;
}

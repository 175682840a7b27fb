import Decimal from 'decimal.js';

export { Decimal };

/**
 * Money, prices and probabilities are Decimal end to end. Only strings and Decimals are accepted:
 * a JS number has already lost exactness (0.1 + 0.2) before it gets here.
 */
export function dec(value: string | Decimal): Decimal {
  if (Decimal.isDecimal(value)) return value as Decimal;
  if (typeof value !== 'string') {
    throw new TypeError(`expected a decimal string or Decimal, got ${typeof value}`);
  }
  const trimmed = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) {
    throw new TypeError(`not a decimal number: ${JSON.stringify(value)}`);
  }
  return new Decimal(trimmed);
}

/** The exact text PostgreSQL NUMERIC receives: never exponent notation, never a JS number. */
export function toSqlDecimal(value: Decimal | string): string {
  return dec(value).toFixed();
}

export const ZERO = new Decimal(0);
export const ONE = new Decimal(1);

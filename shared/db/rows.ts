import { Decimal } from '../domain/decimal';

/** Helpers for mapping pg rows (snake_case, NUMERIC already Decimal) into domain objects. */

export function decimalOrNull(value: unknown): Decimal | null {
  if (value === null || value === undefined) return null;
  if (Decimal.isDecimal(value)) return value as Decimal;
  throw new TypeError(`expected NUMERIC (Decimal) from the database, got ${typeof value}`);
}

export function decimal(value: unknown): Decimal {
  const d = decimalOrNull(value);
  if (d === null) throw new TypeError('expected a non-null NUMERIC from the database');
  return d;
}

export function jsonParam(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

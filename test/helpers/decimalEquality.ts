import { expect } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';

/**
 * Contract counts are Decimals now (Kalshi's fixed-point counts can be fractional), and tests
 * state whole counts as integer literals (`quantity: 100`). In toEqual / toMatchObject, a Decimal
 * equals an integer literal of exactly the same value: `dec('100.00')` equals `100`, `dec('2.97')`
 * equals no number (state it as a Decimal or a string), and a non-integer number is never
 * accepted as equal (a float cannot state a decimal exactly). Nothing else changes.
 */
function decimalEqualsInteger(a: unknown, b: unknown): boolean | undefined {
  const [d, n] = Decimal.isDecimal(a) && typeof b === 'number' ? [a as Decimal, b] : Decimal.isDecimal(b) && typeof a === 'number' ? [b as Decimal, a] : [null, null];
  if (d === null) return undefined;
  return Number.isSafeInteger(n) && d.eq(n!);
}

expect.addEqualityTesters([decimalEqualsInteger]);

import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';

/** Helpers shared by the contract tests that replay recorded Kalshi responses (test/fixtures/kalshi-recorded). */

const FOLDER = new URL('../fixtures/kalshi-recorded/', import.meta.url);

/** Every recorded response file in the folder (SOURCES.md names where each comes from). */
export function recordedFiles(): string[] {
  return readdirSync(FOLDER).filter((f) => f.endsWith('.json')).sort();
}

export function recorded<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FOLDER), 'utf8')) as T;
}

/**
 * `actual` is a Decimal (money and counts never travel as JS numbers) equal to `expected`
 * exactly: "0.060000" must become 0.06, not 0.0600000001 nor a rounded 0.06 from a float.
 */
export function expectExact(actual: unknown, expected: string, what: string): void {
  expect(Decimal.isDecimal(actual), `${what}: a Decimal, got ${typeof actual} ${String(actual)}`).toBe(true);
  expect((actual as Decimal).toString(), what).toBe(new Decimal(expected).toString());
}

/**
 * A fill's or order's effect in YES contracts and its YES price, whichever way the parser names
 * the direction (buy NO and sell YES are one trade on Kalshi's single YES book). Counts may be
 * numbers (before fractional contracts) or Decimals.
 */
export function inYesTerms(record: { side: 'yes' | 'no'; action: 'buy' | 'sell'; price: Decimal }, count: unknown) {
  const n = new Decimal(String(count));
  const addsYes = (record.side === 'yes') === (record.action === 'buy');
  return {
    yesContracts: (addsYes ? n : n.negated()).toString(),
    yesPrice: (record.side === 'yes' ? record.price : new Decimal(1).minus(record.price)).toString(),
  };
}

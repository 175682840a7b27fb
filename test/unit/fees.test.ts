import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { ceilToCent, kalshiFee, makerFee, takerFee } from '../../shared/domain/fees';

describe('ceilToCent', () => {
  it.each([
    ['0', '0.00'],
    ['0.01', '0.01'],
    ['0.1', '0.10'],
    ['1.75', '1.75'],
    ['155547.77', '155547.77'],
    ['0.0175', '0.02'],
    ['0.035', '0.04'],
    ['0.000693', '0.01'],
    ['0.0100000000000000000001', '0.02'],
    ['2.999', '3.00'],
    ['0.0000001', '0.01'],
    ['-0.015', '-0.01'],
  ])('%s → %s', (input, expected) => {
    const result = ceilToCent(dec(input));
    expect(result.toFixed(2)).toBe(expected);
    expect(result.equals(dec(expected))).toBe(true);
    expect(result).toBeInstanceOf(Decimal);
  });

  it('leaves a value already on a cent exactly as it is', () => {
    for (const v of ['0.07', '0.29', '1.01', '9999.99']) expect(ceilToCent(dec(v)).equals(dec(v))).toBe(true);
  });

  it('refuses non-finite values and JS numbers', () => {
    expect(() => ceilToCent(new Decimal(Infinity))).toThrow(RangeError);
    expect(() => ceilToCent(new Decimal(NaN))).toThrow(RangeError);
    expect(() => ceilToCent(0.5 as unknown as Decimal)).toThrow(/amount must be a Decimal, got number/);
  });
});

describe('Kalshi taker fee (rate 0.07): ceil_to_cent(0.07 × contracts × P × (1 − P)) per order', () => {
  it.each([
    // [contracts, price, raw fee, fee]
    [0, '0.5', '0', '0'],
    [1, '0.5', '0.0175', '0.02'],
    [2, '0.5', '0.035', '0.04'],
    [3, '0.5', '0.0525', '0.06'],
    [100, '0.5', '1.75', '1.75'],
    [1000, '0.5', '17.5', '17.50'],
    [1, '0.01', '0.000693', '0.01'],
    [100, '0.01', '0.0693', '0.07'],
    [1000, '0.01', '0.693', '0.70'],
    [1, '0.99', '0.000693', '0.01'],
    [100, '0.99', '0.0693', '0.07'],
    [1, '0.4', '0.0168', '0.02'],
    [10, '0.4', '0.168', '0.17'],
    [1, '0', '0', '0'],
    [1, '1', '0', '0'],
    [10_000_000, '0.3333', '155547.777', '155547.78'],
  ])('%i contracts at %s: %s → %s', (contracts, price, raw, fee) => {
    const result = takerFee(new Decimal(contracts), dec(price));
    expect(result.equals(dec(fee))).toBe(true);
    expect(result.gte(dec(raw))).toBe(true);
    expect(kalshiFee(new Decimal(contracts), dec(price), dec('0.07')).equals(result)).toBe(true);
  });

  it('is rounded once per order, not per contract', () => {
    // 100 single-contract orders at 0.5 pay 100 × 0.02 = 2.00; one order of 100 pays 1.75.
    expect(takerFee(new Decimal(1), dec('0.5')).times(100).equals(dec('2'))).toBe(true);
    expect(takerFee(new Decimal(100), dec('0.5')).equals(dec('1.75'))).toBe(true);
  });
});

describe('Kalshi maker fee (rate 0.0175)', () => {
  it.each([
    [1, '0.5', '0.01'], // 0.004375
    [100, '0.5', '0.44'], // 0.4375
    [1000, '0.5', '4.38'], // 4.375
    [400, '0.5', '1.75'], // 1.75 exactly
    [100, '0.01', '0.02'], // 0.017325
    [100, '0.99', '0.02'],
  ])('%i contracts at %s → %s', (contracts, price, fee) => {
    expect(makerFee(new Decimal(contracts), dec(price)).equals(dec(fee))).toBe(true);
  });

  it('takes its rates from the rules', () => {
    expect(DEFAULT_TRADING_RULES.fees.takerRate.equals(dec('0.07'))).toBe(true);
    expect(DEFAULT_TRADING_RULES.fees.makerRate.equals(dec('0.0175'))).toBe(true);
    const rules: TradingRules = { ...DEFAULT_TRADING_RULES, fees: { takerRate: dec('0.1'), makerRate: dec('0') } };
    expect(takerFee(new Decimal(100), dec('0.5'), rules).equals(dec('2.5'))).toBe(true);
    expect(makerFee(new Decimal(100), dec('0.5'), rules).equals(dec('0'))).toBe(true);
  });
});

describe('fee input validation', () => {
  it.each([
    ['negative contracts', () => kalshiFee(new Decimal(-1), dec('0.5'), dec('0.07')), /contracts must be a non-negative count with at most 2 decimals, got -1/],
    ['contracts finer than 0.01', () => kalshiFee(dec('1.005'), dec('0.5'), dec('0.07')), /at most 2 decimals, got 1.005/],
    ['NaN contracts', () => kalshiFee(new Decimal(NaN), dec('0.5'), dec('0.07')), /at most 2 decimals, got NaN/],
    ['infinite contracts', () => kalshiFee(new Decimal(Infinity), dec('0.5'), dec('0.07')), /at most 2 decimals/],
    ['negative price', () => kalshiFee(new Decimal(1), dec('-0.01'), dec('0.07')), /price must be within 0..1 dollars, got -0.01/],
    ['price above 1', () => kalshiFee(new Decimal(1), dec('1.01'), dec('0.07')), /price must be within 0..1 dollars, got 1.01/],
    ['price in cents', () => kalshiFee(new Decimal(1), dec('50'), dec('0.07')), /price must be within 0..1 dollars, got 50/],
    ['NaN price', () => kalshiFee(new Decimal(1), new Decimal(NaN), dec('0.07')), /price must be within 0..1/],
    ['negative rate', () => kalshiFee(new Decimal(1), dec('0.5'), dec('-0.07')), /fee rate must be a non-negative number/],
  ])('%s → RangeError', (_name, call, message) => {
    expect(call).toThrow(RangeError);
    expect(call).toThrow(message);
  });

  it('charges a fractional count exactly (0.07 × 2.97 × 0.25 = 0.051975 → 0.06)', () => {
    expect(takerFee(dec('2.97'), dec('0.5')).toFixed()).toBe('0.06');
    expect(makerFee(dec('0.01'), dec('0.5')).toFixed()).toBe('0.01');
  });

  it('refuses a JS number as contracts (TypeError)', () => {
    expect(() => kalshiFee(5 as unknown as Decimal, dec('0.5'), dec('0.07'))).toThrow(/contracts must be a Decimal/);
  });

  it('refuses a JS number as price or rate (TypeError)', () => {
    expect(() => kalshiFee(new Decimal(1), 0.5 as unknown as Decimal, dec('0.07'))).toThrow(TypeError);
    expect(() => kalshiFee(new Decimal(1), dec('0.5'), 0.07 as unknown as Decimal)).toThrow(/fee rate must be a Decimal/);
  });
});

describe('fee properties', () => {
  it('is on the cent grid, at least the raw fee and less than a cent above it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 10_000 }), (contracts, bp) => {
        const price = new Decimal(bp).dividedBy(10_000);
        const raw = dec('0.07').times(contracts).times(price).times(new Decimal(1).minus(price));
        const fee = takerFee(new Decimal(contracts), price);
        expect(fee.decimalPlaces()).toBeLessThanOrEqual(2);
        expect(fee.gte(raw)).toBe(true);
        expect(fee.minus(raw).lt(dec('0.01'))).toBe(true);
        // Symmetric in P ↔ 1 − P.
        expect(takerFee(new Decimal(contracts), new Decimal(1).minus(price)).equals(fee)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

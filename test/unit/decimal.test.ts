import { describe, expect, it } from 'vitest';
import { Decimal, dec, toSqlDecimal } from '../../shared/domain/decimal';

describe('dec', () => {
  it('parses decimal strings exactly', () => {
    expect(dec('0.1').plus(dec('0.2')).equals(dec('0.3'))).toBe(true);
    expect(dec(' 0.9999 ').toFixed()).toBe('0.9999');
  });

  it('refuses JS numbers and garbage with a message', () => {
    expect(() => dec(0.1 as unknown as string)).toThrow(/decimal string or Decimal, got number/);
    expect(() => dec('1.2.3')).toThrow(/not a decimal number: "1.2.3"/);
    expect(() => dec('')).toThrow(/not a decimal number/);
    expect(() => dec('NaN')).toThrow(/not a decimal number/);
  });

  it('passes Decimals through', () => {
    const d = new Decimal('0.5');
    expect(dec(d)).toBe(d);
  });
});

describe('toSqlDecimal', () => {
  it('never writes exponent notation', () => {
    expect(toSqlDecimal(new Decimal('1e-8'))).toBe('0.00000001');
    expect(toSqlDecimal(new Decimal('1e21'))).toBe('1000000000000000000000');
  });
});

import { describe, expect, it } from 'vitest';
import { count, labelled, pct, price, table, time, usd } from '../../cli/format';
import { dec } from '../../shared/domain/decimal';

describe('CLI number formats', () => {
  it('usd: dollars rounded half-up to the cent, thousands grouped, sign on request', () => {
    expect(usd('1234.565')).toBe('$1,234.57');
    expect(usd('1234.5649')).toBe('$1,234.56');
    expect(usd('-0.2903')).toBe('-$0.29');
    expect(usd('-0.004')).toBe('$0.00'); // rounds to zero: no "-$0.00"
    expect(usd('12.3', { signed: true })).toBe('+$12.30');
    expect(usd('0', { signed: true })).toBe('$0.00');
    expect(usd(dec('1000000'))).toBe('$1,000,000.00');
    expect(usd(null)).toBe('-');
  });

  it('pct: a fraction as a percentage with one decimal', () => {
    expect(pct('0.1234')).toBe('12.3%');
    expect(pct('0.12345')).toBe('12.3%');
    expect(pct('0.1235')).toBe('12.4%'); // half-up
    expect(pct('-0.15')).toBe('-15.0%');
    expect(pct('-0.0004')).toBe('0.0%');
    expect(pct(null)).toBe('-');
  });

  it('price, count and time: exact, short', () => {
    expect(price('0.4')).toBe('0.40');
    expect(price('0.4250')).toBe('0.425');
    expect(count(dec('2.97'))).toBe('2.97');
    expect(count('5.00')).toBe('5');
    expect(time(new Date('2026-12-06T18:04:05.123Z'))).toBe('2026-12-06 18:04:05Z');
  });

  it('table: columns aligned, numbers right-aligned, no trailing spaces', () => {
    const lines = table([{ a: 'x', n: '$1.00' }, { a: 'longer', n: '$1,234.00' }], [
      { header: 'NAME', cell: (r) => r.a },
      { header: 'AMOUNT', cell: (r) => r.n, align: 'right' },
    ]);
    expect(lines).toEqual([
      'NAME       AMOUNT',
      'x           $1.00',
      'longer  $1,234.00',
    ]);
    expect(labelled([['a', '1'], ['longer', '2']])).toEqual(['  a       1', '  longer  2']);
  });
});

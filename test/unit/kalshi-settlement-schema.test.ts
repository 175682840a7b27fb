import type { Settlement } from 'kalshi-typescript';
import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../shared/http/errors';
import { parseStrict } from '../../shared/http/parse';
import { kalshiSettlement } from '../../shared/venues/kalshi/settlementSchemas';

/** A settlement record as GET /portfolio/settlements sends it (typed with kalshi-typescript's model). */
const record = (overrides: Partial<Settlement> & Record<string, unknown> = {}): Settlement => ({
  ticker: 'KXNFLGAME-26NOV27KCDAL-KC',
  exchange_index: 0,
  event_ticker: 'KXNFLGAME-26NOV27KCDAL',
  market_result: 'yes',
  yes_count_fp: '2.97',
  yes_total_cost_dollars: '1.781999',
  no_count_fp: '0.00',
  no_total_cost_dollars: '0.000000',
  revenue: 297,
  settled_time: '2026-11-28T05:12:00Z',
  fee_cost: '0.060000',
  value: 100,
  ...overrides,
} as Settlement);

const parse = (value: unknown) => parseStrict('kalshi settlement', kalshiSettlement, value, 'settlements@page0[0]');

describe('Kalshi settlement records', () => {
  it('reads amounts exactly: revenue and value in cents → dollars, 6-decimal dollar strings, fractional counts', () => {
    const s = parse(record());
    expect({
      ticker: s.ticker, eventTicker: s.eventTicker, marketResult: s.marketResult,
      yesCount: s.yesCount.toFixed(), noCount: s.noCount.toFixed(), yesTotalCost: s.yesTotalCost.toFixed(), noTotalCost: s.noTotalCost.toFixed(),
      revenue: s.revenue.toFixed(), feeCost: s.feeCost.toFixed(), yesPayout: s.yesPayout?.toFixed(), settledAt: s.settledAt.toISOString(),
    }).toEqual({
      ticker: 'KXNFLGAME-26NOV27KCDAL-KC', eventTicker: 'KXNFLGAME-26NOV27KCDAL', marketResult: 'yes',
      yesCount: '2.97', noCount: '0', yesTotalCost: '1.781999', noTotalCost: '0', revenue: '2.97', feeCost: '0.06', yesPayout: '1',
      settledAt: '2026-11-28T05:12:00.000Z',
    });
  });

  it('tolerates unknown fields and a missing or null value', () => {
    expect(parse({ ...record(), value: null, new_field: 'x' }).yesPayout).toBeNull();
    const { value: _value, ...without } = record();
    expect(parse(without).yesPayout).toBeNull();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['revenue in dollars instead of cents', { revenue: 2.97 }, 'settlements@page0[0].revenue: cents must be a whole number'],
    ['a count with 3 decimals', { yes_count_fp: '2.975' }, 'settlements@page0[0].yes_count_fp: not a non-negative fixed-point count with at most 2 decimals'],
    ['a fee with 7 decimals', { fee_cost: '0.0600001' }, 'settlements@page0[0].fee_cost: not a non-negative dollar amount with at most 6 decimals'],
    ['an unknown result', { market_result: 'maybe' }, 'settlements@page0[0].market_result'],
    ['no settled time', { settled_time: undefined }, 'settlements@page0[0].settled_time'],
  ])('refuses %s, naming the field', (_name, overrides, message) => {
    expect(() => parse({ ...record(), ...overrides })).toThrow(PayloadError);
    expect(() => parse({ ...record(), ...overrides })).toThrow(message);
  });
});

import type { Fill, GetBalanceResponse, MarketPosition, Order } from 'kalshi-typescript';
import { describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { kalshiBalance, kalshiFill, kalshiOrder, kalshiPosition } from '../../shared/venues/kalshi/tradingSchemas';

/**
 * Portfolio payloads shaped (and typed) as kalshi-typescript 3.30's models, the way Kalshi sends
 * them since March 2026: dollar amounts with 6 decimals, `_fp` counts that can be fractional,
 * direction in `outcome_side` / `book_side` (the legacy `side` / `action` optional, deprecated).
 */

const order: Order = {
  order_id: 'ord-1', user_id: 'user-1', client_order_id: 'pc-1', ticker: 'KXNFLGAME-25NOV27KCDAL-KC',
  outcome_side: 'yes', book_side: 'bid', type: 'limit', status: 'canceled',
  yes_price_dollars: '0.550000', no_price_dollars: '0.450000',
  fill_count_fp: '2.97', remaining_count_fp: '0.00', initial_count_fp: '5.00',
  taker_fill_cost_dollars: '1.633500', maker_fill_cost_dollars: '0.000000',
  taker_fees_dollars: '0.060000', maker_fees_dollars: '0.000000',
  created_time: '2026-11-27T21:30:00Z',
};

const fill: Fill = {
  fill_id: 'fill-1', exchange_index: 0, trade_id: 'fill-1', order_id: 'ord-1', ticker: 'KXNFLGAME-25NOV27KCDAL-KC',
  market_ticker: 'KXNFLGAME-25NOV27KCDAL-KC', outcome_side: 'yes', book_side: 'bid', count_fp: '2.97',
  yes_price_dollars: '0.550000', no_price_dollars: '0.450000', is_taker: true, fee_cost: '0.051975',
  created_time: '2026-11-27T21:30:01Z',
};

const position: MarketPosition = {
  ticker: 'KXNFLGAME-25NOV27BUFNYJ-NYJ', exchange_index: 0, total_traded_dollars: '12.345600', position_fp: '-2.97',
  market_exposure_dollars: '1.336500', realized_pnl_dollars: '-25.671900', fees_paid_dollars: '0.060000',
  last_updated_ts: '2026-11-27T21:30:00Z',
};

describe('Kalshi portfolio payloads as sent today', () => {
  it('an order with 6-decimal amounts and a fractional fill count parses exactly', () => {
    const o = kalshiOrder.parse(order);
    expect(o).toMatchObject({ side: 'yes', action: 'buy', outcomeSide: 'yes', status: 'canceled' });
    expect(o.limitPrice.toFixed()).toBe('0.55');
    expect([o.initialCount, o.filledCount, o.remainingCount].map((c) => c.toFixed())).toEqual(['5', '2.97', '0']);
    expect(o.takerFillCost.eq(dec('1.6335'))).toBe(true);
    expect(o.takerFees.eq(dec('0.06'))).toBe(true);
  });

  it('a fractional fill parses to exact Decimals (count 2.97, fee 0.051975)', () => {
    const f = kalshiFill.parse(fill);
    expect(f).toMatchObject({ fillId: 'fill-1', side: 'yes', action: 'buy', outcomeSide: 'yes', isTaker: true });
    expect(f.count.toFixed()).toBe('2.97');
    expect(f.fee.toFixed()).toBe('0.051975');
    expect(f.price.toFixed()).toBe('0.55');
  });

  it('a fractional NO holding in another market parses signed and exact', () => {
    const p = kalshiPosition.parse(position);
    expect(p.position.toFixed()).toBe('-2.97');
    expect(p.exposure.toFixed()).toBe('1.3365');
    expect(p.realizedPnl.toFixed()).toBe('-25.6719');
    expect(p.feesPaid.toFixed()).toBe('0.06');
  });

  it('a balance in 6-decimal dollars parses exactly', () => {
    const balance: GetBalanceResponse = { balance: 100012, balance_dollars: '1000.123456', portfolio_value: 0, updated_ts: 0 };
    expect(kalshiBalance.parse(balance).toFixed()).toBe('1000.123456');
  });

  it.each([
    ['a count with 3 decimals', { ...fill, count_fp: '2.975' }, ['count_fp'], /more than 2 decimals/],
    ['a negative fill count', { ...fill, count_fp: '-1.00' }, ['count_fp'], /must not be negative/],
    ['an amount with 7 decimals', { ...fill, fee_cost: '0.0519751' }, ['fee_cost'], /at most 6 decimals/],
    ['a negative fee', { ...fill, fee_cost: '-0.060000' }, ['fee_cost'], /must not be negative/],
    ['a price finer than 0.0001', { ...fill, yes_price_dollars: '0.550001' }, ['yes_price_dollars'], /finer than 0.0001/],
    ['outcome_side contradicting book_side', { ...fill, book_side: 'ask' }, ['outcome_side'], /contradicts book_side/],
  ])('%s is an error naming the field', (_name, payload, path, message) => {
    const result = kalshiFill.safeParse(payload);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path));
    expect(issue?.message).toMatch(message);
  });

  it('a position count with 3 decimals is an error naming position_fp', () => {
    const result = kalshiPosition.safeParse({ ...position, position_fp: '1.005' });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(['position_fp']);
  });
});

describe('fill direction (outcome_side / book_side over the legacy side / action)', () => {
  const bare = { ...fill, side: undefined, action: undefined };
  it.each([
    // [outcome_side, book_side, legacy side, legacy action] → [side, action]
    ['yes', 'bid', undefined, undefined, 'yes', 'buy'],
    ['no', 'ask', undefined, undefined, 'no', 'buy'],
    // The legacy pair tells buy NO from sell YES when it agrees with the new fields.
    ['no', 'ask', 'yes', 'sell', 'yes', 'sell'],
    ['yes', 'bid', 'no', 'sell', 'no', 'sell'],
    // A contradiction: the new fields decide the direction; the legacy side is kept, its action corrected.
    ['no', 'ask', 'yes', 'buy', 'yes', 'sell'],
    ['yes', 'bid', 'yes', 'sell', 'yes', 'buy'],
    // Only the legacy action: the side follows from the direction.
    ['no', 'ask', undefined, 'sell', 'yes', 'sell'],
  ] as const)('outcome %s / book %s with legacy %s %s → %s %s', (outcome, book, side, action, wantSide, wantAction) => {
    const f = kalshiFill.parse({ ...bare, outcome_side: outcome, book_side: book, side, action });
    expect(f).toMatchObject({ outcomeSide: outcome, side: wantSide, action: wantAction });
    // The price is the resolved side's.
    expect(f.price.toFixed()).toBe(wantSide === 'yes' ? '0.55' : '0.45');
  });

  it('without outcome_side, book_side decides; without both, the legacy pair', () => {
    expect(kalshiFill.parse({ ...bare, outcome_side: undefined, book_side: 'ask' })).toMatchObject({ outcomeSide: 'no', side: 'no', action: 'buy' });
    expect(kalshiFill.parse({ ...bare, outcome_side: undefined, book_side: undefined, side: 'yes', action: 'sell' }))
      .toMatchObject({ outcomeSide: 'no', side: 'yes', action: 'sell' });
    const none = kalshiFill.safeParse({ ...bare, outcome_side: undefined, book_side: undefined });
    expect(none.success).toBe(false);
    expect(none.error!.issues[0]!.path).toEqual(['outcome_side']);
  });

  it('orders read their direction the same way', () => {
    expect(kalshiOrder.parse({ ...order, outcome_side: 'no', book_side: 'ask', side: 'yes', action: 'buy' }))
      .toMatchObject({ outcomeSide: 'no', side: 'yes', action: 'sell' });
  });
});

import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { qty } from '../../shared/domain/quantity';
import {
  bookSideOf, createOrderV2Body, createOrderV2Reply, notAnOrderReply, orderFromCreateReply, yesPriceOf,
  type CheckedOrder, type CreateOrderV2Reply,
} from '../../shared/venues/kalshi/orderV2';

const order: CheckedOrder = {
  ticker: 'T', clientOrderId: 'c-1', side: 'no', action: 'buy', type: 'limit', count: qty(10),
  limitPrice: new Decimal('0.4810'), timeInForce: 'good_till_canceled', expirationTime: 1893456000,
};
const reply = (over: Partial<CreateOrderV2Reply> = {}): CreateOrderV2Reply => ({
  order_id: 'o-1', client_order_id: 'c-1', fill_count: qty(4), remaining_count: qty(6),
  average_fill_price: new Decimal('0.521000'), average_fee_paid: new Decimal('0.017500'), ts_ms: 1_800_000_000_000, ...over,
});

describe('Kalshi V2 order mapping', () => {
  it('maps side and action onto the single YES book, the price exactly', () => {
    expect([bookSideOf('yes', 'buy'), bookSideOf('no', 'buy'), bookSideOf('yes', 'sell'), bookSideOf('no', 'sell')]).toEqual(['bid', 'ask', 'ask', 'bid']);
    expect(yesPriceOf('no', new Decimal('0.481')).toFixed()).toBe('0.519');
    expect(createOrderV2Body(order)).toEqual({
      ticker: 'T', client_order_id: 'c-1', side: 'ask', count: '10.00', price: '0.5190', time_in_force: 'good_till_canceled',
      self_trade_prevention_type: 'taker_at_cross', cancel_order_on_pause: true, expiration_time: 1893456000,
    });
    // Sells reduce only; immediate-or-cancel neither rests nor expires.
    expect(createOrderV2Body({ ...order, action: 'sell', timeInForce: 'immediate_or_cancel', expirationTime: undefined })).toEqual({
      ticker: 'T', client_order_id: 'c-1', side: 'bid', count: '10.00', price: '0.5190', time_in_force: 'immediate_or_cancel',
      self_trade_prevention_type: 'taker_at_cross', reduce_only: true,
    });
  });

  it('counts: fixed-point text out ("10.00"), exact Decimals in, fractional ones ("8.93") included', () => {
    expect(createOrderV2Body({ ...order, count: qty('2.50') }).count).toBe('2.50');
    const parsed = createOrderV2Reply.parse({ order_id: 'o', fill_count: '8.93', remaining_count: '0.07', ts_ms: 1 });
    expect([parsed.fill_count.toFixed(2), parsed.remaining_count.toFixed(2)]).toEqual(['8.93', '0.07']);
    expect(() => createOrderV2Reply.parse({ order_id: 'o', fill_count: '1e3', remaining_count: '0', ts_ms: 1 })).toThrow();
    expect(() => createOrderV2Reply.parse({ order_id: 'o', fill_count: '1.234', remaining_count: '0', ts_ms: 1 })).toThrow(/more than 2 decimals/);
  });

  it('builds the order from the flat reply: status from what filled and remains; NO cost from the YES average', () => {
    const resting = orderFromCreateReply(order, reply())!;
    expect(resting).toMatchObject({ venueOrderId: 'o-1', status: 'resting', initialCount: 10, filledCount: 4, remainingCount: 6, side: 'no' });
    expect(resting.takerFillCost.toFixed(4)).toBe('1.9160'); // 4 × (1 − 0.521)
    expect(resting.takerFees.toFixed(4)).toBe('0.0700');
    expect(resting.expiresAt?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const ioc = { ...order, timeInForce: 'immediate_or_cancel' as const, expirationTime: undefined };
    expect(orderFromCreateReply(ioc, reply({ remaining_count: qty(0) }))!.status).toBe('canceled');
    expect(orderFromCreateReply(ioc, reply({ fill_count: qty(10), remaining_count: qty(0) }))!.status).toBe('executed');
    expect(orderFromCreateReply(ioc, reply({ fill_count: qty(0), remaining_count: qty(0), average_fill_price: undefined, average_fee_paid: undefined }))!)
      .toMatchObject({ status: 'canceled', filledCount: 0 });
  });

  it('gives up (null: read the order back) when the reply does not settle the order', () => {
    const ioc = { ...order, timeInForce: 'immediate_or_cancel' as const };
    expect(orderFromCreateReply(ioc, reply())).toBeNull(); // a remainder on an order that cannot rest
    expect(orderFromCreateReply(order, reply({ remaining_count: qty(5) }))).toBeNull(); // counts do not add up (reduce-only cap)
    expect(orderFromCreateReply(order, reply({ fill_count: qty(11), remaining_count: qty(0) }))).toBeNull();
    expect(orderFromCreateReply(order, reply({ average_fill_price: undefined }))).toBeNull();
    expect(orderFromCreateReply(order, reply({ client_order_id: 'someone-else' }))).toBeNull();
  });

  it('a write reply without an order id, or holding an error, is not an order', () => {
    expect(notAnOrderReply(null)).toBe('empty body');
    expect(notAnOrderReply({})).toBe('body has no order_id');
    expect(notAnOrderReply({ error: { code: 'deprecated_v1_order_endpoint' } })).toMatch(/body holds an error: .*deprecated_v1_order_endpoint/);
    expect(notAnOrderReply({ order_id: 'o', error: 'x' })).toMatch(/holds an error/);
    expect(notAnOrderReply([])).toBe('body is not an object');
    expect(notAnOrderReply({ order_id: 'o-1', fill_count: '0.00' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  canTransition, IllegalOrderTransitionError, nextOrderState, ORDER_STATUSES, ORDER_TRANSITIONS, type OrderStatus,
} from '../../shared/execution/orderState';
import { qty } from '../../shared/domain/quantity';

const order = (status: OrderStatus, filledQuantity = 0, quantity = 10) => ({ clientOrderId: 'pc-x', status, quantity: qty(quantity), filledQuantity: qty(filledQuantity) });

describe('order state machine', () => {
  it('final states go nowhere; nothing goes back to pending', () => {
    for (const status of ['filled', 'cancelled', 'rejected'] as const) expect(ORDER_TRANSITIONS[status]).toEqual([]);
    for (const from of ORDER_STATUSES) if (from !== 'pending') expect(canTransition(from, 'pending')).toBe(false);
    expect(canTransition('resting', 'rejected')).toBe(false);
    expect(canTransition('partially_filled', 'resting')).toBe(false);
  });

  it.each([
    // local, venue status, venue filled, recorded fills → next status
    ['pending', 'resting', 0, 0, 'resting'],
    ['pending', 'resting', 4, 4, 'partially_filled'],
    ['pending', 'executed', 10, 10, 'filled'],
    ['pending', 'canceled', 0, 0, 'cancelled'],
    ['pending', 'canceled', 3, 3, 'cancelled'],
    ['resting', 'resting', 2, 2, 'partially_filled'],
    ['partially_filled', 'resting', 6, 6, 'partially_filled'],
    ['partially_filled', 'executed', 10, 10, 'filled'],
    ['partially_filled', 'canceled', 6, 6, 'cancelled'],
    // The venue is ahead of the fills listed so far: stay open until they are recorded.
    ['pending', 'executed', 10, 0, 'resting'],
    ['pending', 'executed', 10, 7, 'partially_filled'],
    ['pending', 'canceled', 5, 2, 'partially_filled'],
    // An immediate-or-cancel remainder reported as executed with fewer filled.
    ['pending', 'executed', 4, 4, 'cancelled'],
  ] as const)('%s + venue %s (%i filled, %i recorded) → %s', (local, venueStatus, venueFilled, recorded, expected) => {
    const next = nextOrderState(order(local, local === 'partially_filled' ? Math.min(recorded, 6) : 0), { status: venueStatus, filledCount: qty(venueFilled) }, qty(recorded));
    expect(next.status).toBe(expected);
    expect(next.filledQuantity.toFixed()).toBe(String(recorded));
    expect(next.awaitingFills).toBe(venueFilled > recorded);
  });

  it('a stale venue read never moves an order backwards', () => {
    const next = nextOrderState(order('partially_filled', 6), { status: 'resting', filledCount: qty(0) }, qty(6));
    expect(next.status).toBe('partially_filled');
  });

  it('a final order cannot reopen', () => {
    expect(() => nextOrderState(order('cancelled', 0), { status: 'resting', filledCount: qty(2) }, qty(2))).toThrow(IllegalOrderTransitionError);
    expect(() => nextOrderState(order('rejected', 0), { status: 'executed', filledCount: qty(10) }, qty(10))).toThrow(/illegal status change rejected -> filled/);
  });

  it('fills beyond the order quantity are refused', () => {
    expect(() => nextOrderState(order('pending'), { status: 'executed', filledCount: qty(11) }, qty(11))).toThrow(/more than the 10 ordered/);
  });
});

import type {
  AmendOrderV2Request, BookSide, CancelOrderV2Response, CreateOrderV2Request, CreateOrderV2Response, SelfTradePreventionType,
} from 'kalshi-typescript';
import * as z from 'zod';
import { Decimal, ONE, ZERO } from '../../domain/decimal';
import { countWireText } from '../../domain/quantity';
import { outcomeSideOf, type ContractSide, type OrderAction, type TimeInForce, type VenueOrder } from '../../exchange/types';
import { text } from '../../validation/decimals';
import { contractCount } from './tradingSchemas';

/**
 * Kalshi's order writes as they are now (Create / Cancel / Amend Order V2 under
 * /portfolio/events/orders; kalshi-typescript 3.30 is the contract): the request bodies, typed with
 * the package's models so tsc proves their shape, and the flat replies parsed with zod. The V1
 * writes (POST/DELETE /portfolio/orders) are retired: nothing here builds a request for them.
 */

export const ORDERS_V2 = '/portfolio/events/orders';
export const orderV2Path = (orderId: string) => `${ORDERS_V2}/${encodeURIComponent(orderId)}`;
export const amendV2Path = (orderId: string) => `${orderV2Path(orderId)}/amend`;

/**
 * `taker_at_cross`: an order that would trade against one of our own resting orders is the one
 * stopped (what it filled before stands), and its reply says so. `maker` would instead cancel the
 * resting order, which the books track, behind their back. With one account the incoming order is
 * the one whose outcome the caller is waiting for, so that is where the surprise belongs.
 */
export const SELF_TRADE_PREVENTION: SelfTradePreventionType = 'taker_at_cross';

// ---------------------------------------------------------------------------------------------
// Counts: exact Decimals (shared/domain/quantity), as fixed-point text on the wire ("10.00").

const fpCount = contractCount;

/** A dollar amount as Kalshi sends it in replies: a non-negative decimal with up to 6 decimals. */
const dollars6 = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (!/^\d{1,12}(\.\d{1,6})?$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'not a dollar amount with at most 6 decimals' });
    return z.NEVER;
  }
  return new Decimal(v);
});

// ---------------------------------------------------------------------------------------------
// The single YES book

/** Buying YES and selling NO bid on the YES book; buying NO and selling YES offer on it. */
export function bookSideOf(side: ContractSide, action: OrderAction): BookSide {
  return (side === 'yes') === (action === 'buy') ? 'bid' : 'ask';
}

/** The YES-book price of a price of `side` (NO at p is YES at 1 − p, exactly). */
export function yesPriceOf(side: ContractSide, price: Decimal): Decimal {
  return side === 'yes' ? price : ONE.minus(price);
}

/** A YES-book price as Kalshi takes it: dollars with 4 decimals (its tick is at most 0.001 finer). */
export function priceText(yesPrice: Decimal): string {
  return yesPrice.toFixed(4);
}

// ---------------------------------------------------------------------------------------------
// Create

/** An order request already checked by the exchange (the fields the venue needs). */
export interface CheckedOrder {
  ticker: string;
  clientOrderId: string;
  side: ContractSide;
  action: OrderAction;
  type: 'limit' | 'market';
  count: Decimal;
  /** Price of `side`, dollars. */
  limitPrice: Decimal;
  timeInForce: TimeInForce;
  /** Whole seconds since the epoch (good_till_canceled only). */
  expirationTime?: number;
}

export function createOrderV2Body(order: CheckedOrder): CreateOrderV2Request {
  return {
    ticker: order.ticker,
    client_order_id: order.clientOrderId,
    side: bookSideOf(order.side, order.action),
    count: countWireText(order.count),
    price: priceText(yesPriceOf(order.side, order.limitPrice)),
    time_in_force: order.timeInForce,
    self_trade_prevention_type: SELF_TRADE_PREVENTION,
    // Precog never opens a position by selling: a sell only reduces what is held.
    ...(order.action === 'sell' ? { reduce_only: true } : {}),
    ...(order.timeInForce === 'good_till_canceled'
      // A resting order priced before a trading pause should not fill after it.
      ? { cancel_order_on_pause: true, ...(order.expirationTime !== undefined ? { expiration_time: order.expirationTime } : {}) }
      : {}),
  };
}

const createReplySchema = z.object({
  order_id: text.min(1),
  client_order_id: text.nullable().optional(),
  fill_count: fpCount,
  remaining_count: fpCount,
  average_fill_price: dollars6.nullable().optional(),
  average_fee_paid: dollars6.nullable().optional(),
  ts_ms: z.number().int().nonnegative(),
});
export type CreateOrderV2Reply = z.infer<typeof createReplySchema>;
export const createOrderV2Reply = createReplySchema;
// The schema reads every field the contract declares (compile-time check against the model).
type _CreateFields = keyof CreateOrderV2Response extends keyof z.input<typeof createReplySchema> ? true : never;
const _createFields: _CreateFields = true;
void _createFields;

/**
 * The order a create reply describes, without reading it back, or null when the reply does not
 * settle it (counts that do not add up, a remainder on an order that cannot rest, fills without
 * their averages): the caller then reads the order back.
 *
 * Status: something remains → resting (good_till_canceled only); nothing remains → executed when
 * all was filled, else canceled (immediate_or_cancel / fill_or_kill / self-trade prevention).
 * A create's own fills are taker fills (the order took liquidity on arrival); the totals are the
 * reply's averages × the filled count. `average_fill_price` is a YES-book price like the request's.
 */
export function orderFromCreateReply(order: CheckedOrder, reply: CreateOrderV2Reply): VenueOrder | null {
  const filled = reply.fill_count;
  const remaining = reply.remaining_count;
  const unfilled = order.count.minus(filled);
  if (reply.client_order_id && reply.client_order_id !== order.clientOrderId) return null;
  if (filled.gt(order.count) || remaining.gt(unfilled)) return null;
  let status: VenueOrder['status'];
  if (remaining.gt(0)) {
    // A remainder that rests must be the whole unfilled count (reduce_only may have capped it).
    if (order.timeInForce !== 'good_till_canceled' || !remaining.eq(unfilled)) return null;
    status = 'resting';
  } else {
    status = filled.eq(order.count) ? 'executed' : 'canceled';
  }
  let takerFillCost = ZERO;
  let takerFees = ZERO;
  if (filled.gt(0)) {
    if (!reply.average_fill_price || !reply.average_fee_paid) return null;
    takerFillCost = yesPriceOf(order.side, reply.average_fill_price).times(filled);
    takerFees = reply.average_fee_paid.times(filled);
  }
  return {
    venueOrderId: reply.order_id,
    clientOrderId: order.clientOrderId,
    ticker: order.ticker,
    side: order.side,
    action: order.action,
    outcomeSide: outcomeSideOf(order.side, order.action),
    type: order.type,
    status,
    limitPrice: order.limitPrice,
    initialCount: order.count,
    filledCount: filled,
    remainingCount: remaining,
    takerFees,
    makerFees: ZERO,
    takerFillCost,
    makerFillCost: ZERO,
    createdAt: new Date(reply.ts_ms),
    expiresAt: order.expirationTime !== undefined ? new Date(order.expirationTime * 1000) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Cancel and amend

const cancelReplySchema = z.object({
  order_id: text.min(1),
  client_order_id: text.nullable().optional(),
  reduced_by: fpCount,
  ts_ms: z.number().int().nonnegative(),
});
export const cancelOrderV2Reply = cancelReplySchema;
type _CancelFields = keyof CancelOrderV2Response extends keyof z.input<typeof cancelReplySchema> ? true : never;
const _cancelFields: _CancelFields = true;
void _cancelFields;

/** The amend body: `count` is the new TOTAL (filled + what should rest), per Kalshi's amend rules. */
export function amendOrderV2Body(order: VenueOrder, change: { limitPrice: Decimal; count: Decimal }): AmendOrderV2Request {
  return {
    ticker: order.ticker,
    side: bookSideOf(order.side, order.action),
    price: priceText(yesPriceOf(order.side, change.limitPrice)),
    count: countWireText(change.count),
    ...(order.clientOrderId ? { client_order_id: order.clientOrderId } : {}),
  };
}

export const amendOrderV2Reply = z.object({
  order_id: text.min(1),
  client_order_id: text.nullable().optional(),
  ts_ms: z.number().int().nonnegative(),
});

// ---------------------------------------------------------------------------------------------
// Replies that are not orders

/**
 * Why a 2xx write reply is not an order reply, or undefined when it carries an order id and no
 * error. An empty body, a body holding only an error (`deprecated_v1_order_endpoint`) or anything
 * without `order_id` is a failure: it must never be taken for a placed (or cancelled) order.
 */
export function notAnOrderReply(json: unknown): string | undefined {
  if (json === null || json === undefined) return 'empty body';
  if (typeof json !== 'object' || Array.isArray(json)) return 'body is not an object';
  const record = json as Record<string, unknown>;
  if (record.error !== undefined && record.error !== null) return `body holds an error: ${JSON.stringify(record.error).slice(0, 200)}`;
  if (typeof record.order_id !== 'string' || record.order_id === '') return 'body has no order_id';
  return undefined;
}

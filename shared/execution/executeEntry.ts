import type pg from 'pg';
import { now as clockNow } from '../clock/clock';
import type { Decimal } from '../domain/decimal';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import { withTransaction, type Queryable } from '../db/transaction';
import { OrderRejectedError, type Exchange, type VenueOrder } from '../exchange/types';
import type { EntryOrderMessage } from '../queues/messages';
import { evaluateEntryChecks, loadEntryCheckSnapshot } from './entryChecks';
import {
  applyVenueUpdate, closeUnsentOrder, edgeOf, lockBalance, lockOrderForExecution, writeBalance, type FillContext, type LocalOrder,
} from './ledger';
import { ENTRY_LOCK_KEY } from './locks';
import type { OrderStatus } from './orderState';

/**
 * Executes one entry order message: the last-look checks, the order at the venue, and the
 * trade, position and balance it produces, all under the order's row lock in one transaction.
 *
 * Exactly once: the order row (created by the scan, unique client_order_id) is locked first, so
 * a duplicate delivery waits and then finds the order no longer pending; an order that reached
 * the venue in an attempt that crashed before committing is found again by client_order_id
 * (every redelivery looks it up before placing). A fill is one trade, recorded once per fill id.
 */

/** Messages are acknowledged for every outcome; only a thrown error sends one back to the queue. */
export type EntryOutcome =
  | { outcome: 'executed'; clientOrderId: string; status: OrderStatus; filledQuantity: Decimal; trades: number; venueOrderId: string; adopted: boolean }
  | { outcome: 'duplicate'; clientOrderId: string; status: OrderStatus }
  | { outcome: 'cancelled'; clientOrderId: string; reason: string }
  | { outcome: 'rejected'; clientOrderId: string; reason: string }
  | { outcome: 'discarded'; clientOrderId: string; reason: string };

export interface ExecuteEntryDeps {
  pool: pg.Pool;
  exchange: Exchange;
  rules?: TradingRules;
  /** The venue's ticker of a market; default: the market's `ticker` column (Kalshi: the market id). */
  tickerOf?: (db: Queryable, marketId: string) => Promise<string>;
  now?: () => Date;
}

export interface DeliveryInfo {
  /** SQS ApproximateReceiveCount: above 1, an earlier attempt may have reached the venue. */
  receiveCount?: number;
}


export async function executeEntry(
  deps: ExecuteEntryDeps,
  message: EntryOrderMessage,
  delivery: DeliveryInfo = {},
): Promise<EntryOutcome> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const now = deps.now ?? clockNow;
  // Survives a transaction retry (deadlock): the venue already has the order, do not place again.
  let placed: VenueOrder | undefined;

  return withTransaction(deps.pool, async (client) => {
    await client.query(`SELECT set_config('lock_timeout', $1, true), pg_advisory_xact_lock($2)`, [
      `${rules.execution.entryLockTimeoutMs}ms`, ENTRY_LOCK_KEY,
    ]);
    const locked = await lockOrderForExecution(client, message.clientOrderId);
    const id = message.clientOrderId;
    if (!locked) return { outcome: 'discarded', clientOrderId: id, reason: 'no such order: the message names an order the scan never recorded' };
    const { order } = locked;
    const mismatch = messageMismatch(message, order);
    if (mismatch) return { outcome: 'discarded', clientOrderId: id, reason: `message does not match order ${id}: ${mismatch}` };
    if (order.status !== 'pending') return { outcome: 'duplicate', clientOrderId: id, status: order.status };
    if (order.executionMode !== deps.exchange.executionMode) {
      throw new Error(`order ${id} is a ${order.executionMode} order but this function executes on ${deps.exchange.name} (${deps.exchange.executionMode})`);
    }
    const ticker = deps.tickerOf ? await deps.tickerOf(client, order.marketId) : locked.ticker;
    // The books need an opening cash balance; the venue's is the truth before the first fill.
    if (!locked.hasBalance && (await lockBalance(client, order.platformId, order.executionMode)) === null) {
      await writeBalance(client, order.platformId, order.executionMode, await deps.exchange.getBalance());
    }

    let venueOrder = placed ?? ((delivery.receiveCount ?? 1) > 1 ? await deps.exchange.findOrder(id, ticker) : null);
    const adopted = venueOrder !== null;
    let edge: FillContext['edge'] = null;
    let placement: FillContext['placement'];
    if (!venueOrder) {
      const snapshot = await loadEntryCheckSnapshot(client, order);
      const check = evaluateEntryChecks(snapshot, order, rules);
      if (!check.ok) {
        await closeUnsentOrder(client, order.orderId, 'cancelled', `not sent: ${check.reason}`);
        return { outcome: 'cancelled', clientOrderId: id, reason: check.reason };
      }
      edge = snapshot.edge;
      const expiresAt = rules.execution.entryTimeInForce === 'good_till_canceled'
        ? new Date(now().getTime() + rules.execution.entryOrderTtlSeconds * 1000)
        : undefined;
      placement = { timeInForce: rules.execution.entryTimeInForce, expiresAt: expiresAt ?? null };
      try {
        venueOrder = await deps.exchange.placeOrder({
          ticker, clientOrderId: id, side: order.side, action: 'buy', count: order.quantity, type: 'limit',
          limitPrice: order.limitPrice!, timeInForce: rules.execution.entryTimeInForce, expiresAt,
        });
      } catch (error) {
        if (!(error instanceof OrderRejectedError)) throw error; // transient: the message is retried
        const reason = `venue rejected the order${error.code ? ` (${error.code})` : ''}: ${error.message}`;
        await closeUnsentOrder(client, order.orderId, 'rejected', reason);
        return { outcome: 'rejected', clientOrderId: id, reason };
      }
      placed = venueOrder;
    }
    const fills = venueOrder.filledCount.gt(0) ? await deps.exchange.getFills({ venueOrderId: venueOrder.venueOrderId }) : [];
    edge ??= await edgeOf(client, order.edgeId);
    const result = await applyVenueUpdate(client, order, venueOrder, fills, { edge, placement });
    return {
      outcome: 'executed', clientOrderId: id, status: result.status, filledQuantity: result.filledQuantity,
      trades: result.newFills.length, venueOrderId: venueOrder.venueOrderId, adopted,
    };
  });
}

/** A message is a copy of its order row; anything that differs means it is not that order's. */
function messageMismatch(m: EntryOrderMessage, o: LocalOrder): string | null {
  const pairs: Array<[string, unknown, unknown]> = [
    ['marketId', m.marketId, o.marketId],
    ['platformId', m.platformId, o.platformId],
    ['strategyId', m.strategyId, o.strategyId],
    ['modelId', m.modelId, o.modelId],
    ['edgeId', m.edgeId, o.edgeId],
    ['side', m.side, o.side],
  ];
  if (!o.quantity.eq(m.quantity)) pairs.push(['quantity', m.quantity, o.quantity.toFixed()]);
  if (o.limitPrice === null || !o.limitPrice.eq(m.limitPrice)) pairs.push(['limitPrice', m.limitPrice, o.limitPrice?.toFixed(4) ?? null]);
  if (o.purpose !== 'entry') return `order is an ${o.purpose} order`;
  const diff = pairs.filter(([k, a, b]) => k === 'limitPrice' || k === 'quantity' || a !== b);
  return diff.length === 0 ? null : diff.map(([k, a, b]) => `${k} ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`).join(', ');
}

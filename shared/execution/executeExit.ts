import type pg from 'pg';
import { now as clockNow } from '../clock/clock';
import { DEFAULT_TRADING_RULES, type ExitPriority, type TradingRules } from '../config/tradingRules';
import { Decimal, toSqlDecimal } from '../domain/decimal';
import { decimal, decimalOrNull } from '../db/rows';
import { levelsForSide, priceLevelsFromJson } from '../domain/priceLevels';
import { withTransaction, type Queryable } from '../db/transaction';
import { OrderRejectedError, type Exchange, type VenueOrder } from '../exchange/types';
import { planExitAttempt } from '../exits/pricing';
import type { ExitOrderMessage } from '../queues/messages';
import { applyVenueUpdate, findOrders, type LocalOrder, type RecordedFill } from './ledger';

/**
 * Executes one receive of an exit-orders message: one attempt of selling what the exit request
 * asks for, walking the price per its priority (trading-rules "Exit execution and price walking").
 *
 * Each receive:
 *  1. locks the request and the position (every exit of a position is serialised, so duplicate
 *     or concurrent deliveries can never sell more than is held);
 *  2. brings the position's open exit orders up to date: new fills become sell trades, position
 *     versions, cash and `position_exits` rows; an attempt that has waited its time (or that
 *     belongs to a superseded request) is cancelled, and its `exit_attempts` row written;
 *  3. if the request still has contracts to sell, places attempt n (market/IOC, or a limit
 *     walked by the market's tick × a growing multiplier from the previous one; reduce-only) and
 *     records what filled.
 *
 * The outcome tells the handler what to do with the message: `retry` after the priority's wait
 * (the SQS visibility timeout of that receive), or acknowledge (`filled`, `stopped`, `finished`).
 */

export type ExitOutcome =
  | { outcome: 'filled'; exitRequestId: number; filledQuantity: Decimal; attempts: number }
  /** afterSeconds is exact (not rounded): SQS rounds it up to whole seconds, a sped-up local queue need not. */
  | { outcome: 'retry'; exitRequestId: number; afterSeconds: number; attempt: number; filledQuantity: Decimal; remaining: Decimal }
  | { outcome: 'stopped'; exitRequestId: number; reason: string }
  | { outcome: 'finished'; exitRequestId: number; status: string; reason?: string }
  | { outcome: 'discarded'; exitRequestId: number; reason: string };

export interface ExecuteExitDeps {
  pool: pg.Pool;
  exchange: Exchange;
  rules?: TradingRules;
  now?: () => Date;
}

interface ExitRequestRow {
  exitRequestId: number;
  positionId: number;
  condition: string;
  priority: ExitPriority;
  quantity: Decimal;
  filledQuantity: Decimal;
  status: string;
}

/** The deterministic client order id of attempt n of an exit request. */
export function exitClientOrderId(exitRequestId: number, attempt: number): string {
  return `px-${exitRequestId}-${attempt}`;
}

export async function executeExit(
  deps: ExecuteExitDeps,
  message: ExitOrderMessage,
  delivery: { receiveCount?: number } = {},
): Promise<ExitOutcome> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const now = deps.now ?? clockNow;
  const id = message.exitRequestId;

  return withTransaction(deps.pool, async (client) => {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${rules.execution.entryLockTimeoutMs}ms`]);
    // The position's identity first, then its exit request: the order the monitor's sweep takes
    // them in (it locks identities, then supersedes requests), so the two never deadlock.
    await client.query('SELECT 1 FROM position_identities WHERE position_id = $1 FOR UPDATE', [message.positionId]);
    const { rows: [req] } = await client.query(
      `SELECT exit_request_id, position_id, exit_condition, exit_priority, quantity, filled_quantity, status
       FROM exit_requests WHERE exit_request_id = $1 FOR UPDATE`,
      [id],
    );
    if (!req) return { outcome: 'discarded', exitRequestId: id, reason: 'no such exit request' };
    const request: ExitRequestRow = {
      exitRequestId: req.exit_request_id, positionId: req.position_id, condition: req.exit_condition, priority: req.exit_priority,
      quantity: decimal(req.quantity), filledQuantity: decimal(req.filled_quantity), status: req.status,
    };
    if (request.positionId !== message.positionId) {
      return { outcome: 'discarded', exitRequestId: id, reason: `message names position ${message.positionId}, the request is for ${request.positionId}` };
    }

    // Every exit of this position waits here: one seller at a time.
    const { rows: [position] } = await client.query(
      `SELECT pi.position_id, pi.strategy_id, pi.model_id, p.market_id, p.platform_id, p.side, p.execution_mode, p.quantity, p.status,
              coalesce(m.ticker, p.market_id) AS ticker,
              CASE p.side WHEN 'yes' THEN m.yes_bid ELSE m.no_bid END AS bid,
              CASE p.side WHEN 'yes' THEN m.yes_price ELSE m.no_price END AS ask,
              m.status AS market_status, m.price_levels
       FROM position_identities pi
       JOIN positions p ON p.position_id = pi.position_id AND p.row_current_ind
       LEFT JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
       WHERE pi.position_id = $1
       FOR UPDATE OF pi`,
      [request.positionId],
    );
    if (position.execution_mode !== deps.exchange.executionMode) {
      throw new Error(`position ${request.positionId} is ${position.execution_mode} but this function executes on ${deps.exchange.name}`);
    }

    // 2. The position's exit orders still open at the venue: record what filled; cancel the ones
    // that have had their time (a walk) or belong to another request (superseded).
    const waitSeconds = rules.exitExecution[request.priority].waitSeconds;
    const open = await findOrders(client, `position_id = $1 AND purpose = 'exit' AND status IN ('resting', 'partially_filled')`, [request.positionId]);
    for (const order of open) {
      const own = order.exitRequestId === request.exitRequestId && request.status === 'active';
      const ageSeconds = (now().getTime() - order.createdAt.getTime()) / 1000;
      let venueOrder = await deps.exchange.getOrder(order.venueOrderId!);
      await recordExitFills(client, deps.exchange, order, venueOrder);
      if (venueOrder.status === 'resting') {
        if (own && ageSeconds < waitSeconds) {
          const refreshed = await refreshRequest(client, request.exitRequestId);
          return {
            outcome: 'retry', exitRequestId: id, afterSeconds: Math.max(0, waitSeconds - ageSeconds),
            attempt: await attemptCount(client, id), filledQuantity: refreshed.filledQuantity, remaining: refreshed.quantity.minus(refreshed.filledQuantity),
          };
        }
        venueOrder = await deps.exchange.cancelOrder(order.venueOrderId!);
        await recordExitFills(client, deps.exchange, (await reloadOrder(client, order.orderId))!, venueOrder);
      }
      await concludeAttempt(client, order.orderId, waitSeconds);
    }

    // A delivery that died after its attempt reached the venue (before committing) left an order
    // the books do not have: the next attempt's client order id. Recorded here, before anything
    // else is decided, whatever became of the request since (superseded, market closed): its fills
    // are the position's. A resting one is cancelled if the request is over, else walked as usual.
    if ((delivery.receiveCount ?? 1) > 1) {
      const lost = await adoptLostAttempt(client, deps.exchange, id, request, position);
      if (lost === 'resting') {
        const now = await refreshRequest(client, id);
        return {
          outcome: 'retry', exitRequestId: id, afterSeconds: waitSeconds, attempt: await attemptCount(client, id),
          filledQuantity: now.filledQuantity, remaining: now.quantity.minus(now.filledQuantity),
        };
      }
    }

    // Attempts whose order ended elsewhere (the reconciliation saw a resting exit order fill) get
    // their exit_attempts row here; concludeAttempt writes each once.
    const { rows: ended } = await client.query(
      `SELECT order_id FROM orders WHERE exit_request_id = $1 AND status NOT IN ('pending', 'resting', 'partially_filled') ORDER BY order_id`, [id],
    );
    for (const o of ended) await concludeAttempt(client, o.order_id, waitSeconds);

    const current = await refreshRequest(client, request.exitRequestId);
    if (current.status !== 'active') {
      return { outcome: 'finished', exitRequestId: id, status: current.status };
    }
    const { rows: [held] } = await client.query('SELECT quantity, status FROM positions WHERE position_id = $1 AND row_current_ind', [request.positionId]);
    // Never more than is held: the exact (possibly fractional) holding caps the request's rest.
    const remaining = Decimal.min(current.quantity.minus(current.filledQuantity), held.status === 'open' ? decimal(held.quantity) : new Decimal(0));
    if (current.filledQuantity.gte(current.quantity)) {
      await client.query(`UPDATE exit_requests SET status = 'filled' WHERE exit_request_id = $1`, [id]);
      return { outcome: 'filled', exitRequestId: id, filledQuantity: current.filledQuantity, attempts: await attemptCount(client, id) };
    }
    if (remaining.lte(0)) {
      const reason = 'the position holds nothing more to sell (closed by another exit or settled)';
      await client.query(`UPDATE exit_requests SET status = 'cancelled', status_reason = $2 WHERE exit_request_id = $1`, [id, reason]);
      return { outcome: 'finished', exitRequestId: id, status: 'cancelled', reason };
    }

    // 3. Attempt n.
    const attempts = await client.query(
      `SELECT count(*)::int AS n, (array_agg(limit_price ORDER BY order_id DESC) FILTER (WHERE order_type = 'limit'))[1] AS previous_limit
       FROM orders WHERE exit_request_id = $1`,
      [id],
    );
    const attempt = (attempts.rows[0].n as number) + 1;
    const clientOrderId = exitClientOrderId(id, attempt);
    const ticker = position.ticker as string;
    // (An order a died delivery placed for this attempt was adopted above: this one is new.)
    // Price from the venue's book as it is now when the venue can say: the ingested quote can be a
    // minute old, and an exit priced on it in a falling market walks without ever filling. The
    // ingested quote is the fallback (the venue cannot be read, or the exchange has no quotes).
    const live = deps.exchange.getQuote ? await deps.exchange.getQuote(ticker).catch(() => null) : null;
    const marketStatus = live ? (live.status === 'active' ? 'open' : live.status) : (position.market_status as string | null);
    if (marketStatus !== null && marketStatus !== 'open') {
      return closeForSettlement(client, id, `market ${ticker} is ${marketStatus}: no exit can trade; the position awaits settlement`);
    }
    const quote = live ? live[position.side as 'yes' | 'no'] : { bid: decimalOrNull(position.bid), ask: decimalOrNull(position.ask) };
    // The venue refuses prices off the market's levels: the live ones when the venue says, else the ingested ones.
    const levels = levelsForSide(live?.priceLevels ?? priceLevelsFromJson(position.price_levels), position.side);
    const plan = planExitAttempt({
      priority: request.priority, attempt, previousLimit: decimalOrNull(attempts.rows[0].previous_limit), bid: quote.bid, ask: quote.ask, levels,
    }, rules);
    if (plan.kind === 'stop') {
      await client.query(`UPDATE exit_requests SET status = 'stopped', status_reason = $2 WHERE exit_request_id = $1`, [id, plan.reason]);
      await raiseExitAlert(client, request, plan.reason);
      return { outcome: 'stopped', exitRequestId: id, reason: plan.reason };
    }
    const { rows: [inserted] } = await client.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, model_id, position_id, side, action,
                           order_type, limit_price, quantity, execution_mode, time_in_force, exit_request_id)
       VALUES ($1, 'exit', $2, $3, $4, $5, $6, $7, 'sell', $8, $9, $10, $11, $12, $13)
       RETURNING order_id, created_at`,
      [clientOrderId, position.market_id, position.platform_id, position.strategy_id, position.model_id, request.positionId,
        position.side, plan.orderType, plan.limitPrice.toFixed(4), toSqlDecimal(remaining), position.execution_mode, plan.timeInForce, id],
    );
    let venueOrder: VenueOrder;
    try {
      // A transaction retried after a deadlock places the same client order id again: the venue
      // answers with the order it already has (never a second one).
      venueOrder = await deps.exchange.placeOrder({
        ticker, clientOrderId, side: position.side, action: 'sell', count: remaining, type: plan.orderType, limitPrice: plan.limitPrice,
        timeInForce: plan.timeInForce,
      });
    } catch (error) {
      if (!(error instanceof OrderRejectedError)) throw error;
      const reason = `venue rejected exit attempt ${attempt}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
      await client.query(`UPDATE orders SET status = 'rejected', status_reason = $2 WHERE order_id = $1`, [inserted.order_id, reason]);
      await concludeAttempt(client, inserted.order_id, 0);
      if (error.code === 'market_closed') {
        return closeForSettlement(client, id, `market ${ticker} closed before exit attempt ${attempt}: the position awaits settlement`);
      }
      await client.query(`UPDATE exit_requests SET status = 'stopped', status_reason = $2 WHERE exit_request_id = $1`, [id, reason]);
      await raiseExitAlert(client, request, reason);
      return { outcome: 'stopped', exitRequestId: id, reason };
    }
    const order = (await reloadOrder(client, inserted.order_id))!;
    await recordExitFills(client, deps.exchange, order, venueOrder);
    const after = await refreshRequest(client, id);
    if (venueOrder.status !== 'resting') await concludeAttempt(client, inserted.order_id, plan.waitSeconds);
    if (after.filledQuantity.gte(after.quantity)) {
      await client.query(`UPDATE exit_requests SET status = 'filled' WHERE exit_request_id = $1`, [id]);
      return { outcome: 'filled', exitRequestId: id, filledQuantity: after.filledQuantity, attempts: attempt };
    }
    return {
      outcome: 'retry', exitRequestId: id, afterSeconds: plan.waitSeconds, attempt,
      filledQuantity: after.filledQuantity, remaining: after.quantity.minus(after.filledQuantity),
    };
  });
}

/**
 * The order a died delivery placed for this request's next attempt, if the venue has it: recorded
 * (row, fills, position, exit progress). 'resting' when it still rests and the request is active
 * (the next delivery walks it); cancelled at the venue first when the request is over.
 */
async function adoptLostAttempt(
  client: Queryable, exchange: Exchange, id: number, request: ExitRequestRow,
  position: { market_id: string; platform_id: string; strategy_id: number | null; model_id: number | null; side: string; execution_mode: string; ticker: string },
): Promise<'none' | 'resting' | 'recorded'> {
  const attempt = (await attemptCount(client, id)) + 1;
  const clientOrderId = exitClientOrderId(id, attempt);
  let venueOrder = await exchange.findOrder(clientOrderId, position.ticker, { settled: true });
  if (!venueOrder) return 'none';
  const { status } = await refreshRequest(client, id);
  if (venueOrder.status === 'resting' && status !== 'active') venueOrder = await exchange.cancelOrder(venueOrder.venueOrderId);
  const { rows: [inserted] } = await client.query(
    `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, model_id, position_id, side, action,
                         order_type, limit_price, quantity, execution_mode, time_in_force, exit_request_id)
     VALUES ($1, 'exit', $2, $3, $4, $5, $6, $7, 'sell', $8, $9, $10, $11, 'good_till_canceled', $12)
     RETURNING order_id`,
    [clientOrderId, position.market_id, position.platform_id, position.strategy_id, position.model_id, request.positionId, position.side,
      venueOrder.type, venueOrder.limitPrice.toFixed(4), toSqlDecimal(venueOrder.initialCount), position.execution_mode, id],
  );
  await recordExitFills(client, exchange, (await reloadOrder(client, inserted.order_id))!, venueOrder);
  if (venueOrder.status === 'resting') return 'resting';
  await concludeAttempt(client, inserted.order_id, 0);
  return 'recorded';
}

/** The market stopped trading: the request ends (cancelled, not stopped: nobody has to act) and settlement closes the position. */
async function closeForSettlement(client: Queryable, id: number, reason: string): Promise<ExitOutcome> {
  await client.query(`UPDATE exit_requests SET status = 'cancelled', status_reason = $2 WHERE exit_request_id = $1`, [id, reason]);
  return { outcome: 'finished', exitRequestId: id, status: 'cancelled', reason };
}

async function reloadOrder(client: Queryable, orderId: number): Promise<LocalOrder | null> {
  return (await findOrders(client, 'order_id = $1', [orderId]))[0] ?? null;
}

async function refreshRequest(client: Queryable, id: number) {
  const { rows: [r] } = await client.query('SELECT quantity, filled_quantity, status FROM exit_requests WHERE exit_request_id = $1', [id]);
  return { quantity: decimal(r.quantity), filledQuantity: decimal(r.filled_quantity), status: r.status as string };
}

async function attemptCount(client: Queryable, id: number): Promise<number> {
  const { rows: [r] } = await client.query('SELECT count(*)::int AS n FROM orders WHERE exit_request_id = $1', [id]);
  return r.n;
}

/**
 * Records an exit order's new fills: sell trades, the position version and cash, and (in the
 * ledger, whoever records them) one `position_exits` row per fill and the request's filled quantity.
 */
async function recordExitFills(client: Queryable, exchange: Exchange, order: LocalOrder, venueOrder: VenueOrder): Promise<RecordedFill[]> {
  const fills = venueOrder.filledCount.gt(0) ? await exchange.getFills({ venueOrderId: venueOrder.venueOrderId }) : [];
  return (await applyVenueUpdate(client, order, venueOrder, fills)).recorded;
}

/**
 * The attempt's `exit_attempts` row, written once the attempt is over (the table is append-only).
 * timeout_seconds is whole seconds, rounded up (a sped-up local run waits fractions of one).
 */
async function concludeAttempt(client: Queryable, orderId: number, timeoutSeconds: number): Promise<void> {
  await client.query(
    `INSERT INTO exit_attempts (position_id, position_version_id, exit_condition, priority_level, order_type, order_id, limit_price,
                                fill_price, quantity, attempt_number, timeout_seconds, success, exit_request_id, client_order_id)
     SELECT o.position_id, p.position_version_id, r.exit_condition, r.exit_priority, o.order_type, o.venue_order_id,
            CASE WHEN o.order_type = 'limit' THEN o.limit_price END,
            (SELECT round(sum(t.price * t.quantity) / nullif(sum(t.quantity), 0), 4) FROM trades t
              WHERE t.client_order_id = o.client_order_id AND t.execution_mode = o.execution_mode),
            o.quantity,
            (SELECT count(*) FROM orders x WHERE x.exit_request_id = o.exit_request_id AND x.order_id <= o.order_id),
            ceil($2::numeric)::int, o.filled_quantity > 0, o.exit_request_id, o.client_order_id
     FROM orders o
     JOIN exit_requests r ON r.exit_request_id = o.exit_request_id
     JOIN positions p ON p.position_id = o.position_id AND p.row_current_ind
     WHERE o.order_id = $1
       AND NOT EXISTS (SELECT 1 FROM exit_attempts a WHERE a.client_order_id = o.client_order_id)`,
    [orderId, timeoutSeconds],
  );
}

/** An exit that stopped (walks used up, or refused by the venue) needs a person: logged as an alert. */
async function raiseExitAlert(client: Queryable, request: ExitRequestRow, reason: string): Promise<void> {
  await client.query(
    `INSERT INTO system_health (component, status, details) VALUES ('execute-exit', 'degraded', $1::jsonb)`,
    [JSON.stringify({ alert: 'exit stopped', exitRequestId: request.exitRequestId, positionId: request.positionId,
      condition: request.condition, priority: request.priority, reason })],
  );
}


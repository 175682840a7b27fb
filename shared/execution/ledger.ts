import { Decimal, toSqlDecimal } from '../domain/decimal';
import { sumCounts } from '../domain/quantity';
import { decimal, decimalOrNull } from '../db/rows';
import type { Queryable } from '../db/transaction';
import { ACCOUNT_BALANCE, POSITIONS } from '../db/versionedTables';
import { versionedUpsert } from '../db/versionedUpsert';
import { outcomeSideOf, type VenueFill, type VenueOrder } from '../exchange/types';
import { nextOrderState, type OrderStatus } from './orderState';
import { applyFill, cashDelta, EMPTY_POSITION, type PositionBook } from './positionMath';

/**
 * Precog's own books: orders, trades (one per venue fill), positions (versioned) and the cash
 * balance (versioned), written together in the caller's transaction so that a fill is either
 * fully recorded or not at all. Lock order everywhere: order row → position identity → balance
 * identity, so concurrent recorders cannot deadlock.
 */

export interface LocalOrder {
  orderId: number;
  clientOrderId: string;
  purpose: 'entry' | 'exit';
  marketId: string;
  platformId: string;
  strategyId: number | null;
  modelId: number | null;
  edgeId: number | null;
  positionId: number | null;
  side: 'yes' | 'no';
  action: 'buy' | 'sell';
  orderType: 'market' | 'limit';
  limitPrice: Decimal | null;
  quantity: Decimal;
  filledQuantity: Decimal;
  status: OrderStatus;
  executionMode: 'paper' | 'live';
  venueOrderId: string | null;
  timeInForce: 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';
  expiresAt: Date | null;
  enqueuedAt: Date | null;
  createdAt: Date;
  /** Exit orders: the exit request the order is an attempt of. */
  exitRequestId: number | null;
}

const ORDER_COLUMNS = `order_id, client_order_id, purpose, market_id, platform_id, strategy_id, model_id, edge_id, position_id,
  side, action, order_type, limit_price, quantity, filled_quantity, status, execution_mode, venue_order_id, time_in_force,
  expires_at, enqueued_at, created_at, exit_request_id`;

export function toLocalOrder(r: Record<string, unknown>): LocalOrder {
  return {
    orderId: r.order_id as number,
    clientOrderId: r.client_order_id as string,
    purpose: r.purpose as LocalOrder['purpose'],
    marketId: r.market_id as string,
    platformId: r.platform_id as string,
    strategyId: r.strategy_id as number | null,
    modelId: r.model_id as number | null,
    edgeId: r.edge_id as number | null,
    positionId: r.position_id as number | null,
    side: r.side as LocalOrder['side'],
    action: r.action as LocalOrder['action'],
    orderType: r.order_type as LocalOrder['orderType'],
    limitPrice: decimalOrNull(r.limit_price),
    quantity: decimal(r.quantity),
    filledQuantity: decimal(r.filled_quantity),
    status: r.status as OrderStatus,
    executionMode: r.execution_mode as LocalOrder['executionMode'],
    venueOrderId: r.venue_order_id as string | null,
    timeInForce: r.time_in_force as LocalOrder['timeInForce'],
    expiresAt: r.expires_at as Date | null,
    enqueuedAt: r.enqueued_at as Date | null,
    createdAt: r.created_at as Date,
    exitRequestId: (r.exit_request_id as number | null) ?? null,
  };
}

/**
 * The order, locked until the transaction ends (`skipLocked`: null when another transaction
 * holds it, instead of waiting).
 */
export async function lockOrder(
  client: Queryable,
  clientOrderId: string,
  options: { skipLocked?: boolean } = {},
): Promise<LocalOrder | null> {
  const { rows } = await client.query(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE client_order_id = $1 FOR UPDATE${options.skipLocked ? ' SKIP LOCKED' : ''}`,
    [clientOrderId],
  );
  return rows[0] ? toLocalOrder(rows[0]) : null;
}

/**
 * lockOrder plus what executing it needs, in the same round trip: the market's venue ticker
 * (Kalshi: the market id is the ticker) and whether the books hold a cash balance yet.
 */
export async function lockOrderForExecution(
  client: Queryable,
  clientOrderId: string,
): Promise<{ order: LocalOrder; ticker: string; hasBalance: boolean } | null> {
  const { rows } = await client.query(
    `SELECT ${ORDER_COLUMNS.replace(/(\w+)/g, 'o.$1')}, cm.ticker,
            EXISTS (SELECT 1 FROM current_balances b WHERE b.platform_id = o.platform_id
                      AND b.execution_mode = o.execution_mode AND b.currency = 'USD') AS has_balance
     FROM orders o LEFT JOIN current_markets cm ON cm.market_id = o.market_id
     WHERE o.client_order_id = $1 FOR UPDATE OF o`,
    [clientOrderId],
  );
  const r = rows[0];
  return r ? { order: toLocalOrder(r), ticker: (r.ticker as string | null) ?? (r.market_id as string), hasBalance: r.has_balance } : null;
}

export async function findOrders(client: Queryable, where: string, params: unknown[]): Promise<LocalOrder[]> {
  const { rows } = await client.query(`SELECT ${ORDER_COLUMNS} FROM orders WHERE ${where} ORDER BY order_id`, params);
  return rows.map(toLocalOrder);
}

/** Ends an order that never reached the venue (or that the venue refused) with its reason. */
export async function closeUnsentOrder(
  client: Queryable,
  orderId: number,
  status: 'cancelled' | 'rejected',
  reason: string,
): Promise<void> {
  await client.query('UPDATE orders SET status = $2, status_reason = $3, last_synced_at = precog_now() WHERE order_id = $1', [
    orderId, status, reason.slice(0, 1000),
  ]);
}

/**
 * The current cash balance, with its identity row locked (read-modify-write of a versioned row:
 * the identity row is stable, the current version changes). One round trip once the identity
 * exists.
 */
export async function lockBalance(client: Queryable, platformId: string, mode: 'paper' | 'live'): Promise<Decimal | null> {
  const read = () => client.query(
    `SELECT ab.balance FROM balance_identities bi
     LEFT JOIN account_balance ab ON ab.platform_id = bi.platform_id AND ab.execution_mode = bi.execution_mode
                                 AND ab.currency = bi.currency AND ab.row_current_ind
     WHERE bi.platform_id = $1 AND bi.execution_mode = $2 AND bi.currency = 'USD'
     FOR UPDATE OF bi`,
    [platformId, mode],
  );
  let { rows } = await read();
  if (rows.length === 0) {
    await client.query(
      `INSERT INTO balance_identities (platform_id, execution_mode, currency) VALUES ($1, $2, 'USD') ON CONFLICT DO NOTHING`,
      [platformId, mode],
    );
    ({ rows } = await read());
  }
  return decimalOrNull(rows[0]?.balance);
}

export async function writeBalance(client: Queryable, platformId: string, mode: 'paper' | 'live', balance: Decimal): Promise<void> {
  if (balance.isNegative()) {
    throw new RangeError(`${platformId}/${mode} cash balance would go negative (${balance.toFixed(4)}): the venue and the books disagree`);
  }
  await versionedUpsert(client, ACCOUNT_BALANCE, [{ platform_id: platformId, execution_mode: mode, currency: 'USD', balance }]);
}

export interface FillContext {
  /** The edge version the entry acted on: its probability gives edge_at_execution. */
  edge?: { trueWinProbability: Decimal; confidenceLevel: string | null } | null;
  /** How the order was placed, recorded with its first venue state. */
  placement?: { timeInForce: LocalOrder['timeInForce']; expiresAt: Date | null };
}

/** One fill recorded by this call: its trade, and what it did to the position. */
export interface RecordedFill {
  fill: VenueFill;
  tradeId: number;
  /** Cost basis the fill took out of the position (sells; 0 for buys). */
  costRemoved: Decimal;
  /** The position version written with the fills of this call. */
  positionVersionId: number;
}

export interface VenueUpdateResult {
  status: OrderStatus;
  filledQuantity: Decimal;
  /** Fills recorded by this call (fills already recorded are skipped). */
  newFills: VenueFill[];
  recorded: RecordedFill[];
  positionId: number | null;
  /** The venue reports more filled than the fills listed so far; reconciliation will finish. */
  awaitingFills: boolean;
}

/** An exit's fills, as the exit's: one `position_exits` row each, and the request's filled count. */
async function recordExitProgress(client: Queryable, exitRequestId: number, recorded: readonly RecordedFill[]): Promise<void> {
  await client.query(
    `INSERT INTO position_exits (position_id, position_version_id, trade_id, exit_condition, exit_priority, quantity_exited,
                                 exit_price, unrealized_pnl_at_exit, exit_request_id)
     SELECT r.position_id, x.version_id, x.trade_id, r.exit_condition, r.exit_priority, x.quantity, x.price, x.pnl, r.exit_request_id
     FROM exit_requests r,
          unnest($2::bigint[], $3::bigint[], $4::numeric[], $5::numeric[], $6::numeric[]) AS x(version_id, trade_id, quantity, price, pnl)
     WHERE r.exit_request_id = $1`,
    [
      exitRequestId, recorded.map((r) => r.positionVersionId), recorded.map((r) => r.tradeId),
      recorded.map((r) => toSqlDecimal(r.fill.count)), recorded.map((r) => r.fill.price.toFixed(4)),
      // The P&L the exit turns from unrealized into realized: proceeds minus the cost it removes.
      recorded.map((r) => toSqlDecimal(r.fill.price.times(r.fill.count).minus(r.costRemoved))),
    ],
  );
  await client.query(
    `UPDATE exit_requests SET filled_quantity = filled_quantity + $2::numeric,
       status = CASE WHEN filled_quantity + $2::numeric >= quantity AND status = 'active' THEN 'filled' ELSE status END,
       updated_at = precog_now()
     WHERE exit_request_id = $1`,
    [exitRequestId, toSqlDecimal(sumCounts(recorded.map((r) => r.fill.count)))],
  );
}

/**
 * Records what the venue says about one order: every fill not yet recorded becomes a trade
 * (append-only, attributed to strategy, model and edge versions), moves the position (a new
 * version; opened on the first entry fill) and the cash balance, and the order advances through
 * its state machine. The order row must be locked by the caller's transaction.
 */
export async function applyVenueUpdate(
  client: Queryable,
  order: LocalOrder,
  venue: VenueOrder,
  fills: readonly VenueFill[],
  context: FillContext = {},
): Promise<VenueUpdateResult> {
  if (venue.clientOrderId !== order.clientOrderId) {
    throw new Error(`venue order ${venue.venueOrderId} belongs to ${venue.clientOrderId}, not ${order.clientOrderId}`);
  }
  // Kalshi's direction is the outcome a fill positions the account for (outcome_side): it cannot
  // tell buy NO from sell YES, so a fill is checked against its order by that direction only and
  // then read as the order's side and action (its price converted to the order's side).
  const orderOutcome = outcomeSideOf(order.side, order.action);
  const own = fills.filter((f) => f.venueOrderId === venue.venueOrderId).map((f) => {
    if (f.outcomeSide !== orderOutcome) {
      throw new Error(`fill ${f.fillId} positions for ${f.outcomeSide}, but order ${order.clientOrderId} (${order.action} ${order.side}) positions for ${orderOutcome}`);
    }
    if (f.side === order.side && f.action === order.action) return f;
    return { ...f, side: order.side, action: order.action, price: f.side === order.side ? f.price : new Decimal(1).minus(f.price) };
  });
  const distinct = own.filter((f, i) => own.findIndex((g) => g.fillId === f.fillId) === i);
  let positionId = order.positionId;
  let recorded: RecordedFill[] = [];
  if (distinct.length > 0) {
    const result = await recordFills(client, order, distinct, context);
    positionId = result.positionId;
    recorded = result.recorded;
  }
  // An exit's fills are the exit's too, whoever finds them (execute-exit, or the reconciliation
  // that sees a resting exit order filled first): position_exits and the request's count move
  // with the trades, in the same transaction.
  if (recorded.length > 0 && order.exitRequestId !== null) await recordExitProgress(client, order.exitRequestId, recorded);
  const newFills = recorded.map((r) => r.fill);
  const recordedFilled = order.filledQuantity.plus(sumCounts(newFills.map((f) => f.count)));
  const next = nextOrderState(order, venue, recordedFilled);
  const feesAdded = newFills.reduce((sum, f) => sum.plus(f.fee), new Decimal(0));
  await client.query(
    `UPDATE orders SET status = $2, filled_quantity = $3, venue_order_id = coalesce(venue_order_id, $4),
       submitted_at = coalesce(submitted_at, precog_now()), last_synced_at = precog_now(), fees = fees + $5::numeric, position_id = $6,
       status_reason = CASE WHEN $7::boolean THEN 'venue reports fills not yet listed' ELSE status_reason END,
       time_in_force = coalesce($8, time_in_force), expires_at = CASE WHEN $8 IS NULL THEN expires_at ELSE $9::timestamptz END
     WHERE order_id = $1`,
    [
      order.orderId, next.status, toSqlDecimal(next.filledQuantity), venue.venueOrderId, toSqlDecimal(feesAdded), positionId, next.awaitingFills,
      context.placement?.timeInForce ?? null, context.placement?.expiresAt ?? null,
    ],
  );
  return { status: next.status, filledQuantity: next.filledQuantity, newFills, recorded, positionId, awaitingFills: next.awaitingFills };
}

/**
 * Records the fills not recorded yet (the trade insert says which are new: a fill id is unique),
 * and moves the position and the cash by them. Returns the position and the new fills.
 */
async function recordFills(
  client: Queryable,
  order: LocalOrder,
  fills: readonly VenueFill[],
  context: FillContext,
): Promise<{ positionId: number; recorded: RecordedFill[] }> {
  const { positionId, current } = await lockPosition(client, order);
  const edge = context.edge;
  const sideProbability = edge ? (order.side === 'yes' ? edge.trueWinProbability : new Decimal(1).minus(edge.trueWinProbability)) : null;
  const clamp = (d: Decimal) => Decimal.min(1, Decimal.max(-1, d));
  const inserted = await client.query(
    `INSERT INTO trades (market_id, market_version_id, platform_id, position_id, edge_id, strategy_id, model_id, order_id,
                         client_order_id, side, contract_side, execution_mode, price, quantity, fees, edge_at_execution,
                         confidence_at_execution, venue_fill_id)
     SELECT $1::text, (SELECT market_version_id FROM markets WHERE market_id = $1::text AND row_current_ind), $2::text, $3::bigint,
            $4::bigint, $5::bigint, $6::bigint, $7::text, $8::text, $9::text, $10::text, $11::text, f.price, f.quantity, f.fee,
            f.edge, $12::text, f.fill_id
     FROM unnest($13::numeric[], $14::numeric[], $15::numeric[], $16::numeric[], $17::text[]) AS f(price, quantity, fee, edge, fill_id)
     ON CONFLICT (execution_mode, venue_fill_id) DO NOTHING
     RETURNING venue_fill_id, trade_id`,
    [
      order.marketId, order.platformId, positionId, order.edgeId, order.strategyId, order.modelId, fills[0]!.venueOrderId,
      order.clientOrderId, order.action, order.side, order.executionMode, edge?.confidenceLevel ?? null,
      fills.map((f) => f.price.toFixed(4)), fills.map((f) => toSqlDecimal(f.count)), fills.map((f) => toSqlDecimal(f.fee)),
      fills.map((f) => (sideProbability ? clamp(sideProbability.minus(f.price)).toFixed(4) : null)), fills.map((f) => f.fillId),
    ],
  );
  const tradeIdOf = new Map(inserted.rows.map((r) => [r.venue_fill_id as string, r.trade_id as number]));
  const newFills = fills.filter((f) => tradeIdOf.has(f.fillId));
  if (newFills.length === 0) return { positionId: order.positionId ?? positionId, recorded: [] };

  let book: PositionBook = current?.book ?? EMPTY_POSITION;
  let cash = new Decimal(0);
  const removed: Decimal[] = [];
  for (const f of newFills) {
    const before = book.costBasis;
    book = applyFill(book, { action: f.action, count: f.count, price: f.price, fee: f.fee });
    removed.push(f.action === 'sell' ? before.minus(book.costBasis) : new Decimal(0));
    cash = cash.plus(cashDelta({ action: f.action, count: f.count, price: f.price, fee: f.fee }));
  }
  const written = await versionedUpsert(client, POSITIONS, [{
    position_id: positionId,
    market_id: order.marketId,
    platform_id: order.platformId,
    side: order.side,
    execution_mode: order.executionMode,
    entry_price: book.entryPrice ?? newFills[0]!.price,
    quantity: book.quantity,
    original_quantity: book.originalQuantity,
    cost_basis: book.costBasis,
    fees: book.fees,
    status: book.quantity.isZero() ? 'closed' : 'open',
    realized_pnl: book.realizedPnl,
    // What the monitor maintains carries over unchanged until it re-prices the position.
    unrealized_pnl: current?.row.unrealized_pnl ?? null,
    current_price: current?.row.current_price ?? newFills[newFills.length - 1]!.price,
    unrealized_pnl_pct: current?.row.unrealized_pnl_pct ?? null,
    last_update: current?.row.last_update ?? null,
    trailing_stop_state: current?.row.trailing_stop_state ?? null,
    exit_reason: current?.row.exit_reason ?? null,
    exit_priority: current?.row.exit_priority ?? null,
  }]);

  const balance = await lockBalance(client, order.platformId, order.executionMode);
  if (balance === null) {
    throw new Error(`no ${order.platformId}/${order.executionMode} cash balance to record fills against: initialise it from the venue first`);
  }
  await writeBalance(client, order.platformId, order.executionMode, balance.plus(cash));
  const positionVersionId = written.versions[0]?.versionId ?? (current?.row.position_version_id as number);
  return {
    positionId,
    recorded: newFills.map((fill, i) => ({ fill, tradeId: tradeIdOf.get(fill.fillId)!, costRemoved: removed[i]!, positionVersionId })),
  };
}

/**
 * The position the order's fills go to, its identity row locked, then its current version read:
 * the order's own (set by an earlier fill, or an exit's target), else the open position of the
 * same market, side, strategy, model and mode (an entry increases it), else a new identity.
 */
async function lockPosition(client: Queryable, order: LocalOrder): Promise<{ positionId: number; current: CurrentPosition | null }> {
  const select = `SELECT pi.position_id, p.* FROM position_identities pi
                  LEFT JOIN positions p ON p.position_id = pi.position_id AND p.row_current_ind`;
  let rows: Array<Record<string, unknown>>;
  if (order.positionId !== null) {
    ({ rows } = await client.query(`${select} WHERE pi.position_id = $1 FOR UPDATE OF pi`, [order.positionId]));
  } else {
    if (order.purpose === 'exit') throw new Error(`exit order ${order.clientOrderId} names no position`);
    ({ rows } = await client.query(
      `${select}
       WHERE pi.market_id = $1 AND pi.side = $2 AND pi.strategy_id IS NOT DISTINCT FROM $3
         AND pi.model_id IS NOT DISTINCT FROM $4 AND pi.execution_mode = $5 AND p.status = 'open'
       ORDER BY pi.position_id LIMIT 1
       FOR UPDATE OF pi`,
      [order.marketId, order.side, order.strategyId, order.modelId, order.executionMode],
    ));
  }
  const row = rows[0];
  if (row) {
    // Read the current version again, in a new statement: when the lock above had to wait, the
    // joined version is the one of that statement's snapshot, which the transaction holding the
    // lock may just have superseded (writing over it loses that write, or makes two current rows).
    const positionId = (order.positionId ?? row.position_id) as number;
    const { rows: [fresh] } = await client.query('SELECT * FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    if (order.positionId !== null || fresh?.status === 'open') {
      return { positionId, current: fresh ? currentPosition(fresh) : null };
    }
    // The open position this entry meant to add to closed meanwhile: the entry opens a new one.
  }
  // A new identity is invisible to others until commit: nothing to lock.
  const { rows: created } = await client.query(
    `INSERT INTO position_identities (market_id, platform_id, side, strategy_id, model_id, execution_mode)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING position_id`,
    [order.marketId, order.platformId, order.side, order.strategyId, order.modelId, order.executionMode],
  );
  return { positionId: created[0].position_id as number, current: null };
}

interface CurrentPosition {
  row: Record<string, unknown>;
  book: PositionBook;
}

function currentPosition(row: Record<string, unknown>): CurrentPosition {
  const quantity = decimal(row.quantity);
  return {
    row,
    book: {
      quantity,
      originalQuantity: decimalOrNull(row.original_quantity) ?? quantity,
      // Positions written before cost_basis existed: their entry price is all there is.
      costBasis: decimalOrNull(row.cost_basis) ?? decimal(row.entry_price).times(quantity),
      fees: decimalOrNull(row.fees) ?? new Decimal(0),
      realizedPnl: decimalOrNull(row.realized_pnl) ?? new Decimal(0),
      entryPrice: decimalOrNull(row.entry_price),
    },
  };
}

/** The edge version an order acted on: its probability and confidence, for the trade record. */
export async function edgeOf(client: Queryable, edgeId: number | null): Promise<FillContext['edge']> {
  if (edgeId === null) return null;
  const { rows } = await client.query('SELECT true_win_probability, confidence_level FROM edges WHERE edge_id = $1', [edgeId]);
  return rows[0] ? { trueWinProbability: decimal(rows[0].true_win_probability), confidenceLevel: rows[0].confidence_level as string | null } : null;
}

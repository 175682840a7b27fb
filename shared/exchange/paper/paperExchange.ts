import type pg from 'pg';
import { now as clockNow, sleep as clockSleep } from '../../clock/clock';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../config/tradingRules';
import { Decimal, ONE, ZERO, dec, toSqlDecimal } from '../../domain/decimal';
import { COUNT_DECIMALS, formatCount } from '../../domain/quantity';
import { takerFee } from '../../domain/fees';
import { decimal } from '../../db/rows';
import { withTransaction } from '../../db/transaction';
import {
  OrderRejectedError, outcomeSideOf,
  type ContractSide, type Exchange, type FillFilter, type OrderAction, type OrderFilter, type PlaceOrderRequest,
  type TimeInForce, type VenueFill, type VenueOrder, type VenueOrderStatus, type VenuePosition,
} from '../types';
import type { BookSource } from './bookSources';
import { matchIncoming, matchResting, type ConsumedDepth, type MatchFill, type PaperBook } from './matching';

/**
 * The paper exchange: Kalshi simulated over observed books (ingested prices, the live public
 * order book, or a static book). Same statuses, fee schedule and position sign convention as
 * Kalshi, so execution runs the same code against it. It is a venue: its state lives in its own
 * tables (paper_*), each call is its own transaction, and it never joins a caller's transaction.
 *
 * Differences from Kalshi, on purpose:
 * - Buys are charged at fill, not collateralised while resting: a resting buy holds no cash, and a
 *   fill the balance can no longer pay cancels the order.
 * - Paper orders trade only against the observed book, never against each other, and do not move
 *   it. Depth one order takes from a snapshot is not offered again (to any order of this exchange
 *   instance) until a newer snapshot arrives; a resting order only matches a snapshot newer than
 *   the last one it saw.
 * - A sell only reduces a held position (no selling of contracts not held); a resting sell whose
 *   position shrank fills what is held and is cancelled for the rest.
 * - Resting orders are brought up to date when the exchange is next asked something (lazily),
 *   not continuously; a closed market leaves them resting (until expiry, cancel or settlement).
 * - Markets settle when Precog tells the venue (`settle`, from settle-markets), not on their own.
 */

export interface PaperExchangeOptions {
  books: BookSource;
  /** Cash of a new account. An existing account keeps its balance. */
  startingBalance: Decimal;
  /** Separate simulated members (backtests side by side); default 'default'. */
  accountId?: string;
  rules?: TradingRules;
  /** The venue's clock: created_at, fills and expiry use it (a backtest replays time). */
  now?: () => Date;
  /**
   * Time between placing an order and its arrival at the market, ms (default 0): the order is
   * matched against the book as it is at arrival. A backtest states it (docs/backtest.md).
   */
  latencyMs?: number;
  /** How the latency is waited (default the clock's sleep: virtual in a simulation). */
  sleep?: (ms: number) => Promise<void>;
}

export class PaperOrderNotFoundError extends Error {
  override name = 'PaperOrderNotFoundError';
  constructor(readonly venueOrderId: string) {
    super(`paper order ${venueOrderId} not found`);
  }
}

/** Worst prices of a market order without a limit (Kalshi's 1–99 cent range). */
const MARKET_BUY_LIMIT = dec('0.99');
const MARKET_SELL_LIMIT = dec('0.01');

// ---------------------------------------------------------------------------------------------
// Position accounting (pure).

export interface PaperPositionState {
  /** Signed: + YES, − NO (2 decimals at most). */
  position: Decimal;
  /** Cost of the contracts held (fees excluded). */
  costBasis: Decimal;
  /** Fees excluded. */
  realizedPnl: Decimal;
  feesPaid: Decimal;
  /** Dollars traded, buys and sells. */
  totalTraded: Decimal;
}

export interface PaperFillInput {
  side: ContractSide;
  action: OrderAction;
  count: Decimal;
  price: Decimal;
  fee: Decimal;
}

export const EMPTY_POSITION: PaperPositionState = {
  position: ZERO, costBasis: ZERO, realizedPnl: ZERO, feesPaid: ZERO, totalTraded: ZERO,
};

/** Contracts of `side` held in a signed position. */
export function heldOf(position: Decimal, side: ContractSide): Decimal {
  return side === 'yes' ? Decimal.max(position, ZERO) : Decimal.max(position.negated(), ZERO);
}

/**
 * What one fill does to the position and the cash balance.
 *
 * - Buy of the side held (or from flat): position grows, cost_basis += n × price,
 *   cash −= n × price + fee.
 * - Sell of the side held: the cost of the contracts sold is removed pro rata (rounded to 4
 *   decimals, the whole cost when everything is sold, so cost_basis stays the exact sum of what
 *   remains), realized P&L += n × price − that cost, cash += n × price − fee.
 * - Buy of the opposite side: like Kalshi, each YES+NO pair pays $1 back at once. For the k pairs
 *   formed, the held contracts are closed as if sold at 1 − price (realized += k × (1 − price) −
 *   their pro-rata cost), and the new contracts of the pairs never enter cost_basis; contracts
 *   bought beyond the pairs open the other side at price. Cash −= n × price + fee, += k × $1.
 *
 * Fees never enter cost_basis or realized P&L: they accumulate in fees_paid.
 */
export function applyFill(before: PaperPositionState, fill: PaperFillInput): { after: PaperPositionState; balanceChange: Decimal } {
  const held = heldOf(before.position, fill.side);
  const heldOpposite = heldOf(before.position, fill.side === 'yes' ? 'no' : 'yes');
  const gross = fill.price.times(fill.count);
  let { costBasis, realizedPnl } = before;
  let balanceChange: Decimal;
  if (fill.action === 'buy') {
    const pairs = Decimal.min(fill.count, heldOpposite);
    const opened = fill.count.minus(pairs);
    if (pairs.gt(0)) {
      const removed = proRataCost(costBasis, pairs, heldOpposite);
      realizedPnl = realizedPnl.plus(ONE.minus(fill.price).times(pairs)).minus(removed);
      costBasis = costBasis.minus(removed);
    }
    costBasis = costBasis.plus(fill.price.times(opened));
    balanceChange = gross.plus(fill.fee).negated().plus(pairs);
  } else {
    if (held.lt(fill.count)) {
      throw new RangeError(`cannot sell ${fill.count} ${fill.side} contracts: ${held} held`);
    }
    const removed = proRataCost(costBasis, fill.count, held);
    realizedPnl = realizedPnl.plus(gross).minus(removed);
    costBasis = costBasis.minus(removed);
    balanceChange = gross.minus(fill.fee);
  }
  // + YES / − NO: buying YES or selling NO adds, buying NO or selling YES subtracts.
  const delta = outcomeSideOf(fill.side, fill.action) === 'yes' ? fill.count : fill.count.negated();
  const position = before.position.plus(delta);
  return {
    after: {
      position,
      costBasis,
      realizedPnl,
      feesPaid: before.feesPaid.plus(fill.fee),
      totalTraded: before.totalTraded.plus(gross),
    },
    balanceChange,
  };
}

/**
 * What settling a market at `yesPayout` does to the position: every YES contract held pays
 * yesPayout, every NO contract 1 − yesPayout (credited to cash); the position goes to zero with no
 * cost left, and realized P&L gains the payout minus the cost of the contracts settled (fees
 * excluded, as everywhere in this venue: they stay in fees_paid). Nothing is traded, so
 * total_traded does not move.
 */
export function settlePosition(before: PaperPositionState, yesPayout: Decimal): { after: PaperPositionState; credited: Decimal } {
  const credited = yesPayout.times(heldOf(before.position, 'yes')).plus(ONE.minus(yesPayout).times(heldOf(before.position, 'no')));
  return {
    after: {
      position: ZERO,
      costBasis: ZERO,
      realizedPnl: before.realizedPnl.plus(credited).minus(before.costBasis),
      feesPaid: before.feesPaid,
      totalTraded: before.totalTraded,
    },
    credited,
  };
}

/**
 * The cost of `count` of `held` contracts: a share rounded to 6 decimals (Kalshi's amount
 * precision, NUMERIC(16,6)), or all of it.
 */
function proRataCost(costBasis: Decimal, count: Decimal, held: Decimal): Decimal {
  if (count.eq(held)) return costBasis;
  return costBasis.times(count).div(held).toDecimalPlaces(6, Decimal.ROUND_HALF_UP);
}

// ---------------------------------------------------------------------------------------------
// Orders as stored.

/** A venue order as the paper exchange stores it: what Kalshi reports, plus its own bookkeeping. */
interface PaperOrder extends Omit<VenueOrder, 'remainingCount' | 'createdAt'> {
  timeInForce: TimeInForce;
  /** The book snapshot the order last matched against: it only fills from newer ones. */
  bookSeenAt: Date;
  createdAt: Date;
}

function toPaperOrder(r: Record<string, any>): PaperOrder {
  return {
    venueOrderId: r.venue_order_id,
    clientOrderId: r.client_order_id,
    ticker: r.ticker,
    side: r.side,
    action: r.action,
    outcomeSide: outcomeSideOf(r.side, r.action),
    type: r.order_type,
    timeInForce: r.time_in_force,
    status: r.status,
    limitPrice: decimal(r.limit_price),
    initialCount: decimal(r.initial_count),
    filledCount: decimal(r.filled_count),
    takerFees: decimal(r.taker_fees),
    makerFees: decimal(r.maker_fees),
    takerFillCost: decimal(r.taker_fill_cost),
    makerFillCost: decimal(r.maker_fill_cost),
    expiresAt: r.expires_at,
    bookSeenAt: r.book_seen_at,
    createdAt: r.created_at,
  };
}

function toVenueOrder(o: PaperOrder): VenueOrder {
  return {
    venueOrderId: o.venueOrderId,
    clientOrderId: o.clientOrderId,
    ticker: o.ticker,
    side: o.side,
    action: o.action,
    outcomeSide: o.outcomeSide,
    type: o.type,
    status: o.status,
    limitPrice: o.limitPrice,
    initialCount: o.initialCount,
    filledCount: o.filledCount,
    // Like Kalshi, a cancelled or executed order has nothing remaining.
    remainingCount: o.status === 'resting' ? o.initialCount.minus(o.filledCount) : ZERO,
    takerFees: o.takerFees,
    makerFees: o.makerFees,
    takerFillCost: o.takerFillCost,
    makerFillCost: o.makerFillCost,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
  };
}

function toVenueFill(r: Record<string, any>): VenueFill {
  return {
    fillId: r.fill_id,
    venueOrderId: r.venue_order_id,
    ticker: r.ticker,
    side: r.side,
    action: r.action,
    outcomeSide: outcomeSideOf(r.side, r.action),
    count: decimal(r.count),
    price: decimal(r.price),
    isTaker: r.is_taker,
    fee: decimal(r.fee),
    createdAt: r.created_at,
  };
}

function toPositionState(r: Record<string, any> | undefined): PaperPositionState {
  if (!r) return EMPTY_POSITION;
  return {
    position: decimal(r.position),
    costBasis: decimal(r.cost_basis),
    realizedPnl: decimal(r.realized_pnl),
    feesPaid: decimal(r.fees_paid),
    totalTraded: decimal(r.total_traded),
  };
}

/** Adds a fill to the order's tallies. */
function tally(order: PaperOrder, fill: MatchFill): void {
  order.filledCount = order.filledCount.plus(fill.count);
  const cost = fill.price.times(fill.count);
  if (fill.isTaker) {
    order.takerFees = order.takerFees.plus(fill.fee);
    order.takerFillCost = order.takerFillCost.plus(cost);
  } else {
    order.makerFees = order.makerFees.plus(fill.fee);
    order.makerFillCost = order.makerFillCost.plus(cost);
  }
}

// ---------------------------------------------------------------------------------------------
// Request validation.

/** A request once validated: the price and time in force settled, no expiry spelled as null. */
interface ValidOrder extends Required<Omit<PlaceOrderRequest, 'expiresAt'>> {
  expiresAt: Date | null;
}

const TIME_IN_FORCE: readonly TimeInForce[] = ['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill'];

function invalid(message: string): OrderRejectedError {
  return new OrderRejectedError(message, 'invalid_order');
}

/** Checks a request the way the venue would, before anything is written. */
function validateRequest(r: PlaceOrderRequest): ValidOrder {
  if (typeof r.ticker !== 'string' || r.ticker === '') throw invalid('ticker must be a non-empty string');
  if (r.side !== 'yes' && r.side !== 'no') throw invalid(`side must be 'yes' or 'no', got ${String(r.side)}`);
  if (r.action !== 'buy' && r.action !== 'sell') throw invalid(`action must be 'buy' or 'sell', got ${String(r.action)}`);
  if (r.type !== 'limit' && r.type !== 'market') throw invalid(`type must be 'limit' or 'market', got ${String(r.type)}`);
  if (!Decimal.isDecimal(r.count) || !r.count.isFinite() || r.count.lte(0) || r.count.decimalPlaces() > COUNT_DECIMALS) {
    throw invalid(`count must be a positive number of contracts with at most ${COUNT_DECIMALS} decimals, got ${String(r.count)}`);
  }
  if (r.type === 'limit' && r.limitPrice === undefined) throw invalid('a limit order needs a limitPrice');
  const limitPrice = r.limitPrice ?? (r.action === 'buy' ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT);
  if (!Decimal.isDecimal(limitPrice)) throw invalid(`limitPrice must be a Decimal, got ${typeof limitPrice}`);
  if (!limitPrice.isFinite() || limitPrice.lte(0) || limitPrice.gte(1)) {
    throw invalid(`limitPrice must be strictly between 0 and 1 dollars, got ${limitPrice.toString()}`);
  }
  if (limitPrice.decimalPlaces() > 4) throw invalid(`limitPrice has more than 4 decimals: ${limitPrice.toString()}`);
  const timeInForce = r.timeInForce ?? (r.type === 'market' ? 'immediate_or_cancel' : 'good_till_canceled');
  if (!TIME_IN_FORCE.includes(timeInForce)) throw invalid(`unknown timeInForce ${String(timeInForce)}`);
  if (r.type === 'market' && timeInForce === 'good_till_canceled') {
    throw invalid('a market order cannot rest: use immediate_or_cancel or fill_or_kill');
  }
  let expiresAt: Date | null = null;
  if (r.expiresAt !== undefined) {
    if (!(r.expiresAt instanceof Date) || Number.isNaN(r.expiresAt.getTime())) throw invalid('expiresAt must be a valid Date');
    if (timeInForce !== 'good_till_canceled') throw invalid('expiresAt applies to good_till_canceled orders only');
    expiresAt = r.expiresAt;
  }
  return {
    ticker: r.ticker, clientOrderId: r.clientOrderId, side: r.side, action: r.action, count: r.count,
    type: r.type, limitPrice, timeInForce, expiresAt,
  };
}

// ---------------------------------------------------------------------------------------------
// One pass: a transaction with the account locked, resting orders brought up to date first.

interface SnapshotDepth {
  at: number;
  consumed: ConsumedDepth;
}

/** Books fetched once per pass (and the depth taken from them) plus the pass's writes. */
class Pass {
  private readonly positions = new Map<string, PaperPositionState>();
  private readonly depth = new Map<string, SnapshotDepth>();

  constructor(
    readonly client: pg.PoolClient,
    readonly accountId: string,
    readonly now: Date,
    public balance: Decimal,
    private readonly books: ReadonlyMap<string, PaperBook | null>,
    private readonly keptDepth: Map<string, SnapshotDepth>,
  ) {}

  /**
   * The book fetched for this pass, null when there is none. A resting order placed by a
   * concurrent call after the fetch has no book here: its placement just matched it against the
   * current book, and the next pass looks again.
   */
  book(ticker: string): PaperBook | null {
    return this.books.get(ticker) ?? null;
  }

  /**
   * The depth already taken from this snapshot of the ticker's book: continued from earlier
   * passes of this exchange while the snapshot is the same, fresh for a newer one.
   */
  consumed(book: PaperBook): ConsumedDepth {
    const at = book.at.getTime();
    let entry = this.depth.get(book.ticker);
    if (!entry || entry.at !== at) {
      const kept = this.keptDepth.get(book.ticker);
      entry = { at, consumed: kept && kept.at === at ? new Map(kept.consumed) : new Map() };
      this.depth.set(book.ticker, entry);
    }
    return entry.consumed;
  }

  /** Keeps the depth taken in this pass for the next passes (called just before commit). */
  keepDepth(): void {
    for (const [ticker, entry] of this.depth) this.keptDepth.set(ticker, entry);
  }

  async position(ticker: string): Promise<PaperPositionState> {
    const cached = this.positions.get(ticker);
    if (cached) return cached;
    const { rows } = await this.client.query(
      'SELECT * FROM paper_positions WHERE account_id = $1 AND ticker = $2',
      [this.accountId, ticker],
    );
    const state = toPositionState(rows[0]);
    this.positions.set(ticker, state);
    return state;
  }

  /** What the fills would do to cash and position, or null when the balance cannot pay them. */
  async simulate(ticker: string, order: { side: ContractSide; action: OrderAction }, fills: MatchFill[]) {
    let position = await this.position(ticker);
    let balance = this.balance;
    for (const fill of fills) {
      const effect = applyFill(position, { ...order, count: fill.count, price: fill.price, fee: fill.fee });
      position = effect.after;
      balance = balance.plus(effect.balanceChange);
      if (balance.lt(0)) return null;
    }
    return { position, balance };
  }

  /** Writes one fill of `order` (already in paper_orders) with its position and cash effects. */
  async recordFill(order: PaperOrder, fill: MatchFill): Promise<void> {
    const before = await this.position(order.ticker);
    const { after, balanceChange } = applyFill(before, {
      side: order.side, action: order.action, count: fill.count, price: fill.price, fee: fill.fee,
    });
    const balance = this.balance.plus(balanceChange);
    if (balance.lt(0)) throw new Error(`paper fill of ${order.venueOrderId} would overdraw the account`);
    await this.client.query(
      `INSERT INTO paper_fills (fill_id, fill_number, venue_order_id, account_id, ticker, side, action, count, price, is_taker, fee, created_at)
       SELECT 'paper-fill-' || n, n, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
         FROM nextval('paper_fill_number_seq') AS n`,
      [order.venueOrderId, this.accountId, order.ticker, order.side, order.action, toSqlDecimal(fill.count),
        toSqlDecimal(fill.price), fill.isTaker, toSqlDecimal(fill.fee), this.now],
    );
    await this.client.query(
      `INSERT INTO paper_positions (account_id, ticker, position, cost_basis, realized_pnl, fees_paid, total_traded, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (account_id, ticker) DO UPDATE SET
         position = EXCLUDED.position, cost_basis = EXCLUDED.cost_basis, realized_pnl = EXCLUDED.realized_pnl,
         fees_paid = EXCLUDED.fees_paid, total_traded = EXCLUDED.total_traded, updated_at = EXCLUDED.updated_at`,
      [this.accountId, order.ticker, toSqlDecimal(after.position), toSqlDecimal(after.costBasis), toSqlDecimal(after.realizedPnl),
        toSqlDecimal(after.feesPaid), toSqlDecimal(after.totalTraded), this.now],
    );
    await this.client.query(
      'UPDATE paper_accounts SET balance = $2, updated_at = $3 WHERE account_id = $1',
      [this.accountId, toSqlDecimal(balance), this.now],
    );
    this.positions.set(order.ticker, after);
    this.balance = balance;
    tally(order, fill);
  }

  async saveOrder(order: PaperOrder): Promise<void> {
    await this.client.query(
      `UPDATE paper_orders SET filled_count = $2, status = $3, taker_fees = $4, maker_fees = $5,
              taker_fill_cost = $6, maker_fill_cost = $7, book_seen_at = $8, updated_at = $9
        WHERE venue_order_id = $1`,
      [order.venueOrderId, toSqlDecimal(order.filledCount), order.status, toSqlDecimal(order.takerFees), toSqlDecimal(order.makerFees),
        toSqlDecimal(order.takerFillCost), toSqlDecimal(order.makerFillCost), order.bookSeenAt, this.now],
    );
  }
}

// ---------------------------------------------------------------------------------------------

export class PaperExchange implements Exchange {
  readonly name = 'paper';
  readonly executionMode = 'paper' as const;

  private readonly books: BookSource;
  private readonly startingBalance: Decimal;
  private readonly accountId: string;
  private readonly rules: TradingRules;
  private readonly now: () => Date;
  private readonly latencyMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Depth taken from the latest snapshot of each ticker's book, across calls (see `Pass.consumed`). */
  private readonly keptDepth = new Map<string, SnapshotDepth>();

  constructor(
    private readonly pool: pg.Pool,
    options: PaperExchangeOptions,
  ) {
    if (!Decimal.isDecimal(options.startingBalance) || !options.startingBalance.isFinite() || options.startingBalance.lt(0)) {
      throw new RangeError('startingBalance must be a non-negative Decimal');
    }
    if (options.startingBalance.decimalPlaces() > 6) throw new RangeError('startingBalance has more than 6 decimals');
    this.books = options.books;
    this.startingBalance = options.startingBalance;
    this.accountId = options.accountId ?? 'default';
    this.rules = options.rules ?? DEFAULT_TRADING_RULES;
    this.now = options.now ?? clockNow;
    const latencyMs = options.latencyMs ?? 0;
    if (!Number.isSafeInteger(latencyMs) || latencyMs < 0) throw new RangeError(`latencyMs must be a non-negative integer, got ${String(options.latencyMs)}`);
    this.latencyMs = latencyMs;
    this.sleep = options.sleep ?? clockSleep;
  }

  async placeOrder(request: PlaceOrderRequest): Promise<VenueOrder> {
    if (typeof request?.clientOrderId !== 'string' || request.clientOrderId === '') {
      throw invalid('clientOrderId must be a non-empty string');
    }
    // A retry of an order already placed gets that order, whatever the market does now.
    const placed = await this.orderByClientId(this.pool, request.clientOrderId);
    if (placed) return toVenueOrder(placed);
    const valid = validateRequest(request);
    // The order travels to the market: it meets the book as it is when it arrives.
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);

    // Rejections are returned, not thrown, so the resting orders brought up to date in the same
    // pass are still committed.
    const outcome = await this.pass([valid.ticker], async (pass): Promise<PaperOrder | OrderRejectedError> => {
      // Concurrent placements of one client order id queue on the account lock: re-check under it.
      const existing = await this.orderByClientId(pass.client, valid.clientOrderId);
      if (existing) return existing;
      return this.placeNew(pass, valid);
    });
    if (outcome instanceof OrderRejectedError) throw outcome;
    return toVenueOrder(outcome);
  }

  async getOrder(venueOrderId: string): Promise<VenueOrder> {
    const order = await this.pass([], (pass) => this.orderById(pass.client, venueOrderId));
    if (!order) throw new PaperOrderNotFoundError(venueOrderId);
    return toVenueOrder(order);
  }

  /** No read lag at this venue: one look is enough. */
  async findOrder(clientOrderId: string, ticker: string): Promise<VenueOrder | null> {
    const order = await this.pass([], (pass) => this.orderByClientId(pass.client, clientOrderId));
    return order && order.ticker === ticker ? toVenueOrder(order) : null;
  }

  async listOrders(filter: OrderFilter = {}): Promise<VenueOrder[]> {
    return this.pass([], async (pass) => {
      const { rows } = await pass.client.query(
        `SELECT * FROM paper_orders
          WHERE account_id = $1 AND ($2::text IS NULL OR ticker = $2) AND ($3::text IS NULL OR status = $3)
          ORDER BY order_number`,
        [this.accountId, filter.ticker ?? null, filter.status ?? null],
      );
      return rows.map((r) => toVenueOrder(toPaperOrder(r)));
    });
  }

  async cancelOrder(venueOrderId: string): Promise<VenueOrder> {
    const order = await this.pass([], async (pass) => {
      const { rows } = await pass.client.query(
        'SELECT * FROM paper_orders WHERE account_id = $1 AND venue_order_id = $2 FOR UPDATE',
        [this.accountId, venueOrderId],
      );
      if (!rows[0]) return null;
      const found = toPaperOrder(rows[0]);
      // A finished order (executed, cancelled, expired) is returned as it is.
      if (found.status === 'resting') {
        found.status = 'canceled';
        await pass.saveOrder(found);
      }
      return found;
    });
    if (!order) throw new PaperOrderNotFoundError(venueOrderId);
    return toVenueOrder(order);
  }

  async getFills(filter: FillFilter = {}): Promise<VenueFill[]> {
    return this.pass([], async (pass) => {
      const { rows } = await pass.client.query(
        `SELECT * FROM paper_fills
          WHERE account_id = $1 AND ($2::text IS NULL OR venue_order_id = $2) AND ($3::text IS NULL OR ticker = $3)
            AND ($4::timestamptz IS NULL OR created_at >= $4)
          ORDER BY fill_number`,
        [this.accountId, filter.venueOrderId ?? null, filter.ticker ?? null, filter.since ?? null],
      );
      return rows.map(toVenueFill);
    });
  }

  async getPositions(): Promise<VenuePosition[]> {
    return this.pass([], async (pass) => {
      const { rows } = await pass.client.query(
        'SELECT * FROM paper_positions WHERE account_id = $1 AND position <> 0 ORDER BY ticker',
        [this.accountId],
      );
      return rows.map((r) => {
        const state = toPositionState(r);
        return {
          ticker: r.ticker as string,
          position: state.position,
          exposure: state.costBasis,
          realizedPnl: state.realizedPnl,
          feesPaid: state.feesPaid,
        };
      });
    });
  }

  async getBalance(): Promise<Decimal> {
    return this.pass([], async (pass) => pass.balance);
  }

  /**
   * Settles the account's holding in a finished market, as Kalshi does by itself: in one
   * transaction with the account locked, credits YES contracts × yesPayout and NO contracts ×
   * (1 − yesPayout), records the realized P&L (fees excluded), zeroes the position, cancels the
   * resting orders on the ticker and records the settlement (paper_settlements). A market is
   * settled once per account: null when it already was (nothing is credited again).
   */
  async settle(ticker: string, yesPayout: Decimal): Promise<{ credited: Decimal } | null> {
    if (typeof ticker !== 'string' || ticker === '') throw new RangeError('ticker must be a non-empty string');
    if (!Decimal.isDecimal(yesPayout) || !yesPayout.isFinite() || yesPayout.lt(0) || yesPayout.gt(1)) {
      throw new RangeError(`yesPayout must be a Decimal within 0..1 dollars, got ${String(yesPayout)}`);
    }
    if (yesPayout.decimalPlaces() > 4) throw new RangeError(`yesPayout has more than 4 decimals: ${yesPayout.toString()}`);
    return this.pass([], async (pass) => {
      const before = await pass.position(ticker);
      const { after, credited } = settlePosition(before, yesPayout);
      // The account is locked: the insert decides, once, whether this call settles the market.
      const recorded = await pass.client.query(
        `INSERT INTO paper_settlements (account_id, ticker, yes_payout, position, credited, settled_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, ticker) DO NOTHING`,
        [this.accountId, ticker, toSqlDecimal(yesPayout), toSqlDecimal(before.position), toSqlDecimal(credited), pass.now],
      );
      if (recorded.rowCount === 0) return null;
      await pass.client.query(
        `UPDATE paper_orders SET status = 'canceled', updated_at = $3
          WHERE account_id = $1 AND ticker = $2 AND status = 'resting'`,
        [this.accountId, ticker, pass.now],
      );
      // A market never traded has no position row: nothing to zero.
      await pass.client.query(
        `UPDATE paper_positions SET position = $3, cost_basis = $4, realized_pnl = $5, updated_at = $6
          WHERE account_id = $1 AND ticker = $2`,
        [this.accountId, ticker, toSqlDecimal(after.position), toSqlDecimal(after.costBasis), toSqlDecimal(after.realizedPnl), pass.now],
      );
      if (!credited.isZero()) {
        pass.balance = pass.balance.plus(credited);
        await pass.client.query(
          'UPDATE paper_accounts SET balance = $2, updated_at = $3 WHERE account_id = $1',
          [this.accountId, toSqlDecimal(pass.balance), pass.now],
        );
      }
      return { credited };
    });
  }

  // -------------------------------------------------------------------------------------------

  private async placeNew(pass: Pass, valid: ValidOrder): Promise<PaperOrder | OrderRejectedError> {
    const book = pass.book(valid.ticker);
    if (!book || !book.open) {
      return new OrderRejectedError(`market ${valid.ticker} is ${book ? 'not open for trading' : 'unknown'}`, 'market_closed');
    }
    if (valid.expiresAt && valid.expiresAt.getTime() <= pass.now.getTime()) {
      return invalid(`expiresAt ${valid.expiresAt.toISOString()} is not in the future`);
    }
    if (valid.action === 'buy') {
      // The most the order can cost: every contract at the limit, as taker.
      const worst = valid.limitPrice.times(valid.count).plus(takerFee(valid.count, valid.limitPrice, this.rules));
      if (worst.gt(pass.balance)) {
        return new OrderRejectedError(
          `buying ${formatCount(valid.count)} at ${valid.limitPrice.toFixed(4)} may cost ${worst.toFixed(4)}; balance is ${pass.balance.toFixed(4)}`,
          'insufficient_balance',
        );
      }
    } else {
      const held = heldOf((await pass.position(valid.ticker)).position, valid.side);
      if (held.lt(valid.count)) {
        return new OrderRejectedError(
          `selling ${formatCount(valid.count)} ${valid.side} contracts of ${valid.ticker}: ${formatCount(held)} held`,
          'insufficient_position',
        );
      }
    }

    const consumed = pass.consumed(book);
    const before = new Map(consumed);
    const match = matchIncoming(book, valid, { consumed, rules: this.rules });
    // Fees are rounded up per fill, so fills across levels can cost a few cents more than the
    // worst case above: nothing is written unless the balance pays every fill.
    if (!(await pass.simulate(valid.ticker, valid, match.fills))) {
      restore(consumed, before);
      return new OrderRejectedError(`the fills of this order would cost more than the balance ${pass.balance.toFixed(4)}`, 'insufficient_balance');
    }

    const order: PaperOrder = {
      venueOrderId: '',
      clientOrderId: valid.clientOrderId,
      ticker: valid.ticker,
      side: valid.side,
      action: valid.action,
      outcomeSide: outcomeSideOf(valid.side, valid.action),
      type: valid.type,
      timeInForce: valid.timeInForce,
      status: match.status,
      limitPrice: valid.limitPrice,
      initialCount: valid.count,
      filledCount: ZERO,
      takerFees: ZERO,
      makerFees: ZERO,
      takerFillCost: ZERO,
      makerFillCost: ZERO,
      expiresAt: valid.expiresAt,
      bookSeenAt: book.at,
      createdAt: pass.now,
    };
    // The row is written with its final tallies (its CHECKs hold for the final state only).
    const final = { ...order };
    for (const fill of match.fills) tally(final, fill);
    const { rows } = await pass.client.query(
      `INSERT INTO paper_orders (venue_order_id, order_number, client_order_id, account_id, ticker, side, action, order_type,
                                 time_in_force, limit_price, initial_count, filled_count, status, taker_fees, maker_fees,
                                 taker_fill_cost, maker_fill_cost, expires_at, book_seen_at, created_at, updated_at)
       SELECT 'paper-' || n, n, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18
         FROM nextval('paper_order_number_seq') AS n
       RETURNING venue_order_id`,
      [valid.clientOrderId, pass.accountId, valid.ticker, valid.side, valid.action, valid.type, valid.timeInForce,
        toSqlDecimal(valid.limitPrice), toSqlDecimal(valid.count), toSqlDecimal(final.filledCount), final.status, toSqlDecimal(final.takerFees),
        toSqlDecimal(final.makerFees), toSqlDecimal(final.takerFillCost), toSqlDecimal(final.makerFillCost),
        valid.expiresAt, book.at, pass.now],
    );
    order.venueOrderId = rows[0].venue_order_id as string;
    for (const fill of match.fills) await pass.recordFill(order, fill);
    return order;
  }

  /**
   * Brings the account's resting orders up to date, oldest first (time priority for the depth):
   * each matches the newest book of its market if that book is newer than the last it saw and was
   * observed before the order expired; then expired orders are cancelled.
   */
  private async syncResting(pass: Pass): Promise<void> {
    const { rows } = await pass.client.query(
      `SELECT * FROM paper_orders WHERE account_id = $1 AND status = 'resting' ORDER BY order_number FOR UPDATE`,
      [this.accountId],
    );
    for (const row of rows) {
      const order = toPaperOrder(row);
      const expiresAt = order.expiresAt?.getTime() ?? Infinity;
      const book = pass.book(order.ticker);
      let changed = false;
      if (book && book.at.getTime() > order.bookSeenAt.getTime() && book.at.getTime() < expiresAt) {
        order.bookSeenAt = book.at;
        changed = true;
        if (book.open) await this.fillResting(pass, order, book);
      }
      if (order.status === 'resting' && expiresAt <= pass.now.getTime()) order.status = 'canceled';
      if (changed || order.status !== 'resting') await pass.saveOrder(order);
    }
  }

  private async fillResting(pass: Pass, order: PaperOrder, book: PaperBook): Promise<void> {
    const consumed = pass.consumed(book);
    const before = new Map(consumed);
    const remaining = order.initialCount.minus(order.filledCount);
    let match = matchResting(book, { side: order.side, action: order.action, limitPrice: order.limitPrice, count: remaining }, { consumed, rules: this.rules });
    if (match.filledCount.isZero()) return;

    let cancelRest = false;
    if (order.action === 'sell') {
      // The position may have shrunk since the order was placed: sell what is held, cancel the rest.
      const held = heldOf((await pass.position(order.ticker)).position, order.side);
      if (held.lt(match.filledCount)) {
        restore(consumed, before);
        cancelRest = true;
        match = held.gt(0)
          ? matchResting(book, { side: order.side, action: order.action, limitPrice: order.limitPrice, count: held }, { consumed, rules: this.rules })
          : { fills: [], filledCount: ZERO, remainingCount: remaining, status: 'resting' };
      }
    }
    if (!(await pass.simulate(order.ticker, order, match.fills))) {
      // Buys are charged at fill: a fill the balance can no longer pay cancels the order.
      restore(consumed, before);
      order.status = 'canceled';
      return;
    }
    for (const fill of match.fills) await pass.recordFill(order, fill);
    if (order.filledCount.eq(order.initialCount)) order.status = 'executed';
    else if (cancelRest) order.status = 'canceled';
  }

  /**
   * Runs `body` in one transaction with the account row locked (placements, fills and cancels of
   * one account happen one at a time), after bringing resting orders up to date. The books of
   * the markets involved are fetched before the lock is taken, so no I/O holds it and the
   * transaction never needs a second pooled connection (a pool of 2 cannot starve itself).
   */
  private async pass<T>(tickers: string[], body: (pass: Pass) => Promise<T>): Promise<T> {
    const { rows } = await this.pool.query(
      `SELECT DISTINCT ticker FROM paper_orders WHERE account_id = $1 AND status = 'resting'`,
      [this.accountId],
    );
    const books = new Map<string, PaperBook | null>();
    await Promise.all([...new Set([...rows.map((r) => r.ticker as string), ...tickers])].map(async (ticker) => {
      const fetched = this.books.book(ticker);
      // The order being placed needs its book: a failure is the caller's. A resting order's book
      // that cannot be read now only delays its fills; it must not make the venue unreadable.
      books.set(ticker, tickers.includes(ticker) ? await fetched : await fetched.catch(() => null));
    }));

    return withTransaction(this.pool, async (client) => {
      const now = this.now();
      await client.query(
        `INSERT INTO paper_accounts (account_id, starting_balance, balance, created_at, updated_at)
         VALUES ($1, $2, $2, $3, $3) ON CONFLICT (account_id) DO NOTHING`,
        [this.accountId, toSqlDecimal(this.startingBalance), now],
      );
      const account = await client.query('SELECT balance FROM paper_accounts WHERE account_id = $1 FOR UPDATE', [this.accountId]);
      const pass = new Pass(client, this.accountId, now, decimal(account.rows[0].balance), books, this.keptDepth);
      await this.syncResting(pass);
      const result = await body(pass);
      pass.keepDepth();
      return result;
    });
  }

  private async orderByClientId(db: pg.Pool | pg.PoolClient, clientOrderId: string): Promise<PaperOrder | null> {
    const { rows } = await db.query(
      'SELECT * FROM paper_orders WHERE account_id = $1 AND client_order_id = $2',
      [this.accountId, clientOrderId],
    );
    return rows[0] ? toPaperOrder(rows[0]) : null;
  }

  private async orderById(db: pg.PoolClient, venueOrderId: string): Promise<PaperOrder | null> {
    const { rows } = await db.query(
      'SELECT * FROM paper_orders WHERE account_id = $1 AND venue_order_id = $2',
      [this.accountId, venueOrderId],
    );
    return rows[0] ? toPaperOrder(rows[0]) : null;
  }
}

function restore(consumed: ConsumedDepth, snapshot: ConsumedDepth): void {
  consumed.clear();
  for (const [key, count] of snapshot) consumed.set(key, count);
}

import type { Decimal } from '../domain/decimal';
import type { PriceLevels } from '../domain/priceLevels';

/**
 * The venue as execution sees it: one interface, two implementations (Kalshi Trade API v2 for
 * demo/production, and the paper exchange over ingested prices). Execution, reconciliation and
 * the local runtime only ever talk to this interface, so paper and live share one code path.
 *
 * Conventions (Kalshi's): a price is the price of the order's own `side` in dollars (0..1, 4
 * decimals, Decimal); counts are Decimals with up to 2 decimals (Kalshi's fixed-point counts:
 * Precog orders whole contracts, but fills and holdings can be fractional); a position is signed,
 * positive = YES contracts held, negative = NO contracts held.
 */

export type ContractSide = 'yes' | 'no';
export type OrderAction = 'buy' | 'sell';
/** The outcome a buy or sell of `side` positions the account for: buy YES / sell NO → 'yes'. */
export function outcomeSideOf(side: ContractSide, action: OrderAction): ContractSide {
  return action === 'buy' ? side : side === 'yes' ? 'no' : 'yes';
}

export type TimeInForce = 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';

export interface PlaceOrderRequest {
  ticker: string;
  /** Deterministic id chosen by Precog; the venue keeps it, so the order can be found again. */
  clientOrderId: string;
  side: ContractSide;
  action: OrderAction;
  /** Contracts, > 0: whole for what Precog opens; an exit of everything held may be fractional. */
  count: Decimal;
  /**
   * `limit`: rests (good_till_canceled) or is cancelled unfilled (immediate_or_cancel /
   * fill_or_kill) at `limitPrice`. `market`: Kalshi has no true market order, so a market order
   * is an immediate-or-cancel limit at `limitPrice` (the worst acceptable price, normally the
   * far side of the book); without one a buy may pay up to 0.99 and a sell accept down to 0.01.
   */
  type: 'limit' | 'market';
  /** Price of `side`, dollars. Required for limit orders. */
  limitPrice?: Decimal;
  /** Default: good_till_canceled for limit, immediate_or_cancel for market. */
  timeInForce?: TimeInForce;
  /** A resting order is cancelled by the venue at this instant (good_till_canceled only). */
  expiresAt?: Date;
}
// Sells are always reduce-only: Kalshi gets `reduce_only`, the paper exchange refuses a sell of
// more than is held. Precog never opens a position by selling.

/** Kalshi's order statuses on the wire. */
export type VenueOrderStatus = 'resting' | 'canceled' | 'executed';

export interface VenueOrder {
  venueOrderId: string;
  clientOrderId: string;
  ticker: string;
  side: ContractSide;
  action: OrderAction;
  /** The outcome the order positions the account for (see VenueFill.outcomeSide). */
  outcomeSide: ContractSide;
  type: 'limit' | 'market';
  status: VenueOrderStatus;
  /** Limit price of `side`, dollars. */
  limitPrice: Decimal;
  initialCount: Decimal;
  filledCount: Decimal;
  remainingCount: Decimal;
  takerFees: Decimal;
  makerFees: Decimal;
  /** Dollars paid (buy) or received (sell) for the contracts filled as taker / maker. */
  takerFillCost: Decimal;
  makerFillCost: Decimal;
  createdAt: Date | null;
  expiresAt: Date | null;
}

export interface VenueFill {
  /** Unique per fill at the venue: trades record it, so a fill is recorded once. */
  fillId: string;
  venueOrderId: string;
  ticker: string;
  side: ContractSide;
  action: OrderAction;
  /**
   * The outcome this fill positions the account for (Kalshi's `outcome_side`): buy YES and sell
   * NO give 'yes', buy NO and sell YES give 'no'. It cannot tell buy NO from sell YES (they are
   * one trade on Kalshi's single YES book): `side`/`action` are the reading consistent with it
   * (see tradingSchemas.ts), and the ledger checks a fill against its order by this direction.
   */
  outcomeSide: ContractSide;
  count: Decimal;
  /** Price of `side`, dollars. */
  price: Decimal;
  isTaker: boolean;
  /** Fee charged for this fill, dollars. */
  fee: Decimal;
  createdAt: Date;
}

export interface VenueQuote {
  ticker: string;
  /** The venue's status word for the market ("active", "closed"…). */
  status: string;
  yes: { bid: Decimal | null; ask: Decimal | null };
  no: { bid: Decimal | null; ask: Decimal | null };
  /** The market's price levels now (YES prices), when the venue says: exits price on them. */
  priceLevels?: PriceLevels;
}

export interface VenuePosition {
  ticker: string;
  /** Signed: + YES contracts, − NO contracts; may be fractional. */
  position: Decimal;
  /** Cost of the contracts held, dollars. */
  exposure: Decimal;
  realizedPnl: Decimal;
  feesPaid: Decimal;
}

/** What the venue reports having paid the account when a market settled (Kalshi GET /portfolio/settlements). */
export interface VenueSettlement {
  ticker: string;
  eventTicker: string;
  marketResult: 'yes' | 'no' | 'scalar' | 'void';
  /** Contracts held at settlement (fractional contracts exist). */
  yesCount: Decimal;
  noCount: Decimal;
  /** What those contracts cost, dollars. */
  yesTotalCost: Decimal;
  noTotalCost: Decimal;
  /** Cash the settlement credited, dollars (Kalshi's `revenue`, sent in cents). */
  revenue: Decimal;
  /** Kalshi's `fee_cost` on the record, dollars. */
  feeCost: Decimal;
  settledAt: Date;
  /** The payout of one YES contract, dollars; null when not given. */
  yesPayout: Decimal | null;
}

export interface SettlementFilter {
  ticker?: string;
  eventTicker?: string;
  /** Settlements at or after this instant. */
  since?: Date;
}

export interface FillFilter {
  venueOrderId?: string;
  ticker?: string;
  /** Fills at or after this instant. */
  since?: Date;
}

export interface FindOrderOptions {
  /**
   * The order, if it exists, was placed long enough ago for every read to show it (a delivery
   * that died before committing, seen again after the queue's visibility timeout): one read, no
   * waiting out a read lag on a miss.
   */
  settled?: boolean;
}

export interface OrderFilter {
  ticker?: string;
  status?: VenueOrderStatus;
}

export interface Exchange {
  /** Human name for logs and errors: "paper", "kalshi-demo", "kalshi-production". */
  readonly name: string;
  /** What trades placed here are recorded as. */
  readonly executionMode: 'paper' | 'live';

  /**
   * Places an order. Never places the same `clientOrderId` twice: after an ambiguous failure the
   * implementation looks the order up by `clientOrderId` before trying again, and an order that
   * already exists is returned as it is. Throws `OrderRejectedError` when the venue refuses the
   * order for good, `OrderUncertainError` when it cannot tell whether the order exists.
   */
  placeOrder(request: PlaceOrderRequest): Promise<VenueOrder>;
  getOrder(venueOrderId: string): Promise<VenueOrder>;
  /**
   * The order with this client order id, or null. `ticker` narrows the search (Kalshi cannot
   * filter by client order id). Reads can lag writes: implementations retry a miss a few times.
   */
  findOrder(clientOrderId: string, ticker: string, options?: FindOrderOptions): Promise<VenueOrder | null>;
  listOrders(filter?: OrderFilter): Promise<VenueOrder[]>;
  /** Cancels what remains of a resting order; returns the order as it ends up. */
  cancelOrder(venueOrderId: string): Promise<VenueOrder>;
  getFills(filter?: FillFilter): Promise<VenueFill[]>;
  /** Markets where the account holds a non-zero position. */
  getPositions(): Promise<VenuePosition[]>;
  /** Cash balance, dollars. */
  getBalance(): Promise<Decimal>;

  /**
   * The market's best bid and ask per side now (null: a side nobody quotes), or null when the
   * venue does not know the market. Optional: exits price from it when present, because the
   * ingested quote can be a minute old in a market that moves.
   */
  getQuote?(ticker: string): Promise<VenueQuote | null>;

  /**
   * The account's settlements as the venue recorded them (every page). Optional: settle-markets
   * cross-checks the books' settlement credits against them on a live venue.
   */
  getSettlements?(filter?: SettlementFilter): Promise<VenueSettlement[]>;

  /**
   * Simulated venues only: a real venue settles itself. Settles the account's holding in a
   * finished market at `yesPayout` (the value of one YES contract, 0..1; a NO contract pays
   * 1 − yesPayout): credits the contracts held, zeroes the position, cancels resting orders on
   * the ticker. Idempotent: null when the market was already settled (nothing credited again).
   */
  settle?(ticker: string, yesPayout: Decimal): Promise<{ credited: Decimal } | null>;
}

/** The venue refused the order for good (bad price, market closed, insufficient balance…). */
export class OrderRejectedError extends Error {
  override name = 'OrderRejectedError';
  constructor(
    message: string,
    /** Machine-readable reason when the venue gives one (e.g. Kalshi's error code). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Whether the order exists could not be established (the create failed ambiguously and the
 * lookups found nothing yet). Transient: the caller retries later, and looks the order up first.
 */
export class OrderUncertainError extends Error {
  override name = 'OrderUncertainError';
  constructor(
    message: string,
    readonly clientOrderId: string,
  ) {
    super(message);
  }
}

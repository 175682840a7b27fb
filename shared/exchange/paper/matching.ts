import { DEFAULT_TRADING_RULES, type TradingRules } from '../../config/tradingRules';
import { Decimal, ONE, ZERO } from '../../domain/decimal';
import { COUNT_DECIMALS } from '../../domain/quantity';
import { makerFee, takerFee } from '../../domain/fees';
import type { ContractSide, OrderAction, TimeInForce, VenueOrderStatus } from '../types';

/**
 * The paper exchange's matching, pure (no I/O): what an order gets from a snapshot of the market's
 * book. Paper orders trade only against the observed book, never against each other, and never
 * change it: the real market does not see them.
 */

/** One price level. `count` null = depth unknown (an ingested top of book), treated as unlimited. */
export interface BookLevel {
  price: Decimal;
  count: Decimal | null;
}

/** One contract side's book, best first: bids highest first, asks lowest first. */
export interface SideBook {
  bids: BookLevel[];
  asks: BookLevel[];
}

/** A snapshot of one market's book. Prices are of the side they are listed under, in dollars. */
export interface PaperBook {
  ticker: string;
  yes: SideBook;
  no: SideBook;
  /** Trading is open: a closed market neither accepts nor fills orders. */
  open: boolean;
  /** When the snapshot was observed: a newer `at` is a new snapshot. */
  at: Date;
}

/**
 * Contracts already taken from a snapshot's levels in this pass, so the next order matched
 * against the same snapshot does not take them again. Keyed by the resting liquidity itself:
 * on Kalshi a YES ask at p IS a NO bid at 1 − p (the book holds bids only), so taking either
 * consumes the same contracts (see `liquidityKey`).
 */
export type ConsumedDepth = Map<string, Decimal>;

export interface MatchOrder {
  side: ContractSide;
  action: OrderAction;
  /** Worst acceptable price of `side` (a market order carries one too). */
  limitPrice: Decimal;
  /** Contracts still to fill, > 0 (2 decimals at most). */
  count: Decimal;
}

export interface IncomingOrder extends MatchOrder {
  timeInForce: TimeInForce;
}

export interface MatchFill {
  count: Decimal;
  /** Price of the order's side, dollars. */
  price: Decimal;
  isTaker: boolean;
  /** Fee of this fill: ceil_to_cent(rate × count × P × (1 − P)). */
  fee: Decimal;
}

export interface MatchResult {
  fills: MatchFill[];
  filledCount: Decimal;
  /** Contracts of `count` left unfilled (resting, or cancelled per `status`). */
  remainingCount: Decimal;
  /** Kalshi's status of the order after this match. */
  status: VenueOrderStatus;
}

export interface MatchOptions {
  /** Depth taken earlier in the same pass; updated with what this match takes. */
  consumed?: ConsumedDepth;
  rules?: TradingRules;
}

interface Take {
  key: string;
  level: BookLevel;
  count: Decimal;
}

/**
 * An order arriving at the market: it takes liquidity (taker) at each level's own price. A buy of
 * side S lifts S's asks at or below its limit, a sell of S hits S's bids at or above its limit,
 * best price first. good_till_canceled rests the remainder, immediate_or_cancel cancels it,
 * fill_or_kill fills everything or nothing.
 */
export function matchIncoming(book: PaperBook, order: IncomingOrder, options: MatchOptions = {}): MatchResult {
  assertOrder(order);
  const rules = options.rules ?? DEFAULT_TRADING_RULES;
  const consumed = options.consumed ?? new Map<string, Decimal>();
  const takes = book.open ? plan(book, order, consumed) : [];
  const planned = takes.reduce((sum, t) => sum.plus(t.count), ZERO);

  // fill_or_kill: nothing is taken unless everything can be.
  const executes = order.timeInForce !== 'fill_or_kill' || planned.eq(order.count);
  const fills: MatchFill[] = [];
  if (executes) {
    for (const take of takes) {
      consume(consumed, take);
      fills.push({ count: take.count, price: take.level.price, isTaker: true, fee: takerFee(take.count, take.level.price, rules) });
    }
  }
  const filledCount = executes ? planned : ZERO;
  const remainingCount = order.count.minus(filledCount);
  const status: VenueOrderStatus =
    remainingCount.isZero() ? 'executed' : order.timeInForce === 'good_till_canceled' ? 'resting' : 'canceled';
  return { fills, filledCount, remainingCount, status };
}

/**
 * An order already resting: it provides liquidity, so when the market crosses it (buy S: S's best
 * ask ≤ limit; sell S: S's best bid ≥ limit) it fills at ITS OWN limit price, as maker, up to the
 * depth on the crossing levels. One fill per match (same price throughout). What is left keeps
 * resting.
 */
export function matchResting(book: PaperBook, order: MatchOrder, options: MatchOptions = {}): MatchResult {
  assertOrder(order);
  const rules = options.rules ?? DEFAULT_TRADING_RULES;
  const consumed = options.consumed ?? new Map<string, Decimal>();
  const takes = book.open ? plan(book, order, consumed) : [];
  const filledCount = takes.reduce((sum, t) => sum.plus(t.count), ZERO);
  for (const take of takes) consume(consumed, take);
  const fills: MatchFill[] = filledCount.isZero()
    ? []
    : [{ count: filledCount, price: order.limitPrice, isTaker: false, fee: makerFee(filledCount, order.limitPrice, rules) }];
  const remainingCount = order.count.minus(filledCount);
  return { fills, filledCount, remainingCount, status: remainingCount.isZero() ? 'executed' : 'resting' };
}

/** The levels an order can trade against, best first, and how much of each it takes. */
function plan(book: PaperBook, order: MatchOrder, consumed: ConsumedDepth): Take[] {
  const sideBook = book[order.side];
  const buying = order.action === 'buy';
  // A buy lifts asks (cheapest first), a sell hits bids (dearest first); sorted defensively,
  // stable, so a source that lists levels out of order cannot give a worse price first.
  const levels = (buying ? [...sideBook.asks] : [...sideBook.bids])
    .filter((l) => (buying ? l.price.lte(order.limitPrice) : l.price.gte(order.limitPrice)))
    .sort((a, b) => (buying ? a.price.comparedTo(b.price) : b.price.comparedTo(a.price)));
  const takes: Take[] = [];
  let wanted = order.count;
  for (const level of levels) {
    if (wanted.isZero()) break;
    const key = liquidityKey(order.side, buying ? 'ask' : 'bid', level.price);
    const available = level.count === null ? null : Decimal.max(ZERO, level.count.minus(consumed.get(key) ?? ZERO));
    const count = available === null ? wanted : Decimal.min(wanted, available);
    if (count.lte(0)) continue;
    takes.push({ key, level, count });
    wanted = wanted.minus(count);
  }
  return takes;
}

function consume(consumed: ConsumedDepth, take: Take): void {
  consumed.set(take.key, (consumed.get(take.key) ?? ZERO).plus(take.count));
}

/**
 * Names the resting orders behind a level. Kalshi's book holds bids only: a YES ask at p is a NO
 * bid at 1 − p and a NO ask at p a YES bid at 1 − p. Both views of the same orders share one key,
 * so a YES buy and a NO sell in one pass do not both take the same contracts.
 */
export function liquidityKey(side: ContractSide, kind: 'bid' | 'ask', price: Decimal): string {
  if (kind === 'bid') return `${side}-bid@${price.toFixed(4)}`;
  const other: ContractSide = side === 'yes' ? 'no' : 'yes';
  return `${other}-bid@${ONE.minus(price).toFixed(4)}`;
}

function assertOrder(order: MatchOrder): void {
  if (!Decimal.isDecimal(order.count) || !order.count.isFinite() || order.count.lte(0) || order.count.decimalPlaces() > COUNT_DECIMALS) {
    throw new RangeError(`order count must be a positive count with at most ${COUNT_DECIMALS} decimals, got ${String(order.count)}`);
  }
  if (!Decimal.isDecimal(order.limitPrice)) throw new TypeError('limit price must be a Decimal');
}

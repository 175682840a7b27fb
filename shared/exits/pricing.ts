import { DEFAULT_TRADING_RULES, type ExitOrderStyle, type ExitPriority, type TradingRules } from '../config/tradingRules';
import { Decimal } from '../domain/decimal';
import { DEFAULT_PRICE_LEVELS, highestLevel, lowestLevel, quantise, step, type PriceLevels } from '../domain/priceLevels';

/**
 * Exit order prices and price walking (trading-rules.md, "Exit execution and price walking").
 * An exit SELLS contracts of the position's side: the bid is what a taker sale gets, the ask is
 * the seller's own side of the book.
 *
 * Prices move on the market's price levels (`levels`, for prices of the position's side; default
 * 0.01 ticks): "a cent" below means one tick of the market, "0.01" and "0.99" its lowest and
 * highest levels, and every limit is put on a level rounding UP (a sale never asks less than
 * intended). On a 0.01 market this is exactly the cent arithmetic described.
 *
 * First order, by `rules.exitExecution[priority].firstOrder`:
 *   market              immediate_or_cancel at the far side of the book = the best bid
 *                       (0.01 without a bid: an IOC floor that takes whatever bid there is and
 *                       never rests, so it cannot give contracts away)
 *   limit_aggressive    good_till_canceled at the best bid (crossing the spread)
 *   limit_mid           good_till_canceled at (bid + ask) / 2 rounded UP to the cent (the
 *                       seller's better side; never above the ask on a sub-cent book)
 *   limit_conservative  good_till_canceled at the best ask
 *
 * A missing side of the book (fallbacks; resting prices are never guessed from nothing):
 *   aggressive without a bid  → ask − 0.01 (undercut the best offer by a cent; at least 0.01)
 *   mid without an ask        → the bid (sell now at what is bid)
 *   mid without a bid         → ask − 0.01 (as aggressive)
 *   conservative without ask  → bid + 0.01 (become the best offer; at most 0.99)
 *   no bid and no ask         → nothing to price a limit on: when the rule ends in a market order
 *                               (`then` market or repeat_until_filled) a market IOC at 0.01 now,
 *                               else `stop` (stop and alert). A later attempt that has a previous
 *                               limit walks from it and needs no book.
 *
 * Attempts (1-based): attempts 1..limitAttempts are limits; attempt 1 at the first-order price,
 * attempt a ≥ 2 is walk w = a − 1 from the previous limit:
 *   price_w = floor_to_cent(previous − stepUsd × (initialMultiplier + multiplierIncrement × (w − 1)))
 *   never below 0.01. On the market's levels: the walk moves down ceil(stepUsd × multiplier / 0.01)
 *   levels from the previous limit (stepUsd is written for a cent market: 0.01 is one tick), so a
 *   0.001-tick market walks 0.001, 0.002, 0.002… and a tapered market steps by the tick where it
 *   is. With the defaults (0.01; 1.0 + 0.5 per walk) the decrements are 0.01, 0.015,
 *   0.02, 0.025, 0.03, … and rounding down to the cent makes the price fall 0.01, 0.02, 0.02, 0.03,
 *   0.03, … (from a whole-cent price): 0.80 → 0.79 → 0.77 → 0.75 → 0.72 are MEDIUM's five limits
 *   (LOW's ten continue → 0.69 → 0.65 → 0.61 → 0.56 → 0.51). Without a
 *   previous limit (the caller lost it) the walk starts from the first-order price of the current
 *   book.
 * After limitAttempts limits, `then`: market → market IOC from then on; repeat_until_filled →
 * market IOC again; stop_and_alert → `{ kind: 'stop', reason }`. limitAttempts null: no walking,
 * the first order is repeated on every attempt (CRITICAL: market every time).
 *
 * `walk` in a plan is the number of walks made so far: 0 for the first limit (and for a first
 * order that is market), a − 1 for limit attempt a, and limitAttempts − 1 for the market orders
 * that follow the limits. `waitSeconds` is the rule's wait before the next attempt.
 *
 * The HIGH example of the schema document: attempt 1 (bid 0.75) → limit 0.75; attempt 2
 * (previous 0.75) → limit 0.74; attempt 3 → market IOC at the current bid (0.73).
 */

export type ExitOrderPlan =
  | {
      kind: 'order';
      orderType: 'market' | 'limit';
      limitPrice: Decimal;
      timeInForce: 'immediate_or_cancel' | 'good_till_canceled';
      waitSeconds: number;
      walk: number;
    }
  | { kind: 'stop'; reason: string };

/** The tick stepUsd is expressed in: the walk is a number of the market's ticks. */
const CENT = new Decimal('0.01');

/**
 * Attempt `attempt` (1-based) of selling at `priority`. `previousLimit`: the last limit price tried
 * (null before the first limit). `levels`: the price levels of the position's side (default 0.01).
 */
export function planExitAttempt(
  args: {
    priority: ExitPriority; attempt: number; previousLimit: Decimal | null; bid: Decimal | null; ask: Decimal | null;
    levels?: PriceLevels;
  },
  rules: TradingRules = DEFAULT_TRADING_RULES,
): ExitOrderPlan {
  const { priority, attempt, previousLimit, bid, ask } = args;
  const levels = args.levels ?? DEFAULT_PRICE_LEVELS;
  const lowest = lowestLevel(levels) ?? CENT;
  /** A sale's price on a level: rounded up, and at most the highest level. */
  const onLevel = (price: Decimal) => quantise(price, levels, 'up') ?? highestLevel(levels) ?? price;
  const rule = rules.exitExecution[priority];
  if (rule === undefined) throw new RangeError(`unknown exit priority ${JSON.stringify(priority)}`);
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${String(attempt)}`);
  }
  for (const [name, value] of [['previousLimit', previousLimit], ['bid', bid], ['ask', ask]] as const) {
    if (value !== null && (!Decimal.isDecimal(value) || !value.isFinite())) {
      throw new TypeError(`${name} must be a finite Decimal or null`);
    }
  }

  const market = (walk: number): ExitOrderPlan => ({
    kind: 'order',
    orderType: 'market',
    limitPrice: bid === null ? lowest : onLevel(bid),
    timeInForce: 'immediate_or_cancel',
    waitSeconds: rule.waitSeconds,
    walk,
  });
  const limit = (price: Decimal, walk: number): ExitOrderPlan => ({
    kind: 'order',
    orderType: 'limit',
    limitPrice: onLevel(price),
    timeInForce: 'good_till_canceled',
    waitSeconds: rule.waitSeconds,
    walk,
  });
  const endsInMarket = rule.then === 'market' || rule.then === 'repeat_until_filled';
  const emptyBook = (walk: number): ExitOrderPlan =>
    endsInMarket
      ? market(walk)
      : { kind: 'stop', reason: `${priority} exit: no bid and no ask to price a ${rule.firstOrder} order on: stop and alert` };

  if (rule.firstOrder === 'market') return market(0);

  const first = firstLimitPrice(rule.firstOrder, bid, ask, levels);
  if (rule.limitAttempts === null) return first === null ? emptyBook(0) : limit(first, 0);

  if (attempt > rule.limitAttempts) {
    const walks = Math.max(0, rule.limitAttempts - 1);
    if (rule.then === 'stop_and_alert') {
      return {
        kind: 'stop',
        reason: `${priority} exit unfilled after ${rule.limitAttempts} limit attempt${rule.limitAttempts === 1 ? '' : 's'}: stop and alert`,
      };
    }
    return market(walks);
  }

  const walk = attempt - 1;
  if (walk === 0) return first === null ? emptyBook(0) : limit(first, 0);
  const base = previousLimit ?? first;
  if (base === null) return emptyBook(walk);
  const pw = rules.priceWalk;
  const multiplier = pw.initialMultiplier.plus(pw.multiplierIncrement.times(walk - 1));
  const ticks = pw.stepUsd.times(multiplier).div(CENT).ceil().toNumber();
  return limit(step(base, levels, 'down', ticks) ?? lowest, walk);
}

/** The first limit price of a style over the current book, with the fallbacks of the module comment; null on an empty book. */
function firstLimitPrice(
  style: Exclude<ExitOrderStyle, 'market'>, bid: Decimal | null, ask: Decimal | null, levels: PriceLevels,
): Decimal | null {
  const lowest = lowestLevel(levels) ?? CENT;
  const underAsk = ask === null ? null : step(ask, levels, 'down', 1) ?? lowest;
  switch (style) {
    case 'limit_aggressive':
      return bid ?? underAsk;
    case 'limit_mid':
      if (bid !== null && ask !== null) {
        const top = Decimal.max(bid, ask);
        const mid = quantise(bid.plus(ask).dividedBy(2), levels, 'up') ?? top;
        return Decimal.min(mid, top);
      }
      return bid ?? underAsk;
    case 'limit_conservative':
      if (ask !== null) return ask;
      return bid === null ? null : step(bid, levels, 'up', 1) ?? highestLevel(levels) ?? bid;
  }
}

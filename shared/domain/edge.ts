import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import { Decimal } from './decimal';
import { takerFee } from './fees';

/**
 * Edge and expected value of buying one side of a binary market (trading-rules.md, "Edge and
 * expected value").
 *
 * Conventions:
 * - `p` is the true (model) probability that the market resolves YES, in 0..1.
 * - Entries buy at the ask: `yesAsk` is what one YES contract costs, `noAsk` what one NO contract
 *   costs (dollars, 0..1; a contract pays $1 if its side wins).
 * - A side is tradable only with a real ask strictly inside (0, 1): a missing ask, an ask of 0
 *   or below, or an ask of 1 or above (Kalshi's "no offer") makes that side `null`.
 * - edge = probability of the side − price: YES: p − yesAsk; NO: (1 − p) − noAsk (gross).
 * - fee  = Kalshi taker fee of ONE contract at that price, rounded up to the cent
 *   (ceil(0.07 × P × (1 − P)): $0.01 or $0.02 at the defaults). It is conservative for larger
 *   orders, whose fee is rounded once per order.
 * - ev   = edge − fee: expected value per contract, net of the entry fee. It is the figure that
 *   the recommendation thresholds and `edges.expected_value` use; `edges.edge` stores the gross.
 */

export type ContractSide = 'yes' | 'no';

export interface SideEdge {
  side: ContractSide;
  /** The ask paid for one contract of this side. */
  price: Decimal;
  /** Probability that this side wins (p for YES, 1 − p for NO). */
  probability: Decimal;
  /** probability − price (gross of fees). */
  edge: Decimal;
  /** Taker fee of ONE contract at `price`. */
  fee: Decimal;
  /** edge − fee: expected value per contract, net of fees. */
  ev: Decimal;
}

export interface SideEdges {
  yes: SideEdge | null;
  no: SideEdge | null;
}

/** Edge and EV of each side; a side without a real ask is null. */
export function sideEdges(
  p: Decimal,
  yesAsk: Decimal | null | undefined,
  noAsk: Decimal | null | undefined,
  rules: TradingRules = DEFAULT_TRADING_RULES,
): SideEdges {
  assertProbability(p, 'p');
  return {
    yes: sideEdge('yes', p, yesAsk, rules),
    no: sideEdge('no', new Decimal(1).minus(p), noAsk, rules),
  };
}

/**
 * The side with the higher EV, or null when neither side has a real ask. The best side is
 * returned even when its EV is negative: the caller compares it with its thresholds. Ties go to
 * the cheaper side (less capital per contract for the same EV), then to YES.
 */
export function bestSide(
  p: Decimal,
  yesAsk: Decimal | null | undefined,
  noAsk: Decimal | null | undefined,
  rules: TradingRules = DEFAULT_TRADING_RULES,
): SideEdge | null {
  const { yes, no } = sideEdges(p, yesAsk, noAsk, rules);
  if (!yes) return no;
  if (!no) return yes;
  if (!yes.ev.equals(no.ev)) return yes.ev.gt(no.ev) ? yes : no;
  return no.price.lt(yes.price) ? no : yes;
}

/**
 * The market's own probability of YES: the mid of the YES ask and bid when both are real quotes,
 * else the ask; null when there is no real ask. A quote counts only strictly inside (0, 1): 0 and 1
 * are Kalshi's "none" (no bid / no offer). A crossed book (bid above ask) still yields the mid:
 * flagging bad books is the ingestion's job, not the pricing's.
 */
export function marketImpliedProbability(
  yesAsk: Decimal | null | undefined,
  yesBid?: Decimal | null,
): Decimal | null {
  const ask = realQuote(yesAsk, 'yesAsk');
  const bid = realQuote(yesBid, 'yesBid');
  if (ask === null) return null;
  if (bid === null) return ask;
  return ask.plus(bid).dividedBy(2);
}

const ONE_CONTRACT = new Decimal(1);

function sideEdge(
  side: ContractSide,
  probability: Decimal,
  ask: Decimal | null | undefined,
  rules: TradingRules,
): SideEdge | null {
  const price = realQuote(ask, side === 'yes' ? 'yesAsk' : 'noAsk');
  if (price === null) return null;
  const edge = probability.minus(price);
  const fee = takerFee(ONE_CONTRACT, price, rules);
  return { side, price, probability, edge, fee, ev: edge.minus(fee) };
}

/** The quote when it is a real one (strictly inside 0..1), null when missing, ≤ 0 or ≥ 1. */
function realQuote(quote: Decimal | null | undefined, name: string): Decimal | null {
  if (quote === null || quote === undefined) return null;
  if (!Decimal.isDecimal(quote)) throw new TypeError(`${name} must be a Decimal, got ${typeof quote}`);
  if (quote.isNaN()) throw new RangeError(`${name} must be a number, got NaN`);
  return quote.gt(0) && quote.lt(1) ? quote : null;
}

function assertProbability(value: unknown, name: string): asserts value is Decimal {
  if (!Decimal.isDecimal(value)) throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  const d = value as Decimal;
  if (!d.isFinite() || d.lt(0) || d.gt(1)) {
    throw new RangeError(`${name} must be within 0..1, got ${d.toString()}`);
  }
}

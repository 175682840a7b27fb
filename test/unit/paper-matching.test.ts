import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { qty } from '../../shared/domain/quantity';
import {
  liquidityKey, matchIncoming, matchResting,
  type BookLevel, type ConsumedDepth, type IncomingOrder, type MatchOrder, type MatchResult, type PaperBook,
} from '../../shared/exchange/paper/matching';

/** A level: price and depth (null = unknown depth, unlimited). */
const lv = (price: string, count: number | string | null = null): BookLevel => ({ price: dec(price), count: count === null ? null : qty(count) });

function book(parts: { yesAsks?: BookLevel[]; yesBids?: BookLevel[]; noAsks?: BookLevel[]; noBids?: BookLevel[]; open?: boolean }): PaperBook {
  return {
    ticker: 'KXNFLGAME-25NOV27KCDAL-KC',
    yes: { asks: parts.yesAsks ?? [], bids: parts.yesBids ?? [] },
    no: { asks: parts.noAsks ?? [], bids: parts.noBids ?? [] },
    open: parts.open ?? true,
    at: new Date('2026-11-27T22:00:00Z'),
  };
}

type Counted<T> = Omit<T, 'limitPrice' | 'count'> & { limitPrice: string; count: number | string | Decimal };
const countOf = (c: number | string | Decimal) => (Decimal.isDecimal(c) ? (c as Decimal) : qty(c as number | string));
const incoming = (o: Counted<IncomingOrder>): IncomingOrder => ({ ...o, count: countOf(o.count), limitPrice: dec(o.limitPrice) });
const resting = (o: Counted<MatchOrder>): MatchOrder => ({ ...o, count: countOf(o.count), limitPrice: dec(o.limitPrice) });

/** [count, price, fee, isTaker] per fill, exact to 4 decimals. */
type FillRow = [number, string, string, boolean];
const fillRows = (result: MatchResult): FillRow[] =>
  result.fills.map((f) => [f.count.toNumber(), f.price.toFixed(4), f.fee.toFixed(4), f.isTaker]);

interface Expected {
  fills: FillRow[];
  status: MatchResult['status'];
  remaining: number;
}

describe('matchIncoming: an arriving order takes liquidity at each level\'s price, as taker', () => {
  it.each<[string, PaperBook, IncomingOrder, Expected]>([
    [
      'limit buy YES, marketable: fills at the ask, not the limit',
      book({ yesAsks: [lv('0.50', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 10, timeInForce: 'good_till_canceled' }),
      // 0.07 × 10 × 0.5 × 0.5 = 0.175 → 0.18
      { fills: [[10, '0.5000', '0.1800', true]], status: 'executed', remaining: 0 },
    ],
    [
      'limit buy YES, not marketable (ask above limit), GTC: rests',
      book({ yesAsks: [lv('0.60', 100)], yesBids: [lv('0.54', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 10, timeInForce: 'good_till_canceled' }),
      { fills: [], status: 'resting', remaining: 10 },
    ],
    [
      'limit buy YES, not marketable, IOC: cancelled unfilled',
      book({ yesAsks: [lv('0.60', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 10, timeInForce: 'immediate_or_cancel' }),
      { fills: [], status: 'canceled', remaining: 10 },
    ],
    [
      'limit buy YES at exactly the ask: marketable',
      book({ yesAsks: [lv('0.55', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 1, timeInForce: 'good_till_canceled' }),
      // 0.07 × 0.55 × 0.45 = 0.017325 → 0.02
      { fills: [[1, '0.5500', '0.0200', true]], status: 'executed', remaining: 0 },
    ],
    [
      'limit buy YES never trades against YES bids',
      book({ yesBids: [lv('0.58', 100)], noAsks: [lv('0.42', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.60', count: 5, timeInForce: 'good_till_canceled' }),
      { fills: [], status: 'resting', remaining: 5 },
    ],
    [
      'limit buy NO, marketable: takes the NO asks',
      book({ yesAsks: [lv('0.50', 100)], noAsks: [lv('0.45', 50)] }),
      incoming({ side: 'no', action: 'buy', limitPrice: '0.45', count: 20, timeInForce: 'good_till_canceled' }),
      // 0.07 × 20 × 0.45 × 0.55 = 0.3465 → 0.35
      { fills: [[20, '0.4500', '0.3500', true]], status: 'executed', remaining: 0 },
    ],
    [
      'limit buy NO, not marketable: rests',
      book({ noAsks: [lv('0.47', 50)] }),
      incoming({ side: 'no', action: 'buy', limitPrice: '0.45', count: 20, timeInForce: 'good_till_canceled' }),
      { fills: [], status: 'resting', remaining: 20 },
    ],
    [
      'sell YES across two bid levels, best bid first, each at its bid',
      book({ yesBids: [lv('0.48', 100), lv('0.47', 100), lv('0.46', 100)] }),
      incoming({ side: 'yes', action: 'sell', limitPrice: '0.47', count: 150, timeInForce: 'good_till_canceled' }),
      // 0.07 × 100 × 0.48 × 0.52 = 1.7472 → 1.75; 0.07 × 50 × 0.47 × 0.53 = 0.87185 → 0.88
      { fills: [[100, '0.4800', '1.7500', true], [50, '0.4700', '0.8800', true]], status: 'executed', remaining: 0 },
    ],
    [
      'sell YES, not marketable (bid below limit): rests',
      book({ yesBids: [lv('0.48', 100)] }),
      incoming({ side: 'yes', action: 'sell', limitPrice: '0.50', count: 10, timeInForce: 'good_till_canceled' }),
      { fills: [], status: 'resting', remaining: 10 },
    ],
    [
      'sell NO fills at the bid price, above its limit',
      book({ noBids: [lv('0.40', 10)] }),
      incoming({ side: 'no', action: 'sell', limitPrice: '0.35', count: 10, timeInForce: 'immediate_or_cancel' }),
      // 0.07 × 10 × 0.4 × 0.6 = 0.168 → 0.17
      { fills: [[10, '0.4000', '0.1700', true]], status: 'executed', remaining: 0 },
    ],
    [
      'market buy (IOC at 0.99): sweeps the asks, the rest is cancelled',
      book({ yesAsks: [lv('0.52', 5), lv('0.53', 5)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.99', count: 20, timeInForce: 'immediate_or_cancel' }),
      // 0.07 × 5 × 0.52 × 0.48 = 0.08736 → 0.09; 0.07 × 5 × 0.53 × 0.47 = 0.087185 → 0.09
      { fills: [[5, '0.5200', '0.0900', true], [5, '0.5300', '0.0900', true]], status: 'canceled', remaining: 10 },
    ],
    [
      'market sell (IOC at 0.01) into a bid of unknown depth',
      book({ yesBids: [lv('0.30')] }),
      incoming({ side: 'yes', action: 'sell', limitPrice: '0.01', count: 7, timeInForce: 'immediate_or_cancel' }),
      // 0.07 × 7 × 0.3 × 0.7 = 0.1029 → 0.11
      { fills: [[7, '0.3000', '0.1100', true]], status: 'executed', remaining: 0 },
    ],
    [
      'partial fill across several levels, GTC: the rest rests, levels beyond the limit untouched',
      book({ yesAsks: [lv('0.50', 10), lv('0.51', 10), lv('0.52', 10), lv('0.60', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.52', count: 40, timeInForce: 'good_till_canceled' }),
      // 0.175 → 0.18; 0.07 × 10 × 0.51 × 0.49 = 0.17493 → 0.18; 0.07 × 10 × 0.52 × 0.48 = 0.17472 → 0.18
      {
        fills: [[10, '0.5000', '0.1800', true], [10, '0.5100', '0.1800', true], [10, '0.5200', '0.1800', true]],
        status: 'resting', remaining: 10,
      },
    ],
    [
      'depth exhausted, IOC: partial fill, the rest cancelled',
      book({ yesAsks: [lv('0.50', 3)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 5, timeInForce: 'immediate_or_cancel' }),
      // 0.07 × 3 × 0.25 = 0.0525 → 0.06
      { fills: [[3, '0.5000', '0.0600', true]], status: 'canceled', remaining: 2 },
    ],
    [
      'fill_or_kill with enough depth: fills everything',
      book({ yesAsks: [lv('0.50', 5), lv('0.51', 5)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.51', count: 10, timeInForce: 'fill_or_kill' }),
      // 0.0875 → 0.09; 0.07 × 5 × 0.51 × 0.49 = 0.087465 → 0.09
      { fills: [[5, '0.5000', '0.0900', true], [5, '0.5100', '0.0900', true]], status: 'executed', remaining: 0 },
    ],
    [
      'fill_or_kill one contract short: nothing fills',
      book({ yesAsks: [lv('0.50', 5), lv('0.51', 4), lv('0.52', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.51', count: 10, timeInForce: 'fill_or_kill' }),
      { fills: [], status: 'canceled', remaining: 10 },
    ],
    [
      'fill_or_kill sell with enough bids',
      book({ noBids: [lv('0.40', 6), lv('0.39', 6)] }),
      incoming({ side: 'no', action: 'sell', limitPrice: '0.39', count: 12, timeInForce: 'fill_or_kill' }),
      // 0.07 × 6 × 0.24 = 0.1008 → 0.11; 0.07 × 6 × 0.39 × 0.61 = 0.099918 → 0.10
      { fills: [[6, '0.4000', '0.1100', true], [6, '0.3900', '0.1000', true]], status: 'executed', remaining: 0 },
    ],
    [
      'unknown depth is unlimited: 1000 contracts at one level',
      book({ yesAsks: [lv('0.50')] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 1000, timeInForce: 'good_till_canceled' }),
      // 0.07 × 1000 × 0.25 = 17.5
      { fills: [[1000, '0.5000', '17.5000', true]], status: 'executed', remaining: 0 },
    ],
    [
      'fee: 100 contracts at 0.50 as taker = 1.75 exactly',
      book({ yesAsks: [lv('0.50', 100)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 100, timeInForce: 'fill_or_kill' }),
      { fills: [[100, '0.5000', '1.7500', true]], status: 'executed', remaining: 0 },
    ],
    [
      'fee: 1 contract at 0.01 as taker is ceiled to 0.01',
      book({ noAsks: [lv('0.01', 1)] }),
      incoming({ side: 'no', action: 'buy', limitPrice: '0.01', count: 1, timeInForce: 'immediate_or_cancel' }),
      // 0.07 × 0.01 × 0.99 = 0.000693 → 0.01
      { fills: [[1, '0.0100', '0.0100', true]], status: 'executed', remaining: 0 },
    ],
    [
      'levels listed out of order are still taken best price first',
      book({ yesAsks: [lv('0.53', 5), lv('0.51', 5)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.53', count: 6, timeInForce: 'good_till_canceled' }),
      // 0.07 × 5 × 0.51 × 0.49 = 0.087465 → 0.09; 0.07 × 0.53 × 0.47 = 0.017437 → 0.02
      { fills: [[5, '0.5100', '0.0900', true], [1, '0.5300', '0.0200', true]], status: 'executed', remaining: 0 },
    ],
    [
      'a level with zero depth is skipped',
      book({ yesAsks: [lv('0.50', 0), lv('0.52', 2)] }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 2, timeInForce: 'good_till_canceled' }),
      // 0.07 × 2 × 0.52 × 0.48 = 0.034944 → 0.04
      { fills: [[2, '0.5200', '0.0400', true]], status: 'executed', remaining: 0 },
    ],
    [
      'closed market, IOC: nothing fills',
      book({ yesAsks: [lv('0.50')], open: false }),
      incoming({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 5, timeInForce: 'immediate_or_cancel' }),
      { fills: [], status: 'canceled', remaining: 5 },
    ],
  ])('%s', (_name, theBook, order, expected) => {
    const result = matchIncoming(theBook, order);
    expect(fillRows(result)).toEqual(expected.fills);
    expect(result.status).toBe(expected.status);
    expect(result.remainingCount.toNumber()).toBe(expected.remaining);
    expect(result.filledCount.plus(result.remainingCount).eq(order.count)).toBe(true);
  });
});

describe('matchResting: a resting order fills at its own limit, as maker, when the market crosses it', () => {
  it.each<[string, PaperBook, MatchOrder, Expected]>([
    [
      'buy YES: the ask fell below the limit, fills at the limit (not the ask)',
      book({ yesAsks: [lv('0.54', 100)] }),
      resting({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 10 }),
      // 0.0175 × 10 × 0.55 × 0.45 = 0.0433125 → 0.05
      { fills: [[10, '0.5500', '0.0500', false]], status: 'executed', remaining: 0 },
    ],
    [
      'buy YES: the ask equals the limit, crosses',
      book({ yesAsks: [lv('0.55', 100)] }),
      resting({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 1 }),
      // 0.0175 × 0.2475 = 0.00433 → 0.01
      { fills: [[1, '0.5500', '0.0100', false]], status: 'executed', remaining: 0 },
    ],
    [
      'buy YES: the ask is above the limit, keeps resting',
      book({ yesAsks: [lv('0.56', 100)], yesBids: [lv('0.55', 100)] }),
      resting({ side: 'yes', action: 'buy', limitPrice: '0.55', count: 10 }),
      { fills: [], status: 'resting', remaining: 10 },
    ],
    [
      'sell YES: fills up to the depth of the bids at or above the limit, one fill at the limit',
      book({ yesBids: [lv('0.62', 5), lv('0.60', 5), lv('0.59', 100)] }),
      resting({ side: 'yes', action: 'sell', limitPrice: '0.60', count: 20 }),
      // 0.0175 × 10 × 0.6 × 0.4 = 0.042 → 0.05
      { fills: [[10, '0.6000', '0.0500', false]], status: 'resting', remaining: 10 },
    ],
    [
      'sell NO: bids below the limit do not cross',
      book({ noBids: [lv('0.39', 100)] }),
      resting({ side: 'no', action: 'sell', limitPrice: '0.40', count: 20 }),
      { fills: [], status: 'resting', remaining: 20 },
    ],
    [
      'buy NO at unknown depth: fills everything',
      book({ noAsks: [lv('0.40')] }),
      resting({ side: 'no', action: 'buy', limitPrice: '0.40', count: 100 }),
      // 0.0175 × 100 × 0.4 × 0.6 = 0.42
      { fills: [[100, '0.4000', '0.4200', false]], status: 'executed', remaining: 0 },
    ],
    [
      'maker rate 0.0175: 100 contracts at 0.50 = 0.4375 → 0.44',
      book({ yesAsks: [lv('0.49', 100)] }),
      resting({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 100 }),
      { fills: [[100, '0.5000', '0.4400', false]], status: 'executed', remaining: 0 },
    ],
    [
      'closed market: nothing fills',
      book({ yesAsks: [lv('0.40')], open: false }),
      resting({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 10 }),
      { fills: [], status: 'resting', remaining: 10 },
    ],
  ])('%s', (_name, theBook, order, expected) => {
    const result = matchResting(theBook, order);
    expect(fillRows(result)).toEqual(expected.fills);
    expect(result.status).toBe(expected.status);
    expect(result.remainingCount.toNumber()).toBe(expected.remaining);
  });
});

describe('depth consumed in one pass', () => {
  it('is not offered to the next order matched against the same snapshot', () => {
    const theBook = book({ yesAsks: [lv('0.50', 10), lv('0.51', 10)] });
    const consumed: ConsumedDepth = new Map();
    const first = matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.51', count: 15, timeInForce: 'immediate_or_cancel' }), { consumed });
    const second = matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.51', count: 15, timeInForce: 'immediate_or_cancel' }), { consumed });
    expect(fillRows(first).map(([n, p]) => [n, p])).toEqual([[10, '0.5000'], [5, '0.5100']]);
    expect(fillRows(second).map(([n, p]) => [n, p])).toEqual([[5, '0.5100']]);
    expect(second.status).toBe('canceled');
    // Without the shared map, the same snapshot offers its full depth again.
    expect(matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.51', count: 15, timeInForce: 'immediate_or_cancel' })).filledCount.toNumber()).toBe(15);
  });

  it('is shared by a YES ask and the NO bid it is (Kalshi lists bids only)', () => {
    const theBook = book({ yesAsks: [lv('0.60', 10)], noBids: [lv('0.40', 10)] });
    const consumed: ConsumedDepth = new Map();
    matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.60', count: 7, timeInForce: 'immediate_or_cancel' }), { consumed });
    const sellNo = matchIncoming(theBook, incoming({ side: 'no', action: 'sell', limitPrice: '0.40', count: 7, timeInForce: 'immediate_or_cancel' }), { consumed });
    expect(sellNo.filledCount.toNumber()).toBe(3);
    expect(liquidityKey('yes', 'ask', dec('0.60'))).toBe(liquidityKey('no', 'bid', dec('0.4')));
    expect(liquidityKey('no', 'ask', dec('0.45'))).toBe(liquidityKey('yes', 'bid', dec('0.55')));
  });

  it('is left untouched by a fill_or_kill that does not fill', () => {
    const theBook = book({ yesAsks: [lv('0.50', 5)] });
    const consumed: ConsumedDepth = new Map();
    matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 6, timeInForce: 'fill_or_kill' }), { consumed });
    expect([...consumed.values()]).toEqual([]);
    expect(matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 5, timeInForce: 'fill_or_kill' }), { consumed }).filledCount.toNumber()).toBe(5);
  });

  it('counts resting fills too: a resting order and a new one share the levels', () => {
    const theBook = book({ yesAsks: [lv('0.50', 8)] });
    const consumed: ConsumedDepth = new Map();
    const maker = matchResting(theBook, resting({ side: 'yes', action: 'buy', limitPrice: '0.52', count: 5 }), { consumed });
    const taker = matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.50', count: 5, timeInForce: 'good_till_canceled' }), { consumed });
    expect(maker.filledCount.toNumber()).toBe(5);
    expect(taker.filledCount.toNumber()).toBe(3);
    expect(taker.status).toBe('resting');
  });
});

describe('inputs', () => {
  it('uses the given fee rates', () => {
    const rules: TradingRules = { ...DEFAULT_TRADING_RULES, fees: { takerRate: dec('0.1'), makerRate: dec('0.02') } };
    const theBook = book({ yesAsks: [lv('0.50', 100)] });
    // 0.1 × 100 × 0.25 = 2.5; 0.02 × 100 × 0.25 = 0.5
    expect(matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.5', count: 100, timeInForce: 'fill_or_kill' }), { rules }).fills[0]!.fee.toFixed(4)).toBe('2.5000');
    expect(matchResting(theBook, resting({ side: 'yes', action: 'buy', limitPrice: '0.5', count: 100 }), { rules }).fills[0]!.fee.toFixed(4)).toBe('0.5000');
  });

  it.each([dec('0'), dec('-1'), dec('1.005'), new Decimal(Number.NaN)])('refuses a count of %s', (count) => {
    const theBook = book({ yesAsks: [lv('0.50')] });
    expect(() => matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.5', count, timeInForce: 'fill_or_kill' }))).toThrow(RangeError);
    expect(() => matchResting(theBook, resting({ side: 'yes', action: 'buy', limitPrice: '0.5', count }))).toThrow(RangeError);
  });

  it('does not modify the book', () => {
    const theBook = book({ yesAsks: [lv('0.50', 5)] });
    const copy = JSON.stringify(theBook);
    matchIncoming(theBook, incoming({ side: 'yes', action: 'buy', limitPrice: '0.5', count: 5, timeInForce: 'fill_or_kill' }));
    expect(JSON.stringify(theBook)).toBe(copy);
  });
});

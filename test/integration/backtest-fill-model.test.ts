import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { Decimal, dec } from '../../shared/domain/decimal';
import { makerFee, takerFee } from '../../shared/domain/fees';
import { qty } from '../../shared/domain/quantity';
import { IngestedBookSource } from '../../shared/exchange/paper/bookSources';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { PlaceOrderRequest } from '../../shared/exchange/types';
import { toMarketSnapshot } from '../../shared/ingestion/kalshiHierarchy';
import { kalshiMarket } from '../../shared/venues/kalshi/schemas';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';

/**
 * The backtest's fill model (backtest/fillModel.ts) on the paper exchange over the replayed top of
 * book: fills capped by the displayed size recorded with each market version and consuming it,
 * resting orders filled by a later snapshot, the latency between decision and arrival, Kalshi's fees.
 */

const db = useTestDatabase();
const KC = 'KXNFLGAME-25NOV27KCDAL-KC';
const T0 = new Date('2026-11-27T22:00:00Z');
const clock = new ManualClock(T0.getTime());
let restoreClock: () => void;

/** A new market version (the replay's tape player writes them the same way: the versioned upsert, stamped by the clock). */
async function snapshot(q: { yesAsk: string; yesBid: string; askSize: string | null; bidSize: string | null }) {
  clock.advance(60_000);
  await seedMarkets(db().pool, [marketSnapshot(KC, q.yesAsk, {
    yesBid: dec(q.yesBid), noBid: dec('1').minus(dec(q.yesAsk)), noPrice: dec('1').minus(dec(q.yesBid)),
    yesAskSize: q.askSize === null ? null : dec(q.askSize), yesBidSize: q.bidSize === null ? null : dec(q.bidSize),
  })]);
}

let accounts = 0;
function venue(options: { depth?: 'recorded' | null; latencyMs?: number; sleep?: (ms: number) => Promise<void> } = {}) {
  return new PaperExchange(db().pool, {
    books: new IngestedBookSource(db().pool, { depth: options.depth === undefined ? 'recorded' : options.depth }),
    startingBalance: dec('1000'), accountId: `fill-${++accounts}`, latencyMs: options.latencyMs, sleep: options.sleep,
  });
}

let orders = 0;
const order = (o: Partial<PlaceOrderRequest>): PlaceOrderRequest => ({
  ticker: KC, clientOrderId: `fill-order-${++orders}`, side: 'yes', action: 'buy', count: qty(1), type: 'limit', limitPrice: dec('0.55'),
  timeInForce: 'immediate_or_cancel', ...o,
});

beforeAll(async () => {
  restoreClock = useClock(clock);
  await seedHierarchy(db().pool);
});
afterAll(() => restoreClock());

describe('the backtest fill model over recorded top-of-book sizes', () => {
  it('a buy is capped by the displayed ask size and consumes it; the next snapshot offers its own size again', async () => {
    await snapshot({ yesAsk: '0.55', yesBid: '0.53', askSize: '10.00', bidSize: '4.00' });
    const exchange = venue();
    const first = await exchange.placeOrder(order({ count: qty(15) }));
    expect(first).toMatchObject({ status: 'canceled', filledCount: 10 });
    const [fill] = await exchange.getFills({ ticker: KC });
    expect(fill).toMatchObject({ count: 10, price: dec('0.55'), isTaker: true });
    expect(fill!.fee.toFixed(4)).toBe(takerFee(qty(10), dec('0.55')).toFixed(4));
    // The same snapshot: what was taken is gone, for any order of this venue.
    expect(await exchange.placeOrder(order({ count: qty(5) }))).toMatchObject({ status: 'canceled', filledCount: 0 });
    await snapshot({ yesAsk: '0.55', yesBid: '0.53', askSize: '12.00', bidSize: '4.00' });
    expect(await exchange.placeOrder(order({ count: qty(5) }))).toMatchObject({ status: 'executed', filledCount: 5 });
  });

  it('an unchanged quote seen again by the next ingestion is a new snapshot: its size is offered again', async () => {
    await snapshot({ yesAsk: '0.61', yesBid: '0.53', askSize: '10.00', bidSize: '4.00' });
    const exchange = venue();
    expect(await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.61') }))).toMatchObject({ filledCount: 10 });
    expect(await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.61') }))).toMatchObject({ filledCount: 0 });
    // A minute later ingestion reads the same quote: no new version (nothing changed), a health row.
    clock.advance(60_000);
    await db().pool.query(`INSERT INTO system_health (component, status) VALUES ('ingest-markets', 'healthy')`);
    expect(await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.61') }))).toMatchObject({ filledCount: 10 });
  });

  it('a NO buy takes the YES bid\'s size (one book seen from both sides); a resting order fills as maker when a later snapshot crosses it, up to that snapshot\'s size', async () => {
    await snapshot({ yesAsk: '0.56', yesBid: '0.53', askSize: '50.00', bidSize: '4.00' });
    const exchange = venue();
    // NO ask = 1 − YES bid = 0.47, as deep as the YES bid.
    const placed = await exchange.placeOrder(order({ side: 'no', count: qty(6), limitPrice: dec('0.47'), timeInForce: 'good_till_canceled' }));
    expect(placed).toMatchObject({ status: 'resting', filledCount: 4 });
    // The YES bid moves to 0.54 (NO ask 0.46, under the resting limit) with one contract shown.
    await snapshot({ yesAsk: '0.56', yesBid: '0.54', askSize: '50.00', bidSize: '1.00' });
    expect(await exchange.getOrder(placed.venueOrderId)).toMatchObject({ status: 'resting', filledCount: 5 });
    const fills = await exchange.getFills({ ticker: KC });
    const maker = fills.find((f) => !f.isTaker)!;
    expect(maker).toMatchObject({ count: 1, price: dec('0.47') });
    expect(maker.fee.toFixed(4)).toBe(makerFee(qty(1), dec('0.47')).toFixed(4));
  });

  it('displayed size "unlimited" ignores the sizes; a version recorded without sizes is unlimited', async () => {
    await snapshot({ yesAsk: '0.57', yesBid: '0.53', askSize: '3.00', bidSize: '3.00' });
    expect(await venue({ depth: null }).placeOrder(order({ count: qty(40), limitPrice: dec('0.57') }))).toMatchObject({ filledCount: 40 });
    await snapshot({ yesAsk: '0.58', yesBid: '0.53', askSize: null, bidSize: null });
    expect(await venue().placeOrder(order({ count: qty(40), limitPrice: dec('0.58') }))).toMatchObject({ filledCount: 40 });
  });

  it('latency: the order meets the book as recorded when it ARRIVES, not when it was decided', async () => {
    await snapshot({ yesAsk: '0.55', yesBid: '0.53', askSize: '10.00', bidSize: '10.00' });
    // While the order travels (30 s), the market moves away: a new version at 0.60.
    const travelling = async (ms: number) => {
      expect(ms).toBe(30_000);
      await snapshot({ yesAsk: '0.60', yesBid: '0.58', askSize: '10.00', bidSize: '10.00' });
    };
    const late = await venue({ latencyMs: 30_000, sleep: travelling }).placeOrder(order({ count: qty(5), limitPrice: dec('0.55') }));
    expect(late).toMatchObject({ status: 'canceled', filledCount: 0 });
    // Without latency the same order fills against the book of its decision.
    await snapshot({ yesAsk: '0.55', yesBid: '0.53', askSize: '10.00', bidSize: '10.00' });
    expect(await venue().placeOrder(order({ count: qty(5), limitPrice: dec('0.55') }))).toMatchObject({ filledCount: 5 });
    expect(() => venue({ latencyMs: -1 })).toThrow('latencyMs must be a non-negative integer, got -1');
  });
});

describe('ingestion records the displayed sizes', () => {
  const payload = {
    ticker: KC, event_ticker: 'KXNFLGAME-25NOV27KCDAL', status: 'active', yes_bid_dollars: '0.5300', yes_ask_dollars: '0.5500',
    yes_bid_size_fp: '12.50', yes_ask_size_fp: '300.00',
  };
  it('parses yes_bid_size_fp / yes_ask_size_fp exactly (fractional counts) onto the market snapshot', () => {
    const market = kalshiMarket.parse(payload);
    const snap = toMarketSnapshot(market);
    expect('reject' in snap).toBe(false);
    expect((snap as { yesBidSize: Decimal }).yesBidSize.toFixed(2)).toBe('12.50');
    expect((snap as { yesAskSize: Decimal }).yesAskSize.toFixed(2)).toBe('300.00');
  });
  it('a malformed size rejects the record naming the field', () => {
    const parsed = kalshiMarket.safeParse({ ...payload, yes_ask_size_fp: '-3' });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['yes_ask_size_fp']);
  });
});

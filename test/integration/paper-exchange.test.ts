import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, dec } from '../../shared/domain/decimal';
import { makerFee, takerFee } from '../../shared/domain/fees';
import { IngestedBookSource, KalshiOrderbookBookSource, StaticBookSource } from '../../shared/exchange/paper/bookSources';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { PaperExchange, PaperOrderNotFoundError } from '../../shared/exchange/paper/paperExchange';
import { OrderRejectedError, type PlaceOrderRequest, type VenueFill } from '../../shared/exchange/types';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { useTestDatabase } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/httpServer';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';
import { qty } from '../../shared/domain/quantity';

const db = useTestDatabase();

const KC = 'KXNFLGAME-25NOV27KCDAL-KC';
const DAL = 'KXNFLGAME-25NOV27KCDAL-DAL';
const T0 = new Date('2026-11-27T22:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** The venue's clock, moved by the tests. */
let clock = T0;
const now = () => clock;

/**
 * A consistent Kalshi book: YES bid b and ask a, and the NO side they imply (NO bid = 1 − a,
 * NO ask = 1 − b), every level `depth` deep (null = unlimited).
 */
function kalshiBook(ticker: string, when: Date, q: { yesBid?: string; yesAsk?: string; depth?: number | null; open?: boolean }): PaperBook {
  const depth = q.depth === undefined ? null : q.depth;
  const level = (price: string | undefined) => (price === undefined ? [] : [{ price: dec(price), count: depth === null ? null : qty(depth) }]);
  const complement = (price: string | undefined) => (price === undefined ? undefined : dec('1').minus(dec(price)).toFixed(4));
  return {
    ticker,
    at: when,
    open: q.open ?? true,
    yes: { bids: level(q.yesBid), asks: level(q.yesAsk) },
    no: { bids: level(complement(q.yesAsk)), asks: level(complement(q.yesBid)) },
  };
}

let accounts = 0;
/** A fresh account per test, on its own static books. */
function paper(books: PaperBook[], startingBalance = '1000') {
  clock = T0;
  const source = new StaticBookSource(books);
  const accountId = `acct-${++accounts}`;
  const exchange = new PaperExchange(db().pool, { books: source, startingBalance: dec(startingBalance), accountId, now });
  return { exchange, source, accountId };
}

let orders = 0;
function order(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    ticker: KC, clientOrderId: `client-${++orders}`, side: 'yes', action: 'buy', count: qty(10), type: 'limit',
    limitPrice: dec('0.55'), ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<OrderRejectedError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OrderRejectedError);
  return error as OrderRejectedError;
}

async function rowCount(table: string, accountId: string): Promise<number> {
  const { rows } = await db().pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE account_id = $1`, [accountId]);
  return rows[0].n;
}

const money = (d: Decimal) => d.toFixed(4);

/** starting − Σ buys (n × price + fee) + Σ sells (n × price − fee) + $1 per netted pair. */
function balanceFromFills(starting: string, fills: VenueFill[], nettedPairs = 0): Decimal {
  return fills.reduce((balance, f) => {
    const gross = f.price.times(f.count);
    return f.action === 'buy' ? balance.minus(gross).minus(f.fee) : balance.plus(gross).minus(f.fee);
  }, dec(starting)).plus(nettedPairs);
}

describe('placing orders', () => {
  it('fills a marketable limit buy at the ask as taker: order, fill, balance and position', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesBid: '0.48', yesAsk: '0.50', depth: 100 })]);
    const placed = await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.55') }));
    expect(placed).toMatchObject({
      ticker: KC, side: 'yes', action: 'buy', type: 'limit', status: 'executed', initialCount: 10, filledCount: 10, remainingCount: 0,
    });
    expect(placed.venueOrderId).toMatch(/^paper-\d+$/);
    expect(money(placed.limitPrice)).toBe('0.5500');
    // 0.07 × 10 × 0.5 × 0.5 = 0.175 → 0.18
    expect(money(placed.takerFees)).toBe('0.1800');
    expect(money(placed.takerFillCost)).toBe('5.0000');
    expect(money(placed.makerFees)).toBe('0.0000');
    expect(placed.createdAt).toEqual(T0);

    const fills = await exchange.getFills({ venueOrderId: placed.venueOrderId });
    expect(fills.map((f) => [f.count, money(f.price), f.isTaker, money(f.fee)])).toEqual([[10, '0.5000', true, '0.1800']]);
    expect(fills[0]!.fillId).toMatch(/^paper-fill-\d+$/);
    expect(money(await exchange.getBalance())).toBe('994.8200');
    const positions = await exchange.getPositions();
    expect(positions.map((p) => [p.ticker, p.position, money(p.exposure), money(p.realizedPnl), money(p.feesPaid)]))
      .toEqual([[KC, 10, '5.0000', '0.0000', '0.1800']]);
    expect(await exchange.getOrder(placed.venueOrderId)).toEqual(placed);
  });

  it('buying NO from flat gives a negative position', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesBid: '0.55', yesAsk: '0.57' })]);
    const placed = await exchange.placeOrder(order({ side: 'no', count: qty(3), limitPrice: dec('0.45') }));
    expect(placed.status).toBe('executed');
    const [position] = await exchange.getPositions();
    expect(position).toMatchObject({ ticker: KC, position: -3 });
    expect(money(position!.exposure)).toBe('1.3500');
  });

  it('is idempotent on client order id: the same id again returns the existing order unchanged', async () => {
    const { exchange, accountId } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 100 })]);
    const request = order({ count: qty(10) });
    const first = await exchange.placeOrder(request);
    // Even a request that differs (and a market that moved) gets the existing order back.
    clock = at(1);
    const again = await exchange.placeOrder({ ...request, count: qty(50), limitPrice: dec('0.60') });
    expect(again).toEqual(first);
    expect(await rowCount('paper_orders', accountId)).toBe(1);
    expect(await rowCount('paper_fills', accountId)).toBe(1);
    expect(money(await exchange.getBalance())).toBe('994.8200');
  });

  it('places one order and one set of fills for 5 concurrent placements of one client order id', async () => {
    const { exchange, accountId } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 6 }), kalshiBook(DAL, T0, { yesAsk: '0.40' })]);
    // A resting order on another market makes every placement bring resting orders up to date too.
    await exchange.placeOrder(order({ ticker: DAL, count: qty(1), limitPrice: dec('0.30') }));
    const request = order({ count: qty(10), limitPrice: dec('0.50') });
    const results = await Promise.all(Array.from({ length: 5 }, () => exchange.placeOrder(request)));
    expect(new Set(results.map((r) => r.venueOrderId)).size).toBe(1);
    expect(results.every((r) => r.filledCount.eq(6) && r.status === 'resting')).toBe(true);
    const { rows } = await db().pool.query(
      `SELECT count(*)::int AS n FROM paper_orders WHERE account_id = $1 AND client_order_id = $2`, [accountId, request.clientOrderId],
    );
    expect(rows[0].n).toBe(1);
    expect((await exchange.getFills({ venueOrderId: results[0]!.venueOrderId })).map((f) => f.count.toNumber())).toEqual([6]);
    // 6 × 0.50 + ceil(0.07 × 6 × 0.25 = 0.105) = 3.11
    expect(money(await exchange.getBalance())).toBe('996.8900');
  });

  it('shares a snapshot\'s depth among concurrent orders: none takes contracts another took', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 10 })]);
    const results = await Promise.all(Array.from({ length: 5 }, () =>
      exchange.placeOrder(order({ count: qty(3), limitPrice: dec('0.50'), timeInForce: 'immediate_or_cancel' }))));
    expect(results.reduce((sum, r) => sum.plus(r.filledCount), dec('0')).toNumber()).toBe(10);
    expect(results.every((r) => r.status === 'executed' || r.status === 'canceled')).toBe(true);
  });

  it('fills an IOC order partially and cancels the rest, keeping the fills', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 3 })]);
    const placed = await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.55'), timeInForce: 'immediate_or_cancel' }));
    expect(placed).toMatchObject({ status: 'canceled', filledCount: 3, remainingCount: 0 });
    expect((await exchange.getFills({ venueOrderId: placed.venueOrderId })).map((f) => f.count)).toEqual([3]);
    expect((await exchange.getPositions())[0]!.position).toEqual(3);
  });

  it('places market orders as immediate-or-cancel at 0.99 (buy) / 0.01 (sell) by default', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesBid: '0.60', yesAsk: '0.62', depth: 4 })]);
    const buy = await exchange.placeOrder(order({ type: 'market', limitPrice: undefined, count: qty(6) }));
    expect(money(buy.limitPrice)).toBe('0.9900');
    expect(buy).toMatchObject({ type: 'market', status: 'canceled', filledCount: 4 });
    const sell = await exchange.placeOrder(order({ type: 'market', action: 'sell', limitPrice: undefined, count: qty(2) }));
    expect(money(sell.limitPrice)).toBe('0.0100');
    expect(sell).toMatchObject({ status: 'executed', filledCount: 2 });
    expect(money(sell.takerFillCost)).toBe('1.2000');
  });

  it('fill_or_kill fills all or nothing', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 5 })]);
    const killed = await exchange.placeOrder(order({ count: qty(6), limitPrice: dec('0.50'), timeInForce: 'fill_or_kill' }));
    expect(killed).toMatchObject({ status: 'canceled', filledCount: 0 });
    const filled = await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.50'), timeInForce: 'fill_or_kill' }));
    expect(filled).toMatchObject({ status: 'executed', filledCount: 5 });
    expect(money(await exchange.getBalance())).toBe(money(dec('1000').minus('2.50').minus(takerFee(qty(5), dec('0.5')))));
  });

  it('rejects a closed market and an unknown one, writing nothing', async () => {
    const { exchange, accountId } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', open: false })]);
    const closed = await rejection(exchange.placeOrder(order()));
    expect(closed.code).toBe('market_closed');
    expect((await rejection(exchange.placeOrder(order({ ticker: 'NOPE' })))).code).toBe('market_closed');
    expect(await rowCount('paper_orders', accountId)).toBe(0);
  });

  it.each<[string, Partial<PlaceOrderRequest>, RegExp]>([
    ['count 0', { count: qty(0) }, /count must be a positive number of contracts/],
    ['count 1.005', { count: dec('1.005') }, /count must be a positive number of contracts with at most 2 decimals/],
    ['price 0', { limitPrice: dec('0') }, /strictly between 0 and 1/],
    ['price 1', { limitPrice: dec('1') }, /strictly between 0 and 1/],
    ['price with 5 decimals', { limitPrice: dec('0.12345') }, /more than 4 decimals/],
    ['limit without price', { limitPrice: undefined }, /limit order needs a limitPrice/],
    ['price as a JS number', { limitPrice: 0.5 as unknown as Decimal }, /must be a Decimal/],
    ['a resting market order', { type: 'market', timeInForce: 'good_till_canceled' }, /market order cannot rest/],
    ['expiry on an IOC order', { timeInForce: 'immediate_or_cancel', expiresAt: at(5) }, /good_till_canceled orders only/],
    ['expiry in the past', { expiresAt: at(-1) }, /not in the future/],
  ])('rejects an invalid request (%s) with a clear message', async (_name, overrides, message) => {
    const { exchange, accountId } = paper([kalshiBook(KC, T0, { yesAsk: '0.50' })]);
    const error = await rejection(exchange.placeOrder(order(overrides)));
    expect(error.code).toBe('invalid_order');
    expect(error.message).toMatch(message);
    expect(await rowCount('paper_orders', accountId)).toBe(0);
  });

  it('rejects a buy whose worst-case cost exceeds the balance, and accepts one that fits', async () => {
    const { exchange, accountId } = paper([kalshiBook(KC, T0, { yesAsk: '0.50' })], '10');
    // 20 × 0.50 + 0.35 > 10
    const refused = await rejection(exchange.placeOrder(order({ count: qty(20), limitPrice: dec('0.50') })));
    expect(refused.code).toBe('insufficient_balance');
    expect(await rowCount('paper_orders', accountId)).toBe(0);
    // 19 × 0.50 + ceil(0.3325) = 9.84 ≤ 10
    const fits = await exchange.placeOrder(order({ count: qty(19), limitPrice: dec('0.50') }));
    expect(fits.status).toBe('executed');
    expect(money(await exchange.getBalance())).toBe('0.1600');
  });

  it('rejects sells of contracts not held', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesBid: '0.48', yesAsk: '0.50' })]);
    expect((await rejection(exchange.placeOrder(order({ action: 'sell', count: qty(1), limitPrice: dec('0.40') })))).code).toBe('insufficient_position');
    await exchange.placeOrder(order({ side: 'no', count: qty(5), limitPrice: dec('0.52') }));
    // Holding NO: YES cannot be sold, nor more NO than held.
    expect((await rejection(exchange.placeOrder(order({ action: 'sell', count: qty(1), limitPrice: dec('0.40') })))).code).toBe('insufficient_position');
    expect((await rejection(exchange.placeOrder(order({ side: 'no', action: 'sell', count: qty(6), limitPrice: dec('0.40') })))).code).toBe('insufficient_position');
    const sold = await exchange.placeOrder(order({ side: 'no', action: 'sell', count: qty(5), limitPrice: dec('0.40') }));
    expect(sold).toMatchObject({ status: 'executed', filledCount: 5 });
    expect(await exchange.getPositions()).toEqual([]);
  });
});

describe('positions and cash', () => {
  it('removes the cost of contracts sold pro rata and keeps totals exact', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesBid: '0.48', yesAsk: '0.50' })]);
    await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.50') }));
    source.set(kalshiBook(KC, at(1), { yesBid: '0.58', yesAsk: '0.60' }));
    await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.60') }));
    let [position] = await exchange.getPositions();
    expect([position!.position, money(position!.exposure)]).toEqual([15, '8.0000']);

    source.set(kalshiBook(KC, at(2), { yesBid: '0.70', yesAsk: '0.72' }));
    await exchange.placeOrder(order({ action: 'sell', count: qty(4), limitPrice: dec('0.70') }));
    [position] = await exchange.getPositions();
    // 8 × 4/15 = 2.1333…, removed as 2.1333; realized 2.80 − 2.1333
    expect([position!.position, money(position!.exposure), money(position!.realizedPnl)]).toEqual([11, '5.8667', '0.6667']);

    await exchange.placeOrder(order({ action: 'sell', count: qty(11), limitPrice: dec('0.70') }));
    expect(await exchange.getPositions()).toEqual([]);
    const { rows } = await db().pool.query('SELECT * FROM paper_positions WHERE ticker = $1 AND account_id = $2', [KC, `acct-${accounts}`]);
    // All of it sold: realized = 15 × 0.70 − 8.00 exactly, nothing left in the cost basis.
    expect([rows[0].position, money(rows[0].cost_basis), money(rows[0].realized_pnl)]).toEqual([0, '0.0000', '2.5000']);
    const fills = await exchange.getFills({ ticker: KC });
    expect(money(rows[0].fees_paid)).toBe(money(fills.reduce((s, f) => s.plus(f.fee), dec('0'))));
    expect(money(rows[0].total_traded)).toBe(money(fills.reduce((s, f) => s.plus(f.price.times(f.count)), dec('0'))));
    expect(money(await exchange.getBalance())).toBe(money(balanceFromFills('1000', fills)));
  });

  it('nets a buy of the opposite side like Kalshi: each YES+NO pair pays $1 back at once', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesBid: '0.48', yesAsk: '0.50' })]);
    await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.50') }));
    // NO ask = 1 − YES bid = 0.45.
    source.set(kalshiBook(KC, at(1), { yesBid: '0.55', yesAsk: '0.57' }));
    await exchange.placeOrder(order({ side: 'no', count: qty(4), limitPrice: dec('0.45') }));
    let [position] = await exchange.getPositions();
    // 4 YES closed as if sold at 1 − 0.45: realized 4 × 0.55 − 4 × 0.50
    expect([position!.position, money(position!.exposure), money(position!.realizedPnl)]).toEqual([6, '3.0000', '0.2000']);

    // 6 pairs close the rest of the YES, 4 NO remain, bought at 0.45.
    await exchange.placeOrder(order({ side: 'no', count: qty(10), limitPrice: dec('0.45') }));
    [position] = await exchange.getPositions();
    expect([position!.position, money(position!.exposure), money(position!.realizedPnl)]).toEqual([-4, '1.8000', '0.5000']);
    const fills = await exchange.getFills({ ticker: KC });
    // 1000 − 5.18 − (1.80 + 0.07) + 4 − (4.50 + 0.18) + 6
    expect(money(await exchange.getBalance())).toBe('998.2700');
    expect(money(await exchange.getBalance())).toBe(money(balanceFromFills('1000', fills, 10)));
    expect(money(position!.feesPaid)).toBe('0.4300');
  });

  it('balance = starting − Σ(buy cost + fees) + Σ(sell proceeds − fees), exactly, over a mixed session', async () => {
    const { exchange, source } = paper([
      kalshiBook(KC, T0, { yesBid: '0.4711', yesAsk: '0.4833', depth: 7 }),
      kalshiBook(DAL, T0, { yesBid: '0.3301', yesAsk: '0.3517', depth: 13 }),
    ], '2500.0001');
    await exchange.placeOrder(order({ count: qty(20), limitPrice: dec('0.4833') })); // rests 13
    await exchange.placeOrder(order({ ticker: DAL, side: 'no', count: qty(9), limitPrice: dec('0.6699') }));
    await exchange.placeOrder(order({ ticker: DAL, count: qty(5), limitPrice: dec('0.3517'), timeInForce: 'immediate_or_cancel' }));
    source.set(kalshiBook(KC, at(1), { yesBid: '0.5123', yesAsk: '0.5299', depth: 11 }));
    source.set(kalshiBook(DAL, at(1), { yesBid: '0.2987', yesAsk: '0.3111', depth: 13 }));
    await exchange.placeOrder(order({ action: 'sell', count: qty(3), limitPrice: dec('0.5') }));
    await exchange.placeOrder(order({ ticker: DAL, side: 'no', action: 'sell', count: qty(4), limitPrice: dec('0.65') }));
    source.set(kalshiBook(KC, at(2), { yesBid: '0.4001', yesAsk: '0.4099', depth: 50 }));
    clock = at(2);
    const fills = await exchange.getFills();
    expect(fills.map((f) => [f.ticker === KC ? 'KC' : 'DAL', f.side, f.action, f.count, f.isTaker])).toEqual([
      ['KC', 'yes', 'buy', 7, true], ['DAL', 'no', 'buy', 9, true], ['DAL', 'yes', 'buy', 5, true],
      ['KC', 'yes', 'sell', 3, true], ['DAL', 'no', 'sell', 4, true], ['KC', 'yes', 'buy', 13, false],
    ]);
    expect(money(await exchange.getBalance())).toBe(money(balanceFromFills('2500.0001', fills, 5)));
    const { rows } = await db().pool.query('SELECT sum(fees_paid) AS fees FROM paper_positions WHERE account_id = $1', [`acct-${accounts}`]);
    expect(money(rows[0].fees)).toBe(money(fills.reduce((s, f) => s.plus(f.fee), dec('0'))));
  });
});

describe('resting orders', () => {
  it('rests a GTC order that does not cross, then fills it at its limit as maker when the book crosses it', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesBid: '0.50', yesAsk: '0.60' })]);
    const placed = await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.55') }));
    expect(placed).toMatchObject({ status: 'resting', filledCount: 0, remainingCount: 10 });
    expect(money(await exchange.getBalance())).toBe('1000.0000');

    clock = at(1);
    source.set(kalshiBook(KC, at(1), { yesBid: '0.50', yesAsk: '0.54' }));
    const filled = await exchange.getOrder(placed.venueOrderId);
    expect(filled).toMatchObject({ status: 'executed', filledCount: 10, remainingCount: 0 });
    // 0.0175 × 10 × 0.55 × 0.45 = 0.0433 → 0.05
    expect(money(filled.makerFees)).toBe(money(makerFee(qty(10), dec('0.55'))));
    expect(money(filled.makerFees)).toBe('0.0500');
    expect(money(filled.makerFillCost)).toBe('5.5000');
    expect(money(filled.takerFees)).toBe('0.0000');
    const fills = await exchange.getFills({ venueOrderId: placed.venueOrderId });
    expect(fills.map((f) => [f.count, money(f.price), f.isTaker, money(f.fee), f.createdAt.toISOString()]))
      .toEqual([[10, '0.5500', false, '0.0500', at(1).toISOString()]]);
    expect(money(await exchange.getBalance())).toBe('994.4500');
  });

  it('does not fill twice from one snapshot: the rest of a partly taken order waits for a newer book', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 100 })]);
    const placed = await exchange.placeOrder(order({ count: qty(250), limitPrice: dec('0.50') }));
    expect(placed).toMatchObject({ status: 'resting', filledCount: 100 });
    expect((await exchange.getOrder(placed.venueOrderId)).filledCount).toEqual(100);
    // A second buyer finds that snapshot's depth already taken.
    const other = await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.50'), timeInForce: 'immediate_or_cancel' }));
    expect(other).toMatchObject({ status: 'canceled', filledCount: 0 });

    // Nor does another instance on the account (a restart, another container), which does not
    // share this one's memory of taken depth: the order remembers the snapshot it saw.
    const restarted = new PaperExchange(db().pool, { books: source, startingBalance: dec('1000'), accountId: `acct-${accounts}`, now });
    expect((await restarted.getOrder(placed.venueOrderId)).filledCount).toEqual(100);

    source.set(kalshiBook(KC, at(1), { yesAsk: '0.49', depth: 100 }));
    const later = await exchange.getOrder(placed.venueOrderId);
    expect(later).toMatchObject({ status: 'resting', filledCount: 200, remainingCount: 50 });
    expect(money(later.makerFillCost)).toBe('50.0000');
    expect(money(later.takerFillCost)).toBe('50.0000');
  });

  it('cancels a resting order at its expiry; a book observed before the expiry still fills it, one after does not', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesAsk: '0.60' }), kalshiBook(DAL, T0, { yesAsk: '0.60' })]);
    const expiring = await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.50'), expiresAt: at(5) }));
    const filledFirst = await exchange.placeOrder(order({ ticker: DAL, count: qty(5), limitPrice: dec('0.50'), expiresAt: at(5) }));
    clock = at(4);
    expect((await exchange.getOrder(expiring.venueOrderId)).status).toBe('resting');

    source.set(kalshiBook(KC, at(6), { yesAsk: '0.45' }));
    source.set(kalshiBook(DAL, at(4.5), { yesAsk: '0.45' }));
    clock = at(10);
    const expired = await exchange.getOrder(expiring.venueOrderId);
    expect(expired).toMatchObject({ status: 'canceled', filledCount: 0, remainingCount: 0 });
    expect(await exchange.getOrder(filledFirst.venueOrderId)).toMatchObject({ status: 'executed', filledCount: 5 });
    expect(await exchange.listOrders({ status: 'resting' })).toEqual([]);
  });

  it('cancels what remains of a resting order, keeps its fills, and returns a finished order unchanged', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50', depth: 4 })]);
    const placed = await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.50') }));
    expect(placed).toMatchObject({ status: 'resting', filledCount: 4 });
    clock = at(1);
    const canceled = await exchange.cancelOrder(placed.venueOrderId);
    expect(canceled).toMatchObject({ status: 'canceled', filledCount: 4, remainingCount: 0 });
    expect((await exchange.getFills({ venueOrderId: placed.venueOrderId })).map((f) => f.count)).toEqual([4]);
    expect(await exchange.cancelOrder(placed.venueOrderId)).toEqual(canceled);

    await expect(exchange.cancelOrder('paper-999999999')).rejects.toBeInstanceOf(PaperOrderNotFoundError);
    await expect(exchange.getOrder('paper-999999999')).rejects.toBeInstanceOf(PaperOrderNotFoundError);
  });

  it('returns an executed order unchanged on cancel', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50' })]);
    const placed = await exchange.placeOrder(order({ count: qty(2), limitPrice: dec('0.50') }));
    expect(placed.status).toBe('executed');
    expect(await exchange.cancelOrder(placed.venueOrderId)).toEqual(placed);
  });

  it('cancels a resting buy whose fill the balance can no longer pay', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesAsk: '0.65' }), kalshiBook(DAL, T0, { yesAsk: '0.50' })], '10');
    const resting = await exchange.placeOrder(order({ count: qty(15), limitPrice: dec('0.60') }));
    expect(resting.status).toBe('resting');
    await exchange.placeOrder(order({ ticker: DAL, count: qty(10), limitPrice: dec('0.50') }));
    expect(money(await exchange.getBalance())).toBe('4.8200');
    source.set(kalshiBook(KC, at(1), { yesAsk: '0.55' }));
    expect(await exchange.getOrder(resting.venueOrderId)).toMatchObject({ status: 'canceled', filledCount: 0 });
    expect(money(await exchange.getBalance())).toBe('4.8200');
  });

  it('fills a resting sell up to the position still held and cancels the rest', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesBid: '0.65', yesAsk: '0.66' })]);
    await exchange.placeOrder(order({ count: qty(10), limitPrice: dec('0.66') }));
    const restingSell = await exchange.placeOrder(order({ action: 'sell', count: qty(10), limitPrice: dec('0.70') }));
    expect(restingSell.status).toBe('resting');
    await exchange.placeOrder(order({ action: 'sell', count: qty(6), limitPrice: dec('0.65') }));
    source.set(kalshiBook(KC, at(1), { yesBid: '0.72', yesAsk: '0.74' }));
    const after = await exchange.getOrder(restingSell.venueOrderId);
    expect(after).toMatchObject({ status: 'canceled', filledCount: 4 });
    expect(money(after.makerFillCost)).toBe('2.8000');
    expect(await exchange.getPositions()).toEqual([]);
  });
});

describe('reading back', () => {
  it('lists fills by order, by ticker and since an instant, and orders by ticker and status', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50' }), kalshiBook(DAL, T0, { yesAsk: '0.40' })]);
    const a = await exchange.placeOrder(order({ count: qty(1), limitPrice: dec('0.50') }));
    clock = at(1);
    const b = await exchange.placeOrder(order({ ticker: DAL, count: qty(2), limitPrice: dec('0.40') }));
    clock = at(2);
    const c = await exchange.placeOrder(order({ count: qty(3), limitPrice: dec('0.50') }));
    const d = await exchange.placeOrder(order({ ticker: DAL, count: qty(4), limitPrice: dec('0.30') }));

    expect((await exchange.getFills()).map((f) => f.venueOrderId)).toEqual([a, b, c].map((o) => o.venueOrderId));
    expect((await exchange.getFills({ venueOrderId: b.venueOrderId })).map((f) => f.count)).toEqual([2]);
    expect((await exchange.getFills({ ticker: KC })).map((f) => f.count)).toEqual([1, 3]);
    expect((await exchange.getFills({ since: at(1) })).map((f) => f.count)).toEqual([2, 3]);
    expect((await exchange.getFills({ ticker: DAL, since: at(1.5) }))).toEqual([]);
    const fillIds = (await exchange.getFills()).map((f) => f.fillId);
    expect(new Set(fillIds).size).toBe(fillIds.length);

    expect((await exchange.listOrders()).map((o) => o.venueOrderId)).toEqual([a, b, c, d].map((o) => o.venueOrderId));
    expect((await exchange.listOrders({ ticker: DAL })).map((o) => o.venueOrderId)).toEqual([b, d].map((o) => o.venueOrderId));
    expect((await exchange.listOrders({ status: 'resting' })).map((o) => o.venueOrderId)).toEqual([d.venueOrderId]);
    expect((await exchange.findOrder(c.clientOrderId, KC))?.venueOrderId).toBe(c.venueOrderId);
    expect(await exchange.findOrder(c.clientOrderId, DAL)).toBeNull();
    expect(await exchange.findOrder('never-placed', KC)).toBeNull();
  });

  it('keeps accounts apart', async () => {
    const first = paper([kalshiBook(KC, T0, { yesAsk: '0.50' })]);
    const placed = await first.exchange.placeOrder(order({ count: qty(1) }));
    const second = new PaperExchange(db().pool, { books: first.source, startingBalance: dec('50'), accountId: 'other-account', now });
    expect(money(await second.getBalance())).toBe('50.0000');
    expect(await second.getFills()).toEqual([]);
    expect(await second.findOrder(placed.clientOrderId, KC)).toBeNull();
    await expect(second.getOrder(placed.venueOrderId)).rejects.toBeInstanceOf(PaperOrderNotFoundError);
  });

  it('stays readable when a resting order\'s book cannot be read; a placement on that market fails', async () => {
    const { exchange, source } = paper([kalshiBook(KC, T0, { yesAsk: '0.60' }), kalshiBook(DAL, T0, { yesAsk: '0.50' })]);
    const placed = await exchange.placeOrder(order({ count: qty(5), limitPrice: dec('0.55') }));
    const failing = new PaperExchange(db().pool, {
      books: { book: async (ticker) => (ticker === KC ? Promise.reject(new Error('book unavailable')) : source.book(ticker)) },
      startingBalance: dec('1000'), accountId: `acct-${accounts}`, now,
    });
    expect(money(await failing.getBalance())).toBe('1000.0000');
    expect((await failing.getOrder(placed.venueOrderId)).status).toBe('resting');
    await expect(failing.placeOrder(order({ count: qty(1), limitPrice: dec('0.55') }))).rejects.toThrow('book unavailable');
    expect((await failing.placeOrder(order({ ticker: DAL, count: qty(1), limitPrice: dec('0.50') }))).status).toBe('executed');
  });

  it('refuses to change or delete fills (append-only)', async () => {
    const { exchange } = paper([kalshiBook(KC, T0, { yesAsk: '0.50' })]);
    const placed = await exchange.placeOrder(order({ count: qty(1) }));
    await expect(db().pool.query('UPDATE paper_fills SET fee = 0 WHERE venue_order_id = $1', [placed.venueOrderId])).rejects.toThrow(/append-only/);
    await expect(db().pool.query('DELETE FROM paper_fills WHERE venue_order_id = $1', [placed.venueOrderId])).rejects.toThrow(/append-only/);
  });
});

describe('book sources', () => {
  beforeAll(async () => {
    await seedHierarchy(db().pool);
    await seedMarkets(db().pool, [marketSnapshot(KC, '0.55', { yesBid: dec('0.53'), noBid: dec('0.43') })]);
  });

  it('IngestedBookSource reads the current kalshi version: asks from yes/no_price, bids from yes/no_bid', async () => {
    const source = new IngestedBookSource(db().pool, { depth: 10 });
    const book = await source.book(KC);
    const { rows } = await db().pool.query('SELECT created_at FROM current_markets WHERE ticker = $1', [KC]);
    expect(book).not.toBeNull();
    const levels = (l: { price: Decimal; count: Decimal | null }[]) => l.map((x) => [money(x.price), x.count === null ? null : x.count.toNumber()]);
    expect(levels(book!.yes.asks)).toEqual([['0.5500', 10]]);
    expect(levels(book!.yes.bids)).toEqual([['0.5300', 10]]);
    expect(levels(book!.no.asks)).toEqual([['0.4500', 10]]);
    expect(levels(book!.no.bids)).toEqual([['0.4300', 10]]);
    expect(book!.open).toBe(true);
    expect(book!.at).toEqual(rows[0].created_at);
    expect(await source.book('UNKNOWN-TICKER')).toBeNull();
    expect((await new IngestedBookSource(db().pool, { depth: null }).book(KC))!.yes.asks[0]!.count).toBeNull();
  });

  it('trades over ingested prices with the configured depth, and refuses once the market closes', async () => {
    clock = T0;
    const exchange = new PaperExchange(db().pool, {
      books: new IngestedBookSource(db().pool, { depth: 10 }), startingBalance: dec('100'), accountId: 'ingested', now,
    });
    const placed = await exchange.placeOrder(order({ count: qty(15), limitPrice: dec('0.55') }));
    expect(placed).toMatchObject({ status: 'resting', filledCount: 10 });
    expect(money(placed.takerFillCost)).toBe('5.5000');

    await seedMarkets(db().pool, [marketSnapshot(KC, '0.55', { yesBid: dec('0.53'), noBid: dec('0.43'), status: 'closed' })]);
    expect((await rejection(exchange.placeOrder(order({ count: qty(1) })))).code).toBe('market_closed');
    // The closed market fills nothing more; the order keeps resting until cancelled.
    expect(await exchange.getOrder(placed.venueOrderId)).toMatchObject({ status: 'resting', filledCount: 10 });
  });

  describe('KalshiOrderbookBookSource', () => {
    let server: TestServer;
    afterAll(async () => server?.close());

    it('builds asks from the other side\'s bids (YES ask = 1 − NO bid), with real depth', async () => {
      server = await startTestServer((req) => {
        if (req.path.endsWith(`/markets/${KC}/orderbook`)) {
          return { json: { orderbook_fp: { yes_dollars: [['0.5400', '10.00'], ['0.5500', '25.00']], no_dollars: [['0.4300', '7.00'], ['0.4200', '3.00']] } } };
        }
        if (req.path.endsWith('/markets')) {
          return { json: { cursor: '', markets: [{ ticker: KC, event_ticker: 'KXNFLGAME-25NOV27KCDAL', status: 'active' }] } };
        }
        return undefined;
      });
      const client = new KalshiClient({ baseUrl: `${server.url}/trade-api/v2`, retry: { maxAttempts: 1 }, readsPerSecond: 1000 });
      const book = await new KalshiOrderbookBookSource(client, now).book(KC);
      const levels = (l: { price: Decimal; count: Decimal | null }[]) => l.map((x) => [money(x.price), x.count === null ? null : x.count.toNumber()]);
      expect(levels(book!.yes.bids)).toEqual([['0.5500', 25], ['0.5400', 10]]);
      expect(levels(book!.yes.asks)).toEqual([['0.5700', 7], ['0.5800', 3]]);
      expect(levels(book!.no.bids)).toEqual([['0.4300', 7], ['0.4200', 3]]);
      expect(levels(book!.no.asks)).toEqual([['0.4500', 25], ['0.4600', 10]]);
      expect(book!.open).toBe(true);
      expect(book!.at).toEqual(clock);
    });
  });
});

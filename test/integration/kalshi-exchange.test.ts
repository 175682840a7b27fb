import type { CreateOrderV2Request, Fill, GetBalanceResponse, GetOrdersResponse, GetPositionsResponse, Order } from 'kalshi-typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { OrderRejectedError, OrderUncertainError, type PlaceOrderRequest, type VenueOrder } from '../../shared/exchange/types';
import { ApiError, PayloadError } from '../../shared/http/errors';
import type { FailedAttempt } from '../../shared/http/httpClient';
import { KalshiExchange, type KalshiExchangeOptions } from '../../shared/venues/kalshi/kalshiExchange';
import {
  generateKalshiKeyPair, kalshiTestCredentials, startKalshiPortfolioSim, type KalshiPortfolioSim, type KalshiPortfolioSimOptions,
} from '../helpers/kalshiPortfolioSim';
import { qty } from '../../shared/domain/quantity';

const KC = 'KXNFLGAME-26NOV27KCDAL-KC';
const THIN = 'KXNFLGAME-26NOV27KCDAL-DAL';
const MARKETS: KalshiPortfolioSimOptions['markets'] = {
  [KC]: { yes: { ask: '0.5600', bid: '0.5400', depth: 100 }, no: { ask: '0.4600', bid: '0.4400', depth: 100 } },
  // Four contracts on offer: a bigger order rests or is cancelled for the rest.
  [THIN]: { yes: { ask: '0.4500', bid: '0.4300', depth: 4 }, no: { ask: '0.5700', bid: '0.5500', depth: 4 } },
};
/** Reads (GET) only: order writes go to V2. */
const ORDERS = '/portfolio/orders';
const V2 = '/portfolio/events/orders';

// One key pair for the file: RSA generation is the slow part.
const { credentials, publicKey } = kalshiTestCredentials('key-1');

let sim: KalshiPortfolioSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setup(simOptions: Partial<KalshiPortfolioSimOptions> = {}, options: Partial<KalshiExchangeOptions> = {}) {
  sim = await startKalshiPortfolioSim({ keyId: 'key-1', publicKey, markets: MARKETS, ...simOptions });
  const sleeps: number[] = [];
  const failures: FailedAttempt[] = [];
  const exchange = new KalshiExchange({
    baseUrl: sim.baseUrl,
    environment: 'demo',
    credentials,
    readsPerSecond: 1000,
    writesPerSecond: 1000,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 5_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onFailedAttempt: (f) => failures.push(f),
    ...options,
  });
  return { sim, exchange, sleeps, failures };
}

function buy(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return {
    ticker: KC, clientOrderId: 'precog-1', side: 'yes', action: 'buy', count: qty(10), type: 'limit',
    limitPrice: new Decimal('0.6000'), ...overrides,
  };
}

const money = (d: Decimal) => d.toFixed(4);

describe('KalshiExchange against the Kalshi portfolio simulator', () => {
  it('signs every portfolio request; the simulator verifies it with the public key', async () => {
    const { sim, exchange } = await setup();
    expect(exchange.name).toBe('kalshi-demo');
    expect(exchange.executionMode).toBe('live');
    expect(money(await exchange.getBalance())).toBe('1000.0000');
    const order = await exchange.placeOrder(buy());
    expect((await exchange.getOrder(order.venueOrderId)).clientOrderId).toBe('precog-1');
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /trade-api/v2/portfolio/balance', 'POST /trade-api/v2/portfolio/events/orders', `GET /trade-api/v2/portfolio/orders/${order.venueOrderId}`,
    ]);
    for (const r of sim.requests) {
      expect(r.headers['kalshi-access-key']).toBe('key-1');
      expect(String(r.headers['kalshi-access-timestamp'])).toMatch(/^\d{13}$/);
    }
  });

  it('gets a clear 401 when signing with a different key, and does not retry it', async () => {
    const { sim } = await setup();
    const impostor = new KalshiExchange({
      baseUrl: sim.baseUrl, environment: 'demo', credentials: { keyId: 'key-1', privateKeyPem: generateKalshiKeyPair().privateKeyPem },
      sleep: async () => undefined,
    });
    const error = await impostor.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).message).toMatch(/^kalshi-demo GET \/trade-api\/v2\/portfolio\/balance: HTTP 401: .*authentication_error.*invalid signature/);
    const rejected = await impostor.placeOrder(buy()).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(OrderRejectedError);
    expect((rejected as OrderRejectedError).code).toBe('authentication_error');
    expect(sim.requests).toHaveLength(2);
    expect(sim.orders()).toEqual([]);
  });

  it('places a limit buy that takes the ask: order, fill, fee, position and balance are exact', async () => {
    const { sim, exchange } = await setup();
    const order = await exchange.placeOrder(buy());
    // Create Order V2: buy YES = bid at p on the single YES book.
    expect(JSON.parse(sim.requestsTo('POST', V2)[0]!.body)).toEqual({
      ticker: KC, client_order_id: 'precog-1', side: 'bid', count: '10.00', price: '0.6000',
      time_in_force: 'good_till_canceled', self_trade_prevention_type: 'taker_at_cross', cancel_order_on_pause: true,
    } satisfies CreateOrderV2Request);
    // The flat reply sufficed: no read-back.
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /trade-api/v2/portfolio/events/orders']);
    expect(order).toMatchObject({
      clientOrderId: 'precog-1', ticker: KC, side: 'yes', action: 'buy', type: 'limit', status: 'executed',
      initialCount: 10, filledCount: 10, remainingCount: 0, expiresAt: null,
    });
    expect(money(order.limitPrice)).toBe('0.6000');
    expect(money(order.takerFillCost)).toBe('5.6000');
    // ceil_to_cent(0.07 × 10 × 0.56 × 0.44 = 0.17248)
    expect(money(order.takerFees)).toBe('0.1800');
    expect(money(order.makerFees)).toBe('0.0000');
    const [fill, ...more] = await exchange.getFills({ venueOrderId: order.venueOrderId });
    expect(more).toEqual([]);
    expect(fill).toMatchObject({ venueOrderId: order.venueOrderId, ticker: KC, side: 'yes', action: 'buy', count: 10, isTaker: true });
    expect(money(fill!.price)).toBe('0.5600');
    expect(money(fill!.fee)).toBe('0.1800');
    expect(fill!.fillId).toMatch(/^fill-/);
    const positions = await exchange.getPositions();
    expect(positions.map((p) => [p.ticker, p.position, money(p.exposure), money(p.feesPaid), money(p.realizedPnl)])).toEqual([
      [KC, 10, '5.6000', '0.1800', '0.0000'],
    ]);
    expect(money(await exchange.getBalance())).toBe('994.2200');
  });

  it('buys NO at the NO ask with the price of its own side; the position is negative', async () => {
    const { sim, exchange } = await setup();
    const order = await exchange.placeOrder(buy({ side: 'no', limitPrice: new Decimal('0.47'), count: qty(3) }));
    // Buy NO = ask on the YES book at 1 − p, exactly.
    expect(JSON.parse(sim.requestsTo('POST', V2)[0]!.body)).toMatchObject({ side: 'ask', price: '0.5300', count: '3.00' });
    expect(order).toMatchObject({ side: 'no', action: 'buy', status: 'executed', filledCount: 3 });
    expect(money(order.takerFillCost)).toBe('1.3800');
    expect(money(order.limitPrice)).toBe('0.4700');
    const [fill] = await exchange.getFills();
    expect(money(fill!.price)).toBe('0.4600');
    expect((await exchange.getPositions()).map((p) => [p.position, money(p.exposure)])).toEqual([[-3, '1.3800']]);
  });

  it('rests the remainder of a good-till-cancelled order and cancels it', async () => {
    const { sim, exchange } = await setup();
    const order = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.45') }));
    expect(order).toMatchObject({ status: 'resting', filledCount: 4, remainingCount: 6 });
    const canceled = await exchange.cancelOrder(order.venueOrderId);
    expect(canceled).toMatchObject({ venueOrderId: order.venueOrderId, status: 'canceled', filledCount: 4, remainingCount: 0 });
    expect(sim.requestsTo('DELETE', `${V2}/${order.venueOrderId}`)).toHaveLength(1);
    // Cancel V2 answers {order_id, reduced_by}: the order is read back for its counts.
    expect(sim.requestsTo('GET', `${ORDERS}/${order.venueOrderId}`)).toHaveLength(1);
    // Cancelling again: the venue refuses (nothing rests), the order as it ended comes back.
    expect((await exchange.cancelOrder(order.venueOrderId)).status).toBe('canceled');
    expect(sim.orders().map((o) => o.status)).toEqual(['canceled']);
  });

  it('retries a cancel whose answer was lost; the venue refusing the repeat still yields the cancelled order', async () => {
    const { sim, exchange, failures } = await setup();
    const order = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40') }));
    sim.failures[`DELETE ${V2}/${order.venueOrderId}`] = { status: 500, times: 1, afterCommit: true };
    const canceled = await exchange.cancelOrder(order.venueOrderId);
    expect(canceled).toMatchObject({ status: 'canceled', remainingCount: 0 });
    expect(sim.requestsTo('DELETE', `${V2}/${order.venueOrderId}`)).toHaveLength(2);
    expect(failures.map((f) => [f.method, f.status])).toEqual([['DELETE', 500], ['DELETE', 404]]);
  });

  it('does not take a 2xx cancel reply without an order id for a cancellation: the order read back decides', async () => {
    const { sim, exchange } = await setup({ transformResponse: (key, json) => (key.startsWith('DELETE ') ? {} : json) });
    const order = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40') }));
    expect(order.status).toBe('resting');
    // The venue cancelled but answered an empty object: the read-back shows the order cancelled.
    expect(await exchange.cancelOrder(order.venueOrderId)).toMatchObject({ status: 'canceled', remainingCount: 0 });
    // A 2xx holding only an error, nothing done: the order still rests, so this is an error.
    const other = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40'), clientOrderId: 'precog-2' }));
    sim.failures[`DELETE ${V2}/${other.venueOrderId}`] = { status: 200, times: 1, code: 'deprecated_v1_order_endpoint', message: 'Please switch to the V2 endpoints' };
    const error = await exchange.cancelOrder(other.venueOrderId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(/body holds an error: .*deprecated_v1_order_endpoint.*; order .* is still resting/);
    expect((await exchange.getOrder(other.venueOrderId)).status).toBe('resting');
  });

  it('sends a market order as immediate-or-cancel at 0.99 (buy) or 0.01 (sell) unless given a worst price', async () => {
    const { sim, exchange } = await setup();
    const bought = await exchange.placeOrder(buy({ type: 'market', limitPrice: undefined, clientOrderId: 'm-1' }));
    const sold = await exchange.placeOrder(buy({ type: 'market', action: 'sell', limitPrice: undefined, clientOrderId: 'm-2', count: qty(4) }));
    const unfilled = await exchange.placeOrder(buy({ ticker: THIN, type: 'market', limitPrice: new Decimal('0.40'), clientOrderId: 'm-3' }));
    const bodies = sim.requestsTo('POST', V2).map((r) => JSON.parse(r.body) as CreateOrderV2Request);
    expect(bodies.map((b) => [b.side, b.price, b.time_in_force, b.reduce_only, b.cancel_order_on_pause])).toEqual([
      ['bid', '0.9900', 'immediate_or_cancel', undefined, undefined],
      // Selling a YES holding offers on the YES book, and only ever reduces it.
      ['ask', '0.0100', 'immediate_or_cancel', true, undefined],
      ['bid', '0.4000', 'immediate_or_cancel', undefined, undefined],
    ]);
    expect(bought).toMatchObject({ status: 'executed', filledCount: 10 });
    expect(money(bought.takerFillCost)).toBe('5.6000');
    expect(sold).toMatchObject({ status: 'executed', filledCount: 4 });
    expect(money(sold.takerFillCost)).toBe('2.1600');
    expect(unfilled).toMatchObject({ status: 'canceled', filledCount: 0, remainingCount: 0 });
    const [position] = await exchange.getPositions();
    expect([position!.position, money(position!.exposure), money(position!.realizedPnl)]).toEqual([6, '3.3600', '-0.0800']);
  });

  it('sends an order TTL as expiration_time in Unix seconds on good_till_canceled, and the venue expires it', async () => {
    let clock = Date.parse('2029-12-31T23:59:00.000Z');
    const { sim, exchange } = await setup({ clock: { nowMs: () => clock }, maxClockSkewMs: Number.MAX_SAFE_INTEGER });
    const expiresAt = new Date('2030-01-01T00:00:00.750Z');
    const order = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40'), expiresAt }));
    const body = JSON.parse(sim.requestsTo('POST', V2)[0]!.body) as CreateOrderV2Request;
    expect([body.expiration_time, body.time_in_force]).toEqual([1893456000, 'good_till_canceled']);
    expect(body).not.toHaveProperty('expiration_ts');
    expect(order).toMatchObject({ status: 'resting', remainingCount: 10 });
    expect(order.expiresAt?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    clock = Date.parse('2030-01-01T00:00:00.000Z');
    expect(await exchange.getOrder(order.venueOrderId)).toMatchObject({ status: 'canceled', remainingCount: 0 });
  });

  it('refuses an invalid request before sending anything, saying why', async () => {
    const { sim, exchange } = await setup();
    const cases: Array<[Partial<PlaceOrderRequest>, RegExp]> = [
      [{ count: new Decimal('1.005') }, /count must be a positive number of contracts with at most 2 decimals, got 1\.005/],
      [{ count: qty(0) }, /count must be a positive number of contracts/],
      [{ limitPrice: new Decimal('1') }, /limitPrice must be strictly between 0 and 1, got 1/],
      [{ limitPrice: new Decimal('0') }, /strictly between 0 and 1/],
      [{ limitPrice: new Decimal('0.12345') }, /limitPrice has more than 4 decimals: 0\.12345/],
      [{ limitPrice: undefined }, /limitPrice is required for a limit order/],
      [{ type: 'market', timeInForce: 'good_till_canceled' }, /a market order cannot rest/],
      [{ timeInForce: 'immediate_or_cancel', expiresAt: new Date('2030-01-01T00:00:00Z') }, /expiresAt applies to good_till_canceled orders only/],
      [{ clientOrderId: '' }, /clientOrderId is required/],
    ];
    for (const [overrides, message] of cases) {
      const error = await exchange.placeOrder(buy(overrides)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrderRejectedError);
      expect((error as OrderRejectedError).code).toBe('invalid_order');
      expect((error as Error).message).toMatch(message);
    }
    expect(sim.requests).toHaveLength(0);
  });

  it('follows the cursor across 3 pages of orders, fills and positions', async () => {
    const tickers = ['M-1', 'M-2', 'M-3', 'M-4', 'M-5'];
    const { sim, exchange } = await setup({
      pageSize: 2,
      markets: Object.fromEntries(tickers.map((t) => [t, { yes: { ask: '0.5000', bid: '0.4800', depth: 10 } }])),
    });
    for (const [i, ticker] of tickers.entries()) {
      await exchange.placeOrder(buy({ ticker, clientOrderId: `p-${i}`, count: qty(i + 1), limitPrice: new Decimal('0.50') }));
    }
    const orders = await exchange.listOrders();
    expect(orders.map((o) => o.clientOrderId).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
    const fills = await exchange.getFills();
    expect(fills.map((f) => f.count).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(fills.map((f) => f.fillId)).size).toBe(5);
    const positions = await exchange.getPositions();
    expect(positions.map((p) => [p.ticker, p.position])).toEqual(tickers.map((t, i) => [t, i + 1]));
    for (const path of [ORDERS, '/portfolio/fills', '/portfolio/positions']) {
      const cursors = sim.requestsTo('GET', path).map((r) => r.query.get('cursor'));
      expect(cursors).toHaveLength(3);
      expect(cursors[0]).toBeNull();
      expect(new Set(cursors).size).toBe(3);
    }
    expect(sim.requestsTo('GET', '/portfolio/positions')[0]!.query.get('count_filter')).toBe('position');
    // Filters reach the venue.
    expect(await exchange.listOrders({ ticker: 'M-3', status: 'executed' })).toHaveLength(1);
    const last = sim.requestsTo('GET', ORDERS).at(-1)!;
    expect([last.query.get('ticker'), last.query.get('status')]).toEqual(['M-3', 'executed']);
  });

  it('stops on a repeated cursor instead of looping', async () => {
    const { exchange } = await setup({
      transformResponse: (key, json) => (key === `GET ${ORDERS}` ? { ...(json as GetOrdersResponse), cursor: 'same' } : json),
    });
    await expect(exchange.listOrders()).rejects.toThrow(/cursor same repeated/);
  });

  it('retries a read after 429, honouring Retry-After', async () => {
    const { sim, exchange, sleeps, failures } = await setup();
    sim.failures['GET /portfolio/balance'] = { status: 429, times: 1, retryAfterSeconds: 2 };
    expect(money(await exchange.getBalance())).toBe('1000.0000');
    expect(sleeps).toEqual([2000]);
    expect(failures).toMatchObject([{ method: 'GET', status: 429, attempt: 1, final: false }]);
    expect(sim.requestsTo('GET', '/portfolio/balance')).toHaveLength(2);
  });

  it('creates again after a 429 on create (not processed): exactly one order', async () => {
    const { sim, exchange, sleeps, failures } = await setup();
    sim.failures[`POST ${V2}`] = { status: 429, times: 1, retryAfterSeconds: 1 };
    const order = await exchange.placeOrder(buy());
    expect(sim.orders().map((o) => o.order_id)).toEqual([order.venueOrderId]);
    expect(sim.requestsTo('POST', V2)).toHaveLength(2);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(0); // a 429 needs no lookup
    expect(sleeps).toEqual([1000]);
    expect(failures).toMatchObject([{ method: 'POST', kind: 'http', status: 429, attempt: 1, final: false }]);
  });

  it('after a 500 on a create that was committed, finds the order by client order id instead of creating it twice', async () => {
    const { sim, exchange, failures } = await setup();
    sim.failures[`POST ${V2}`] = { status: 500, times: 1, afterCommit: true };
    const order = await exchange.placeOrder(buy());
    expect(sim.orders()).toHaveLength(1);
    expect(order.venueOrderId).toBe(sim.orders()[0]!.order_id);
    expect(order).toMatchObject({ clientOrderId: 'precog-1', status: 'executed', filledCount: 10 });
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    const lookups = sim.requestsTo('GET', ORDERS);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]!.query.get('ticker')).toBe(KC);
    expect(failures).toMatchObject([{ method: 'POST', status: 500, attempt: 1, final: false }]);
  });

  it('after a 500 before commit, the lookup finds nothing and the create is sent again: exactly one order', async () => {
    const { sim, exchange, sleeps } = await setup({}, { lookupAttempts: 3, lookupDelayMs: 250 });
    sim.failures[`POST ${V2}`] = { status: 503, times: 1 };
    const order = await exchange.placeOrder(buy());
    expect(sim.orders().map((o) => o.order_id)).toEqual([order.venueOrderId]);
    expect(sim.requestsTo('POST', V2)).toHaveLength(2);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(3);
    // Lookups 250 ms apart, then the backoff before the second create (random 0.5 × 10 ms).
    expect(sleeps).toEqual([250, 250, 5]);
  });

  it('treats a timed-out create as ambiguous and looks the order up', async () => {
    const { sim, exchange, failures } = await setup({}, { timeoutMs: 150 });
    // Committed, but the answer arrives after the client gave up.
    sim.failures[`POST ${V2}`] = { times: 1, delayMs: 600 };
    const order = await exchange.placeOrder(buy());
    expect(sim.orders().map((o) => o.order_id)).toEqual([order.venueOrderId]);
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(failures).toMatchObject([{ method: 'POST', kind: 'timeout', message: 'timed out after 150 ms', final: false }]);
  });

  it('retries the lookup while reads lag writes, until the order shows', async () => {
    const { sim, exchange, sleeps } = await setup({ readLag: 2 });
    sim.failures[`POST ${V2}`] = { status: 502, times: 1, afterCommit: true };
    const order = await exchange.placeOrder(buy());
    expect(order.venueOrderId).toBe(sim.orders()[0]!.order_id);
    expect(sim.orders()).toHaveLength(1);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(3);
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(sleeps).toEqual([500, 500]);
  });

  it('when the lag outlasts the lookups, the second create is refused as a duplicate: still one order, reported uncertain', async () => {
    const { sim, exchange } = await setup({ readLag: 100 }, { lookupAttempts: 2 });
    sim.failures[`POST ${V2}`] = { status: 500, times: 1, afterCommit: true };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as OrderUncertainError).clientOrderId).toBe('precog-1');
    expect((error as Error).message).toMatch(/already exists at the venue \(HTTP 409 order_already_exists/);
    expect(sim.orders()).toHaveLength(1);
    expect(sim.requestsTo('POST', V2)).toHaveLength(2);
  });

  it('turns a 400 with an error code into OrderRejectedError carrying the code, without retrying', async () => {
    const { sim, exchange, failures } = await setup();
    sim.failures[`POST ${V2}`] = { status: 400, times: 1, code: 'market_closed', message: 'market is closed' };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderRejectedError);
    expect((error as OrderRejectedError).code).toBe('market_closed');
    expect((error as Error).message).toBe('kalshi-demo rejected order precog-1: HTTP 400 market_closed: market is closed');
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(0);
    expect(failures).toMatchObject([{ status: 400, final: true }]);
    // The venue's own refusal, from its state.
    const poor = await exchange.placeOrder(buy({ clientOrderId: 'big', count: qty(5000) })).catch((e: unknown) => e);
    expect((poor as OrderRejectedError).code).toBe('insufficient_balance');
    expect(sim.orders()).toEqual([]);
  });

  it('returns the existing order on 409 (the client order id is taken)', async () => {
    const { sim, exchange, failures } = await setup();
    const first = await exchange.placeOrder(buy());
    const again = await exchange.placeOrder(buy());
    expect(again.venueOrderId).toBe(first.venueOrderId);
    expect(sim.orders()).toHaveLength(1);
    expect(failures).toMatchObject([{ method: 'POST', status: 409, final: true }]);
  });

  it('throws OrderUncertainError after maxAttempts of 500 with nothing created', async () => {
    const { sim, exchange, failures } = await setup({}, { retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 }, lookupAttempts: 1 });
    sim.failures[`POST ${V2}`] = { status: 500, times: 99 };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as OrderUncertainError).clientOrderId).toBe('precog-1');
    expect((error as Error).message).toMatch(/could not be confirmed after 3 attempts \(last: HTTP 500 internal_server_error: simulated failure\)/);
    expect(sim.requestsTo('POST', V2)).toHaveLength(3);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(3); // one lookup after each failure
    expect(failures.map((f) => [f.attempt, f.final])).toEqual([[1, false], [2, false], [3, true]]);
    expect(sim.orders()).toEqual([]);
  });

  it('reports "not placed" (not uncertain) when every attempt was throttled', async () => {
    const { sim, exchange } = await setup({}, { retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 } });
    sim.failures[`POST ${V2}`] = { status: 429, times: 99 };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(/HTTP 429.*\(after 2 attempts\); order precog-1 was not placed/);
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(0);
  });

  it('does not call a refusal final after an ambiguous attempt: it may be the first order that caused it', async () => {
    const { sim, exchange } = await setup({}, {
      lookupAttempts: 1,
      onFailedAttempt: (f) => {
        // The first create dies with a 500; the second is refused.
        if (f.method === 'POST' && f.attempt === 1) sim!.failures[`POST ${V2}`] = { status: 400, times: 1, code: 'insufficient_balance' };
      },
    });
    sim.failures[`POST ${V2}`] = { status: 500, times: 1 };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as Error).message).toMatch(/was refused \(HTTP 400 insufficient_balance.*\) after an earlier attempt failed ambiguously/);
  });

  it('converts cents and dollars payloads exactly alike (56 cents = "0.5600")', async () => {
    const legacy = (order: Order) => {
      const {
        yes_price_dollars, no_price_dollars, fill_count_fp, remaining_count_fp, initial_count_fp,
        taker_fees_dollars, maker_fees_dollars, taker_fill_cost_dollars, maker_fill_cost_dollars, side, ...rest
      } = order;
      const cents = (d: string) => Number(new Decimal(d).times(100).toFixed(0));
      return {
        ...rest, // the newer API may leave out `side`: outcome_side stands in
        yes_price: cents(yes_price_dollars), no_price: cents(no_price_dollars),
        fill_count: parseInt(fill_count_fp, 10), remaining_count: parseInt(remaining_count_fp, 10), initial_count: parseInt(initial_count_fp, 10),
        taker_fees: cents(taker_fees_dollars), maker_fees: cents(maker_fees_dollars),
        taker_fill_cost: cents(taker_fill_cost_dollars), maker_fill_cost: cents(maker_fill_cost_dollars),
        outcome_side: side,
      };
    };
    let asCents = false;
    const { exchange } = await setup({
      transformResponse: (key, json) => {
        if (!asCents) return json;
        if (key.startsWith(`GET ${ORDERS}/`)) return { order: legacy((json as { order: Order }).order) };
        if (key === 'GET /portfolio/fills') {
          return {
            ...(json as object),
            fills: (json as { fills: Fill[] }).fills.map(({ yes_price_dollars, no_price_dollars, count_fp, ...f }) => ({
              ...f, yes_price: Number(new Decimal(yes_price_dollars).times(100).toFixed(0)),
              no_price: Number(new Decimal(no_price_dollars).times(100).toFixed(0)), count: parseInt(count_fp, 10),
            })),
          };
        }
        return json;
      },
    });
    const yes = await exchange.placeOrder(buy({ limitPrice: new Decimal('0.56') }));
    const no = await exchange.placeOrder(buy({ side: 'no', clientOrderId: 'precog-2', limitPrice: new Decimal('0.46'), count: qty(2) }));
    const dollarFills = await exchange.getFills();
    asCents = true;
    const [yesCents, noCents] = [await exchange.getOrder(yes.venueOrderId), await exchange.getOrder(no.venueOrderId)];
    const flat = (o: VenueOrder) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Decimal.isDecimal(v) ? money(v as Decimal) : v]));
    expect(flat(yesCents)).toEqual(flat(yes));
    expect(flat(noCents)).toEqual(flat(no));
    expect([money(yesCents.limitPrice), money(noCents.limitPrice)]).toEqual(['0.5600', '0.4600']);
    expect(yesCents.limitPrice.equals(new Decimal('0.56'))).toBe(true);
    const centFills = await exchange.getFills();
    expect(centFills.map((f) => [f.side, money(f.price), f.count])).toEqual(dollarFills.map((f) => [f.side, money(f.price), f.count]));
  });

  it('rejects a fractional count and a missing order_id, naming the field', async () => {
    let breakWith: ((order: Record<string, unknown>) => void) | undefined;
    const { exchange } = await setup({
      transformResponse: (key, json) => {
        if (!breakWith) return json;
        const body = structuredClone(json) as { order?: Record<string, unknown>; orders?: Array<Record<string, unknown>> };
        if (body.order) breakWith(body.order);
        body.orders?.forEach(breakWith);
        return body;
      },
    });
    const order = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40') }));
    // Fractional counts (2 decimals) are valid since March 2026; a third decimal is not.
    breakWith = (o) => void (o.fill_count_fp = '2.505');
    const fractional = await exchange.getOrder(order.venueOrderId).catch((e: unknown) => e);
    expect(fractional).toBeInstanceOf(PayloadError);
    expect((fractional as PayloadError).path).toBe('order.fill_count_fp');
    expect((fractional as Error).message).toMatch(/count 2\.505 has more than 2 decimals/);
    breakWith = (o) => void delete o.order_id;
    const missing = await exchange.listOrders().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PayloadError);
    expect((missing as PayloadError).path).toBe('orders@page0[0].order_id');
  });

  it('reads a balance in integer cents exactly, preferring balance_dollars', async () => {
    let body: Partial<GetBalanceResponse> = {};
    const { exchange } = await setup({ transformResponse: (key, json) => (key === 'GET /portfolio/balance' ? body : json) });
    body = { balance: 123456, portfolio_value: 0, updated_ts: 1 };
    const cents = await exchange.getBalance();
    expect(cents.equals(new Decimal('1234.56'))).toBe(true);
    body = { balance: 123456, balance_dollars: '1234.5678' };
    expect(money(await exchange.getBalance())).toBe('1234.5678');
    body = { balance: 12.5 } as Partial<GetBalanceResponse>;
    await expect(exchange.getBalance()).rejects.toMatchObject({ path: 'balance', reason: 'cents must be a whole number' });
  });

  it('returns only non-zero positions, even if the venue sends closed ones', async () => {
    const { exchange } = await setup({
      transformResponse: (key, json) => {
        if (key !== 'GET /portfolio/positions') return json;
        const body = json as GetPositionsResponse;
        return {
          ...body,
          market_positions: [...body.market_positions, {
            ticker: 'CLOSED', exchange_index: 0, total_traded_dollars: '3.0000', position_fp: '0.00',
            market_exposure_dollars: '0.0000', realized_pnl_dollars: '-1.2500', fees_paid_dollars: '0.0400', last_updated_ts: '',
          }],
        };
      },
    });
    await exchange.placeOrder(buy({ count: qty(2) }));
    const positions = await exchange.getPositions();
    expect(positions.map((p) => [p.ticker, p.position])).toEqual([[KC, 2]]);
  });

  it('filters fills by order, ticker and instant (min_ts in seconds, the instant exactly)', async () => {
    let clock = Date.parse('2026-11-27T20:00:00.400Z');
    // The exchange signs with the real clock: the sim's fake one must not refuse it.
    const { sim, exchange } = await setup({ clock: { nowMs: () => clock }, maxClockSkewMs: Number.MAX_SAFE_INTEGER });
    const first = await exchange.placeOrder(buy({ count: qty(1) }));
    clock += 300; // same second, later instant
    await exchange.placeOrder(buy({ count: qty(2), clientOrderId: 'precog-2' }));
    const since = new Date('2026-11-27T20:00:00.500Z');
    const fills = await exchange.getFills({ since, ticker: KC });
    expect(fills.map((f) => f.count)).toEqual([2]);
    const request = sim.requestsTo('GET', '/portfolio/fills').at(-1)!;
    expect([request.query.get('min_ts'), request.query.get('ticker')]).toEqual([String(Date.parse('2026-11-27T20:00:00Z') / 1000), KC]);
    expect((await exchange.getFills({ venueOrderId: first.venueOrderId })).map((f) => f.count)).toEqual([1]);
  });

  it('findOrder gives up with null after its lookups, and needs a client order id', async () => {
    const { sim, exchange, sleeps } = await setup();
    expect(await exchange.findOrder('nobody', KC)).toBeNull();
    expect(sim.requestsTo('GET', ORDERS)).toHaveLength(4);
    expect(sleeps).toEqual([500, 500, 500]);
    await expect(exchange.findOrder('', KC)).rejects.toThrow(/needs a client order id/);
  });
});

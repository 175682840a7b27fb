import { createPrivateKey } from 'node:crypto';
import { qty } from '../../shared/domain/quantity';
import type { CreateOrderV2Request, GetMarketResponse } from 'kalshi-typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { runExecuteEntry } from '../../functions/execute-entry/handler';
import { Decimal } from '../../shared/domain/decimal';
import { OrderRejectedError, OrderUncertainError, type PlaceOrderRequest } from '../../shared/exchange/types';
import { executeExit } from '../../shared/execution/executeExit';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { ApiError } from '../../shared/http/errors';
import type { FailedAttempt } from '../../shared/http/httpClient';
import { kalshiBucket } from '../../shared/http/rateLimiter';
import { KalshiExchange, type KalshiExchangeOptions } from '../../shared/venues/kalshi/kalshiExchange';
import { kalshiAuthHeaders } from '../../shared/venues/kalshi/signing';
import { useDatabasePerTest } from '../helpers/database';
import { lambdaContext, scannedEntries, sqsEvent, sqsRecord } from '../helpers/execution';
import {
  kalshiTestCredentials, startKalshiPortfolioSim, type KalshiPortfolioSim, type KalshiPortfolioSimOptions,
} from '../helpers/kalshiPortfolioSim';
import { GAME_EVENT } from '../helpers/scanWorld';

/**
 * Kalshi's order writes as they are since 2026: Create / Cancel / Amend Order V2 under
 * /portfolio/events/orders. The simulator answers the retired V1 writes like the venue does, so
 * any code path still using them fails here; the client never takes a reply without an order for
 * a placed order; retries stop at the caller's deadline; 429s come without Retry-After.
 */

const V2 = '/portfolio/events/orders';
const KC = 'KXNFLGAME-26NOV27KCDAL-KC';
const THIN = 'KXNFLGAME-26NOV27KCDAL-DAL';
const TICK = 'KXNFLGAME-26NOV27NYGPHI-NYG';
const MARKETS: KalshiPortfolioSimOptions['markets'] = {
  [KC]: { yes: { ask: '0.5600', bid: '0.5400', depth: 100 }, no: { ask: '0.4600', bid: '0.4400', depth: 100 } },
  [THIN]: { yes: { ask: '0.4500', bid: '0.4300', depth: 4 }, no: { ask: '0.5700', bid: '0.5500', depth: 4 } },
  // A market on a 0.001 tick.
  [TICK]: { tick: '0.001', yes: { ask: '0.5230', bid: '0.5190', depth: 50 }, no: { ask: '0.4810', bid: '0.4770', depth: 50 } },
};

const { credentials, publicKey } = kalshiTestCredentials('key-v2');
const signingKey = { keyId: credentials.keyId, privateKey: createPrivateKey(credentials.privateKeyPem) };

let sim: KalshiPortfolioSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setup(simOptions: Partial<KalshiPortfolioSimOptions> = {}, options: Partial<KalshiExchangeOptions> = {}) {
  sim = await startKalshiPortfolioSim({ keyId: 'key-v2', publicKey, markets: MARKETS, ...simOptions });
  const sleeps: number[] = [];
  const failures: FailedAttempt[] = [];
  const exchange = new KalshiExchange({
    baseUrl: sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1000, writesPerSecond: 1000,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 5_000 }, lookupDelayMs: 100,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    onFailedAttempt: (f) => failures.push(f),
    ...options,
  });
  return { sim, exchange, sleeps, failures };
}

function buy(overrides: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest {
  return { ticker: KC, clientOrderId: 'v2-1', side: 'yes', action: 'buy', count: qty(10), type: 'limit', limitPrice: new Decimal('0.60'), ...overrides };
}

const money = (d: Decimal) => d.toFixed(4);

/** Every write the simulator received to a retired V1 order path (POST/DELETE /portfolio/orders…). */
function v1Writes(s: KalshiPortfolioSim): string[] {
  return s.requests
    .filter((r) => r.method !== 'GET' && /^\/trade-api\/v2\/portfolio\/orders(\/|$)/.test(r.path))
    .map((r) => `${r.method} ${r.path}`);
}

/** A signed raw request, as any client would send it. */
async function signed(s: KalshiPortfolioSim, method: string, path: string, body?: unknown) {
  const url = `${s.baseUrl}${path}`;
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...kalshiAuthHeaders(signingKey, method, new URL(url).pathname) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('the simulator answers the retired V1 order writes like Kalshi', () => {
  it.each([
    ['http410', 410],
    ['ok-with-error', 200],
  ] as const)('%s: every V1 write gets deprecated_v1_order_endpoint and no order; nothing is created or cancelled', async (shape, status) => {
    const { sim, exchange } = await setup({ v1WriteAnswer: shape });
    const resting = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40') }));
    const deprecated = { error: { code: 'deprecated_v1_order_endpoint', message: 'Please switch to the V2 endpoints' } };
    const v1Create = { ticker: KC, client_order_id: 'v1', side: 'yes', action: 'buy', count: 1, yes_price_dollars: '0.6000', type: 'limit' };
    expect(await signed(sim, 'POST', '/portfolio/orders', v1Create)).toEqual({ status, json: deprecated });
    expect(await signed(sim, 'DELETE', `/portfolio/orders/${resting.venueOrderId}`)).toEqual({ status, json: deprecated });
    expect(await signed(sim, 'POST', `/portfolio/orders/${resting.venueOrderId}/amend`, {})).toEqual({ status, json: deprecated });
    expect(await signed(sim, 'POST', `/portfolio/orders/${resting.venueOrderId}/decrease`, { reduce_by: 1 })).toEqual({ status, json: deprecated });
    expect(sim.orders().map((o) => [o.client_order_id, o.status])).toEqual([['v2-1', 'resting']]);
    // Reads on the same paths still work.
    expect((await signed(sim, 'GET', '/portfolio/orders')).status).toBe(200);
    expect((await signed(sim, 'GET', `/portfolio/orders/${resting.venueOrderId}`)).status).toBe(200);
  });
});

describe('the simulator speaks today\'s wire format when asked (defaults flip once the parsers take it)', () => {
  it('amountDecimals 6: dollar amounts with 6 decimals everywhere; _fp counts with 2; a seeded fractional holding in another market', async () => {
    const { sim, exchange } = await setup({
      amountDecimals: 6,
      seededHoldings: [{ ticker: 'KXNFLGAME-26NOV27NYGPHI-PHI', side: 'yes', count: '2.97', price: '0.4100' }],
    });
    // The create reply is parsed by the V2 module, which already reads 6-decimal averages.
    const order = await exchange.placeOrder(buy());
    expect(money(order.takerFees)).toBe('0.1800');
    const orders = (await signed(sim, 'GET', '/portfolio/orders')).json as { orders: Array<Record<string, string>> };
    expect(orders.orders[0]).toMatchObject({
      taker_fees_dollars: '0.180000', taker_fill_cost_dollars: '5.600000', maker_fees_dollars: '0.000000',
      fill_count_fp: '10.00', remaining_count_fp: '0.00', initial_count_fp: '10.00', yes_price_dollars: '0.6000',
    });
    const fills = (await signed(sim, 'GET', '/portfolio/fills')).json as { fills: Array<Record<string, unknown>> };
    expect(fills.fills.map((f) => [f.ticker, f.count_fp, f.fee_cost])).toEqual([
      [KC, '10.00', '0.180000'],
      ['KXNFLGAME-26NOV27NYGPHI-PHI', '2.97', '0.000000'],
    ]);
    const positions = (await signed(sim, 'GET', '/portfolio/positions')).json as { market_positions: Array<Record<string, unknown>> };
    expect(positions.market_positions.map((p) => [p.ticker, p.position_fp, p.market_exposure_dollars])).toEqual([
      [KC, '10.00', '5.600000'],
      ['KXNFLGAME-26NOV27NYGPHI-PHI', '2.97', '1.217700'],
    ]);
    // 1000 − 1.2177 (2.97 × 0.41) − 5.60 − 0.18
    expect(((await signed(sim, 'GET', '/portfolio/balance')).json as { balance_dollars: string }).balance_dollars).toBe('993.002300');
  });
});

describe('no code path writes to /portfolio/orders', () => {
  it('placeOrder, cancelOrder, amendOrder and the reads use V2 writes only, even when V1 would answer 2xx', async () => {
    const { sim, exchange } = await setup({ v1WriteAnswer: 'ok-with-error' });
    const resting = await exchange.placeOrder(buy({ ticker: THIN, limitPrice: new Decimal('0.40') }));
    const amended = await exchange.amendOrder(resting, { limitPrice: new Decimal('0.41') });
    await exchange.cancelOrder(amended.venueOrderId);
    await exchange.placeOrder(buy({ clientOrderId: 'v2-2', type: 'market', limitPrice: undefined }));
    await exchange.placeOrder(buy({ clientOrderId: 'v2-3', action: 'sell', type: 'market', limitPrice: undefined, count: qty(4) }));
    await exchange.findOrder('v2-2', KC);
    await Promise.all([exchange.listOrders(), exchange.getFills(), exchange.getPositions(), exchange.getBalance(), exchange.getQuote(KC)]);
    expect(v1Writes(sim)).toEqual([]);
    expect(sim.requestsTo('POST', V2)).toHaveLength(3);
    expect(sim.requestsTo('DELETE', `${V2}/${resting.venueOrderId}`)).toHaveLength(1);
    expect(sim.requestsTo('POST', `${V2}/${resting.venueOrderId}/amend`)).toHaveLength(1);
  });
});

describe('entry and exit end to end on the simulator (the handlers\' shared code)', () => {
  const db = useDatabasePerTest({ poolMax: 10 });

  it('execute-entry buys, execute-exit sells reduce-only through V2; books and venue agree; no V1 write', async () => {
    const messages = await scannedEntries(db().pool, { strategies: 1, executionMode: 'live' });
    expect(messages).toHaveLength(1);
    const ticker = `${GAME_EVENT}-KC`;
    const { sim, exchange } = await setup({
      v1WriteAnswer: 'ok-with-error', balanceDollars: '10000.0000',
      markets: { [ticker]: { yes: { ask: '0.6000', bid: '0.5800', depth: 10_000 }, no: { ask: '0.4200', bid: '0.4000', depth: 10_000 } } },
    });
    const runtime = { pool: db().pool, exchange };
    expect((await runExecuteEntry(sqsEvent(sqsRecord(messages[0]!)), lambdaContext, runtime)).batchItemFailures).toEqual([]);
    const { rows: [position] } = await db().pool.query(
      `SELECT position_id, side, quantity FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = 'live'`,
    );
    expect(position.quantity.gt(0)).toBe(true);
    const { rows: [request] } = await db().pool.query(
      `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, triggers)
       SELECT $1, position_version_id, 'trailing_stop', 'HIGH', $2, '[]'::jsonb FROM positions WHERE position_id = $1 AND row_current_ind
       RETURNING exit_request_id`,
      [position.position_id, position.quantity.toFixed()],
    );
    const outcome = await executeExit({ pool: db().pool, exchange }, {
      version: 1, exitRequestId: request.exit_request_id, positionId: position.position_id, priority: 'HIGH', createdAt: new Date().toISOString(),
    });
    expect(outcome).toMatchObject({ outcome: 'filled', filledQuantity: position.quantity });
    const creates = sim.requestsTo('POST', V2).map((r) => JSON.parse(r.body) as CreateOrderV2Request);
    const held = position.side as 'yes' | 'no';
    // Entry: buy YES = bid, buy NO = ask. Exit: the other book side, reduce-only.
    expect(creates.map((c) => [c.side, c.reduce_only ?? false])).toEqual([
      [held === 'yes' ? 'bid' : 'ask', false],
      [held === 'yes' ? 'ask' : 'bid', true],
    ]);
    expect(v1Writes(sim)).toEqual([]);
    expect(sim.positions().map((p) => p.position_fp)).toEqual(['0.00']);
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.desyncs).toEqual([]);
    expect(result.balance.difference).toBe('0.0000');
  });
});

describe('a reply without an order is never a placed order', () => {
  it('a 2xx holding only deprecated_v1_order_endpoint, the order taken anyway: looked up, that order returned', async () => {
    const { sim, exchange, failures } = await setup();
    sim.failures[`POST ${V2}`] = { status: 200, times: 1, afterCommit: true, code: 'deprecated_v1_order_endpoint', message: 'Please switch to the V2 endpoints' };
    const order = await exchange.placeOrder(buy());
    expect(order.venueOrderId).toBe(sim.orders()[0]!.order_id);
    expect(sim.orders()).toHaveLength(1);
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(sim.requestsTo('GET', '/portfolio/orders').length).toBeGreaterThan(0);
    expect(failures).toMatchObject([{ method: 'POST', status: 200, final: true }]);
  });

  it('a 2xx holding only deprecated_v1_order_endpoint, nothing taken: OrderUncertainError after the lookups, no second create', async () => {
    const { sim, exchange } = await setup({}, { lookupAttempts: 2 });
    sim.failures[`POST ${V2}`] = { status: 200, times: 1, code: 'deprecated_v1_order_endpoint', message: 'Please switch to the V2 endpoints' };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as Error).message).toMatch(/got no order back \(HTTP 200 without an order \(body holds an error: .*deprecated_v1_order_endpoint/);
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(sim.requestsTo('GET', '/portfolio/orders')).toHaveLength(2);
    expect(sim.orders()).toEqual([]);
  });

  it('an empty 2xx, the order taken: looked up, that order returned', async () => {
    const { sim, exchange } = await setup();
    sim.failures[`POST ${V2}`] = { status: 201, times: 1, afterCommit: true, emptyBody: true };
    const order = await exchange.placeOrder(buy());
    expect(order).toMatchObject({ venueOrderId: sim.orders()[0]!.order_id, status: 'executed', filledCount: 10 });
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
  });

  it('an empty 2xx every time, nothing taken: OrderUncertainError, never an order', async () => {
    const { sim, exchange } = await setup({}, { retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 }, lookupAttempts: 1 });
    sim.failures[`POST ${V2}`] = { status: 200, times: 99, emptyBody: true };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as Error).message).toMatch(/could not be confirmed after 2 attempts \(last: HTTP 200 without an order \(empty body\)\)/);
    // Each create was followed by a lookup before the next.
    expect(sim.requests.map((r) => `${r.method} ${r.path.replace('/trade-api/v2', '')}`)).toEqual([
      `POST ${V2}`, 'GET /portfolio/orders', `POST ${V2}`, 'GET /portfolio/orders',
    ]);
    expect(sim.orders()).toEqual([]);
  });

  it('a 410 (the shape of a retired endpoint) is looked up, never retried, never success', async () => {
    const { sim, exchange } = await setup({}, { lookupAttempts: 1 });
    sim.failures[`POST ${V2}`] = { status: 410, times: 1, code: 'deprecated_v1_order_endpoint' };
    await expect(exchange.placeOrder(buy())).rejects.toBeInstanceOf(OrderUncertainError);
    expect(sim.requestsTo('POST', V2)).toHaveLength(1);
    expect(sim.requestsTo('GET', '/portfolio/orders')).toHaveLength(1);
  });
});

describe('V2 orders: YES and NO, limit, immediate-or-cancel, partial fills, a 0.001 tick', () => {
  it('a NO buy is an ask at exactly 1 − p on a 0.001-tick market; an off-tick price is refused by the venue', async () => {
    const { sim, exchange } = await setup();
    const order = await exchange.placeOrder(buy({ ticker: TICK, side: 'no', limitPrice: new Decimal('0.481'), count: qty(5) }));
    const body = JSON.parse(sim.requestsTo('POST', V2)[0]!.body) as CreateOrderV2Request;
    expect([body.side, body.price, body.count]).toEqual(['ask', '0.5190', '5.00']);
    expect(new Decimal(body.price).plus('0.481').equals(1)).toBe(true);
    expect(order).toMatchObject({ side: 'no', action: 'buy', status: 'executed', filledCount: 5, remainingCount: 0 });
    expect(money(order.limitPrice)).toBe('0.4810');
    expect(money(order.takerFillCost)).toBe('2.4050'); // 5 × 0.481
    const [fill] = await exchange.getFills({ venueOrderId: order.venueOrderId });
    expect(money(fill!.price)).toBe('0.4810');
    const offTick = await exchange.placeOrder(buy({ ticker: TICK, clientOrderId: 'v2-off', limitPrice: new Decimal('0.5235') })).catch((e: unknown) => e);
    expect(offTick).toBeInstanceOf(OrderRejectedError);
    expect((offTick as OrderRejectedError).code).toBe('invalid_price');
    // On a cent market the same sub-cent price is off the tick too.
    const offCent = await exchange.placeOrder(buy({ clientOrderId: 'v2-off2', limitPrice: new Decimal('0.561') })).catch((e: unknown) => e);
    expect((offCent as OrderRejectedError).code).toBe('invalid_price');
    // The market payload carries the tick.
    const market = (await signed(sim, 'GET', `/markets/${TICK}`)).json as GetMarketResponse;
    expect([market.market.price_level_structure, market.market.price_ranges]).toEqual(['deci_cent', [{ start: '0.0000', end: '1.0000', step: '0.0010' }]]);
  });

  it('a limit rests one tick under the ask and an amend walks it up by one tick (0.001) into a fill', async () => {
    const { sim, exchange } = await setup();
    const resting = await exchange.placeOrder(buy({ ticker: TICK, limitPrice: new Decimal('0.522'), count: qty(3) }));
    expect(resting).toMatchObject({ status: 'resting', filledCount: 0, remainingCount: 3 });
    const walked = await exchange.amendOrder(resting, { limitPrice: resting.limitPrice.plus('0.001') });
    expect(JSON.parse(sim.requestsTo('POST', `${V2}/${resting.venueOrderId}/amend`)[0]!.body)).toEqual({
      ticker: TICK, side: 'bid', price: '0.5230', count: '3.00', client_order_id: 'v2-1',
    });
    expect(walked).toMatchObject({ venueOrderId: resting.venueOrderId, status: 'executed', filledCount: 3 });
    expect(money(walked.limitPrice)).toBe('0.5230');
    const refused = await exchange.amendOrder(walked, { limitPrice: new Decimal('0.53') }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OrderRejectedError);
    expect((refused as Error).message).toMatch(/only a resting order can be amended/);
  });

  it('partial fills: immediate-or-cancel reports canceled with what filled, good-till-canceled rests the rest; from the reply alone', async () => {
    const { sim, exchange } = await setup();
    const ioc = await exchange.placeOrder(buy({ ticker: THIN, type: 'market', limitPrice: new Decimal('0.46') }));
    expect(ioc).toMatchObject({ status: 'canceled', filledCount: 4, remainingCount: 0, initialCount: 10 });
    expect(money(ioc.takerFillCost)).toBe('1.8000');
    sim.setMarket(THIN, MARKETS[THIN]!);
    const gtc = await exchange.placeOrder(buy({ ticker: THIN, clientOrderId: 'v2-2', limitPrice: new Decimal('0.45') }));
    expect(gtc).toMatchObject({ status: 'resting', filledCount: 4, remainingCount: 6 });
    // No read-back: the flat V2 replies said all of it.
    expect(sim.requests.filter((r) => r.method === 'GET')).toEqual([]);
    // And the venue agrees with what the replies said.
    for (const placed of [ioc, gtc]) {
      const read = await exchange.getOrder(placed.venueOrderId);
      expect([read.status, read.filledCount, read.remainingCount, money(read.takerFillCost), money(read.takerFees)])
        .toEqual([placed.status, placed.filledCount, placed.remainingCount, money(placed.takerFillCost), money(placed.takerFees)]);
    }
  });

  it('reads the order back when the reply does not settle it (remaining on an immediate-or-cancel order)', async () => {
    const { sim, exchange } = await setup({
      transformResponse: (key, json) => (key === `POST ${V2}` ? { ...(json as object), remaining_count: '6.00' } : json),
    });
    const order = await exchange.placeOrder(buy({ ticker: THIN, type: 'market', limitPrice: new Decimal('0.46') }));
    expect(order).toMatchObject({ status: 'canceled', filledCount: 4, remainingCount: 0 });
    expect(sim.requestsTo('GET', `/portfolio/orders/${order.venueOrderId}`)).toHaveLength(1);
  });
});

describe('retries bounded by the caller\'s remaining time', () => {
  /** A clock that only the injected sleep moves: no real waiting, no dependence on machine speed. */
  function deadlineClock(remainingMs: number) {
    /** `usableAfterSleeps`: time left before deadline − margin after each pause; a request must still fit. */
    const clock = { now: 0, usableAfterSleeps: [] as number[] };
    return {
      clock,
      options: {
        remainingTimeMs: () => remainingMs - clock.now,
        deadlineMarginMs: 1_000,
        timeoutMs: 1_000,
        retry: { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 8_000 },
        sleep: async (ms: number) => {
          clock.now += ms;
          clock.usableAfterSleeps.push(remainingMs - clock.now - 1_000);
        },
      } satisfies Partial<KalshiExchangeOptions>,
    };
  }

  it('a read stops retrying when the next retry could not finish before the deadline: ApiError', async () => {
    const { clock, options } = deadlineClock(6_000);
    const { sim, exchange, failures } = await setup({}, options);
    sim.failures['GET /portfolio/balance'] = { status: 503, times: 99 };
    const error = await exchange.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(/HTTP 503.*\(after 4 attempts\); no time left to retry before the caller's deadline/);
    // Delays 500, 1000, 2000 (jitter 0.5); a fourth (4000) + a 1000 ms attempt would pass 6000 − 1000.
    expect(clock.now).toBe(3_500);
    expect(Math.min(...clock.usableAfterSleeps)).toBeGreaterThanOrEqual(1_000);
    expect(sim.requestsTo('GET', '/portfolio/balance')).toHaveLength(4);
    expect(failures.map((f) => f.final)).toEqual([false, false, false, true]);
  });

  it('a create that fails ambiguously ends as OrderUncertainError at the deadline, every lookup and pause inside it', async () => {
    const { clock, options } = deadlineClock(6_000);
    const { sim, exchange } = await setup({}, { ...options, lookupAttempts: 3, lookupDelayMs: 500 });
    sim.failures[`POST ${V2}`] = { status: 500, times: 99 };
    const error = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderUncertainError);
    expect((error as Error).message).toMatch(/no time left to try again before the caller's deadline/);
    // After every pause (backoff or lookup delay) a whole request (timeoutMs) still fits.
    expect(clock.usableAfterSleeps.length).toBeGreaterThan(3);
    expect(Math.min(...clock.usableAfterSleeps)).toBeGreaterThanOrEqual(1_000);
    expect(sim.orders()).toEqual([]);
    // Never a create without a lookup after the failure before it.
    const sequence = sim.requests.map((r) => (r.method === 'POST' ? 'create' : 'lookup'));
    expect(sequence[0]).toBe('create');
    for (let i = 1; i < sequence.length; i++) if (sequence[i] === 'create') expect(sequence[i - 1]).toBe('lookup');
  });

  it('with no time left, nothing is sent: a create is "not placed", a read an ApiError', async () => {
    const { options } = deadlineClock(900);
    const { sim, exchange } = await setup({}, options);
    const create = await exchange.placeOrder(buy()).catch((e: unknown) => e);
    expect(create).toBeInstanceOf(ApiError);
    expect((create as Error).message).toMatch(/not sent, no time left before the caller's deadline; order v2-1 was not placed/);
    await expect(exchange.getBalance()).rejects.toThrow(/not sent, no time left before the caller's deadline/);
    expect(sim.requests).toEqual([]);
  });
});

describe('rate limits (Kalshi Basic tier) and 429 without Retry-After', () => {
  const TOO_MANY = { error: 'too many requests' };

  it('a read throttled without Retry-After backs off with jitter, never at once', async () => {
    const { sim, exchange, sleeps } = await setup({}, { random: () => 0, retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5_000 } });
    sim.failures['GET /portfolio/balance'] = { status: 429, times: 2, body: TOO_MANY };
    expect(money(await exchange.getBalance())).toBe('1000.0000');
    // Even with the jitter source at 0, at least half the ceiling (100, then 200) is waited.
    expect(sleeps).toEqual([50, 100]);
  });

  it('a create throttled without Retry-After is sent again after a jittered pause, no lookup: one order', async () => {
    const { sim, exchange, sleeps } = await setup({}, { random: () => 1, retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5_000 } });
    sim.failures[`POST ${V2}`] = { status: 429, times: 1, body: TOO_MANY };
    const order = await exchange.placeOrder(buy());
    expect(sim.orders().map((o) => o.order_id)).toEqual([order.venueOrderId]);
    expect(sim.requestsTo('POST', V2)).toHaveLength(2);
    expect(sim.requestsTo('GET', '/portfolio/orders')).toHaveLength(0);
    expect(sleeps).toEqual([100]);
  });

  it('the bucket counts Kalshi tokens: 10 a request, a second\'s budget at once, then paced', async () => {
    let now = 0;
    const waits: number[] = [];
    const bucket = kalshiBucket(10, () => now, async (ms) => {
      waits.push(ms);
      now += ms;
    });
    for (let i = 0; i < 10; i++) await bucket.take(10);
    expect(waits).toEqual([]);
    await bucket.take(10);
    await bucket.take(10);
    expect(waits).toEqual([100, 100]);
  });
});

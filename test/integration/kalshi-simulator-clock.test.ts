import { createPrivateKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKalshiKeyPair, startKalshiPortfolioSim, type PortfolioState } from '../../local/sim/kalshiPortfolioSim';
import { loadScenario, type Scenario } from '../../local/sim/scenario';
import { KalshiSimulator } from '../../local/sim/simulator';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { kalshiAuthHeaders } from '../../shared/venues/kalshi/signing';

/**
 * The Kalshi simulator on the one clock (issue 17): what it answers is a function of the requests
 * and the clock's times only. Two simulators on ManualClocks given the same requests at the same
 * virtual times answer byte for byte the same (status, headers, body); the state at time t does
 * not depend on how often the venue was looked at before t; ids are sequence numbers that a
 * resumed simulator continues. Requests are signed with the clock's time, raw over HTTP, so the
 * bytes compared are the bytes served.
 */

const START_MS = Date.parse('2026-09-13T17:00:00Z');
const EVENT = 'KXNFLGAME-26SEP13BUFKC';
const HOME = `${EVENT}-KC`;
const AWAY = `${EVENT}-BUF`;
const KEY_ID = 'sim-clock-test-key';
const keys = generateKalshiKeyPair();
const privateKey = createPrivateKey(keys.privateKeyPem);

const sims: KalshiSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

interface Venue {
  sim: KalshiSimulator;
  clock: ManualClock;
  /** Moves the clock to sim second t. */
  at(t: number): Promise<void>;
  /** One request signed at the clock's time; the answer as text: status, every header, body. */
  call(method: string, path: string, body?: unknown): Promise<string>;
  json(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

let scenario: Scenario;

async function venue(options: { t?: number; portfolio?: PortfolioState; balance?: string } = {}): Promise<Venue> {
  scenario ??= await loadScenario('comeback');
  const clock = new ManualClock(START_MS + (options.t ?? 0) * 1000);
  const sim = new KalshiSimulator({
    scenario, clock, startMs: scenario.startMs, runTag: '777', keyId: KEY_ID, publicKey: keys.publicKey,
    balanceDollars: options.balance ?? '10000', portfolio: options.portfolio,
  });
  sims.push(sim);
  await sim.start();
  const send = (method: string, path: string, body?: unknown) => {
    const full = `/trade-api/v2${path}`;
    return fetch(`${sim.url}${full}`, {
      method,
      headers: {
        ...kalshiAuthHeaders({ keyId: KEY_ID, privateKey }, method, full.split('?')[0]!, () => clock.nowMs()),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
  return {
    sim, clock,
    at: (t) => clock.set(START_MS + t * 1000),
    async call(method, path, body) {
      const response = await send(method, path, body);
      const headers = [...response.headers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`);
      return `${method} ${path} → ${response.status}\n${headers.join('\n')}\n\n${await response.text()}`;
    },
    async json(method, path, body) {
      const response = await send(method, path, body);
      return { status: response.status, json: await response.json() };
    },
  };
}

/** A V2 order body: `side` bid buys YES, ask buys NO (or, reduce_only, sells YES). */
const v2 = (fields: Record<string, unknown>) => ({
  ticker: HOME, side: 'bid', count: '10.00', time_in_force: 'good_till_canceled', self_trade_prevention_type: 'maker', ...fields,
});

/** A session of a client over the game: market data, the scoreboard, orders of every kind, the account. */
async function session(v: Venue): Promise<string[]> {
  const out: string[] = [];
  const log = async (method: string, path: string, body?: unknown) => out.push(await v.call(method, path, body));
  const espn = async () => {
    const response = await fetch(`${v.sim.espnBaseUrl}/football/nfl/scoreboard?dates=20260913`);
    out.push(`ESPN ${response.status} ${response.headers.get('date')}\n${await response.text()}`);
  };
  await v.at(60);
  await log('GET', '/exchange/status');
  await log('GET', `/events?series_ticker=KXNFLGAME&status=open&with_nested_markets=true`);
  await log('GET', `/markets?tickers=${HOME},${AWAY}`);
  await log('GET', `/markets/${HOME}/orderbook`);
  await espn();
  // A taker buy without a client order id (the venue names it), a resting buy, a resting sell.
  await log('POST', '/portfolio/events/orders', v2({ price: '0.6000', count: '20.00' }));
  await log('POST', '/portfolio/events/orders', v2({ client_order_id: 'low', price: '0.3000' }));
  await log('POST', '/portfolio/events/orders', v2({ client_order_id: 'sell', side: 'ask', reduce_only: true, price: '0.6200' }));
  await v.at(75.25);
  await log('GET', '/portfolio/orders');
  await log('DELETE', '/portfolio/events/orders/ord-777-000003');
  await v.at(540); // KC's touchdown lifts the bid through the resting sell
  await log('GET', '/portfolio/fills');
  await log('GET', '/portfolio/positions');
  await log('GET', `/markets/${HOME}`);
  await espn();
  await log('POST', '/portfolio/events/orders', v2({ ticker: AWAY, client_order_id: 'buf', price: '0.3900', count: '5.00' }));
  await v.at(4080); // settled
  await log('GET', '/portfolio/settlements');
  await log('GET', '/portfolio/balance');
  await log('GET', '/portfolio/orders');
  await log('GET', `/markets?tickers=${HOME},${AWAY}`);
  await espn();
  return out;
}

/** Resting buys placed before the halftime panic: the home ask falls to 0.66 from 2010 to 2160 and is back at 0.76 by 2400. */
async function restingBuysBeforeThePanic(v: Venue) {
  await v.at(1980);
  // The older one expires at 2020, between two quote steps, after one fill of the book's 1000.
  const older = await v.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'ttl', price: '0.6700', count: '1500.00', expiration_time: START_MS / 1000 + 2020 }));
  const larger = await v.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'big', price: '0.6600', count: '3500.00' }));
  expect([older.json.remaining_count, larger.json.remaining_count]).toEqual(['1500.00', '3500.00']);
}
describe('the simulator on a ManualClock: the same requests at the same times, the same answers', () => {
  it('two simulators answer a whole session byte for byte the same, every time and id read from the clock and sequences', async () => {
    const first = await session(await venue());
    const second = await session(await venue());
    expect(second).toEqual(first);

    // Not vacuous: the session traded, filled, settled, and its times are the virtual ones.
    const text = first.join('\n');
    expect(text).toContain('"order_id":"ord-777-000001","client_order_id":"sim-777-000001"');
    expect(text).toContain('"fill_id":"fill-777-000002","trade_id":"trade-777-000002"');
    expect(text).toContain('"settled_time":"2026-09-13T18:08:00.000Z"');
    expect(first[0]).toContain('date: Sun, 13 Sep 2026 17:01:00 GMT');
    expect(text).toContain('"close_time":"2026-09-13T18:07:00.000Z"');
    expect(first.at(-2)).toContain('"updated_time":"2026-09-13T18:08:00.000Z"'); // settled
    expect(text).toContain('"date":"2026-09-13T17:02Z"');
    // The resting sell filled at the 15 s step that reached it, stamped with that instant, not the request's.
    const sold = /"fill_id":"fill-777-\d+"[^}]*"action":"sell"[^}]*"created_time":"([^"]+)"/.exec(text);
    expect(sold?.[1]).toBe('2026-09-13T17:08:00.000Z'); // sim second 480, when the bid first reaches 0.62
    expect(text).not.toMatch(/\d{8}-[0-9a-f]{4}-/); // no UUID anywhere
  });

  it('signatures are checked against the clock: a request signed with the machine\'s time is refused on a virtual day', async () => {
    const v = await venue({ t: 60 });
    expect((await v.json('GET', '/portfolio/balance')).status).toBe(200);
    const full = '/trade-api/v2/portfolio/balance';
    const machineSigned = await fetch(`${v.sim.url}${full}`, { headers: kalshiAuthHeaders({ keyId: KEY_ID, privateKey }, 'GET', full, () => Date.now()) });
    expect(machineSigned.status).toBe(401);
    expect(await machineSigned.json()).toEqual({ error: { code: 'authentication_error', message: 'KALSHI-ACCESS-TIMESTAMP is too far from the server clock' } });
    const late = await fetch(`${v.sim.url}${full}`, {
      headers: kalshiAuthHeaders({ keyId: KEY_ID, privateKey }, 'GET', full, () => v.clock.nowMs() - 5 * 60_000 - 1),
    });
    expect(late.status).toBe(401);
  });
});

describe('without a clock given, the venue reads the clock installed in the process', () => {
  it('a portfolio sim created before a ManualClock is installed serves that clock\'s time once it is', async () => {
    const portfolio = await startKalshiPortfolioSim({ keyId: KEY_ID, publicKey: keys.publicKey, markets: { [HOME]: { yes: { bid: '0.40', ask: '0.42' } } } });
    const clock = new ManualClock(Date.parse('2026-10-04T18:30:00.250Z'));
    const restore = useClock(clock);
    try {
      const full = '/trade-api/v2/portfolio/events/orders';
      const response = await fetch(`${portfolio.url}${full}`, {
        method: 'POST',
        headers: { ...kalshiAuthHeaders({ keyId: KEY_ID, privateKey }, 'POST', full, () => clock.nowMs()), 'content-type': 'application/json' },
        body: JSON.stringify(v2({ price: '0.4200', count: '1.00' })),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('date')).toBe('Sun, 04 Oct 2026 18:30:00 GMT');
      expect(portfolio.fills()[0]!.created_time).toBe('2026-10-04T18:30:00.250Z');
    } finally {
      restore();
      await portfolio.close();
    }
  });
});

describe('the state at time t does not depend on how often the venue was looked at before t', () => {
  /** What a client reads at the clock's time, then the whole account the venue holds after that. */
  const stateOf = async (v: Venue) => ({
    orders: await v.call('GET', '/portfolio/orders'),
    fills: await v.call('GET', '/portfolio/fills'),
    book: await v.call('GET', `/markets/${HOME}/orderbook`),
    markets: await v.call('GET', `/markets?tickers=${HOME},${AWAY}`),
    account: JSON.stringify(v.sim.portfolio.exportState()),
  });

  it('update() every second of the clock or only once at t: the same fills, at the same instants, and the same books', async () => {
    const often = await venue();
    await restingBuysBeforeThePanic(often);
    for (let t = 1981; t <= 2400; t++) {
      await often.at(t);
      often.sim.update();
    }
    const once = await venue();
    await restingBuysBeforeThePanic(once);
    await once.at(2400);

    const [a, b] = [await stateOf(often), await stateOf(once)];
    expect(b).toEqual(a);
    // Not vacuous: the panic filled both, one 15 s step at a time (1000 a step), and the TTL cut the older one.
    const fills = JSON.parse(a.fills.slice(a.fills.indexOf('\n\n') + 2)).fills as { order_id: string; count_fp: string; created_time: string }[];
    expect(fills.reverse().map((f) => [f.order_id, f.count_fp, f.created_time])).toEqual([
      ['ord-777-000001', '1000.00', '2026-09-13T17:33:30.000Z'], // 2010: the older one first
      ['ord-777-000002', '1000.00', '2026-09-13T17:33:45.000Z'], // 2025: the older one expired at 2020
      ['ord-777-000002', '1000.00', '2026-09-13T17:34:00.000Z'],
      ['ord-777-000002', '1000.00', '2026-09-13T17:34:15.000Z'],
      ['ord-777-000002', '500.00', '2026-09-13T17:34:30.000Z'],
    ]);
    expect(a.orders).toContain('"client_order_id":"ttl"');
    expect(a.orders).toMatch(/"order_id":"ord-777-000001"[^}]*"status":"canceled"/);
  });

  it('also when a resumed simulator takes over mid-step: its books keep the depth already taken', async () => {
    const whole = await venue();
    const first = await venue();
    for (const v of [whole, first]) {
      await v.at(60);
      await v.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'take-600', price: '0.6000', count: '600.00', time_in_force: 'immediate_or_cancel' }));
    }
    // Saved as the runtime saves it (JSON) and resumed by a new simulator at the same instant.
    const saved = JSON.parse(JSON.stringify(first.sim.portfolio.exportState())) as PortfolioState;
    await first.sim.close();
    const resumed = await venue({ t: 60, portfolio: saved, balance: '1' });
    for (const v of [whole, resumed]) {
      await v.at(70); // the same 15 s step: 400 of the ask's 1000 are left
      const rest = await v.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'take-more', price: '0.6000', count: '600.00', time_in_force: 'immediate_or_cancel' }));
      expect(rest.json.fill_count).toBe('400.00');
      await restingBuysBeforeThePanic(v);
      await v.at(2400);
    }
    expect(await stateOf(resumed)).toEqual(await stateOf(whole));
  });
});

describe('an account saved before the venue kept its books', () => {
  it('resumes at the quote refresh in force: no fill is made up at an instant before the resume', async () => {
    const first = await venue();
    await restingBuysBeforeThePanic(first);
    const { quotes: _quotes, quotesAsOfMs: _asOf, ...older } = JSON.parse(JSON.stringify(first.sim.portfolio.exportState())) as PortfolioState;
    await first.sim.close();
    // Resumed after the panic (ask 0.76 at 2400): the buys at 0.66 and 0.67 still rest, unfilled.
    const resumed = await venue({ t: 2400, portfolio: older });
    const orders = (await resumed.json('GET', '/portfolio/orders')).json.orders as { client_order_id: string; status: string }[];
    expect(orders.map((o) => [o.client_order_id, o.status])).toEqual([['big', 'resting'], ['ttl', 'canceled']]);
    expect((await resumed.json('GET', '/portfolio/fills')).json.fills).toEqual([]);
  });
});

describe('ids are sequence numbers, continued by a resumed simulator', () => {
  it('orders, fills, trades and a defaulted client order id share one sequence; exportState/importState goes on from it', async () => {
    const first = await venue({ t: 60 });
    const a = await first.json('POST', '/portfolio/events/orders', v2({ price: '0.6000' }));
    const b = await first.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'rest', price: '0.3000' }));
    expect([a.json.order_id, a.json.client_order_id, b.json.order_id]).toEqual(['ord-777-000001', 'sim-777-000001', 'ord-777-000003']);
    expect((await first.json('GET', '/portfolio/fills')).json.fills.map((f: { fill_id: string; trade_id: string }) => [f.fill_id, f.trade_id]))
      .toEqual([['fill-777-000002', 'trade-777-000002']]);

    const saved = JSON.parse(JSON.stringify(first.sim.portfolio.exportState())) as PortfolioState;
    await first.sim.close();
    const second = await venue({ t: 60, portfolio: saved });
    const c = await second.json('POST', '/portfolio/events/orders', v2({ price: '0.6000', count: '1.00' }));
    expect([c.json.order_id, c.json.client_order_id]).toEqual(['ord-777-000004', 'sim-777-000004']);
    expect((await second.json('GET', '/portfolio/fills')).json.fills.map((f: { fill_id: string }) => f.fill_id)).toEqual(['fill-777-000005', 'fill-777-000002']);
    // A client order id of the saved account is still taken.
    expect((await second.json('POST', '/portfolio/events/orders', v2({ client_order_id: 'rest', price: '0.3000' }))).status).toBe(409);
  });
});

import { createPrivateKey } from 'node:crypto';
import type { Settlement } from 'kalshi-typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { loadScenario, schedule, type Scenario } from '../../local/sim/scenario';
import { generateKalshiKeyPair, type PortfolioState } from '../../local/sim/kalshiPortfolioSim';
import { KalshiSimulator, type SimGame } from '../../local/sim/simulator';
import { ManualClock } from '../../shared/clock/clock';
import { Decimal } from '../../shared/domain/decimal';
import { kalshiFee } from '../../shared/domain/fees';
import { OrderRejectedError, type PlaceOrderRequest } from '../../shared/exchange/types';
import { EspnScoreboardClient } from '../../shared/feeds/espn/scoreboard';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { kalshiAuthHeaders } from '../../shared/venues/kalshi/signing';
import { qty } from '../../shared/domain/quantity';

/**
 * The local runtime's venue and feed (local/sim/simulator.ts) playing the comeback scenario, read
 * and traded through Precog's REAL clients over HTTP: KalshiClient (market data), the ESPN
 * scoreboard client and KalshiExchange (signed portfolio requests). The simulator runs on a
 * ManualClock the test moves, from the scenario's fixed start (2026-09-13T17:00Z, sim second 0).
 */

const START_MS = Date.parse('2026-09-13T17:00:00Z');
const EVENT = 'KXNFLGAME-26SEP13BUFKC';
const HOME = `${EVENT}-KC`;
const AWAY = `${EVENT}-BUF`;
const KEY_ID = 'sim-test-key';
// One key pair for the file: RSA generation is the slow part.
const keys = generateKalshiKeyPair();
const ONE = new Decimal(1);
const TAKER = new Decimal('0.07');
const MAKER = new Decimal('0.0175');

// Sim seconds of the comeback script (default timing: Q1 at 120, Q2 at 1080, Q3 at 2160, Q4 at 3120).
const PREGAME = 60;
const Q1_8 = 540; // "Q1 8:00": KC touchdown
const END_Q1 = 1050; // "END Q1 +0:30"
const Q2_6 = 1620; // "Q2 6:00": KC touchdown, 14-3
const HALFTIME = 2010; // "HT +0:30": the market panics
const Q3_11 = 2400; // "Q3 11:00": 21-3
const FINAL = 4020;
const SETTLED = 4080;

const sims: KalshiSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

interface Harness {
  sim: KalshiSimulator;
  game: SimGame;
  scenario: Scenario;
  /** Moves the clock to sim second t. */
  at(t: number): Promise<void>;
  clock: ManualClock;
  exchange: KalshiExchange;
}

async function startSim(options: { offset?: number; portfolio?: PortfolioState; balance?: string } = {}): Promise<Harness> {
  const scenario = await loadScenario('comeback');
  expect(scenario.startMs).toBe(START_MS);
  const clock = new ManualClock(START_MS + (options.offset ?? 0) * 1000);
  const sim = new KalshiSimulator({
    scenario, clock, startMs: scenario.startMs, runTag: '777', keyId: KEY_ID, publicKey: keys.publicKeyPem,
    balanceDollars: options.balance ?? '1000', portfolio: options.portfolio,
    // KalshiExchange signs with the machine's clock, not this one (the signature's clock: see below).
    maxClockSkewMs: Number.MAX_SAFE_INTEGER,
  });
  sims.push(sim);
  await sim.start();
  const exchange = new KalshiExchange({
    baseUrl: sim.tradeApiUrl, environment: 'demo', credentials: { keyId: KEY_ID, privateKeyPem: keys.privateKeyPem },
    readsPerSecond: 1000, writesPerSecond: 1000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 },
  });
  return {
    sim, game: sim.games[0]!, scenario, clock, exchange,
    async at(t: number) {
      await clock.set(START_MS + t * 1000);
      expect(sim.now()).toBe(t);
    },
  };
}

/** The simulator's own view of the home market's YES quote at sim second t. */
const homeQuote = (h: Harness, t: number) => h.sim.snapshot(h.game, t).home;

const order = (overrides: Partial<PlaceOrderRequest>): PlaceOrderRequest => ({
  ticker: HOME, clientOrderId: `t-${Math.random().toString(36).slice(2)}`, side: 'yes', action: 'buy', count: qty(1), type: 'limit',
  limitPrice: new Decimal('0.50'), ...overrides,
});

/** GET a signed portfolio route that KalshiExchange has no method for. */
async function signedGet(sim: KalshiSimulator, path: string): Promise<{ status: number; json: unknown }> {
  const fullPath = `/trade-api/v2${path}`;
  const response = await fetch(`${sim.url}${fullPath}`, {
    headers: kalshiAuthHeaders({ keyId: KEY_ID, privateKey: createPrivateKey(keys.privateKeyPem) }, 'GET', fullPath),
  });
  return { status: response.status, json: await response.json() };
}

describe('the simulator through KalshiClient (market data)', () => {
  it('serves the game\'s event and markets, the away market mirroring the home one, and a matching order book', async () => {
    const h = await startSim();
    const client = new KalshiClient({ baseUrl: h.sim.tradeApiUrl, readsPerSecond: 1000 });
    expect(h.game).toMatchObject({ eventTicker: EVENT, homeTicker: HOME, awayTicker: AWAY, espnId: '40197770' });

    await h.at(PREGAME);
    const q = homeQuote(h, PREGAME);
    const series = await client.getSeries('KXNFLGAME');
    expect(series).toMatchObject({ ticker: 'KXNFLGAME', category: 'Sports' });

    const { events, rejected } = await client.listEvents({ seriesTicker: 'KXNFLGAME', status: 'open', withNestedMarkets: true });
    expect(rejected).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_ticker: EVENT, series_ticker: 'KXNFLGAME', title: 'Buffalo Bills at Kansas City Chiefs' });
    expect(events[0]!.markets.map((m) => m.ticker)).toEqual([HOME, AWAY]);

    const listed = await client.listMarkets({ tickers: [HOME, AWAY] });
    expect(listed.rejected).toEqual([]);
    const [home, away] = [HOME, AWAY].map((t) => listed.markets.find((m) => m.ticker === t)!);
    expect(home).toMatchObject({ eventTicker: EVENT, status: 'active', yesSubTitle: 'Kansas City Chiefs', volume: 250_000, result: null });
    expect(away).toMatchObject({ eventTicker: EVENT, status: 'active', yesSubTitle: 'Buffalo Bills' });
    expect(home!.yesBid!.eq(q.yesBid) && home!.yesAsk!.eq(q.yesAsk)).toBe(true);
    expect(home!.noBid!.eq(ONE.minus(q.yesAsk)) && home!.noAsk!.eq(ONE.minus(q.yesBid))).toBe(true);
    // The away market is the mirror of the home one.
    expect(away!.yesBid!.toFixed(4)).toBe(ONE.minus(home!.yesAsk!).toFixed(4));
    expect(away!.yesAsk!.toFixed(4)).toBe(ONE.minus(home!.yesBid!).toFixed(4));
    // The markets close at the final whistle, on the run's clock.
    expect(home!.closeTime!.getTime()).toBe(START_MS + FINAL * 1000);
    // The same markets nested in the event.
    expect(events[0]!.markets.find((m) => m.ticker === HOME)!.yesBid!.eq(q.yesBid)).toBe(true);

    const book = await client.getOrderbook(HOME);
    expect(book.yesBids).toEqual([{ price: expect.anything(), count: 1000 }]);
    expect(book.yesBids[0]!.price.eq(q.yesBid)).toBe(true);
    expect(book.bestYesAsk!.eq(q.yesAsk)).toBe(true);
    const awayBook = await client.getOrderbook(AWAY);
    expect(awayBook.yesBids[0]!.price.eq(ONE.minus(q.yesAsk))).toBe(true);
    expect(awayBook.bestYesAsk!.eq(ONE.minus(q.yesBid))).toBe(true);
    await expect(client.getOrderbook(`${EVENT}-NYG`)).rejects.toThrow(/404/);

    // The script moves the market: KC up 14-3 in the second quarter.
    await h.at(Q2_6);
    const later = homeQuote(h, Q2_6);
    expect(later.yesBid.gt(q.yesBid.plus('0.15'))).toBe(true);
    const moved = (await client.listMarkets({ tickers: [HOME] })).markets[0]!;
    expect(moved.yesBid!.eq(later.yesBid) && moved.yesAsk!.eq(later.yesAsk)).toBe(true);
    expect((await client.getOrderbook(HOME)).yesBids[0]!.price.eq(later.yesBid)).toBe(true);

    // The final whistle: no open event, the markets closed with an empty book.
    await h.at(FINAL);
    expect((await client.listEvents({ seriesTicker: 'KXNFLGAME', status: 'open', withNestedMarkets: true })).events).toEqual([]);
    const all = await client.listEvents({ seriesTicker: 'KXNFLGAME', withNestedMarkets: true });
    expect(all.rejected).toEqual([]);
    expect(all.events[0]!.markets.map((m) => m.status)).toEqual(['closed', 'closed']);
    const closedBook = await client.getOrderbook(HOME);
    expect([closedBook.yesBids, closedBook.noBids, closedBook.bestYesAsk]).toEqual([[], [], null]);

    // Settled: BUF won 27-24.
    await h.at(SETTLED);
    const settled = (await client.listMarkets({ tickers: [HOME, AWAY] })).markets;
    expect(settled.map((m) => [m.ticker, m.status, m.result, m.settlementValue?.toFixed(4)])).toEqual([
      [HOME, 'finalized', 'no', '0.0000'],
      [AWAY, 'finalized', 'yes', '1.0000'],
    ]);
  });
});

describe('the simulator through EspnScoreboardClient', () => {
  it('reports the scripted game: status and score at each part of the game clock', async () => {
    const h = await startSim();
    const espn = new EspnScoreboardClient({ baseUrl: h.sim.espnBaseUrl });
    const read = async (t: number) => {
      await h.at(t);
      const { games, rejected } = await espn.getScoreboard('nfl', '20260913');
      expect(rejected).toEqual([]);
      expect(games).toHaveLength(1);
      return games[0]!;
    };

    expect(await read(PREGAME)).toMatchObject({
      sport: 'nfl', externalGameId: '40197770', startTime: new Date('2026-09-13T17:02:00Z'), homeTeam: 'KC', awayTeam: 'BUF',
      homeTeamName: 'Kansas City Chiefs', awayTeamName: 'Buffalo Bills', homeScore: 0, awayScore: 0, status: 'scheduled', period: null,
      timeRemaining: null,
    });
    expect(await read(Q1_8)).toMatchObject({ status: 'live', period: 'Q1', timeRemaining: '8:00', homeScore: 7, awayScore: 0 });
    expect(await read(END_Q1)).toMatchObject({
      status: 'live', period: 'Q1', homeScore: 7, awayScore: 0, sportMetadata: expect.objectContaining({ statusName: 'STATUS_END_PERIOD' }),
    });
    expect(await read(Q2_6)).toMatchObject({ status: 'live', period: 'Q2', timeRemaining: '6:00', homeScore: 14, awayScore: 3 });
    expect(await read(HALFTIME)).toMatchObject({ status: 'halftime', period: 'Halftime', timeRemaining: null, homeScore: 14, awayScore: 3 });
    expect(await read(Q3_11)).toMatchObject({
      status: 'live', period: 'Q3', timeRemaining: '11:00', homeScore: 21, awayScore: 3,
      sportMetadata: expect.objectContaining({ periodNumber: 3, clockSeconds: 660, statusName: 'STATUS_IN_PROGRESS' }),
    });
    expect(await read(FINAL - 1)).toMatchObject({ status: 'live', period: 'Q4', timeRemaining: '0:01', homeScore: 24, awayScore: 27 });
    expect(await read(FINAL)).toMatchObject({ status: 'final', period: 'Final', homeScore: 24, awayScore: 27 });
    expect(await read(SETTLED + 600)).toMatchObject({ status: 'final', homeScore: 24, awayScore: 27 });
  });
});

describe('the simulator through KalshiExchange (signed portfolio)', () => {
  it('fills a buy at the ask, a resting sell as maker on a later quote, refuses orders after the whistle and pays the settlement', async () => {
    const h = await startSim();
    const { sim, exchange } = h;
    await h.at(PREGAME);
    expect((await exchange.getBalance()).toFixed(4)).toBe('1000.0000');
    const q0 = homeQuote(h, PREGAME);

    // The current quote and status.
    const quote = await exchange.getQuote(HOME);
    expect(quote!.status).toBe('active');
    expect([quote!.yes.bid!.toFixed(4), quote!.yes.ask!.toFixed(4)]).toEqual([q0.yesBid.toFixed(4), q0.yesAsk.toFixed(4)]);
    expect([quote!.no.bid!.toFixed(4), quote!.no.ask!.toFixed(4)]).toEqual([ONE.minus(q0.yesAsk).toFixed(4), ONE.minus(q0.yesBid).toFixed(4)]);
    expect(await exchange.getQuote(`${EVENT}-NYG`)).toBeNull();

    // A buy limited above the ask fills at the ask, as taker.
    const buy = await exchange.placeOrder(order({ clientOrderId: 'buy-kc', count: qty(20), limitPrice: q0.yesAsk.plus('0.03') }));
    expect(buy).toMatchObject({ status: 'executed', filledCount: 20, remainingCount: 0 });
    expect(buy.takerFillCost.toFixed(4)).toBe(q0.yesAsk.times(20).toFixed(4));
    const buyFee = kalshiFee(qty(20), q0.yesAsk, TAKER);
    expect(buy.takerFees.toFixed(4)).toBe(buyFee.toFixed(4));
    let expected = new Decimal(1000).minus(q0.yesAsk.times(20)).minus(buyFee);
    expect((await exchange.getBalance()).toFixed(4)).toBe(expected.toFixed(4));

    // A sell above the bid rests…
    const limit = homeQuote(h, Q1_8).yesBid;
    expect(limit.gt(q0.yesBid)).toBe(true);
    const sell = await exchange.placeOrder(order({ clientOrderId: 'sell-kc', action: 'sell', count: qty(10), limitPrice: limit }));
    expect(sell).toMatchObject({ status: 'resting', filledCount: 0, remainingCount: 10 });
    // …through a quote step that does not reach it…
    await h.at(PREGAME + 15);
    expect(homeQuote(h, PREGAME + 15).yesBid.lt(limit)).toBe(true);
    sim.update();
    expect((await exchange.getOrder(sell.venueOrderId)).status).toBe('resting');
    // …and fills as maker, at its limit, when KC's touchdown lifts the bid to it.
    await h.at(Q1_8);
    sim.update();
    const sold = await exchange.getOrder(sell.venueOrderId);
    expect(sold).toMatchObject({ status: 'executed', filledCount: 10, remainingCount: 0 });
    expect(sold.makerFillCost.toFixed(4)).toBe(limit.times(10).toFixed(4));
    const sellFee = kalshiFee(qty(10), limit, MAKER);
    expect([sold.makerFees.toFixed(4), sold.takerFees.toFixed(4)]).toEqual([sellFee.toFixed(4), '0.0000']);
    const fills = await exchange.getFills({ venueOrderId: sell.venueOrderId });
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ ticker: HOME, side: 'yes', action: 'sell', count: 10, isTaker: false });
    expect(fills[0]!.price.toFixed(4)).toBe(limit.toFixed(4));
    expected = expected.plus(limit.times(10)).minus(sellFee);
    expect((await exchange.getBalance()).toFixed(4)).toBe(expected.toFixed(4));
    expect((await exchange.getPositions()).map((p) => [p.ticker, p.position])).toEqual([[HOME, 10]]);

    // At halftime the market panics: buy BUF (the away market's YES, at 1 − KC's YES bid).
    await h.at(HALFTIME);
    const awayAsk = ONE.minus(homeQuote(h, HALFTIME).yesBid);
    const awayQuote = await exchange.getQuote(AWAY);
    expect(awayQuote!.yes.ask!.toFixed(4)).toBe(awayAsk.toFixed(4));
    const bufBuy = await exchange.placeOrder(order({ ticker: AWAY, clientOrderId: 'buy-buf', count: qty(10), limitPrice: awayAsk }));
    expect(bufBuy).toMatchObject({ status: 'executed', filledCount: 10 });
    const bufFee = kalshiFee(qty(10), awayAsk, TAKER);
    expected = expected.minus(awayAsk.times(10)).minus(bufFee);
    // A bid far below the market rests until settlement cancels it.
    const lowball = await exchange.placeOrder(order({ ticker: AWAY, clientOrderId: 'lowball', count: qty(5), limitPrice: new Decimal('0.02') }));
    expect(lowball.status).toBe('resting');
    expect((await exchange.getBalance()).toFixed(4)).toBe(expected.toFixed(4));

    // The final whistle: the market is closed and refuses orders.
    await h.at(FINAL);
    sim.update();
    const closed = await exchange.getQuote(HOME);
    expect(closed).toMatchObject({ status: 'closed', yes: { bid: null, ask: null }, no: { bid: null, ask: null } });
    const refused = await exchange.placeOrder(order({ ticker: AWAY, clientOrderId: 'too-late', limitPrice: new Decimal('0.98') })).then(
      () => null, (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(OrderRejectedError);
    expect((refused as OrderRejectedError).code).toBe('market_closed');
    expect((await exchange.listOrders()).map((o) => o.clientOrderId)).not.toContain('too-late');
    expect((await exchange.getBalance()).toFixed(4)).toBe(expected.toFixed(4));

    // Settlement: KC lost (its 10 YES pay nothing), BUF won (10 × $1), exactly.
    const before = await exchange.getBalance();
    await h.at(SETTLED);
    sim.update();
    const after = await exchange.getBalance();
    expect(after.minus(before).toFixed(4)).toBe('10.0000');
    expected = expected.plus(10);
    expect(after.toFixed(4)).toBe(expected.toFixed(4));
    expect(await exchange.getPositions()).toEqual([]);
    expect((await exchange.getOrder(lowball.venueOrderId)).status).toBe('canceled');
    expect((await exchange.getQuote(AWAY))!.status).toBe('finalized');

    const { status, json } = await signedGet(sim, '/portfolio/settlements');
    expect(status).toBe(200);
    const settlements = (json as { settlements: Settlement[] }).settlements;
    const byTicker = Object.fromEntries(settlements.map((s) => [s.ticker, s]));
    expect(Object.keys(byTicker).sort()).toEqual([AWAY, HOME].sort());
    expect(byTicker[AWAY]).toMatchObject({ event_ticker: EVENT, market_result: 'yes', yes_count_fp: '10.00', revenue: 1000 });
    // Kalshi emits dollar amounts with 6 decimals.
    expect(byTicker[AWAY]!.yes_total_cost_dollars).toBe(awayAsk.times(10).toFixed(6));
    expect(byTicker[HOME]).toMatchObject({ event_ticker: EVENT, market_result: 'no', yes_count_fp: '10.00', revenue: 0 });
    // Settling is once: a later update pays nothing more.
    await h.at(SETTLED + 300);
    sim.update();
    expect((await exchange.getBalance()).toFixed(4)).toBe(expected.toFixed(4));
    expect(((await signedGet(sim, '/portfolio/settlements')).json as { settlements: unknown[] }).settlements).toHaveLength(2);
    // The route is signed: without the headers it is refused.
    expect((await fetch(`${sim.url}/trade-api/v2/portfolio/settlements`)).status).toBe(401);
  });

  it('refuses a client whose key id the simulator does not know', async () => {
    const h = await startSim();
    const stranger = new KalshiExchange({
      baseUrl: h.sim.tradeApiUrl, environment: 'demo', credentials: { keyId: 'someone-else', privateKeyPem: keys.privateKeyPem },
      retry: { maxAttempts: 1 },
    });
    await expect(stranger.getBalance()).rejects.toThrow(/401/);
  });
});

describe('the simulator\'s account saved and restored (the local runtime\'s resume)', () => {
  it('exportState → a new simulator continues with the same balance, orders, fills and positions', async () => {
    const first = await startSim();
    await first.at(PREGAME);
    const q = homeQuote(first, PREGAME);
    await first.exchange.placeOrder(order({ clientOrderId: 'buy-1', count: qty(8), limitPrice: q.yesAsk }));
    const limit = homeQuote(first, Q1_8).yesBid;
    const resting = await first.exchange.placeOrder(order({ clientOrderId: 'sell-1', action: 'sell', count: qty(5), limitPrice: limit }));
    expect(resting.status).toBe('resting');
    const balance = await first.exchange.getBalance();
    const orders = await first.exchange.listOrders();
    const fills = await first.exchange.getFills();
    // What the runtime writes to its state file: JSON.
    const state = JSON.parse(JSON.stringify(first.sim.portfolio.exportState())) as PortfolioState;
    const savedAt = first.sim.now();
    await first.sim.close();

    // The saved account wins over the starting balance given.
    const second = await startSim({ offset: savedAt, portfolio: state, balance: '1' });
    expect(second.sim.now()).toBeCloseTo(savedAt, 6);
    expect((await second.exchange.getBalance()).toFixed(4)).toBe(balance.toFixed(4));
    expect(await second.exchange.listOrders()).toEqual(orders);
    expect(await second.exchange.getFills()).toEqual(fills);
    expect((await second.exchange.getPositions()).map((p) => [p.ticker, p.position])).toEqual([[HOME, 8]]);

    // The game goes on: the resting sell fills in the new simulator when the bid reaches it.
    await second.at(Q1_8);
    second.sim.update();
    const sold = await second.exchange.getOrder(resting.venueOrderId);
    expect(sold).toMatchObject({ status: 'executed', filledCount: 5 });
    expect((await second.exchange.getBalance()).toFixed(4))
      .toBe(balance.plus(limit.times(5)).minus(kalshiFee(qty(5), limit, MAKER)).toFixed(4));
    expect((await second.exchange.getPositions()).map((p) => [p.ticker, p.position])).toEqual([[HOME, 3]]);
    // New orders do not reuse an id of the saved ones.
    const next = await second.exchange.placeOrder(order({ clientOrderId: 'buy-2', count: qty(1), limitPrice: homeQuote(second, Q1_8).yesAsk }));
    expect(orders.map((o) => o.venueOrderId)).not.toContain(next.venueOrderId);
    // A client order id of the saved account is still taken.
    await expect(second.exchange.placeOrder(order({ clientOrderId: 'buy-1', count: qty(1), limitPrice: homeQuote(second, Q1_8).yesAsk })))
      .resolves.toMatchObject({ venueOrderId: orders.find((o) => o.clientOrderId === 'buy-1')!.venueOrderId });
  });

  it('onChange fires on every change of the account, so the runtime can persist it', async () => {
    const scenario = await loadScenario('comeback');
    const clock = new ManualClock(START_MS + PREGAME * 1000);
    let changes = 0;
    const sim = new KalshiSimulator({
      scenario, clock, startMs: scenario.startMs, runTag: '778', keyId: KEY_ID,
      publicKey: keys.publicKeyPem, balanceDollars: '100', onChange: () => changes++, maxClockSkewMs: Number.MAX_SAFE_INTEGER,
    });
    sims.push(sim);
    await sim.start();
    const exchange = new KalshiExchange({
      baseUrl: sim.tradeApiUrl, environment: 'demo', credentials: { keyId: KEY_ID, privateKeyPem: keys.privateKeyPem },
      readsPerSecond: 1000, writesPerSecond: 1000,
    });
    await exchange.getBalance();
    expect(changes).toBe(0);
    const ask = sim.snapshot(sim.games[0]!, PREGAME).home.yesAsk;
    await exchange.placeOrder(order({ clientOrderId: 'c-1', count: qty(2), limitPrice: ask }));
    expect(changes).toBe(1);
    const s = schedule(scenario.timing);
    await clock.set(START_MS + s.settle * 1000);
    sim.update();
    // Two markets settled.
    expect(changes).toBe(3);
  });
});

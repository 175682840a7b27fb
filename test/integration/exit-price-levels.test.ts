import { afterEach, describe, expect, it } from 'vitest';
import { ACCOUNT_BALANCE, MarketRepository, versionedUpsert } from '../../shared/db';
import { dec } from '../../shared/domain/decimal';
import { executeExit } from '../../shared/execution/executeExit';
import type { ExitOrderMessage } from '../../shared/queues/messages';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition } from '../helpers/execution';
import { kalshiTestCredentials, startKalshiPortfolioSim, type KalshiPortfolioSim } from '../helpers/kalshiPortfolioSim';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';
import { kalshiMarketPayload } from '../fixtures/kalshi';
import { startTestServer, type TestServer } from '../../local/sim/httpServer';

/**
 * Exit prices walk by the market's tick, on the Kalshi simulator, which refuses any order price
 * off the market's price levels as the venue does. The market: KC ticking in 0.001, YES bid 0.585
 * / ask 0.597 (NO bid 0.403 / ask 0.415), ingested with its levels; a position of 40 contracts.
 */

const db = useDatabasePerTest({ poolMax: 20 });
const KC = `${GAME_EVENT}-KC`;
const DECI_CENT = [{ start: '0.0000', end: '1.0000', step: '0.0010' }];
const CENT = [{ start: '0.0000', end: '1.0000', step: '0.0100' }];
const { credentials, publicKey } = kalshiTestCredentials('precog-key');
let sim: KalshiPortfolioSim | undefined;
let front: TestServer | undefined;

afterEach(async () => {
  await front?.close();
  await sim?.close();
  sim = undefined;
  front = undefined;
});

/**
 * `ingested`: the levels the markets table holds. `liveQuote`: the venue also answers
 * GET /markets/{ticker} (Exchange.getQuote) with the market on 0.001 levels.
 */
async function world(side: 'yes' | 'no', options: { ingested?: typeof DECI_CENT; liveQuote?: boolean } = {}) {
  const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 1 });
  await versionedUpsert(db().pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: dec('10000') }]);
  await new MarketRepository(db().pool).upsertSnapshots([{
    ...quotedMarket(KC, 60, 58, 42, 40),
    yesPrice: dec('0.597'), yesBid: dec('0.585'), noPrice: dec('0.415'), noBid: dec('0.403'), spread: dec('0.012'),
    priceLevelStructure: 'deci_cent', priceLevels: (options.ingested ?? DECI_CENT).map((r) => ({ start: dec(r.start), end: dec(r.end), step: dec(r.step) })),
  }]);
  sim = await startKalshiPortfolioSim({
    keyId: 'precog-key', publicKey, balanceDollars: '10000.0000',
    markets: { [KC]: { yes: { ask: '0.5970', bid: '0.5850', depth: 1000 }, no: { ask: '0.4150', bid: '0.4030', depth: 1000 }, priceRanges: DECI_CENT } },
  });
  const portfolio = sim;
  front = options.liveQuote
    ? await startTestServer((req) => (req.path === `/trade-api/v2/markets/${KC}`
      ? { json: { market: kalshiMarketPayload({
        ticker: KC, event_ticker: GAME_EVENT, yes_bid_dollars: '0.5850', yes_ask_dollars: '0.5970', no_bid_dollars: '0.4030', no_ask_dollars: '0.4150',
        price_level_structure: 'deci_cent', price_ranges: DECI_CENT,
      }) } }
      : portfolio.handle(req)))
    : undefined;
  const exchange = new KalshiExchange({
    baseUrl: front ? `${front.url}/trade-api/v2` : sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1000, writesPerSecond: 1000,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 }, lookupDelayMs: 1, sleep: async () => undefined,
  });
  const positionId = await openPosition(db().pool, exchange, {
    marketId: KC, side, quantity: 40, price: side === 'yes' ? '0.597' : '0.415', strategyId: strategies[0]!.id, modelId: model.id,
  });
  return { exchange, positionId, sim };
}

async function requestExit(positionId: number, priority: ExitOrderMessage['priority']): Promise<ExitOrderMessage> {
  const { rows: [r] } = await db().pool.query(
    `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, triggers)
     SELECT $1, position_version_id, 'edge_disappeared', $2, 40, '[]'::jsonb FROM positions WHERE position_id = $1 AND row_current_ind
     RETURNING exit_request_id`,
    [positionId, priority],
  );
  return { version: 1, exitRequestId: r.exit_request_id, positionId, priority, createdAt: new Date().toISOString() };
}

/** Two attempts of a LOW exit (limit at the ask, then one walk), the second after the first's 60 s wait. */
async function twoAttempts(side: 'yes' | 'no', options: Parameters<typeof world>[1] = {}) {
  const { exchange, positionId, sim } = await world(side, options);
  const message = await requestExit(positionId, 'LOW');
  const start = Date.now();
  const first = await executeExit({ pool: db().pool, exchange, now: () => new Date(start) }, message);
  const second = await executeExit({ pool: db().pool, exchange, now: () => new Date(start + 61_000) }, message);
  const { rows } = await db().pool.query(
    'SELECT limit_price::text, status FROM orders WHERE exit_request_id = $1 ORDER BY order_id', [message.exitRequestId],
  );
  const atVenue = sim.orders().filter((o) => o.action === 'sell').map((o) => [o.side, o.yes_price_dollars, o.no_price_dollars, o.status]);
  return { first, second, rows, atVenue };
}

describe('exit price walking on a 0.001-tick market (Kalshi simulator)', () => {
  it('a YES exit walks from the ask 0.597 to 0.596: exactly one tick, a price the venue takes', async () => {
    const { first, second, rows, atVenue } = await twoAttempts('yes');
    expect(first).toMatchObject({ outcome: 'retry', attempt: 1 });
    expect(second).toMatchObject({ outcome: 'retry', attempt: 2 });
    expect(rows).toEqual([{ limit_price: '0.5970', status: 'cancelled' }, { limit_price: '0.5960', status: 'resting' }]);
    expect(atVenue).toEqual([['yes', '0.5970', '0.4030', 'canceled'], ['yes', '0.5960', '0.4040', 'resting']]);
  });

  it('a NO exit walks on the mirrored levels: 0.415 → 0.414', async () => {
    const { second, rows, atVenue } = await twoAttempts('no');
    expect(second).toMatchObject({ outcome: 'retry', attempt: 2 });
    expect(rows.map((r) => r.limit_price)).toEqual(['0.4150', '0.4140']);
    expect(atVenue.map(([side, , no, status]) => [side, no, status])).toEqual([['no', '0.4150', 'canceled'], ['no', '0.4140', 'resting']]);
  });

  it('the venue\'s live levels win over the ingested ones: ingested cent ticks, live 0.001 → 0.597 then 0.596', async () => {
    const { rows, atVenue } = await twoAttempts('yes', { ingested: CENT, liveQuote: true });
    expect(rows.map((r) => r.limit_price)).toEqual(['0.5970', '0.5960']);
    expect(atVenue.map(([, yes]) => yes)).toEqual(['0.5970', '0.5960']);
  });
});

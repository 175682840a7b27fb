import { afterEach, describe, expect, it } from 'vitest';
import { qty } from '../../shared/domain/quantity';
import { ACCOUNT_BALANCE, MarketRepository, versionedUpsert } from '../../shared/db';
import { dec } from '../../shared/domain/decimal';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { settleMarkets } from '../../shared/settlement/settleMarkets';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition } from '../helpers/execution';
import { kalshiTestCredentials, startKalshiPortfolioSim, type KalshiPortfolioSim } from '../helpers/kalshiPortfolioSim';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * Live settlement is cross-checked with the venue's own record (GET /portfolio/settlements on the
 * Kalshi simulator, real PostgreSQL): the credit Kalshi reports for a market must equal what the
 * books expect it to have paid their live positions there.
 */

const db = useDatabasePerTest({ poolMax: 20 });
const KC = `${GAME_EVENT}-KC`;
const { credentials, publicKey } = kalshiTestCredentials('precog-key');
let sim: KalshiPortfolioSim | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function world() {
  const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 2 });
  await versionedUpsert(db().pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'live', currency: 'USD', balance: dec('10000') }]);
  sim = await startKalshiPortfolioSim({
    keyId: 'precog-key', publicKey, balanceDollars: '10000.0000',
    markets: { [KC]: { yes: { ask: '0.6000', bid: '0.5800', depth: 1000 }, no: { ask: '0.4200', bid: '0.4000', depth: 1000 } } },
  });
  const exchange = new KalshiExchange({
    baseUrl: sim.baseUrl, environment: 'demo', credentials, readsPerSecond: 1000, writesPerSecond: 1000,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 10 }, lookupDelayMs: 1, sleep: async () => undefined,
  });
  const open = (side: 'yes' | 'no', quantity: number, strategy = 0) => openPosition(db().pool, exchange, {
    marketId: KC, side, quantity, price: side === 'yes' ? '0.60' : '0.42', strategyId: strategies[strategy]!.id, modelId: model.id,
  });
  /** Ingestion records KC settled YES (payout 1): the books settle on the next run. */
  const ingestSettled = () => new MarketRepository(db().pool).upsertSnapshots([
    { ...quotedMarket(KC, 100, 99, 1, 0), status: 'settled', settlementValue: dec('1') },
  ]);
  return { exchange, sim, open, ingestSettled };
}

async function openDesyncs() {
  const { rows } = await db().pool.query(
    `SELECT ticker, market_id, kind, local_value, venue_value FROM venue_desyncs WHERE resolved_at IS NULL ORDER BY desync_id`,
  );
  return rows;
}

async function checkRows() {
  const { rows } = await db().pool.query(
    'SELECT ticker, books_credit::text, venue_credit::text, matched FROM settlement_checks ORDER BY settlement_check_id',
  );
  return rows;
}

describe('live settlement cross-check against GET /portfolio/settlements', () => {
  it('equal credits: recorded as matched once, no desync, never asked again', async () => {
    const { exchange, sim, open, ingestSettled } = await world();
    await open('yes', 20);
    sim.settle(KC, GAME_EVENT, 'yes');
    await ingestSettled();

    const result = await settleMarkets({ pool: db().pool, exchange });
    expect(result.settled.map((s) => s.marketId)).toEqual([KC]);
    expect(result.settlementChecks).toEqual([
      expect.objectContaining({ marketId: KC, ticker: KC, status: 'matched', booksCredit: '20.0000', venueCredit: '20.0000' }),
    ]);
    expect(result.newDesyncs).toEqual([]);
    expect(await openDesyncs()).toEqual([]);
    expect(await checkRows()).toEqual([{ ticker: KC, books_credit: '20.000000', venue_credit: '20.000000', matched: true }]);

    const reads = sim.requestsTo('GET', '/portfolio/settlements').length;
    const again = await settleMarkets({ pool: db().pool, exchange });
    expect(again.settlementChecks).toEqual([]);
    expect(sim.requestsTo('GET', '/portfolio/settlements')).toHaveLength(reads);
  });

  it('the venue credits another amount: a settlement desync opens with a clear reason, and reconciliation leaves it open', async () => {
    const { exchange, sim, open, ingestSettled } = await world();
    await open('yes', 20);
    // 5 more YES bought at the venue outside Precog's books: the venue pays 25, the books expect 20.
    await exchange.placeOrder({ ticker: KC, clientOrderId: 'by-hand-1', side: 'yes', action: 'buy', count: qty(5), type: 'limit', limitPrice: dec('0.60'), timeInForce: 'immediate_or_cancel' });
    sim.settle(KC, GAME_EVENT, 'yes');
    await ingestSettled();

    const result = await settleMarkets({ pool: db().pool, exchange });
    const reason = `kalshi-demo credited 25.0000 for ${KC} (YES 25.00, NO 0.00, result yes); the books expect 20.0000 (YES 20.00, NO 0.00 at YES payout 1.0000): difference 5.0000`;
    expect(result.settlementChecks).toEqual([{ marketId: KC, ticker: KC, settlementId: expect.any(Number), status: 'differs', booksCredit: '20.0000', venueCredit: '25.0000', reason }]);
    expect(result.newDesyncs).toEqual([expect.objectContaining({ ticker: KC, kind: 'settlement' })]);
    expect(await openDesyncs()).toEqual([{
      ticker: KC, market_id: KC, kind: 'settlement',
      local_value: expect.objectContaining({ reason, expectedCredit: '20.000000', yesCount: '20.00', noCount: '0.00' }),
      venue_value: expect.objectContaining({ revenue: '25.000000', yesCount: '25.00', noCount: '0.00', marketResult: 'yes' }),
    }]);
    expect(await checkRows()).toEqual([{ ticker: KC, books_credit: '20.000000', venue_credit: '25.000000', matched: false }]);

    // After settlement both sides hold nothing: reconciliation must not take that for agreement.
    await reconcileVenue({ pool: db().pool, exchange });
    expect((await openDesyncs()).map((d) => d.kind)).toEqual(['settlement']);
  });

  it('a market the venue has not settled yet is no difference: pending, checked again on the next run', async () => {
    const { exchange, sim, open, ingestSettled } = await world();
    await open('yes', 20);
    await ingestSettled(); // the books learn of the result before the venue pays

    const first = await settleMarkets({ pool: db().pool, exchange });
    expect(first.settled.map((s) => s.marketId)).toEqual([KC]);
    expect(first.settlementChecks).toEqual([
      expect.objectContaining({ marketId: KC, status: 'pending', booksCredit: '20.0000', venueCredit: null }),
    ]);
    expect(await checkRows()).toEqual([]);
    expect(await openDesyncs()).toEqual([]);

    sim.settle(KC, GAME_EVENT, 'yes');
    const second = await settleMarkets({ pool: db().pool, exchange });
    expect(second.settlementChecks).toEqual([expect.objectContaining({ marketId: KC, status: 'matched', venueCredit: '20.0000' })]);
    expect(await openDesyncs()).toEqual([]);
  });

  it('YES and NO held by two strategies: the venue netted the pairs (paid then), the books expect only the rest at settlement', async () => {
    const { exchange, sim, open, ingestSettled } = await world();
    await open('yes', 20, 0);
    await open('no', 5, 1); // Kalshi nets 5 pairs at once: it holds 15 YES and paid $5 for the pairs
    sim.settle(KC, GAME_EVENT, 'yes');
    await ingestSettled();

    const result = await settleMarkets({ pool: db().pool, exchange });
    expect(result.settlementChecks).toEqual([
      expect.objectContaining({ marketId: KC, status: 'matched', booksCredit: '15.0000', venueCredit: '15.0000' }),
    ]);
    expect(await openDesyncs()).toEqual([]);
  });
});

describe('KalshiExchange.getSettlements', () => {
  it('reads every page of GET /portfolio/settlements, filters by ticker, and holds the amounts exactly', async () => {
    const { exchange, sim, open } = await world();
    await open('yes', 20);
    sim.setMarket(`${GAME_EVENT}-DAL`, { no: { ask: '0.7200', bid: '0.7000', depth: 1000 } });
    await exchange.placeOrder({ ticker: `${GAME_EVENT}-DAL`, clientOrderId: 'dal-1', side: 'no', action: 'buy', count: qty(3), type: 'limit', limitPrice: dec('0.72'), timeInForce: 'immediate_or_cancel' });
    sim.settle(KC, GAME_EVENT, 'yes');
    sim.settle(`${GAME_EVENT}-DAL`, GAME_EVENT, 'yes');
    sim.pageSize = 1;

    const all = await exchange.getSettlements();
    expect(all.map((s) => [s.ticker, s.marketResult, s.yesCount.toFixed(2), s.noCount.toFixed(2), s.revenue.toFixed(4)]).sort()).toEqual([
      [`${GAME_EVENT}-DAL`, 'yes', '0.00', '3.00', '0.0000'],
      [KC, 'yes', '20.00', '0.00', '20.0000'],
    ]);
    expect(sim.requestsTo('GET', '/portfolio/settlements')).toHaveLength(2); // one record a page
    expect((await exchange.getSettlements({ ticker: KC })).map((s) => s.ticker)).toEqual([KC]);
    expect(await exchange.getSettlements({ eventTicker: 'KXNFLGAME-25NOV30NYGPHI' })).toEqual([]);
  });
});

import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/ingest-markets/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { MarketRepository, OperationsRepository } from '../../shared/db';
import { Decimal } from '../../shared/domain/decimal';
import { kalshiEventPayload, kalshiMarketPayload, kalshiSeriesPayload } from '../fixtures/kalshi';
import { useTestDatabase } from '../helpers/database';
import { startKalshiSim } from '../helpers/kalshiSim';

const db = useTestDatabase();
const context = { functionName: 'ingest-markets', awsRequestId: 'test' } as unknown as Context;
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
let sim: Awaited<ReturnType<typeof startKalshiSim>>;
const savedEnv = { ...process.env };

const EVENT = 'KXNFLGAME-26NOV27KCDAL';
/** A market of the game at a YES ask (cents), with a 2-cent spread on each side. */
const market = (side: 'KC' | 'DAL', yesAskCents: number, overrides: Record<string, unknown> = {}) => {
  const dollars = (cents: number) => new Decimal(cents).div(100).toFixed(4);
  return kalshiMarketPayload({
    ticker: `${EVENT}-${side}`, event_ticker: EVENT, yes_sub_title: side,
    yes_ask_dollars: dollars(yesAskCents), yes_bid_dollars: dollars(yesAskCents - 2),
    no_ask_dollars: dollars(102 - yesAskCents), no_bid_dollars: dollars(100 - yesAskCents),
    ...overrides,
  });
};

beforeAll(async () => {
  sim = await startKalshiSim({
    series: { KXNFLGAME: kalshiSeriesPayload() },
    events: [kalshiEventPayload([])],
    markets: { [`${EVENT}-KC`]: market('KC', 57), [`${EVENT}-DAL`]: market('DAL', 45) },
  });
  Object.assign(process.env, {
    DATABASE_URL: db().url,
    KALSHI_BASE_URL: `${sim.url}/trade-api/v2`,
    INGEST_SERIES: 'KXNFLGAME',
    INGEST_PLATFORMS: 'kalshi',
    KALSHI_READS_PER_SECOND: '10',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
  await sim.close();
});
beforeEach(() => {
  sim.state.failures = {};
});

async function count(sql: string): Promise<number> {
  return (await db().pool.query(sql)).rows[0].n;
}

describe('ingest-markets', () => {
  it('first run creates platform → series → event → markets, with asks, bids and spread', async () => {
    const result = await handler(sample('ingest-markets'), context);
    expect(result).toMatchObject({ status: 'healthy', series: 1, events: 1, markets: { received: 2, inserted: 2, closed: 0 } });
    const kc = await new MarketRepository(db().pool).getCurrent(`${EVENT}-KC`);
    expect(kc).toMatchObject({ platformId: 'kalshi', eventId: EVENT, status: 'open', marketType: 'binary' });
    expect([kc!.yesPrice, kc!.yesBid, kc!.noPrice, kc!.noBid, kc!.spread].map((d) => d!.toFixed(4))).toEqual([
      '0.5700', '0.5500', '0.4500', '0.4300', '0.0200',
    ]);
    const { rows } = await db().pool.query(`SELECT category, subcategory FROM series WHERE series_id = 'KXNFLGAME'`);
    expect(rows[0]).toEqual({ category: 'sports', subcategory: 'nfl' });
    const event = await db().pool.query(`SELECT metadata FROM events WHERE event_id = $1`, [EVENT]);
    // The venue's word that the game's two markets are exclusive legs (edges/outcomes.ts reads it).
    expect(event.rows[0].metadata).toEqual({ game_date: '2026-11-27', teams: 'KCDAL', mutually_exclusive: true });
  });

  it('an identical second run writes no new versions', async () => {
    const before = await count('SELECT count(*)::int AS n FROM markets');
    const result = await handler({}, context);
    expect(result.markets).toMatchObject({ received: 2, inserted: 0, unchanged: 2 });
    expect(await count('SELECT count(*)::int AS n FROM markets')).toBe(before);
  });

  it('one changed price makes exactly one new market version', async () => {
    sim.state.markets[`${EVENT}-KC`] = market('KC', 60);
    const result = await handler({ seriesTickers: ['KXNFLGAME'] }, context);
    expect(result.markets).toMatchObject({ inserted: 1, closed: 1, unchanged: 1 });
    const history = await new MarketRepository(db().pool).history(`${EVENT}-KC`);
    expect(history.map((v) => [v.yesPrice!.toFixed(4), v.current])).toEqual([['0.5700', false], ['0.6000', true]]);
  });

  it('a market that settles gets its status and settlement value (no longer listed as open)', async () => {
    sim.state.markets[`${EVENT}-KC`] = market('KC', 100, {
      status: 'finalized', result: 'yes', settlement_value_dollars: '1.0000', yes_bid_dollars: '0.9900', no_ask_dollars: '0.0100', no_bid_dollars: '0.0000',
    });
    sim.state.markets[`${EVENT}-DAL`] = market('DAL', 1, {
      status: 'finalized', result: 'no', yes_bid_dollars: '0.0000', no_ask_dollars: '1.0000', no_bid_dollars: '0.9900',
    });
    const result = await handler({}, context);
    expect(result.sweptMarkets).toBe(2);
    const markets = new MarketRepository(db().pool);
    expect(await markets.getCurrent(`${EVENT}-KC`)).toMatchObject({ status: 'settled' });
    expect((await markets.getCurrent(`${EVENT}-KC`))!.settlementValue!.toFixed(4)).toBe('1.0000');
    expect((await markets.getCurrent(`${EVENT}-DAL`))!.settlementValue!.toFixed(4)).toBe('0.0000');
    // Settled markets are not re-read again.
    const requests = sim.requests.length;
    await handler({}, context);
    expect(sim.requests.slice(requests).some((r) => r.path.endsWith('/markets'))).toBe(false);
  });

  it('skips a bad record with its reason, ingests the rest, and reports degraded health', async () => {
    sim.state.events.push(kalshiEventPayload([], { event_ticker: 'KXNFLGAME-26NOV30NYGPHI', title: 'New York at Philadelphia' }));
    sim.state.markets['KXNFLGAME-26NOV30NYGPHI-NYG'] = kalshiMarketPayload({
      ticker: 'KXNFLGAME-26NOV30NYGPHI-NYG', event_ticker: 'KXNFLGAME-26NOV30NYGPHI', yes_ask_dollars: '1.2',
    });
    sim.state.markets['KXNFLGAME-26NOV30NYGPHI-PHI'] = kalshiMarketPayload({
      ticker: 'KXNFLGAME-26NOV30NYGPHI-PHI', event_ticker: 'KXNFLGAME-26NOV30NYGPHI',
    });
    const result = await handler({}, context);
    expect(result.status).toBe('degraded');
    expect(result.rejected).toEqual([
      expect.objectContaining({ id: 'KXNFLGAME-26NOV30NYGPHI-NYG', path: expect.stringMatching(/\.markets\[\d\]\.yes_ask_dollars$/), reason: 'kalshi market: price is outside 0..1' }),
    ]);
    const markets = new MarketRepository(db().pool);
    expect(await markets.getCurrent('KXNFLGAME-26NOV30NYGPHI-NYG')).toBeUndefined();
    expect(await markets.getCurrent('KXNFLGAME-26NOV30NYGPHI-PHI')).toBeDefined();
    const health = await new OperationsRepository(db().pool).latestHealth('ingest-markets');
    expect(health).toMatchObject({ status: 'degraded', details: { rejectedCount: 1 } });
  });

  it('records exchange errors for the api_failures breaker and reports a failed series', async () => {
    sim.state.failures = { '/series/KXNFLGAME': { status: 500, times: 10 } };
    const before = await count(`SELECT count(*)::int AS n FROM api_errors WHERE api = 'kalshi'`);
    const result = await handler({}, context);
    expect(result.status).toBe('down');
    expect(result.errors[0]).toMatch(/^series KXNFLGAME: kalshi GET \/trade-api\/v2\/series\/KXNFLGAME: HTTP 500/);
    const { rows } = await db().pool.query(
      `SELECT kind, http_status, final, component FROM api_errors WHERE api = 'kalshi' ORDER BY api_error_id OFFSET $1`, [before],
    );
    expect(rows).toHaveLength(4);
    expect(rows.at(-1)).toEqual({ kind: 'http', http_status: 500, final: true, component: 'ingest-markets' });
  });

  it('a failed write rolls back the whole batch: no half-written hierarchy', async () => {
    sim.state.events.push(kalshiEventPayload([], { event_ticker: 'KXNFLGAME-26DEC01BUFMIA', title: 'Buffalo at Miami' }));
    sim.state.markets['KXNFLGAME-26DEC01BUFMIA-BUF'] = kalshiMarketPayload({ ticker: 'KXNFLGAME-26DEC01BUFMIA-BUF', event_ticker: 'KXNFLGAME-26DEC01BUFMIA' });
    const versionsBefore = await count('SELECT count(*)::int AS n FROM markets');
    // Make the database refuse one market of the batch (a rule the payload cannot break).
    await db().pool.query(`ALTER TABLE markets ADD CONSTRAINT test_no_buf CHECK (market_id NOT LIKE '%BUFMIA%')`);
    try {
      await expect(handler({}, context)).rejects.toThrow(/test_no_buf/);
    } finally {
      await db().pool.query('ALTER TABLE markets DROP CONSTRAINT test_no_buf');
    }
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE event_id = 'KXNFLGAME-26DEC01BUFMIA'`)).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM markets')).toBe(versionsBefore);
    expect((await new OperationsRepository(db().pool).latestHealth('ingest-markets'))!.status).toBe('down');
  });

  it('rejects a malformed console event naming the field, before any request or write', async () => {
    const requests = sim.requests.length;
    const healthRows = await count('SELECT count(*)::int AS n FROM system_health');
    await expect(handler({ seriesTickers: ['kxnfl game'] }, context)).rejects.toThrow(
      /invalid ingest-markets event: seriesTickers\.0: a series ticker is upper-case letters, digits and dashes/,
    );
    await expect(handler({ platforms: ['betfair'] }, context)).rejects.toThrow(/invalid ingest-markets event: platforms\.0/);
    await expect(handler({ series: ['KXNFLGAME'] }, context)).rejects.toThrow(/Unrecognized key.*series/);
    expect(sim.requests.length).toBe(requests);
    expect(await count('SELECT count(*)::int AS n FROM system_health')).toBe(healthRows);
  });

  it('stores each market\'s price levels: the published ranges, cent ticks without them, and rejects a malformed range by its path', async () => {
    const event = 'KXNFLGAME-26DEC03SEALAR';
    sim.state.events.push(kalshiEventPayload([], { event_ticker: event, title: 'Seattle at Los Angeles' }));
    const TAPERED = [
      { start: '0.0000', end: '0.1000', step: '0.0010' },
      { start: '0.1000', end: '0.9000', step: '0.0100' },
      { start: '0.9000', end: '1.0000', step: '0.0010' },
    ];
    sim.state.markets[`${event}-SEA`] = kalshiMarketPayload({
      ticker: `${event}-SEA`, event_ticker: event, price_level_structure: 'tapered_deci_cent', price_ranges: TAPERED,
    });
    const { price_level_structure: _s, price_ranges: _r, ...withoutLevels } = kalshiMarketPayload({ ticker: `${event}-LAR`, event_ticker: event });
    sim.state.markets[`${event}-LAR`] = withoutLevels as typeof _r & ReturnType<typeof kalshiMarketPayload>;
    sim.state.markets[`${event}-TIE`] = kalshiMarketPayload({
      ticker: `${event}-TIE`, event_ticker: event, price_ranges: [TAPERED[0]!, { start: '0.1000', end: '0.9000', step: '0.0300' }],
    });
    const result = await handler({}, context);

    expect(result.rejected.filter((r) => r.id?.startsWith(event))).toEqual([
      expect.objectContaining({
        id: `${event}-TIE`, path: `${event}.markets[2].price_ranges[1].step`, reason: 'kalshi market: step 0.03 does not divide 0.1..0.9',
      }),
    ]);
    const stored = await db().pool.query(
      'SELECT market_id, price_level_structure, price_levels FROM current_markets WHERE event_id = $1 ORDER BY market_id', [event],
    );
    expect(stored.rows).toEqual([
      { market_id: `${event}-LAR`, price_level_structure: null, price_levels: [{ start: '0.0000', end: '1.0000', step: '0.0100' }] },
      { market_id: `${event}-SEA`, price_level_structure: 'tapered_deci_cent', price_levels: TAPERED },
    ]);
    const sea = await new MarketRepository(db().pool).getCurrent(`${event}-SEA`);
    expect(sea!.priceLevels!.map((r) => r.step.toFixed(4))).toEqual(['0.0010', '0.0100', '0.0010']);
    // The same levels again are no change: no new version.
    const again = await handler({}, context);
    expect(again.markets.inserted).toBe(0);
  });

  it('accepts the EventBridge scheduled event', async () => {
    const result = await handler(
      { version: '0', id: 'x', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '1', time: '2026-11-27T20:00:00Z', region: 'us-east-1', resources: [], detail: {} },
      context,
    );
    expect(result.series).toBe(1);
  });
});

import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { DEFAULT_TRADING_RULES } from '../../shared/config/tradingRules';
import { Decimal } from '../../shared/domain/decimal';
import {
  ACCOUNT_BALANCE, EDGES, EventRepository, GAME_STATES, MARKETS, OperationsRepository, PlatformRepository,
  ProbabilityModelRepository, SeriesRepository, StrategyRepository, versionedUpsert, withTransaction,
} from '../../shared/db';
import { marketSnapshotRow } from '../../shared/db/repositories/markets';
import { ProbabilityMatrixRepository } from '../../shared/db/repositories/probabilityMatrices';
import { priceWorld, scanEdges } from '../../shared/edges/scanEdges';
import { loadWorld } from '../../shared/edges/world';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { KALSHI_PLATFORM } from '../../shared/venues/platforms';
import { countRoundTrips, time, type Bench } from '../harness';

const MARKETS_COUNT = 20_000;
const GAMES = MARKETS_COUNT / 2;


const d = (cents: number) => new Decimal(cents).div(100);

function marketRows(games: number, pass: number) {
  const rows = [];
  for (let g = 0; g < games; g++) {
    const event = `KXNFLGAME-26NOV27G${g}`;
    // Home team H leads at halftime by g % 15 points; prices around the matrix value.
    const base = 40 + (g % 30) + (pass === 2 && g % 5 === 0 ? 1 : 0);
    for (const [team, yes] of [['H', base], ['A', 100 - base - 2]] as const) {
      rows.push(marketSnapshotRow({
        marketId: `${event}-${team}`, platformId: 'kalshi', eventId: event, externalId: `${event}-${team}`, ticker: `${event}-${team}`,
        title: `${team} wins`, marketType: 'binary', yesPrice: d(yes), yesBid: d(yes - 1), noPrice: d(101 - yes), noBid: d(100 - yes),
        spread: d(1), volume: 1000, openInterest: 100, status: 'open',
      }));
    }
  }
  return rows;
}

export async function seedWorld(pool: pg.Pool, games: number) {
  await new PlatformRepository(pool).upsert(KALSHI_PLATFORM);
  await new SeriesRepository(pool).upsertMany([{ seriesId: 'KXNFLGAME', platformId: 'kalshi', externalId: 'KXNFLGAME', category: 'sports', subcategory: 'nfl', title: 'NFL' }]);
  await new EventRepository(pool).upsertMany(Array.from({ length: games }, (_, g) => ({
    eventId: `KXNFLGAME-26NOV27G${g}`, platformId: 'kalshi', seriesId: 'KXNFLGAME', externalId: `G${g}`, category: 'sports', subcategory: 'nfl', title: `Game ${g}`,
  })));
  await versionedUpsert(pool, MARKETS, marketRows(games, 1));
  await versionedUpsert(pool, GAME_STATES, Array.from({ length: games }, (_, g) => ({
    sport: 'nfl', external_game_id: `G${g}`, event_id: `KXNFLGAME-26NOV27G${g}`, home_team: 'H', away_team: 'A',
    home_score: 14 + (g % 15), away_score: 14, period: 'Halftime', time_remaining: null, possession: null, status: 'halftime', sport_metadata: {},
  })));
  await pool.query(`UPDATE game_identities SET event_id = 'KXNFLGAME-26NOV27' || external_game_id, match_rule = 'bench', matched_at = now()`);
  await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: new Decimal('10000') }]);
  const ops = new OperationsRepository(pool);
  await ops.recordHealth('ingest-markets', 'healthy', {});
  await ops.recordHealth('ingest-game-states', 'healthy', {});
  await new ProbabilityMatrixRepository(pool).importCsv(readFileSync(new URL('../../data/matrices/nfl-v1.0.csv', import.meta.url), 'utf8'));
  await new ProbabilityModelRepository(pool).create({
    name: 'nfl_matrix', version: 'v1.0', type: 'matrix', sport: 'nfl', status: 'active', config: { category: 'sports', subcategory: 'nfl', version: 'v1.0' },
  });
  for (const [i, spread] of ['0.08', '0.05', '0.03'].entries()) {
    await new StrategyRepository(pool).create({
      name: 'halftime_entry', version: `v1.${i}`, type: 'entry', sport: 'nfl', status: 'active',
      config: { model: { name: 'nfl_matrix', version: 'v1.0' }, kind: 'halftime', max_spread: spread },
    });
  }
  // The first scan (not measured) makes the edges current; the measured scan follows a minute
  // of trading in which 20% of the prices moved.
  await scanEdges({ pool, queue: new MemoryEntryQueue() });
  await versionedUpsert(pool, MARKETS, marketRows(games, 2));
  const ops2 = new OperationsRepository(pool);
  await ops2.recordHealth('ingest-markets', 'healthy', {});
  await ops2.recordHealth('ingest-game-states', 'healthy', {});
}

/** The hand-written alternative: one query per market, one versioned write per edge. */
async function perMarketScan(pool: pg.Pool, sample: number) {
  const all = await loadWorld(pool); // the markets list and the shared context, once
  let edges = 0;
  await withTransaction(pool, async (client) => {
    for (const market of all.markets.slice(0, sample)) {
      const one = await loadWorldOne(client, market.marketId, all);
      const { edgeRows } = priceWorld(one, DEFAULT_TRADING_RULES);
      for (const row of edgeRows) {
        await versionedUpsert(client, EDGES, [row]);
        edges++;
      }
    }
  });
  return edges;
}

async function loadWorldOne(client: pg.PoolClient, marketId: string, context: Awaited<ReturnType<typeof loadWorld>>) {
  const { rows } = await client.query(
    `SELECT m.market_id FROM current_markets m LEFT JOIN game_identities gi ON gi.event_id = m.event_id
     LEFT JOIN current_game_states gs ON gs.sport = gi.sport AND gs.external_game_id = gi.external_game_id
     WHERE m.market_id = $1`,
    [marketId],
  );
  return { ...context, markets: context.markets.filter((m) => m.marketId === rows[0]?.market_id), busy: new Set(context.busy) };
}

export const scanEdgesBench: Bench = async ({ freshDatabase }) => {
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const trips: Record<string, number> = {};
  for (const [label, games] of [['2,000', 1_000], ['20,000', GAMES]] as const) {
    const { pool } = await freshDatabase();
    await seedWorld(pool, games);
    const counter = countRoundTrips(pool);
    counter.count = 0;
    const { ms, value } = await time(() => scanEdges({ pool, queue: new MemoryEntryQueue() }));
    trips[label] = counter.count;
    if (label === '20,000') {
      figures.project = (2 * games) / (ms / 1000);
      notes.push(`project: ${value.markets} markets × ${value.strategies} strategy versions, ${value.edges.received} edges (${value.edges.inserted} new versions) in ${ms.toFixed(0)} ms`);
    }
  }
  // A scan sends at most 10 statements whatever the market count: 2 to load the world, BEGIN, lock,
  // edge upsert, COMMIT and the outbox read (7), plus the edge-id lookup, the order insert and the
  // outbox stamp when the scan creates entries. Which of those run depends on the data, not the size.
  const MAX_ROUND_TRIPS = 10;
  notes.push(`database round trips per scan (project): ${trips['2,000']} for 2,000 markets, ${trips['20,000']} for 20,000 (bound: ${MAX_ROUND_TRIPS})`);
  {
    const { pool } = await freshDatabase();
    await seedWorld(pool, GAMES);
    const counter = countRoundTrips(pool);
    counter.count = 0;
    // The loop's cost is linear in markets (one query per market, one write per edge): it is
    // timed over the first 2,000 markets of the same 20,000-market world to keep the bench short.
    const sample = 2_000;
    const { ms, value } = await time(() => perMarketScan(pool, sample));
    figures.perMarket = sample / (ms / 1000);
    notes.push(`per-market loop over ${sample} of the ${MARKETS_COUNT} markets: ${value} edge writes, ${counter.count} round trips, ${ms.toFixed(0)} ms`);
  }
  const ratio = figures.project! / figures.perMarket!;
  return {
    name: 'scan-edges',
    figures,
    notes: [...notes, `project / perMarket = ${ratio.toFixed(1)}x (goal >= 10x, constant round trips)`],
    goalMet: ratio >= 10 && trips['2,000']! <= MAX_ROUND_TRIPS && trips['20,000']! <= MAX_ROUND_TRIPS,
  };
};

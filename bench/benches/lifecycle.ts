import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { QUERY_PATTERNS } from '../../shared/db/queryPatterns';
import { withTransaction } from '../../shared/db/transaction';
import { loadWorld } from '../../shared/edges/world';
import { type Bench, type BenchResult } from '../harness';

/**
 * Issue 20's measurement: the versioned tables grown to 1, 7 and 30 simulated days at the issue's
 * rates, times a fixed scale factor, and the hot queries timed at each size on the schema before
 * migration 0021 (one plain table each: 0021's Down applied) and on the partitioned one, in the
 * same run on the same server.
 *
 * Full-rate workload (scale 1):
 *   - markets: 20,000 markets, a fifth of them moving each minute: 4,000 market versions a minute
 *     (each market changes every 5 minutes), 5.76 M a day, 173 M in 30 days;
 *   - game_states: 500 live games each changing every minute: 500 versions a minute (an upper
 *     bound: a Sunday slate is 13 NFL games; other sports and pregame states fill the rest).
 * The default scale is 0.03 (LIFECYCLE_SCALE overrides it): 600 markets and 15 games, 5.2 M
 * market versions and 0.65 M game states at 30 days per schema, which this shared 2-core machine
 * grows in about 10 minutes for both schemas. Rows are generated set-based (generate_series), in time order, the
 * way ingestion appends them; each stage closes the current rows and appends its span of history,
 * then VACUUM ANALYZE (what autovacuum does in service).
 */
const SCALE = Number(process.env.LIFECYCLE_SCALE ?? '0.03');
const STAGES_DAYS = [1, 7, 30] as const;
const FULL_MARKETS = 20_000;
const FULL_GAMES = 500;
const CHANGE_EVERY_MINUTES = 5; // a fifth of the markets move each minute
const POSITIONS = 200;
const RUNS = 21;
const GOAL_RATIO = 1.5;
// Starts 20 days before a month ends: the 30-day history spans two month partitions.
const T0 = '2026-11-10T00:00:00Z';

const HOT_QUERIES: Record<string, { sql?: string; params?: unknown[]; run?: (pool: pg.Pool) => Promise<unknown>; goal: boolean }> = {
  // ingest-markets and the CLI: every open current market.
  currentMarkets: { sql: `SELECT * FROM current_markets WHERE status = 'open'`, goal: true },
  // The scan's world read (shared/edges/world.ts loadWorld: markets × current game states, context).
  scanWorldRead: { run: (pool) => loadWorld(pool), goal: true },
  // The monitor's sweep joins each open position to its market's current row (shared/monitor/sweep.ts);
  // the schema document's position P&L pattern is that join with trades.
  positionPnlWithTrailingStop: { sql: QUERY_PATTERNS.positionPnlWithTrailingStop, goal: true },
  currentMarketPrice: { sql: QUERY_PATTERNS.currentMarketPrice, params: ['LC-17'], goal: true },
  activeEdgesAboveThreshold: { sql: QUERY_PATTERNS.activeEdgesAboveThreshold, params: ['0.08'], goal: true },
  currentGameStates: { sql: `SELECT * FROM current_game_states WHERE sport = 'nfl'`, goal: true },
  // One market's whole history: grows with the history by nature (reported, no goal).
  marketHistory: { sql: 'SELECT * FROM markets WHERE market_id = $1 ORDER BY market_version_id', params: ['LC-17'], goal: false },
};

function down0021(): string {
  const sql = readFileSync(new URL('../../migrations/0021_partition-versioned-tables.sql', import.meta.url), 'utf8');
  return sql.split('-- Down Migration')[1]!;
}

async function seed(pool: pg.Pool, markets: number, games: number): Promise<void> {
  await pool.query(`INSERT INTO platforms (platform_id, platform_type, display_name) VALUES ('kalshi', 'trading', 'Kalshi')`);
  await pool.query(`INSERT INTO market_identities (market_id, platform_id) SELECT 'LC-' || i, 'kalshi' FROM generate_series(0, $1 - 1) i`, [markets]);
  await pool.query(`INSERT INTO game_identities (sport, external_game_id) SELECT 'nfl', 'LCG-' || g FROM generate_series(0, $1 - 1) g`, [games]);
}

/** Appends the history of days [from, to): closes the current rows, then one version per change. */
async function grow(pool: pg.Pool, markets: number, games: number, fromDay: number, toDay: number): Promise<void> {
  const minute = (m: string) => `$3::timestamptz + (${m}) * interval '1 minute'`;
  // Generating days of history takes minutes: past the role's 30 s statement_timeout (0013).
  await withTransaction(pool, async (c) => {
    await c.query(`SET LOCAL work_mem = '256MB'`);
    await c.query(`SET LOCAL statement_timeout = 0`);
    if (fromDay > 0) {
      await c.query(`UPDATE markets SET row_current_ind = FALSE, superseded_at = $1::timestamptz + $2 * interval '1 day' WHERE row_current_ind`, [T0, fromDay]);
      await c.query(`UPDATE game_states SET row_current_ind = FALSE, superseded_at = $1::timestamptz + $2 * interval '1 day' WHERE row_current_ind`, [T0, fromDay]);
    }
    // Minute m: the markets i with i ≡ m (mod 5) move; each version lasts 5 minutes.
    await c.query(
      `INSERT INTO markets (market_id, platform_id, external_id, ticker, title, market_type, yes_price, no_price, yes_bid, no_bid,
                            volume, open_interest, spread, status, created_at, updated_at, superseded_at, row_current_ind)
       SELECT 'LC-' || i, 'kalshi', 'LC-' || i, 'LC-' || i, 'Lifecycle market ' || i, 'binary', p, 1 - p, p - 0.01, 0.99 - p,
              1000 + m, 10, 0.02, 'open', ${minute('m')}, ${minute('m')}, ${minute(`m + ${CHANGE_EVERY_MINUTES}`)}, FALSE
       FROM generate_series($1::int * 1440, $2::int * 1440 - 1) m,
            LATERAL generate_series(m % ${CHANGE_EVERY_MINUTES}, $4::int - 1, ${CHANGE_EVERY_MINUTES}) i,
            LATERAL (SELECT (0.05 + ((i * 7 + m) % 90) / 100.0)::numeric(10,4) AS p) x
       WHERE m + ${CHANGE_EVERY_MINUTES} <= $2::int * 1440`,
      [fromDay, toDay, T0, markets],
    );
    await c.query(
      `INSERT INTO game_states (sport, external_game_id, home_score, away_score, period, status, created_at, updated_at, superseded_at, row_current_ind)
       SELECT 'nfl', 'LCG-' || g, (m / 60) % 50, (m / 45) % 50, 'Q' || (1 + (m / 15) % 4), 'live', ${minute('m')}, ${minute('m')}, ${minute('m + 1')}, FALSE
       FROM generate_series($1::int * 1440, $2::int * 1440 - 2) m, generate_series(0, $4::int - 1) g`,
      [fromDay, toDay, T0, games],
    );
    await c.query(
      `INSERT INTO markets (market_id, platform_id, external_id, ticker, title, market_type, yes_price, no_price, yes_bid, no_bid,
                            volume, open_interest, spread, status, created_at, updated_at)
       SELECT 'LC-' || i, 'kalshi', 'LC-' || i, 'LC-' || i, 'Lifecycle market ' || i, 'binary', 0.5, 0.5, 0.49, 0.49, 1000, 10, 0.02,
              'open', $1::timestamptz + $2 * interval '1 day', $1::timestamptz + $2 * interval '1 day'
       FROM generate_series(0, $3::int - 1) i`,
      [T0, toDay, markets],
    );
    await c.query(
      `INSERT INTO game_states (sport, external_game_id, home_score, away_score, period, status, created_at, updated_at)
       SELECT 'nfl', 'LCG-' || g, 0, 0, 'Q1', 'live', $1::timestamptz + $2 * interval '1 day', $1::timestamptz + $2 * interval '1 day'
       FROM generate_series(0, $3::int - 1) g`,
      [T0, toDay, games],
    );
  });
  const client = await pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query('VACUUM ANALYZE markets');
    await client.query('VACUUM ANALYZE game_states');
  } finally {
    await client.query('RESET statement_timeout');
    client.release();
  }
}

async function seedPositions(pool: pg.Pool, markets: number): Promise<void> {
  await pool.query(
    `INSERT INTO position_identities (market_id, platform_id, side) SELECT 'LC-' || (i % $2), 'kalshi', 'yes' FROM generate_series(0, $1 - 1) i`,
    [POSITIONS, markets],
  );
  await pool.query(
    `INSERT INTO positions (position_id, market_id, platform_id, side, entry_price, quantity, original_quantity, cost_basis)
     SELECT position_id, market_id, platform_id, side, 0.5, 10, 10, 5 FROM position_identities`,
  );
  await pool.query('VACUUM ANALYZE positions');
}

type HotQuery = (typeof HOT_QUERIES)[string];

const runOnce = (pool: pg.Pool, query: HotQuery) => (query.run ? query.run(pool) : pool.query(query.sql!, query.params ?? []));

/**
 * Median latency of `query` on each database, sampled round-robin (one run on each database per
 * round, the order rotating): the machine is shared, and load that comes and goes then weighs on
 * every size alike instead of on whichever size happened to be measured during it.
 */
async function interleavedMedians(pools: pg.Pool[], query: HotQuery): Promise<number[]> {
  for (const pool of pools) for (let i = 0; i < 3; i++) await runOnce(pool, query);
  const samples: number[][] = pools.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < pools.length; k++) {
      const j = (round + k) % pools.length;
      const start = performance.now();
      await runOnce(pools[j]!, query);
      samples[j]!.push(performance.now() - start);
    }
  }
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]!);
}

export const lifecycleBench: Bench = async ({ freshDatabase, log }) => {
  if (!(SCALE > 0 && SCALE <= 1)) throw new RangeError(`LIFECYCLE_SCALE: expected a number in (0, 1], got ${process.env.LIFECYCLE_SCALE}`);
  const markets = Math.round(FULL_MARKETS * SCALE);
  const games = Math.max(1, Math.round(FULL_GAMES * SCALE));
  // One database per schema and size, all kept: the sizes are measured side by side.
  const dbs: Array<{ schema: string; days: number; pool: pg.Pool }> = [];
  for (const schema of ['unpartitioned', 'partitioned']) {
    for (const days of STAGES_DAYS) {
      const { pool } = await freshDatabase();
      if (schema === 'unpartitioned') await withTransaction(pool, (c) => c.query(down0021()));
      // The months the bench's history spans (maintain-partitions would have made them as time went).
      else await pool.query(`SELECT ensure_history_partitions(t, $1::timestamptz, $1::timestamptz + interval '31 days') FROM unnest(ARRAY['markets', 'game_states']) t`, [T0]);
      dbs.push({ schema, days, pool });
    }
  }

  const figures: Record<string, number> = {};
  const notes: string[] = [`scale ${SCALE}: ${markets} markets (${(markets / CHANGE_EVERY_MINUTES).toFixed(0)} versions a minute), ${games} games (${games} versions a minute), ${POSITIONS} open positions`];
  for (const { schema, days, pool } of dbs) {
    await seed(pool, markets, games);
    await seedPositions(pool, markets);
    const start = performance.now();
    // Grown in the stages a deployed table would pass through (1, then 7, then 30 days).
    let previous = 0;
    for (const stage of STAGES_DAYS.filter((d) => d <= days)) {
      await grow(pool, markets, games, previous, stage);
      previous = stage;
    }
    const { rows } = await pool.query(`SELECT (SELECT count(*) FROM markets)::bigint AS m, (SELECT count(*) FROM game_states)::bigint AS g,
      pg_size_pretty(pg_total_relation_size('markets') + coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('markets')), 0)) AS size`);
    log(`  ${schema} ${days} d: ${rows[0].m} market versions, ${rows[0].g} game states (markets ${rows[0].size}), grown in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  for (const [name, query] of Object.entries(HOT_QUERIES)) {
    const medians = await interleavedMedians(dbs.map((d) => d.pool), query);
    dbs.forEach((d, i) => {
      figures[`${d.schema} ${name} ${d.days}d`] = medians[i]!;
    });
  }
  const schemas = Object.fromEntries(dbs.filter((d) => d.days === 30).map((d) => [d.schema, d.pool]));

  let goalMet = true;
  for (const schema of Object.keys(schemas)) {
    for (const [name, query] of Object.entries(HOT_QUERIES)) {
      const ratio = figures[`${schema} ${name} 30d`]! / figures[`${schema} ${name} 1d`]!;
      const met = ratio <= GOAL_RATIO;
      if (schema === 'partitioned' && query.goal) goalMet &&= met;
      notes.push(`${schema} ${name}: 30 d / 1 d = ${ratio.toFixed(2)}${query.goal ? (met ? '' : ' (over 1.5)') : ' (history read, no goal)'}`);
    }
  }
  for (const [schema, pool] of Object.entries(schemas)) {
    const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) SELECT * FROM current_markets WHERE status = 'open'`);
    notes.push(`EXPLAIN currentMarkets at 30 d, ${schema}:`, ...rows.map((r) => `    ${r['QUERY PLAN']}`));
  }
  notes.push(`goal: on the partitioned schema every hot query at 30 days within ${GOAL_RATIO}x of 1 day`);
  const result: BenchResult = { name: 'lifecycle', figures, notes, goalMet, unit: 'median ms', digits: 2 };
  return result;
};

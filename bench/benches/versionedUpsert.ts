import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { Decimal } from '../../shared/domain/decimal';
import { MARKETS, PlatformRepository, versionedUpsert, withTransaction, type SnapshotRow } from '../../shared/db';
import { time, type Bench } from '../harness';

const MARKETS_COUNT = 10_000;
const ROUNDS = 20;
const CHANGE_SHARE = 0.2;

/** Deterministic snapshots so every variant sees the same workload. */
function makeWorld(prefix = 'BENCH') {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const snapshot = (i: number, cents: number): SnapshotRow => {
    const yes = new Decimal(cents).div(100);
    return {
      market_id: `${prefix}-${i}`, platform_id: 'kalshi', event_id: null, external_id: `${prefix}-${i}`,
      ticker: `${prefix}-${i}`, title: `Bench market ${i}`, market_type: 'binary', yes_price: yes,
      no_price: new Decimal(1).minus(yes), volume: 1000 + i, open_interest: 10 * i, spread: new Decimal('0.02'),
      status: 'open', settlement_value: null, metadata: null,
    };
  };
  const cents = Array.from({ length: MARKETS_COUNT }, () => 5 + Math.floor(random() * 90));
  const initial = cents.map((c, i) => snapshot(i, c));
  const rounds: SnapshotRow[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < MARKETS_COUNT; i++) {
      if (random() < CHANGE_SHARE) cents[i] = cents[i]! >= 94 ? cents[i]! - 1 : cents[i]! + 1;
    }
    rounds.push(cents.map((c, i) => snapshot(i, c)));
  }
  return { initial, rounds };
}

const COLUMNS = Object.keys(MARKETS.columns);
const sqlValue = (v: unknown) => (v === null || v === undefined ? null : Decimal.isDecimal(v) ? (v as Decimal).toFixed() : v);

/**
 * The baseline a hand-written loop would do, made atomic with one transaction per round: per
 * snapshot SELECT the current row, compare, then UPDATE the old version and INSERT the new one.
 */
async function naiveRound(client: import('pg').PoolClient, rows: SnapshotRow[]) {
  for (const row of rows) {
    const current = await client.query(
      `SELECT market_version_id, ${COLUMNS.join(', ')} FROM markets WHERE market_id = $1 AND row_current_ind`,
      [row.market_id],
    );
    const old = current.rows[0];
    if (old) {
      const same = COLUMNS.every((c) => {
        const a = old[c];
        const b = row[c];
        if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
        if (Decimal.isDecimal(a)) return (a as Decimal).equals(b as Decimal);
        return typeof a === 'object' ? JSON.stringify(a) === JSON.stringify(b) : String(a) === String(b);
      });
      if (same) continue;
      await client.query(
        'UPDATE markets SET row_current_ind = FALSE, superseded_at = now() WHERE market_id = $1 AND market_version_id = $2',
        [row.market_id, old.market_version_id],
      );
    } else {
      await client.query('INSERT INTO market_identities (market_id, platform_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        row.market_id, row.platform_id,
      ]);
    }
    await client.query(
      `INSERT INTO markets (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
      COLUMNS.map((c) => (c === 'metadata' && row[c] != null ? JSON.stringify(row[c]) : sqlValue(row[c]))),
    );
  }
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' && !Decimal.isDecimal(v) ? JSON.stringify(v) : String(sqlValue(v));
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function copyRound(client: import('pg').PoolClient, rows: SnapshotRow[]) {
  const csv = rows.map((row) => COLUMNS.map((c) => csvField(row[c])).join(',')).join('\n') + '\n';
  const stream = client.query(copyFrom(`COPY bench_copy_floor (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv)`));
  await pipeline(Readable.from([csv]), stream);
}

async function seedPlatform(pool: import('pg').Pool) {
  await new PlatformRepository(pool).upsert({ platformId: 'kalshi', platformType: 'trading', displayName: 'Kalshi' });
}

export const versionedUpsertBench: Bench = async ({ freshDatabase }) => {
  const snapshots = MARKETS_COUNT * ROUNDS;
  const figures: Record<string, number> = {};
  const versionsWritten: Record<string, number> = {};
  let projectRoundTrips = 0;
  const countVersions = async (pool: import('pg').Pool, variant: string) => {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM markets');
    versionsWritten[variant] = rows[0].n;
  };

  // Naive per-row.
  {
    const { pool } = await freshDatabase();
    await seedPlatform(pool);
    const world = makeWorld();
    await withTransaction(pool, (c) => naiveRound(c, world.initial));
    const { ms } = await time(async () => {
      for (const round of world.rounds) await withTransaction(pool, (c) => naiveRound(c, round));
    });
    figures.naive = snapshots / (ms / 1000);
    await countVersions(pool, 'naive');
  }

  // The project's versioned upsert.
  {
    const { pool } = await freshDatabase();
    await seedPlatform(pool);
    const world = makeWorld();
    await versionedUpsert(pool, MARKETS, world.initial);
    const client = await pool.connect();
    // Counts the statements the project sends per round (each one round trip).
    const counted = {
      query: ((...args: Parameters<typeof client.query>) => {
        projectRoundTrips++;
        return client.query(...args);
      }) as typeof client.query,
    };
    try {
      const { ms } = await time(async () => {
        for (const round of world.rounds) {
          await counted.query('BEGIN');
          await versionedUpsert(counted, MARKETS, round);
          await counted.query('COMMIT');
        }
      });
      figures.project = snapshots / (ms / 1000);
    } finally {
      client.release();
    }
    await countVersions(pool, 'project');
  }

  // The floor: COPY the same number of rows into a bare table with the same columns.
  {
    const { pool } = await freshDatabase();
    await pool.query(`CREATE TABLE bench_copy_floor AS SELECT ${COLUMNS.join(', ')} FROM markets WITH NO DATA`);
    const world = makeWorld();
    const { ms } = await time(async () => {
      for (const round of world.rounds) await withTransaction(pool, (c) => copyRound(c, round));
    });
    figures.copy = snapshots / (ms / 1000);
  }

  const vsNaive = figures.project! / figures.naive!;
  const vsCopy = figures.project! / figures.copy!;
  return {
    name: 'versioned-upsert',
    figures,
    notes: [
      `${MARKETS_COUNT} markets, ${ROUNDS} rounds, ${CHANGE_SHARE * 100}% changed per round (${snapshots} snapshots per variant)`,
      'each variant on a fresh migrated database of the same server',
      `project / naive = ${vsNaive.toFixed(1)}x (goal >= 20x)`,
      `project / copy  = ${(vsCopy * 100).toFixed(0)}% (goal >= 30%)`,
      `round trips per round (project, BEGIN/COMMIT included): ${projectRoundTrips / ROUNDS}`,
      `versions written: project ${versionsWritten.project}, naive ${versionsWritten.naive} (must be equal)`,
    ],
    goalMet: vsNaive >= 20 && vsCopy >= 0.3 && versionsWritten.project === versionsWritten.naive,
  };
};

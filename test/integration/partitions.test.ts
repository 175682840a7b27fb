import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { MARKETS, versionedUpsert, withTransaction } from '../../shared/db';
import { closeSharedPool } from '../../shared/db/pool';
import { marketSnapshotRow } from '../../shared/db/repositories/markets';
import {
  detachAndDropPartition, ensurePartitionsFor, listTimePartitions, maintainPartitions, PARTITIONED_TABLES,
} from '../../shared/lifecycle/partitions';
import { runMaintainPartitions } from '../../functions/maintain-partitions/handler';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy } from '../helpers/seed';

const db = useTestDatabase({ poolMax: 12 });
let restoreClock: (() => void) | undefined;

beforeAll(async () => {
  await seedHierarchy(db().pool);
});
afterAll(async () => {
  await closeSharedPool();
});
afterEach(() => {
  restoreClock?.();
  restoreClock = undefined;
});

const iso = (d: Date) => d.toISOString();

async function partitionOf(table: string, where: string, params: unknown[]): Promise<string[]> {
  const { rows } = await db().pool.query(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${where} ORDER BY 1`, params);
  return rows.map((r) => r.p);
}

describe('maintain-partitions', () => {
  it('creates the current UTC month and the three after it, for every partitioned table; a second run creates nothing', async () => {
    const { pool } = db();
    const now = new Date('2031-05-31T23:59:59.999Z');
    const first = await withTransaction(pool, (c) => maintainPartitions(c, now));
    for (const { table } of PARTITIONED_TABLES) {
      expect(first.created[table]).toEqual(['2031_05', '2031_06', '2031_07', '2031_08'].map((m) => `${table}_history_${m}`));
      const months = (await listTimePartitions(pool, table)).filter((p) => p.from >= new Date('2031-01-01Z'));
      expect(months.map((p) => [p.partition, iso(p.from), iso(p.to)])).toEqual([
        [`${table}_history_2031_05`, '2031-05-01T00:00:00.000Z', '2031-06-01T00:00:00.000Z'],
        [`${table}_history_2031_06`, '2031-06-01T00:00:00.000Z', '2031-07-01T00:00:00.000Z'],
        [`${table}_history_2031_07`, '2031-07-01T00:00:00.000Z', '2031-08-01T00:00:00.000Z'],
        [`${table}_history_2031_08`, '2031-08-01T00:00:00.000Z', '2031-09-01T00:00:00.000Z'],
      ]);
      expect(first.defaultRows[table]).toBe(0);
    }
    const second = await withTransaction(pool, (c) => maintainPartitions(c, now));
    expect(second.created).toEqual({ markets: [], game_states: [] });
  });

  it('runs as the scheduled function on the clock (shared/clock) and validates its console event', async () => {
    const clock = new ManualClock(Date.parse('2032-02-10T12:00:00Z'));
    restoreClock = useClock(clock);
    process.env.DATABASE_URL = db().url;
    const result = await runMaintainPartitions({ 'detail-type': 'Scheduled Event', source: 'aws.events' });
    expect(result.created.markets).toEqual(['2032_02', '2032_03', '2032_04', '2032_05'].map((m) => `markets_history_${m}`));
    await expect(runMaintainPartitions({ monthsAhead: -1 })).rejects.toThrow(/invalid maintain-partitions event: monthsAhead/);
    await expect(runMaintainPartitions({ months: 3 })).rejects.toThrow(/invalid maintain-partitions event/);
  });

  it('a version closed in a month without a partition still inserts (default partition); the job then moves it to its month', async () => {
    const { pool } = db();
    const clock = new ManualClock(Date.parse('2034-07-04T10:00:00Z'));
    restoreClock = useClock(clock);
    await versionedUpsert(pool, MARKETS, [marketSnapshotRow(marketSnapshot('STRAY-1', '0.4000'))]);
    await versionedUpsert(pool, MARKETS, [marketSnapshotRow(marketSnapshot('STRAY-1', '0.4100'))]);
    expect(await partitionOf('markets', 'market_id = $1', ['STRAY-1'])).toEqual(['markets_current', 'markets_history_default']);

    const result = await withTransaction(pool, (c) => maintainPartitions(c, new Date('2034-01-15T00:00:00Z'), 1));
    expect(result.created.markets).toEqual(['markets_history_2034_01', 'markets_history_2034_02', 'markets_history_2034_07']);
    expect(result.defaultRows.markets).toBe(0);
    expect(await partitionOf('markets', 'market_id = $1', ['STRAY-1'])).toEqual(['markets_current', 'markets_history_2034_07']);
  });
});

describe('partition library', () => {
  it('detaches and drops a month partition, never the current or default one', async () => {
    const { pool } = db();
    await ensurePartitionsFor(pool, 'game_states', new Date('2036-03-05Z'), new Date('2036-03-06Z'));
    expect((await listTimePartitions(pool, 'game_states')).map((p) => p.partition)).toContain('game_states_history_2036_03');
    await expect(detachAndDropPartition(pool, 'game_states', 'game_states_current')).rejects.toThrow(
      'partition: game_states_current is not a month partition of game_states',
    );
    await expect(detachAndDropPartition(pool, 'game_states', 'game_states_history_default')).rejects.toThrow(/not a month partition/);
    await expect(detachAndDropPartition(pool, 'trades', 'trades')).rejects.toThrow('table: trades is not a time-partitioned table');
    await detachAndDropPartition(pool, 'game_states', 'game_states_history_2036_03');
    expect((await listTimePartitions(pool, 'game_states')).map((p) => p.partition)).not.toContain('game_states_history_2036_03');
    const { rows } = await pool.query(`SELECT to_regclass('game_states_history_2036_03') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('refuses a bad range with the field named', async () => {
    await expect(ensurePartitionsFor(db().pool, 'markets', new Date('2030-02-01Z'), new Date('2030-01-01Z'))).rejects.toThrow(/^to: /);
    await expect(ensurePartitionsFor(db().pool, 'markets', new Date('nope'), new Date('2030-01-01Z'))).rejects.toThrow(/^from: /);
  });

  it('history rows are never deleted one by one; the current partition neither', async () => {
    const { pool } = db();
    for (const target of ['markets', 'game_states', 'markets_current']) {
      await expect(pool.query(`DELETE FROM ${target}`)).rejects.toThrow(/is versioned history: DELETE is not allowed/);
      await expect(pool.query(`TRUNCATE ${target}`)).rejects.toThrow(/is versioned history: TRUNCATE is not allowed/);
    }
  });

  it('a trade must name an existing market version (the replaced foreign key)', async () => {
    const { pool } = db();
    const { versions } = await versionedUpsert(pool, MARKETS, [marketSnapshotRow(marketSnapshot('TRADE-1', '0.5000')), marketSnapshotRow(marketSnapshot('TRADE-2', '0.5000'))]);
    const insertTrade = (marketId: string, versionId: number) => pool.query(
      `INSERT INTO trades (market_id, market_version_id, platform_id, side, price, quantity) VALUES ($1, $2, 'kalshi', 'buy', 0.5, 1)`,
      [marketId, versionId],
    );
    await insertTrade('TRADE-1', versions[0]!.versionId);
    // A version of another market is not this market's version.
    await expect(insertTrade('TRADE-2', versions[0]!.versionId)).rejects.toThrow(/trades: market version \d+ of market TRADE-2 does not exist/);
    await expect(
      insertTrade('TRADE-1', 987654321)).rejects.toThrow('trades: market version 987654321 of market TRADE-1 does not exist');
  });
});

describe('one current row per key on the partitioned tables', () => {
  it('6 concurrent writers of the same keys across a month boundary: one current row per key, every version kept, in its month', async () => {
    const { pool } = db();
    const boundary = Date.parse('2038-03-01T00:00:00Z');
    await ensurePartitionsFor(pool, 'markets', new Date(boundary - 1), new Date(boundary + 1));
    const clock = new ManualClock(boundary - 5 * 60_000);
    restoreClock = useClock(clock);
    const keys = Array.from({ length: 40 }, (_, i) => `EDGE-OF-MONTH-${String(i).padStart(2, '0')}`);
    let inserted = 0;
    let closed = 0;
    for (let round = 0; round < 10; round++) {
      // Every writer writes a different price for every key, so each of them makes a version.
      const results = await Promise.all(Array.from({ length: 6 }, (_, w) =>
        withTransaction(pool, (client) => versionedUpsert(client, MARKETS, keys.map((k) =>
          marketSnapshotRow(marketSnapshot(k, `0.${String(10 + round * 6 + w).padStart(2, '0')}00`)))), { retries: 0 })));
      for (const r of results) {
        inserted += r.inserted;
        closed += r.closed;
      }
      await clock.advance(60_000);
    }
    expect(inserted).toBe(10 * 6 * keys.length);
    expect(closed).toBe(inserted - keys.length);

    const { rows } = await pool.query(
      `SELECT market_id, count(*)::int AS versions, count(*) FILTER (WHERE row_current_ind)::int AS current,
              count(*) FILTER (WHERE tableoid = 'markets_history_2038_02'::regclass)::int AS february,
              count(*) FILTER (WHERE tableoid = 'markets_history_2038_03'::regclass)::int AS march,
              count(*) FILTER (WHERE tableoid = 'markets_history_default'::regclass)::int AS stray
       FROM markets WHERE market_id LIKE 'EDGE-OF-MONTH-%' GROUP BY market_id ORDER BY market_id`,
    );
    expect(rows).toHaveLength(keys.length);
    for (const r of rows) {
      // 60 versions: 1 current, 29 closed in the 5 minutes before the boundary (the first round's
      // first write closes nothing), 30 after it.
      expect(r, r.market_id).toMatchObject({ versions: 60, current: 1, february: 29, march: 30, stray: 0 });
    }
    // Each key's versions form one chain: each closed version ended when its successor began.
    const { rows: gaps } = await pool.query(
      `SELECT count(*)::int AS n FROM (
         SELECT superseded_at, lead(created_at) OVER (PARTITION BY market_id ORDER BY market_version_id) AS next_start
         FROM markets WHERE market_id LIKE 'EDGE-OF-MONTH-%') x
       WHERE next_start IS NOT NULL AND superseded_at IS DISTINCT FROM next_start`,
    );
    expect(gaps[0].n).toBe(0);
  });

  it('a writer bypassing the upsert locks is stopped by the one-current-row index of the current partition', async () => {
    const { pool } = db();
    await versionedUpsert(pool, MARKETS, [marketSnapshotRow(marketSnapshot('RAW-1', '0.5000'))]);
    // Several connections insert a second current row for the same key at once: all refused.
    const attempts = await Promise.allSettled(Array.from({ length: 4 }, () =>
      pool.query(`INSERT INTO markets (market_id, platform_id, external_id, title) VALUES ('RAW-1', 'kalshi', 'RAW-1', 'raw')`)));
    expect(attempts.map((a) => a.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const a of attempts) expect(String((a as PromiseRejectedResult).reason)).toMatch(/idx_markets_current/);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM markets WHERE market_id = 'RAW-1' AND row_current_ind`);
    expect(rows[0].n).toBe(1);
  });
});

describe('migration 0021 down and up', () => {
  it('Down restores one plain table each with every row, Up partitions them again with the same rows', async () => {
    const { pool } = db();
    const sql = readFileSync(new URL('../../migrations/0021_partition-versioned-tables.sql', import.meta.url), 'utf8');
    const [up, down] = sql.split('-- Down Migration');
    const snapshot = async () => (await pool.query(
      `SELECT to_jsonb(m) AS r FROM markets m ORDER BY market_version_id`)).rows.map((r) => JSON.stringify(r.r));
    const before = await snapshot();
    expect(before.length).toBeGreaterThan(100);

    await withTransaction(pool, (c) => c.query(down!));
    const kinds = await pool.query(`SELECT relname, relkind FROM pg_class WHERE relname IN ('markets', 'game_states') ORDER BY 1`);
    expect(kinds.rows).toEqual([{ relname: 'game_states', relkind: 'r' }, { relname: 'markets', relkind: 'r' }]);
    const pk = await pool.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conname = 'markets_pkey'`);
    expect(pk.rows[0].d).toBe('PRIMARY KEY (market_id, market_version_id)');
    expect(await snapshot()).toEqual(before);

    await withTransaction(pool, (c) => c.query(up!));
    const again = await pool.query(`SELECT relkind FROM pg_class WHERE relname = 'markets'`);
    expect(again.rows[0].relkind).toBe('p');
    expect(await snapshot()).toEqual(before);
    // The identity continues after the highest version.
    const next = await versionedUpsert(pool, MARKETS, [marketSnapshotRow(marketSnapshot('AFTER-UPDOWN', '0.3000'))]);
    expect(next.versions[0]!.versionId).toBeGreaterThan(Math.max(...before.map((r) => JSON.parse(r).market_version_id)));
  });
});

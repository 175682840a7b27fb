import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { EventRepository, SeriesRepository, withTransaction } from '../../shared/db';
import { GAME_STATES } from '../../shared/db/versionedTables';
import { versionedUpsert } from '../../shared/db/versionedUpsert';
import { EmptyWindowError, importTape, openTape, tapeId, writeTape, DirectoryStore, type Manifest, type TapeEvent } from '../../shared/tape';
import { canonicalJson } from '../../shared/tape/manifest';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets, seedStrategyAndModel } from '../helpers/seed';

/**
 * writeTape / openTape / importTape on a small recorded history written through the real
 * repositories on a virtual clock (so created_at is the time Precog "saw" each version), across a
 * UTC month boundary: 2026-09-30 → 2026-10-01.
 */

const FROM = new Date('2026-09-30T23:00:00.000Z');
const TO = new Date('2026-10-01T02:00:00.000Z');

let source: TestDatabase;
let target: TestDatabase;
let root: string;
let tapeDir: string;
let manifest: Manifest;

const game = (score: number, status = 'live') => ({
  sport: 'nfl', external_game_id: '401', event_id: 'KXNFLGAME-25NOV27KCDAL', home_team: 'DAL', away_team: 'KC',
  home_score: score, away_score: 0, period: '2', time_remaining: '10:00', possession: 'home', status,
  sport_metadata: { venue: 'AT&T Stadium ✓' },
});

async function record(): Promise<void> {
  const clock = new ManualClock(Date.parse('2026-09-20T12:00:00.000Z'));
  const restore = useClock(clock);
  try {
    const pool = source.pool;
    await seedHierarchy(pool);
    await seedStrategyAndModel(pool);
    await new SeriesRepository(pool).upsertMany([{ seriesId: 'KXNBAGAME', platformId: 'kalshi', externalId: 'KXNBAGAME', category: 'sports', subcategory: 'nba', title: 'NBA Game' }]);
    await new EventRepository(pool).upsertMany([{ eventId: 'KXNBAGAME-26OCT01LALBOS', platformId: 'kalshi', seriesId: 'KXNBAGAME', externalId: 'KXNBAGAME-26OCT01LALBOS', category: 'sports', subcategory: 'nba', title: 'LAL at BOS' }]);
    // Long before the window: a market settled (no opening state) and one still open (opening state).
    await seedMarkets(pool, [marketSnapshot('OLD', '1.0000', { status: 'settled', settlementValue: undefined }), marketSnapshot('M1', '0.5000')]);
    await clock.set(Date.parse('2026-09-25T12:00:00.000Z'));
    await seedMarkets(pool, [marketSnapshot('M1', '0.5100')]);
    // In the window, September: two markets and a game state seen at the same instant.
    await clock.set(Date.parse('2026-09-30T23:30:00.000Z'));
    await seedMarkets(pool, [marketSnapshot('M1', '0.5500'), marketSnapshot('M2', '0.4000'), marketSnapshot('NBA1', '0.3000', { eventId: 'KXNBAGAME-26OCT01LALBOS' })]);
    await withTransaction(pool, (client) => versionedUpsert(client, GAME_STATES, [game(7)]));
    // In the window, October.
    await clock.set(Date.parse('2026-10-01T00:30:00.000Z'));
    await seedMarkets(pool, [marketSnapshot('M1', '0.6000'), marketSnapshot('M2', '0.3500', { status: 'closed' })]);
    await withTransaction(pool, (client) => versionedUpsert(client, GAME_STATES, [game(14)]));
    // After the window: not on the tape.
    await clock.set(Date.parse('2026-10-01T03:00:00.000Z'));
    await seedMarkets(pool, [marketSnapshot('M1', '1.0000', { status: 'settled', settlementValue: undefined })]);
    await withTransaction(pool, (client) => versionedUpsert(client, GAME_STATES, [game(21, 'final')]));
  } finally {
    restore();
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const describeEvent = (e: TapeEvent) => `${e.atIso} ${e.table} ${e.table === 'markets' ? `${e.row.market_id} ${e.row.yes_price}` : `${e.row.home_score}-${e.row.away_score}`}`;

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  root = await mkdtemp(path.join(tmpdir(), 'precog-tape-'));
  tapeDir = path.join(root, 'tape');
  await record();
  manifest = await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(tapeDir));
});

afterAll(async () => {
  await Promise.all([source?.drop(), target?.drop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('writeTape', () => {
  it('writes the catalog in one file per table and each time series per UTC month of created_at, every window month present', () => {
    expect(manifest.files.map((f) => `${f.key} ${f.rows}`)).toEqual([
      'platforms/all.parquet 1',
      'series/all.parquet 2',
      'events/all.parquet 2',
      'market_identities/all.parquet 4',
      'game_identities/all.parquet 1',
      'probability_matrices/all.parquet 0',
      'probability_models/all.parquet 1',
      'strategies/all.parquet 1',
      // M1's opening version (2026-09-25) + M1, M2, NBA1 at 23:30
      'markets/2026-09.parquet 4',
      // M1, M2 at 00:30
      'markets/2026-10.parquet 2',
      'game_states/2026-09.parquet 1',
      'game_states/2026-10.parquet 1',
    ]);
    const markets09 = manifest.files.find((f) => f.key === 'markets/2026-09.parquet')!;
    expect(markets09).toMatchObject({ month: '2026-09', timeColumn: 'created_at', minTime: '2026-09-25T12:00:00.000000Z', maxTime: '2026-09-30T23:30:00.000000Z' });
    expect(markets09.columns.find((c) => c.name === 'yes_price')).toMatchObject({ kind: 'decimal', precision: 10, scale: 4, pgType: 'numeric(10,4)' });
    expect(manifest.window).toEqual({ from: FROM.toISOString(), to: TO.toISOString() });
    expect(manifest.tapeId).toBe(tapeId(manifest));
  });

  it('is deterministic: the same history gives the same files and the same tapeId', async () => {
    const again = await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(path.join(root, 'again')));
    expect(again.tapeId).toBe(manifest.tapeId);
    expect(canonicalJson(again)).toBe(canonicalJson(manifest));
  });

  it('keeps only the given series (their events, markets and matched games)', async () => {
    const nba = await writeTape(source.pool, { from: FROM, to: TO, series: ['KXNBAGAME'] }, new DirectoryStore(path.join(root, 'nba')));
    const rows = Object.fromEntries(nba.files.map((f) => [f.key, f.rows]));
    expect(rows).toMatchObject({ 'series/all.parquet': 1, 'events/all.parquet': 1, 'market_identities/all.parquet': 1, 'markets/2026-09.parquet': 1, 'markets/2026-10.parquet': 0, 'game_states/2026-09.parquet': 0 });
    expect(nba.series).toEqual(['KXNBAGAME']);
  });

  it('refuses an empty window, a reversed window and a store that is not empty, writing nothing', async () => {
    const emptyDir = path.join(root, 'empty');
    await expect(writeTape(source.pool, { from: new Date('2026-08-01T00:00:00Z'), to: new Date('2026-08-02T00:00:00Z') }, new DirectoryStore(emptyDir))).rejects.toThrow(EmptyWindowError);
    expect(await new DirectoryStore(emptyDir).list('')).toEqual([]);
    await expect(writeTape(source.pool, { from: TO, to: FROM }, new DirectoryStore(path.join(root, 'reversed')))).rejects.toThrow(/must be before/);
    await expect(writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(tapeDir))).rejects.toThrow(/is not empty/);
  });
});

describe('openTape', () => {
  it('streams the time series merged by (seen time, table order, key), opening state first', async () => {
    const tape = await openTape(tapeDir);
    expect(tape.tapeId).toBe(manifest.tapeId);
    const events = await collect(tape.events());
    expect(events.map(describeEvent)).toEqual([
      '2026-09-25T12:00:00.000000Z markets M1 0.5100',
      // the upsert numbered NBA1's version before M2's: key order is market_version_id
      '2026-09-30T23:30:00.000000Z markets M1 0.5500',
      '2026-09-30T23:30:00.000000Z markets NBA1 0.3000',
      '2026-09-30T23:30:00.000000Z markets M2 0.4000',
      '2026-09-30T23:30:00.000000Z game_states 7-0',
      '2026-10-01T00:30:00.000000Z markets M1 0.6000',
      '2026-10-01T00:30:00.000000Z markets M2 0.3500',
      '2026-10-01T00:30:00.000000Z game_states 14-0',
    ]);
    const sameInstant = events.filter((e) => e.table === 'markets' && e.atIso === '2026-09-30T23:30:00.000000Z').map((e) => e.row.market_version_id as bigint);
    expect(sameInstant).toEqual([...sameInstant].sort((a, b) => (a < b ? -1 : 1)));
    const windowOnly = await collect(tape.events(new Date('2026-10-01T00:00:00Z'), new Date('2026-10-01T00:30:00.001Z')));
    expect(windowOnly.map(describeEvent)).toEqual(['2026-10-01T00:30:00.000000Z markets M1 0.6000', '2026-10-01T00:30:00.000000Z markets M2 0.3500', '2026-10-01T00:30:00.000000Z game_states 14-0']);
    expect(windowOnly[0]!.at).toEqual(new Date('2026-10-01T00:30:00.000Z'));
  });

  it('names the file whose bytes do not match the manifest (corruption)', async () => {
    const dir = path.join(root, 'corrupt');
    await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(dir));
    const file = path.join(dir, 'markets', '2026-10.parquet');
    const bytes = await readFile(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(file, bytes);
    await expect(openTape(dir)).rejects.toThrow(/markets\/2026-10\.parquet: sha256 [0-9a-f]{64} does not match the manifest's/);
  });

  it('names the missing file', async () => {
    const dir = path.join(root, 'missing');
    await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(dir));
    await rm(path.join(dir, 'game_states', '2026-09.parquet'));
    await expect(openTape(dir)).rejects.toThrow(/game_states\/2026-09\.parquet: listed in the manifest but missing/);
  });

  it('rejects a manifest that fails validation, naming manifest.json and the field', async () => {
    const dir = path.join(root, 'invalid');
    await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(dir));
    const text = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    text.files[0].rows = -1;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(text));
    await expect(openTape(dir)).rejects.toThrow(/manifest\.json: invalid tape manifest: files\.0\.rows: /);
  });

  it('rejects a tape whose time series do not cover its window, naming the table and the month', async () => {
    const dir = path.join(root, 'gap');
    await writeTape(source.pool, { from: FROM, to: TO }, new DirectoryStore(dir));
    const text = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    text.files = text.files.filter((f) => f.key !== 'markets/2026-10.parquet');
    text.tapeId = tapeId(text); // a consistent manifest: only the coverage is wrong
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(text));
    await expect(openTape(dir)).rejects.toThrow(/does not cover its window .*markets has no file for 2026-10 \(markets\/2026-10\.parquet\)/);
  });
});

describe('importTape', () => {
  it('loads every row exactly, then refuses a second import as a conflict and writes nothing', async () => {
    const counts = await importTape(target.pool, tapeDir);
    expect(counts).toMatchObject({ markets: 6, game_states: 2, strategies: 1, probability_models: 1 });
    for (const table of ['platforms', 'series', 'events', 'market_identities', 'game_identities', 'strategies', 'probability_models']) {
      const q = `SELECT t::text AS t FROM ${table} t ORDER BY 1`;
      expect((await target.pool.query(q)).rows, table).toEqual((await source.pool.query(q)).rows);
    }
    const tapeRows = `SELECT t::text AS t FROM markets t WHERE market_id <> 'OLD' AND created_at >= '2026-09-25' AND created_at < $1 ORDER BY 1`;
    const importedMarkets = (await target.pool.query(`SELECT t::text AS t FROM markets t ORDER BY 1`)).rows;
    expect(importedMarkets).toEqual((await source.pool.query(tapeRows, [TO])).rows);
    // Identity sequences moved past the imported ids: a new version never collides.
    const { rows: [next] } = await target.pool.query(`SELECT nextval(pg_get_serial_sequence('markets', 'market_version_id'))::int AS id, (SELECT max(market_version_id)::int FROM markets) AS max`);
    expect(next.id).toBeGreaterThan(next.max);

    await expect(importTape(target.pool, tapeDir)).rejects.toThrow(/platforms\/all\.parquet: a row is already in the database \(Key \(platform_id\)=\(kalshi\) already exists\.\); nothing was imported/);
    expect((await target.pool.query(`SELECT count(*)::int AS n FROM markets`)).rows[0].n).toBe(6);
  });
});

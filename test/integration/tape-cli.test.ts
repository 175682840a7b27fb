import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/precog';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { withTransaction } from '../../shared/db';
import { GAME_STATES } from '../../shared/db/versionedTables';
import { versionedUpsert } from '../../shared/db/versionedUpsert';
import { runPrecog } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';

/** `precog tape export | import | show` in-process against test databases. */

let source: TestDatabase;
let target: TestDatabase;
let root: string;

const FROM = '2026-09-13T17:00:00Z';
const TO = '2026-09-13T21:00:00Z';

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  root = await mkdtemp(path.join(tmpdir(), 'precog-tape-cli-'));
  const clock = new ManualClock(Date.parse('2026-09-13T17:00:00.000Z'));
  const restore = useClock(clock);
  try {
    await seedHierarchy(source.pool);
    for (const [minute, price] of [[1, '0.5000'], [2, '0.5200'], [3, '0.4900']] as const) {
      await clock.set(Date.parse(FROM) + minute * 60_000);
      await seedMarkets(source.pool, [marketSnapshot('KC', price)]);
      await withTransaction(source.pool, (client) => versionedUpsert(client, GAME_STATES, [{
        sport: 'nfl', external_game_id: '401', event_id: 'KXNFLGAME-25NOV27KCDAL', home_team: 'DAL', away_team: 'KC',
        home_score: minute * 7, away_score: 0, period: '1', time_remaining: '12:00', possession: 'home', status: 'live', sport_metadata: null,
      }]));
    }
  } finally {
    restore();
  }
});

afterAll(async () => {
  await Promise.all([source?.drop(), target?.drop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('precog tape', () => {
  it('exports a window, shows it, imports it into an empty database exactly, and refuses a second import', async () => {
    const dir = path.join(root, 'sunday');
    const exported = await runPrecog(source.url, ['tape', 'export', '--from', FROM, '--to', TO, dir]);
    expect(exported.err).toBe('');
    expect(exported.code).toBe(EXIT_OK);
    expect(exported.out).toMatch(/^wrote tape .*sunday\n {2}tapeId {2}[0-9a-f]{64}\n {2}window {2}2026-09-13T17:00:00\.000Z → 2026-09-13T21:00:00\.000Z/);
    expect(exported.out).toMatch(/^ {2}markets +3 rows .* months 2026-09$/m);

    const shown = await runPrecog(source.url, ['tape', 'show', dir, '--json']);
    expect(shown.code).toBe(EXIT_OK);
    const summary = JSON.parse(shown.out);
    expect(summary.tables.find((t: { table: string }) => t.table === 'game_states')).toMatchObject({ rows: 3, months: ['2026-09'], role: 'timeseries' });
    expect(summary.window).toEqual({ from: '2026-09-13T17:00:00.000Z', to: '2026-09-13T21:00:00.000Z' });

    const imported = await runPrecog(target.url, ['tape', 'import', dir, '--json']);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(EXIT_OK);
    expect(JSON.parse(imported.out)).toMatchObject({ tapeId: summary.tapeId, rows: { markets: 3, game_states: 3, platforms: 1 } });
    for (const table of ['markets', 'game_states', 'events', 'market_identities']) {
      const q = `SELECT t::text AS t FROM ${table} t ORDER BY 1`;
      expect((await target.pool.query(q)).rows, table).toEqual((await source.pool.query(q)).rows);
    }

    const again = await runPrecog(target.url, ['tape', 'import', dir]);
    expect(again.code).toBe(EXIT_FAILURE);
    expect(again.err).toMatch(/^precog: .*platforms\/all\.parquet: a row is already in the database .*nothing was imported/);
    expect((await target.pool.query('SELECT count(*)::int AS n FROM markets')).rows[0].n).toBe(3);
  });

  it('usage errors (exit 2): --from not before --to, a malformed instant, a non-empty directory, an empty window', async () => {
    const reversed = await runPrecog(source.url, ['tape', 'export', '--from', TO, '--to', FROM, path.join(root, 'r')]);
    expect(reversed.code).toBe(EXIT_USAGE);
    expect(reversed.err).toMatch(/^error: --from \(2026-09-13T21:00:00\.000Z\) must be before --to/);

    const bad = await runPrecog(source.url, ['tape', 'export', '--from', '13/09/2026', '--to', TO, path.join(root, 'b')]);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toMatch(/option '--from <iso>' argument '13\/09\/2026' is invalid\. expected an ISO-8601 instant/);

    const full = path.join(root, 'full');
    await mkdir(full);
    await writeFile(path.join(full, 'notes.txt'), 'mine');
    const notEmpty = await runPrecog(source.url, ['tape', 'export', '--from', FROM, '--to', TO, full]);
    expect(notEmpty.code).toBe(EXIT_USAGE);
    expect(notEmpty.err).toMatch(/full exists and is not an empty directory/);
    expect(await readFile(path.join(full, 'notes.txt'), 'utf8')).toBe('mine');

    const empty = await runPrecog(source.url, ['tape', 'export', '--from', '2026-08-01', '--to', '2026-08-02', path.join(root, 'e'), '--json']);
    expect(empty.code).toBe(EXIT_USAGE);
    expect(JSON.parse(empty.err).error).toMatch(/no market or game-state version was seen in \[2026-08-01T00:00:00\.000Z, 2026-08-02T00:00:00\.000Z\): empty window; nothing written/);
  });

  it('show: a corrupted file is a failure (exit 1) naming it', async () => {
    const dir = path.join(root, 'corrupt');
    expect((await runPrecog(source.url, ['tape', 'export', '--from', FROM, '--to', TO, dir])).code).toBe(EXIT_OK);
    await writeFile(path.join(dir, 'game_states', '2026-09.parquet'), 'PAR1 truncated');
    const shown = await runPrecog(source.url, ['tape', 'show', dir]);
    expect(shown.code).toBe(EXIT_FAILURE);
    expect(shown.err).toMatch(/^precog: .*game_states\/2026-09\.parquet: \d+ bytes, the manifest says \d+/);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticSundays, type SyntheticSundays } from '../../bench/lib/syntheticTape';
import { DirectoryStore, openTape } from '../../shared/tape';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** The synthetic Sunday tape the backtest bench replays (bench/lib/syntheticTape.ts). */

const databases: TestDatabase[] = [];
let root: string | undefined;

afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
  if (root) await rm(root, { recursive: true, force: true });
});

async function synthetic(seed: number): Promise<{ result: SyntheticSundays; db: TestDatabase; dir: string }> {
  root ??= await mkdtemp(path.join(tmpdir(), 'precog-synthetic-'));
  const db = await createTestDatabase();
  databases.push(db);
  const dir = path.join(root, `seed-${seed}-${databases.length}`);
  const result = await writeSyntheticSundays(new DirectoryStore(dir), { db: db.pool, sundays: 1, seed });
  return { result, db, dir };
}

describe('writeSyntheticSundays', () => {
  it('one Sunday: 13 games at the four kickoff slots, minute-by-minute versions, results at the end, the seeded catalog; deterministic for a seed', async () => {
    const { result, db, dir } = await synthetic(7);
    expect(result.games).toBe(13);
    const { rows: kickoffs } = await db.pool.query(`SELECT to_char(start_time AT TIME ZONE 'America/New_York', 'HH24:MI') AS et, count(*)::int AS n FROM game_identities GROUP BY 1 ORDER BY 1`);
    expect(kickoffs).toEqual([{ et: '13:00', n: 7 }, { et: '16:05', n: 2 }, { et: '16:25', n: 3 }, { et: '20:20', n: 1 }]);
    // A game's versions, written like ingestion (a new version only when something changed): one
    // while scheduled, one a minute for 180 live minutes (the clock moves), one at halftime, the final.
    const { rows: perGame } = await db.pool.query(`SELECT count(*)::int AS n FROM game_states GROUP BY external_game_id`);
    expect(perGame.map((r) => r.n)).toEqual(Array(13).fill(183));
    const { rows: [gaps] } = await db.pool.query(
      `SELECT max(d)::text AS max_gap, bool_and(date_trunc('minute', created_at) = created_at) AS aligned FROM (
         SELECT created_at, created_at - lag(created_at) OVER (PARTITION BY market_id ORDER BY created_at) AS d FROM markets) t`);
    expect(gaps).toEqual({ max_gap: '00:01:00', aligned: true });
    // Every market ends settled, the two markets of a game at 1 and 0.
    const { rows: results } = await db.pool.query(
      `SELECT event_id, sum(settlement_value)::text AS total, bool_and(status = 'settled') AS settled FROM markets WHERE row_current_ind GROUP BY 1`);
    expect(results).toHaveLength(13);
    expect(results.every((r) => r.total === '1.0000' && r.settled)).toBe(true);
    const { rows: states } = await db.pool.query(`SELECT DISTINCT status FROM game_states ORDER BY 1`);
    expect(states.map((s) => s.status)).toEqual(['final', 'halftime', 'live', 'scheduled']);

    const tape = await openTape(dir);
    const rows = (table: string) => tape.manifest.files.filter((f) => f.table === table).reduce((n, f) => n + f.rows, 0);
    expect(rows('markets')).toBe(result.versions.markets);
    expect(rows('game_states')).toBe(result.versions.gameStates);
    expect(rows('game_states')).toBe(13 * 183);
    const strategies = [];
    for await (const s of tape.rows('strategies')) strategies.push(`${s.strategy_name}@${s.strategy_version}`);
    expect(strategies).toEqual(expect.arrayContaining(['quarter_live@v1.0', 'quarter_live@v1.1', 'halftime_entry@v1.0']));
    expect(rows('probability_matrices')).toBeGreaterThan(0);

    const again = await synthetic(7);
    expect(again.result.manifest.tapeId).toBe(result.manifest.tapeId);
  }, 300_000);
});

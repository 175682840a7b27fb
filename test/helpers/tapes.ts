import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectoryStore, writeTape, type Manifest } from '../../shared/tape';
import { createTestDatabase, type TestDatabase } from './database';
import { startLocalRun } from './localRun';

export interface RecordedScenarioTape {
  manifest: Manifest;
  /** The tape directory (= the `dir` given). */
  dir: string;
  /** The run's state file and report (report/report.json, report.html) for comparisons. */
  runDir: string;
  /** [from, to) of the tape: the run's first and last seen version (to = last + 1 ms). */
  window: { from: Date; to: Date };
  /** The run's database, left for the caller to read and drop (`keepDatabase`), else dropped. */
  database?: TestDatabase;
}

/**
 * The first real tape fixture (issue 19): `npm start --scenario <scenario>` (the real handlers on
 * the virtual clock against the Kalshi simulator) on a database of its own, then its whole window
 * written as a tape into `dir` (new or empty). The window runs from the first market or
 * game-state version the run saw to just after the last one.
 */
export async function recordScenarioTape(
  scenario: string,
  dir: string,
  options: { keepDatabase?: boolean; extraArgs?: string[] } = {},
): Promise<RecordedScenarioTape> {
  const database = await createTestDatabase();
  try {
    const runDir = await mkdtemp(path.join(tmpdir(), `precog-tape-run-${scenario.replace(/\W+/g, '-')}-`));
    const run = startLocalRun(['--scenario', scenario, '--state', path.join(runDir, 'state.json'), '--report-dir', path.join(runDir, 'report'), ...(options.extraArgs ?? [])], database.url);
    const { code, signal } = await run.exited;
    if (code !== 0) throw new Error(`npm start --scenario ${scenario} exited ${code ?? signal}:\n${run.output().slice(-3000)}`);
    const { rows: [span] } = await database.pool.query<{ first: Date | null; last: Date | null }>(
      `SELECT min(first) AS first, max(last) AS last FROM (
         SELECT min(created_at) AS first, max(created_at) AS last FROM markets
         UNION ALL SELECT min(created_at), max(created_at) FROM game_states) t`,
    );
    if (!span?.first || !span.last) throw new Error(`npm start --scenario ${scenario} recorded no market or game-state version`);
    // The virtual clock moves in whole milliseconds, so created_at has no sub-millisecond part to lose here.
    const window = { from: span.first, to: new Date(span.last.getTime() + 1) };
    const manifest = await writeTape(database.pool, window, new DirectoryStore(dir));
    if (!options.keepDatabase) await database.drop();
    return { manifest, dir, runDir, window, ...(options.keepDatabase ? { database } : {}) };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

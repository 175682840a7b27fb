import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTape } from '../../shared/tape';
import { recordScenarioTape, type RecordedScenarioTape } from '../helpers/tapes';

/**
 * The first real tape: `npm start --scenario comeback` (one game, the shortest shipped scenario)
 * recorded as a tape. The tape holds every market and game-state version the run wrote, with the
 * same counts as the run's database, in seen order.
 */

let recorded: RecordedScenarioTape | undefined;
let root: string | undefined;

afterAll(async () => {
  await recorded?.database?.drop();
  if (recorded) await rm(recorded.runDir, { recursive: true, force: true });
  if (root) await rm(root, { recursive: true, force: true });
});

describe('recordScenarioTape', () => {
  it('records a npm start run as a tape with all its market and game-state versions', async () => {
    root = await mkdtemp(path.join(tmpdir(), 'precog-tape-scenario-'));
    recorded = await recordScenarioTape('comeback', path.join(root, 'comeback'), { keepDatabase: true });
    const db = recorded.database!.pool;
    const counts = async (table: string) => (await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
    const rowsOf = (table: string) => recorded!.manifest.files.filter((f) => f.table === table).reduce((n, f) => n + f.rows, 0);
    for (const table of ['markets', 'game_states', 'events', 'market_identities', 'game_identities', 'strategies', 'probability_models', 'probability_matrices']) {
      expect(rowsOf(table), table).toBe(await counts(table));
    }
    expect(rowsOf('markets')).toBeGreaterThan(10);
    expect(rowsOf('game_states')).toBeGreaterThan(10);
    // Settlement values (the market results) are on the tape.
    const tape = await openTape(recorded.dir);
    let settled = 0;
    let events = 0;
    let previous = '';
    for await (const event of tape.events()) {
      events++;
      expect(event.atIso >= previous, `${event.atIso} after ${previous}`).toBe(true);
      previous = event.atIso;
      if (event.table === 'markets' && event.row.settlement_value !== null) settled++;
    }
    expect(events).toBe(rowsOf('markets') + rowsOf('game_states'));
    expect(settled).toBeGreaterThan(0);
  }, 300_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { machineElapsedMs } from '../../shared/clock/clock';
import { DirectoryStore, openTape } from '../../shared/tape';
import type { Bench, BenchResult } from '../harness';
import { writeSyntheticSundays } from '../lib/syntheticTape';

/** A full garbage collection on demand: the live heap is what the reader holds, not garbage awaiting GC. */
function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * `npm run bench -- tape`: synthetic tapes of 1 and 4 NFL Sundays (bench/lib/syntheticTape.ts),
 * then every event of each streamed through openTape (checks, merge, exact conversion). Goal:
 * streaming memory flat as the tape grows: the peak live heap while streaming 4 Sundays within
 * 1.5x of 1 Sunday's (the reader holds one row group per time-series table, never a whole file).
 */
export const tapeBench: Bench = async (ctx) => {
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const peaks: number[] = [];
  for (const sundays of [1, 4]) {
    const { pool } = await ctx.freshDatabase();
    const dir = await mkdtemp(path.join(tmpdir(), `precog-bench-tape-${sundays}-`));
    try {
      const started = machineElapsedMs();
      const written = await writeSyntheticSundays(new DirectoryStore(path.join(dir, 'tape')), { db: pool, sundays, seed: 2026 });
      const writeMs = machineElapsedMs() - started;
      const bytes = written.manifest.files.reduce((n, f) => n + f.bytes, 0);

      // Streamed twice: once timed, once sampling the live heap (a full GC before each sample).
      const tape = await openTape(path.join(dir, 'tape'));
      let events = 0;
      const streamStart = machineElapsedMs();
      for await (const _ of tape.events()) events++;
      const streamMs = machineElapsedMs() - streamStart;
      const gc = collectGarbage();
      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peak = 0;
      let seen = 0;
      for await (const _ of tape.events()) {
        if (++seen % 1000 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
        }
      }
      peaks.push(peak);
      figures[`${sundays} Sunday(s): events streamed/s`] = Math.round(events / (streamMs / 1000));
      notes.push(`${sundays} Sunday(s): ${written.games} games, ${written.versions.markets} market + ${written.versions.gameStates} game-state versions, `
        + `${written.manifest.files.length} files, ${(bytes / 1024).toFixed(0)} KiB; generated and written in ${(writeMs / 1000).toFixed(1)} s; `
        + `${events} events streamed in ${(streamMs / 1000).toFixed(2)} s; peak live heap while streaming ${(peak / 1048576).toFixed(1)} MiB, `
        + `process RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const goalMet = peaks[1]! <= Math.max(peaks[0]! * 1.5, 16 * 1048576);
  notes.push(`goal: streaming 4 Sundays peaks within 1.5x of 1 Sunday (or under 16 MiB): ${goalMet ? 'met' : 'NOT met'}`);
  const result: BenchResult = { name: 'tape', figures, notes, goalMet, unit: 'events/s' };
  return result;
};

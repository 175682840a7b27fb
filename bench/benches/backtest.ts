import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectoryStore } from '../../shared/tape';
import type { Bench } from '../harness';
import type { ReplayFigures } from '../lib/backtestReplay';
import { writeSyntheticSundays } from '../lib/syntheticTape';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The goals: simulated time / wall time ≥ 600, and peak RSS flat as the tape grows (4 Sundays within 1.25× of 1). */
const SPEED_GOAL = 600;
const RSS_GOAL = 1.25;
/** The tape sizes replayed; PRECOG_BENCH_BACKTEST_SUNDAYS=1 for a quick look at one. */
const SUNDAYS = (process.env.PRECOG_BENCH_BACKTEST_SUNDAYS ?? '1,4').split(',').map(Number);

/** Runs bench/lib/backtestReplay.ts in a fresh node process (its peak RSS is its own) and reads its figures. */
function replayInChild(args: { tape: string; serverUrl: string; template: string }): Promise<ReplayFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/backtestReplay.ts', JSON.stringify(args)],
      { cwd: REPO_ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`backtest replay exited ${code}:\n${(err || out).slice(-3000)}`));
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ReplayFigures);
      } catch {
        reject(new Error(`backtest replay printed no figures:\n${out.slice(-2000)}${err.slice(-2000)}`));
      }
    });
  });
}

/**
 * `npm run bench -- backtest`: synthetic tapes of 1 and 4 NFL Sundays (bench/lib/syntheticTape.ts:
 * 13 games a Sunday, minute-by-minute markets and game states), each replayed by `runBacktest`
 * from the tape with quarter_live v1.0, quarter_live v1.1 and halftime_entry v1.0 in one run, in a
 * fresh child process. Figures: simulated time / wall time, database round trips per simulated
 * minute, events/s, and the child's peak RSS.
 */
export const backtestBench: Bench = async (ctx) => {
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const speeds: number[] = [];
  const rss: number[] = [];
  for (const sundays of SUNDAYS) {
    const history = await ctx.freshDatabase();
    // Never queried: an idle migrated database the replay database is cloned from.
    const template = await ctx.freshDatabase();
    const dir = await mkdtemp(path.join(os.tmpdir(), `precog-bench-backtest-${sundays}-`));
    try {
      const written = await writeSyntheticSundays(new DirectoryStore(path.join(dir, 'tape')), { db: history.pool, sundays, seed: 2026 });
      const serverUrl = new URL(template.url);
      serverUrl.pathname = '/postgres';
      const r = await replayInChild({ tape: path.join(dir, 'tape'), serverUrl: serverUrl.toString(), template: new URL(template.url).pathname.slice(1) });
      const s = r.stats;
      const speed = s.simulatedSeconds / s.wallSeconds;
      const minutes = s.simulatedSeconds / 60;
      const perMinute = s.queries / minutes;
      const eventsPerSecond = s.events / s.wallSeconds;
      const tapeRows = Object.values(s.tapeRows).reduce((a, b) => a + b, 0);
      speeds.push(speed);
      rss.push(r.maxRssBytes);
      figures[`${sundays}-sunday-speed`] = speed;
      figures[`${sundays}-sunday-round-trips-per-sim-minute`] = perMinute;
      figures[`${sundays}-sunday-events-per-second`] = eventsPerSecond;
      figures[`${sundays}-sunday-peak-rss-mib`] = r.maxRssBytes / 1048576;
      notes.push(`${sundays} Sunday(s): ${written.games} games, ${written.versions.markets} market + ${written.versions.gameStates} game-state versions; ` +
        `${minutes.toFixed(0)} simulated minutes in ${s.wallSeconds.toFixed(1)} s wall = ${speed.toFixed(0)}x (goal ≥ ${SPEED_GOAL}); ` +
        `${s.queries} round trips (${perMinute.toFixed(1)} per simulated minute); ${s.events} events (${eventsPerSecond.toFixed(0)}/s), ` +
        `${s.processes} invocations; ${tapeRows} tape rows applied; ${r.trades} trades; peak RSS ${(r.maxRssBytes / 1048576).toFixed(0)} MiB` +
        `; wall ms by ${Object.entries(s.wallMsBy ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}` +
        (r.warnings.length > 0 ? `; warnings: ${r.warnings.slice(0, 3).join(' | ')}` : ''));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const rssRatio = rss.length > 1 ? rss[rss.length - 1]! / rss[0]! : Number.NaN;
  const speedMet = speeds.every((s) => s >= SPEED_GOAL);
  const rssMet = rssRatio <= RSS_GOAL;
  notes.push(`peak RSS 4 Sundays / 1 Sunday = ${rssRatio.toFixed(2)} (goal ≤ ${RSS_GOAL}: flat as the tape grows); machine load average ${(os.loadavg()[0] ?? 0).toFixed(1)}`);
  return { name: 'backtest', figures, notes, goalMet: speedMet && rssMet, unit: 'x / n / MiB', digits: 1 };
};

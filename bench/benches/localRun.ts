import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunStats } from '../../local/runtime';
import type { RunReport } from '../../local/report/types';
import type { Bench } from '../harness';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The issue's goals: unpaced ≥ 5× faster than paced at 60 (the old default speed), and the game phase ≥ 500× real time. */
const RATIO_GOAL = 5;
const GAME_SPEED_GOAL = 500;
const PACE = 60;

interface Run {
  /** Spawn to exit, wall seconds (the first run includes initdb, migrations and the seed). */
  seconds: number;
  stats: RunStats;
  report: RunReport;
  reportJson: string;
}

/**
 * `npm start` of the default scenario from an empty database, twice on one new embedded
 * PostgreSQL cluster: unpaced (as fast as the machine allows, the default) and paced at 60 game
 * seconds per wall second. The runtime's own figures (run-stats.json beside the report: the event
 * loop's wall time, the game phase's wall time, events, round trips) give the ratios; the two
 * reports must be byte-identical (the pace changes nothing but the wall time).
 */
export const localRunBench: Bench = async (ctx) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'precog-bench-run-'));
  await chmod(dir, 0o755); // the cluster inside runs as the postgres user when the bench runs as root
  try {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const run = async (name: string, extra: string[]): Promise<Run> => {
      const reportDir = path.join(dir, `report-${name}`);
      const started = performance.now();
      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [
          '--import', 'tsx', 'local/start.ts', '--new-run',
          '--data-dir', path.join(dir, 'pg'), '--state', path.join(dir, `state-${name}.json`), '--report-dir', reportDir, ...extra,
        ], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('error', reject);
        child.on('close', (c) => resolve({ code: c, output: out }));
      });
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) throw new Error(`npm start (${name}) exited ${code}:\n${output.slice(-3000)}`);
      const reportJson = await readFile(path.join(reportDir, 'report.json'), 'utf8');
      const stats = JSON.parse(await readFile(path.join(reportDir, 'run-stats.json'), 'utf8')) as RunStats;
      return { seconds, stats, report: JSON.parse(reportJson) as RunReport, reportJson };
    };
    const unpaced = await run('unpaced', []);
    const paced = await run(`pace-${PACE}`, ['--pace', String(PACE)]);
    const s = unpaced.stats;
    const ratio = paced.stats.wallSeconds / s.wallSeconds;
    const gameSpeed = s.gameWallSeconds ? s.gameSimulatedSeconds / s.gameWallSeconds : 0;
    const minutes = s.simulatedSeconds / 60;
    const roundTripsPerMinute = s.queries / minutes;
    const eventsPerSecond = s.events / s.wallSeconds;
    const identical = unpaced.reportJson === paced.reportJson;
    const r = unpaced.report;
    ctx.log(`  ${r.scenario}: ${r.totals.entries} entries, ${r.totals.exits} exit fills, realized ${r.totals.realizedPnl}`);
    return {
      name: 'local-run',
      unit: 's / x',
      digits: 1,
      figures: {
        'unpaced-wall': s.wallSeconds, [`pace-${PACE}-wall`]: paced.stats.wallSeconds, 'unpaced-npm-start-wall': unpaced.seconds,
        'ratio': ratio, 'game-speed': gameSpeed, 'events-per-second': eventsPerSecond, 'round-trips-per-sim-minute': roundTripsPerMinute,
      },
      notes: [
        `default scenario ${r.scenario}, ${minutes.toFixed(0)} simulated minutes: unpaced ${s.wallSeconds.toFixed(1)} s, paced at ${PACE} ${paced.stats.wallSeconds.toFixed(1)} s ` +
          `(event loop wall; spawn to exit ${unpaced.seconds.toFixed(1)} s incl. initdb and ${paced.seconds.toFixed(1)} s): ${ratio.toFixed(1)}x (goal ≥ ${RATIO_GOAL})`,
        `game phase ${s.gameSimulatedSeconds / 60} game minutes in ${s.gameWallSeconds?.toFixed(1) ?? '?'} s: ${gameSpeed.toFixed(0)}x real time (goal ≥ ${GAME_SPEED_GOAL})`,
        `runtime CPU ${s.cpuSeconds.toFixed(1)} s of the ${s.wallSeconds.toFixed(1)} s (the rest: waiting on PostgreSQL round trips, on a machine with load average ${(os.loadavg()[0] ?? 0).toFixed(1)})`,
        `${s.events} events (${eventsPerSecond.toFixed(0)}/s), ${s.processes} invocations, ${s.queries} database round trips (${roundTripsPerMinute.toFixed(0)} per simulated minute), ${s.requests} HTTP requests`,
        `wall ms by invocation: ${Object.entries(s.wallMsBy).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `reports unpaced and paced byte-identical: ${identical ? 'yes' : 'NO'}`,
      ],
      goalMet: ratio >= RATIO_GOAL && gameSpeed >= GAME_SPEED_GOAL && identical,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

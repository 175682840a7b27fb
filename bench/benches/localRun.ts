import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '../../local/report/types';
import type { Bench } from '../harness';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The issue's goal: `npm start` completes the default scenario within two minutes of wall time. */
const GOAL_SECONDS = 120;

/**
 * `npm start` as a newcomer runs it, from nothing: a new embedded PostgreSQL cluster (initdb),
 * the migrations, the seed, the simulator and the default scenario at the default speed, to its
 * report. Timed from spawn to exit. Nothing of the bench server is used (the run owns its
 * database, as on a fresh clone).
 */
export const localRunBench: Bench = async (ctx) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'precog-bench-run-'));
  await chmod(dir, 0o755); // the cluster inside runs as the postgres user when the bench runs as root
  try {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const started = performance.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '--import', 'tsx', 'local/start.ts',
        '--data-dir', path.join(dir, 'pg'), '--state', path.join(dir, 'state.json'), '--report-dir', path.join(dir, 'report'),
      ], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output: out }));
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`npm start exited ${code}:\n${output.slice(-3000)}`);
    const report = JSON.parse(await readFile(path.join(dir, 'report', 'report.json'), 'utf8')) as RunReport;
    ctx.log(`  ${report.scenario}: ${report.totals.entries} entries, ${report.totals.exits} exit fills, realized ${report.totals.realizedPnl}`);
    return {
      name: 'local-run',
      unit: 's',
      digits: 1,
      figures: { 'npm-start-wall': seconds, 'scenario-wall': report.wallSeconds },
      notes: [
        `default scenario ${report.scenario} at ${report.speed}x on a new embedded cluster (initdb, migrations, seed): ${seconds.toFixed(1)} s from spawn to exit, ${report.wallSeconds} s of it the game`,
        `${report.totals.trades} trades (${report.totals.entries} entries), exits ${report.exitsByCondition.map((e) => `${e.condition} ${e.count}`).join(', ')}; goal under ${GOAL_SECONDS} s`,
      ],
      goalMet: seconds < GOAL_SECONDS,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

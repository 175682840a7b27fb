/**
 * `npm start`: Precog trading a scripted NFL Sunday on this machine, no AWS account needed.
 * Starts a persistent embedded PostgreSQL 16 (or uses DATABASE_URL), migrates and seeds it, starts
 * the Kalshi simulator and runs the real handlers on a local scheduler and local queues (see
 * local/runtime.ts), printing a line per game minute and a report at the end.
 *
 *   npm start                              the default scenario (sunday-slate), as fast as the machine allows
 *   npm start -- --scenario comeback       another scenario (comeback, blowout, illiquid, or a .json path)
 *   npm start -- --pace 60                 paced for watching: 60 game seconds per wall second (--speed: the same)
 *   npm start -- --list                    the shipped scenarios
 *   npm start -- --new-run                 abandon an interrupted run instead of resuming it
 *   npm start -- --fresh                   start from an empty embedded database
 *   npm start -- --serve                   only prepare the database and keep it up (prints DATABASE_URL)
 *   npm start -- --data-dir DIR            keep the embedded PostgreSQL cluster in DIR (default: one per checkout under the temp folder)
 *
 * Exit codes: 0 the scenario ran to settlement; 1 it failed (or left positions open); 2 usage;
 * 130 interrupted (Ctrl-C): running it again resumes.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { databaseUrl, startEmbeddedPostgres } from './embeddedPostgres';
import { InterruptedRun, runLocal } from './runtime';
import { DEFAULT_SCENARIO, loadScenario, SHIPPED_SCENARIOS } from './sim/scenario';

// The local runtime runs on Node 20 (the Lambdas on nodejs22.x): the AWS SDK's notice about its
// future Node 22 requirement says nothing about this run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm start -- [--scenario NAME|FILE] [--pace N] [--new-run] [--fresh] [--serve] [--list]
                      [--report-dir DIR] [--state FILE] [--balance DOLLARS] [--data-dir DIR] [--verbose]`;

/** One local cluster per checkout, kept between runs (under the temp folder the postgres user can reach). */
function localDataDir(): string {
  const id = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `precog-local-${id}`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        scenario: { type: 'string' }, pace: { type: 'string' }, speed: { type: 'string' }, 'new-run': { type: 'boolean' }, fresh: { type: 'boolean' },
        serve: { type: 'boolean' }, list: { type: 'boolean' }, 'report-dir': { type: 'string' }, state: { type: 'string' },
        balance: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'data-dir': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.list) {
    for (const name of SHIPPED_SCENARIOS) {
      const s = await loadScenario(name);
      console.log(`${name.padEnd(14)}${name === DEFAULT_SCENARIO ? '(default) ' : ''}${s.description}`);
    }
    return 0;
  }
  // --speed is the old name of --pace (the run is no longer sped up: it is a simulation, paced only for watching).
  if (args.pace !== undefined && args.speed !== undefined && args.pace !== args.speed) {
    console.error(`--speed is another name for --pace: give one of them, not --pace ${args.pace} --speed ${args.speed}\n${USAGE}`);
    return 2;
  }
  const paceText = args.pace ?? args.speed;
  const pace = paceText === undefined ? undefined : Number(paceText);
  if (pace !== undefined && (!(pace > 0) || !Number.isFinite(pace) || pace > 100_000)) {
    console.error(`--${args.pace !== undefined ? 'pace' : 'speed'} must be a number of game seconds per wall second from 1 to 100000, not ${JSON.stringify(paceText)}\n${USAGE}`);
    return 2;
  }
  if (args.balance !== undefined && !/^\d+(\.\d{1,2})?$/.test(args.balance)) {
    console.error(`--balance must be dollars like 2000 or 2500.50, not ${JSON.stringify(args.balance)}`);
    return 2;
  }

  let url = process.env.DATABASE_URL;
  const embedded = !url;
  let stop: (() => Promise<void>) | undefined;
  const dir = args['data-dir'] ? path.resolve(args['data-dir']) : localDataDir();
  const stateFile = args.state
    ?? (url ? path.join(os.tmpdir(), `precog-run-${createHash('sha256').update(url).digest('hex').slice(0, 12)}.json`) : `${dir}-run.json`);
  if (!url) {
    if (args.fresh) {
      await rm(dir, { recursive: true, force: true });
      await rm(stateFile, { force: true });
    }
    console.log(`starting embedded PostgreSQL 16 (data in ${dir})`);
    const server = await startEmbeddedPostgres({ persistentDir: dir });
    stop = () => server.stop();
    // Every new run plays on a fresh database (yesterday's losses and breakers belong to
    // yesterday's run); an interrupted run resumes on its own. It stays after the run, for
    // `npx precog` (the last lines print its DATABASE_URL).
    url = databaseUrl(server.url, 'precog_local');
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      if (!args.serve && (args['new-run'] || !interruptedRunIn(stateFile))) await admin.query('DROP DATABASE IF EXISTS precog_local WITH (FORCE)');
      const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'precog_local'`);
      if (!rowCount) await admin.query('CREATE DATABASE precog_local');
    } finally {
      await admin.end();
    }
  }
  try {
    if (args.serve) {
      const { migrate } = await import('../shared/db/migrate');
      const { createPool } = await import('../shared/db/pool');
      const { seedLocalDatabase } = await import('./seed');
      const applied = await migrate({ connection: url });
      console.log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');
      const pool = createPool({ connectionString: url, max: 2 });
      await seedLocalDatabase(pool).finally(() => pool.end());
      console.log(`serving until Ctrl-C: DATABASE_URL=${url}`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      return 0;
    }
    const result = await runLocal({
      databaseUrl: url, scenario: args.scenario, pace, stateFile, newRun: args['new-run'], balance: args.balance,
      reportDir: path.resolve(args['report-dir'] ?? path.join(repoRoot, 'reports', 'latest')),
      logLevel: args.verbose ? 'INFO' : undefined,
    });
    if (embedded) console.log(`inspect it: DATABASE_URL=${url} npx precog positions --all   (npm start -- --serve keeps the database up)`);
    return result.exitCode;
  } catch (error) {
    if (error instanceof InterruptedRun) return 130;
    throw error;
  } finally {
    await stop?.();
  }
}

function interruptedRunIn(stateFile: string): boolean {
  if (!existsSync(stateFile)) return false;
  try {
    return (JSON.parse(readFileSync(stateFile, 'utf8')) as { status?: string }).status === 'running';
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`precog: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

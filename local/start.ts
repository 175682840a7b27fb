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
 * Exit codes: 0 the scenario ran to settlement; 1 it failed (or left positions open); 2 usage
 * (checked before anything is started or dropped); 3 another `npm start` (a run or --serve) holds
 * this cluster or state file; 130 interrupted (Ctrl-C): running it again resumes.
 *
 * One process at a time per embedded cluster and per state file: each is locked (local/runLock.ts)
 * before anything is deleted or started, and released on exit. The state file (which holds the
 * simulator's private key) and its key file are made 0600; every file the run creates is private
 * (umask 077).
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import pg from 'pg';
import { databaseUrl, lockEmbeddedCluster, startEmbeddedPostgres } from './embeddedPostgres';
import { acquireRunLock, RunLockHeld, type RunLock } from './runLock';
import { InterruptedRun, runLocal } from './runtime';
import { DEFAULT_SCENARIO, loadScenario, SHIPPED_SCENARIOS, type Scenario } from './sim/scenario';

// The local runtime runs on Node 20 (the Lambdas on nodejs22.x): the AWS SDK's notice about its
// future Node 22 requirement says nothing about this run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Another process holds this checkout's cluster or the state file: nothing was touched. */
const LOCKED_EXIT_CODE = 3;

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

  // Everything a run depends on is checked before anything is locked, dropped or started: a typo
  // costs nothing (the previous run's database stays as it was).
  let scenario: Scenario | undefined;
  if (args.scenario !== undefined) {
    try {
      scenario = await loadScenario(args.scenario);
    } catch (error) {
      console.error(`--scenario: ${(error as Error).message}\n(npm start -- --list describes the shipped scenarios)`);
      return 2;
    }
  }
  if (args.state !== undefined && !isDirectory(path.dirname(path.resolve(args.state)))) {
    console.error(`--state ${args.state}: the folder ${path.dirname(path.resolve(args.state))} does not exist`);
    return 2;
  }

  let url = process.env.DATABASE_URL;
  const embedded = !url;
  const dir = args['data-dir'] ? path.resolve(args['data-dir']) : localDataDir();
  const stateFile = path.resolve(args.state
    ?? (url ? path.join(os.tmpdir(), `precog-run-${createHash('sha256').update(url).digest('hex').slice(0, 12)}.json`) : `${dir}-run.json`));

  // One process at a time per cluster and per state file, `--serve` included; a live owner's
  // cluster is never touched.
  const command = `npm start${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const locks: RunLock[] = [];
  try {
    if (embedded) locks.push(lockEmbeddedCluster(dir, command));
    locks.push(acquireRunLock(`${stateFile}.lock`, { resource: `the run state ${stateFile}`, command }));
  } catch (error) {
    for (const lock of locks) lock.release();
    if (!(error instanceof RunLockHeld)) throw error;
    console.error(refusal(error));
    return LOCKED_EXIT_CODE;
  }

  let stop: (() => Promise<void>) | undefined;
  try {
    const saved = savedRunIn(stateFile);
    if (saved?.status === 'running' && scenario && !args['new-run'] && !args.serve && scenario.name !== saved.scenario) {
      console.error(
        `an interrupted run of scenario ${saved.scenario} is saved in ${stateFile}: run it again to resume it, or pass --new-run to abandon it`,
      );
      return 2;
    }
    if (!url) {
      if (args.fresh) await rm(stateFile, { force: true });
      console.log(`starting embedded PostgreSQL 16 (data in ${dir})`);
      const server = await startEmbeddedPostgres({ persistentDir: dir, recreate: args.fresh });
      stop = () => server.stop();
      // Every new run plays on a fresh database (yesterday's losses and breakers belong to
      // yesterday's run); an interrupted run resumes on its own. It stays after the run, for
      // `npx precog` (the last lines print its DATABASE_URL).
      url = databaseUrl(server.url, 'precog_local');
      const startsNewRun = !args.serve && (args['new-run'] || saved?.status !== 'running');
      await prepareLocalDatabase(server.url, { dropFirst: startsNewRun });
    }
    // The state file embeds the simulator's private key: the run's files are the user's alone
    // (set after PostgreSQL started: its shared binary cache must stay readable by its user).
    makePrivate(stateFile);
    process.umask(0o077);
    if (args.serve) {
      const { migrate } = await import('../shared/db/migrate');
      const { createPool } = await import('../shared/db/pool');
      const { seedLocalDatabase } = await import('./seed');
      const applied = await migrate({ connection: url });
      console.log(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'schema up to date');
      const pool = createPool({ connectionString: url, max: 2 });
      await seedLocalDatabase(pool).finally(() => pool.end());
      console.log(`serving until Ctrl-C: DATABASE_URL=${url}`);
      await new Promise<void>((resolve) => {
        // An adopted server is not this process's child: without a timer nothing would keep it up.
        const keepAlive = setInterval(() => undefined, 2 ** 30);
        const done = () => {
          clearInterval(keepAlive);
          resolve();
        };
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
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
    for (const lock of locks.reverse()) lock.release();
  }
}

/** Another process holds the checkout's cluster or this state file: who, and how to stop it. */
function refusal(error: RunLockHeld): string {
  const { pid, command, since } = error.owner;
  return [
    `npm start: ${error.resource} is in use by another process: pid ${pid}, \`${command}\`, running since ${since}.`,
    `Stop it first: Ctrl-C in its terminal, or \`kill -INT ${pid}\` (an interrupted run is saved and \`npm start\` resumes it).`,
    `(lock file: ${error.lockFile})`,
  ].join('\n');
}

/** precog_local on the embedded server: dropped first when a new run starts, created when missing. */
async function prepareLocalDatabase(serverUrl: string, options: { dropFirst: boolean }): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    if (options.dropFirst) await admin.query('DROP DATABASE IF EXISTS precog_local WITH (FORCE)');
    const { rowCount } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'precog_local'`);
    if (!rowCount) await admin.query('CREATE DATABASE precog_local');
  } finally {
    await admin.end();
  }
}

/**
 * The state file and every file named after it (its key, its temporary copy) readable by this
 * user only: files left by earlier versions were world-readable. New ones are created private by
 * the umask.
 */
function makePrivate(stateFile: string): void {
  const folder = path.dirname(stateFile);
  const prefix = path.basename(stateFile);
  for (const name of readdirSync(folder)) {
    if (!name.startsWith(prefix)) continue;
    const file = path.join(folder, name);
    try {
      if (lstatSync(file).isFile()) chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function isDirectory(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/** What start needs of a saved run (the runtime owns the rest of the format); undefined if none or unreadable. */
function savedRunIn(stateFile: string): { status?: string; scenario?: string } | undefined {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as { status?: string; scenario?: string };
  } catch {
    return undefined;
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`precog: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

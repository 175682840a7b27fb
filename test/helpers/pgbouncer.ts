import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, isRoot, postgresUser } from '../../local/embeddedPostgres';

/**
 * PgBouncer in front of the test server, behaving like RDS Proxy where it matters to us:
 * transactions are multiplexed over shared server connections (`pool_mode = transaction`), so
 * nothing may rely on session state between transactions, and startup parameters other than
 * client_encoding, DateStyle, TimeZone, standard_conforming_strings and application_name are
 * refused (`ignore_startup_parameters` left at its default), as RDS Proxy refuses them.
 */
export interface RunningPgBouncer {
  /** The server URL with the bouncer's host and port: same user, password and database names. */
  url: string;
  stop(): Promise<void>;
}

/** Which lane the tests' application connections take. */
export type DatabaseProxyLane = 'pgbouncer' | 'none';

const SEARCH_PATH = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

/** The pgbouncer binary (PGBOUNCER_PATH, the usual Debian places, then PATH), if installed. */
export function findPgBouncer(env: NodeJS.ProcessEnv = process.env, searchPath: readonly string[] = SEARCH_PATH): string | undefined {
  const candidates = [
    ...(env.PGBOUNCER_PATH ? [env.PGBOUNCER_PATH] : []),
    ...[...searchPath, ...(env.PATH ?? '').split(path.delimiter).filter(Boolean)].map((dir) => path.join(dir, 'pgbouncer')),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * PRECOG_DB_PROXY=pgbouncer requires the bouncer (CI), =none connects directly; unset, the lane is
 * PgBouncer whenever it is installed.
 */
export function selectProxyLane(
  env: NodeJS.ProcessEnv = process.env,
  searchPath: readonly string[] = SEARCH_PATH,
): { lane: DatabaseProxyLane; binary?: string } {
  const wanted = env.PRECOG_DB_PROXY;
  if (wanted !== undefined && wanted !== '' && wanted !== 'pgbouncer' && wanted !== 'none') {
    throw new Error(`PRECOG_DB_PROXY must be pgbouncer or none, not ${JSON.stringify(wanted)}`);
  }
  if (wanted === 'none') return { lane: 'none' };
  const binary = findPgBouncer(env, searchPath);
  if (binary) return { lane: 'pgbouncer', binary };
  if (wanted === 'pgbouncer') {
    throw new Error('PRECOG_DB_PROXY=pgbouncer but no pgbouncer binary was found (apt-get install pgbouncer, or set PGBOUNCER_PATH)');
  }
  return { lane: 'none' };
}

/** The quoted form PgBouncer's auth_file wants ("name" "secret", a double quote doubled). */
function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/**
 * Starts PgBouncer against `serverUrl` (a superuser URL: its user and password become the only
 * entry of the bouncer's userlist). Its config lives in a temporary folder removed on stop.
 */
export async function startPgBouncer(serverUrl: string, options: { binary: string; onLog?: (line: string) => void }): Promise<RunningPgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const onLog = options.onLog ?? (() => undefined);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'precog-pgbouncer-'));
  await chmod(dir, 0o755);
  const owner = isRoot() ? postgresUser() : undefined; // PgBouncer refuses to run as root
  const port = await freePort();
  const userlist = path.join(dir, 'userlist.txt');
  const config = path.join(dir, 'pgbouncer.ini');
  await writeFile(userlist, `${quoted(user)} ${quoted(password)}\n`, { mode: 0o600 });
  await writeFile(
    config,
    [
      '[databases]',
      // Any database name: each test file's clone of the template is reachable without a restart.
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      // RDS Proxy authenticates clients with SCRAM as well.
      'auth_type = scram-sha-256',
      `auth_file = ${userlist}`,
      // RDS Proxy multiplexes at transaction boundaries.
      'pool_mode = transaction',
      // ignore_startup_parameters stays at its default: every other startup parameter is refused.
      // Tests open many clients (pools of up to 20 per file, files in parallel).
      'max_client_conn = 2000',
      'default_pool_size = 50',
      // Server connections of finished test files go soon: PostgreSQL allows 200 in all.
      'server_idle_timeout = 10',
      'server_tls_sslmode = disable',
      // A refused login is not retried 15 s later (a test expecting the refusal would wait).
      'server_login_retry = 1',
      'logfile =',
      'pidfile =',
      '',
    ].join('\n'),
  );
  if (owner) {
    await chown(userlist, owner.uid, owner.gid);
    await chown(config, owner.uid, owner.gid);
  }

  const child = spawn(options.binary, [config], { ...(owner ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      onLog(String(chunk));
      // Logged once the listening socket is open.
      if (output.includes('process up')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`pgbouncer exited with ${code} before accepting connections: ${output.trim()}`)));
  }).catch(async (error: Error) => {
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start PgBouncer: ${error.message}`);
  });

  const url = new URL(serverUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM'); // immediate shutdown (SIGINT would wait for clients): the tests are done
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

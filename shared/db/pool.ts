import pg from 'pg';
import * as z from 'zod';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, parseEnvironment } from '../config/environment';
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
    /** disable: plain TCP (local only); require: TLS without CA check; verify-full: TLS, CA and hostname checked. */
    DATABASE_SSL: z.enum(['disable', 'require', 'verify-full']).default('disable'),
    /** Lambda runs one invocation per container: a small pool reused across invocations is enough. */
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(2),
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
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

function sslOption(mode: DatabaseEnv['DATABASE_SSL']): pg.PoolConfig['ssl'] {
  if (mode === 'disable') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  return { rejectUnauthorized: true };
}

/** Builds the pg pool configuration, reading the secret when one is configured. */
export async function resolvePoolConfig(
  env: DatabaseEnv,
  secrets: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
): Promise<pg.PoolConfig> {
  const common: pg.PoolConfig = {
    max: env.DATABASE_POOL_MAX,
    idleTimeoutMillis: 60_000,
    connectionTimeoutMillis: 10_000,
    allowExitOnIdle: true,
    statement_timeout: env.DATABASE_STATEMENT_TIMEOUT_MS || undefined,
    ssl: sslOption(env.DATABASE_SSL),
    types: precogTypes,
  };
  if (env.DATABASE_URL !== undefined) {
    return { ...common, connectionString: env.DATABASE_URL };
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
  return {
    ...common,
    host: env.DATABASE_HOST ?? secret.data.host,
    port: secret.data.port,
    user: secret.data.username,
    password: secret.data.password,
    database: env.DATABASE_NAME ?? secret.data.dbname ?? 'postgres',
  };
}

export function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ types: precogTypes, ...config });
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

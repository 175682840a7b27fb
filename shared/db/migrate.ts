import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';

/** The migrations table node-pg-migrate records applied migrations in. */
export const MIGRATIONS_TABLE = 'pgmigrations';

/** migrations/ at the repository root (or beside a Lambda bundle, via PRECOG_MIGRATIONS_DIR). */
export function defaultMigrationsDir(): string {
  if (process.env.PRECOG_MIGRATIONS_DIR) return process.env.PRECOG_MIGRATIONS_DIR;
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
}

export interface MigrateOptions {
  /** A connected client (the caller closes it) or a connection string. */
  connection: pg.ClientBase | string;
  dir?: string;
  /** List what would be applied without applying it. */
  dryRun?: boolean;
  log?: (message: string) => void;
}

/**
 * Applies every pending migration in one transaction, under node-pg-migrate's advisory lock so
 * two deploys cannot migrate at once. Returns the names applied, or on a dry run the names
 * pending (empty when up to date).
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const connection =
    typeof options.connection === 'string' ? { databaseUrl: options.connection } : { dbClient: options.connection };
  const applied = await runner({
    ...connection,
    dir: options.dir ?? defaultMigrationsDir(),
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    dryRun: options.dryRun ?? false,
    log: options.log ?? (() => undefined),
  } as Parameters<typeof runner>[0]);
  return applied.map((m) => m.name);
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import type pg from 'pg';
import { ClockedClient } from './clockedClient';

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
 * Applies every pending migration in one transaction. Returns the names applied, or on a dry run
 * the names pending (empty when up to date).
 *
 * Two deploys cannot migrate at once: the whole run (reading pgmigrations included) holds a
 * transaction-level advisory lock. node-pg-migrate's own lock is a session lock taken and released
 * in separate statements, which a transaction-multiplexing proxy breaks: PgBouncer may release it
 * on another server connection (the lock then stays held and the next migrate waits forever), and
 * RDS Proxy pins the session. Its key is kept, so an older migrate's session lock still excludes us.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const own = typeof options.connection === 'string';
  // A ClockedClient: on a virtual clock the migrations' own writes read it through precog_now().
  const client = own ? new ClockedClient({ connectionString: options.connection as string }) : (options.connection as pg.ClientBase);
  if (own) await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [PG_MIGRATE_LOCK_ID]);
    // The runner's own BEGIN is a no-op inside ours (a warning), and its COMMIT ends ours: the
    // lock is held until the last migration is committed. With nothing to apply it commits
    // nothing, so we end the transaction below (a no-op warning when the runner already did).
    const applied = await runner({
      dbClient: client,
      dir: options.dir ?? defaultMigrationsDir(),
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      singleTransaction: true,
      noLock: true,
      dryRun: options.dryRun ?? false,
      log: options.log ?? (() => undefined),
    } as Parameters<typeof runner>[0]);
    await client.query('COMMIT');
    return applied.map((m) => m.name);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined); // a broken connection has nothing to roll back
    throw error;
  } finally {
    if (own) await (client as ClockedClient).end();
  }
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { createPool } from '../../shared/db/pool';
import { databaseUrl } from '../../local/embeddedPostgres';

export interface TestDatabase {
  name: string;
  /** What the code under test connects with: through PgBouncer in the proxy lane. */
  url: string;
  /** The same database without the proxy (session-level checks, diagnostics). */
  directUrl: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * A database of its own for one test file: cloned from the migrated template (fast), or empty
 * when `migrated: false` (to test the migrations themselves).
 */
export async function createTestDatabase(options: { migrated?: boolean; poolMax?: number } = {}): Promise<TestDatabase> {
  const name = `precog_test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated === false ? 'template0' : inject('templateDatabase');
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const url = databaseUrl(inject('applicationServerUrl'), name);
  const pool = createPool({ connectionString: url, max: options.poolMax ?? 10 });
  return {
    name,
    url,
    directUrl: databaseUrl(inject('adminDatabaseUrl'), name),
    pool,
    async drop() {
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Registers beforeAll/afterAll for a per-file database; call `db()` inside tests. */
export function useTestDatabase(options: { migrated?: boolean; poolMax?: number } = {}): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return () => {
    if (!database) throw new Error('test database not ready: call db() inside a test or hook');
    return database;
  };
}

/**
 * A fresh database for every test of the file (tests that need an empty world each time, at the
 * cost of a template clone per test); call `db()` inside tests.
 */
export function useDatabasePerTest(options: { poolMax?: number } = {}): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeEach(async () => {
    database = await createTestDatabase({ poolMax: options.poolMax ?? 20 });
  });
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });
  return () => {
    if (!database) throw new Error('test database not ready: call db() inside a test');
    return database;
  };
}

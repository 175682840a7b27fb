import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../shared/db/migrate';
import { createPool, parseDatabaseEnv, resolvePoolConfig } from '../../shared/db/pool';
import { withTransaction } from '../../shared/db/transaction';
import { createTestDatabase, useTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * What RDS Proxy does to our connections, reproduced by the proxy lane's PgBouncer: startup
 * parameters refused, transactions multiplexed over shared server sessions. Without PgBouncer
 * (PRECOG_DB_PROXY=none, or not installed) the proxy-specific tests are skipped; CI requires it.
 */

const db = useTestDatabase();
const ALL_MIGRATIONS = readdirSync(new URL('../../migrations/', import.meta.url))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));
const proxied = inject('databaseProxy') === 'pgbouncer';
const extraDatabases: TestDatabase[] = [];
afterAll(async () => {
  for (const extra of extraDatabases) await extra.drop();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrated: false });
  extraDatabases.push(database);
  return database;
}

describe.skipIf(!proxied)('through the proxy (PgBouncer standing in for RDS Proxy)', () => {
  it('refuses a pool that sends statement_timeout at startup, as pool.ts did, while the server itself accepts it', async () => {
    // The configuration pool.ts built before the fix: pg sends statement_timeout in the startup packet.
    const before = new pg.Pool({ connectionString: db().url, statement_timeout: 30_000, max: 1 });
    try {
      await expect(before.query('SELECT 1')).rejects.toThrow('unsupported startup parameter: statement_timeout');
    } finally {
      await before.end();
    }
    const direct = new pg.Pool({ connectionString: db().directUrl, statement_timeout: 30_000, max: 1 });
    try {
      expect((await direct.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await direct.end();
    }
  });

  it('connects with the real resolvePoolConfig + createPool and commits a transaction', async () => {
    const pool = createPool(await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: db().url })));
    try {
      const id = await withTransaction(pool, async (client) => {
        const { rows: [row] } = await client.query(
          `INSERT INTO system_health (component, status) VALUES ('proxy-lane', 'healthy') RETURNING health_id`,
        );
        return row.health_id as string;
      });
      const { rows } = await db().pool.query(`SELECT component FROM system_health WHERE health_id = $1`, [id]);
      expect(rows).toEqual([{ component: 'proxy-lane' }]);
    } finally {
      await pool.end();
    }
  });

  it('applies the role-level timeouts of migration 0013 to sessions opened through the proxy', async () => {
    const pool = createPool(await resolvePoolConfig(parseDatabaseEnv({ DATABASE_URL: db().url })));
    try {
      const settings = await withTransaction(pool, async (client) => {
        const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0][name] as string;
        return {
          statement_timeout: await show('statement_timeout'),
          lock_timeout: await show('lock_timeout'),
          idle_in_transaction_session_timeout: await show('idle_in_transaction_session_timeout'),
        };
      });
      expect(settings).toEqual({ statement_timeout: '30s', lock_timeout: '20s', idle_in_transaction_session_timeout: '2min' });
      // The server enforces them: a statement longer than a (lowered, transaction-local) timeout is cancelled.
      await expect(
        withTransaction(pool, async (client) => {
          await client.query(`SELECT set_config('statement_timeout', '50ms', true)`);
          await client.query('SELECT pg_sleep(5)');
        }),
      ).rejects.toMatchObject({ code: '57014' });
    } finally {
      await pool.end();
    }
  });

  it('runs one client\'s consecutive transactions on different server sessions when another client holds the first', async () => {
    // Why nothing may keep session state between transactions: the proxy hands the server session
    // to whoever needs it. PgBouncer reuses the most recently released server connection first.
    const a = new pg.Client({ connectionString: db().url });
    const b = new pg.Client({ connectionString: db().url });
    await a.connect();
    await b.connect();
    try {
      const first = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await b.query('BEGIN');
      const held = (await b.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const second = (await a.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await b.query('COMMIT');
      expect(held).toBe(first);
      expect(second).not.toBe(first);
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('migrate behind a transaction-multiplexing proxy', () => {
  it('takes only a transaction-level advisory lock: no session lock to leak onto a shared server connection', async () => {
    const empty = await emptyDatabase();
    const client = new pg.Client({ connectionString: empty.url });
    await client.connect();
    const statements: string[] = [];
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      if (text) statements.push(text);
      return query(...args);
    };
    try {
      expect(await migrate({ connection: client })).toEqual(ALL_MIGRATIONS);
    } finally {
      await client.end();
    }
    expect(statements.filter((s) => /pg_advisory_xact_lock/.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /pg_(try_)?advisory_(un)?lock\b/.test(s))).toEqual([]);
    const admin = new pg.Client({ connectionString: empty.directUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)`,
        [empty.name],
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('serialises two concurrent migrations of an empty database: one applies everything, the other nothing', async () => {
    const empty = await emptyDatabase();
    const results = await Promise.all([migrate({ connection: empty.url }), migrate({ connection: empty.url })]);
    expect([...results].sort((x, y) => x.length - y.length)).toEqual([[], ALL_MIGRATIONS]);
    const { rows } = await empty.pool.query('SELECT name FROM pgmigrations ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(ALL_MIGRATIONS);
  });
});

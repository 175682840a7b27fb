import pg from 'pg';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { ACCOUNT_BALANCE, MarketRepository, versionedUpsert, withTransaction } from '../../shared/db';
import { dec } from '../../shared/domain/decimal';
import { createPool } from '../../shared/db/pool';
import { inlineParameters, readsNoClock } from '../../shared/db/clockedClient';
import { useTestDatabase } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { marketSnapshot, seedHierarchy } from '../helpers/seed';

/**
 * SQL on the application's clock (issue 17): with a virtual clock installed, everything the
 * database stamps by itself (defaults, the updated_at trigger, precog_now() in queries) carries
 * that clock's time, on every path to the database and through PgBouncer's transaction pooling
 * (the test lane's default); on the system clock it is PostgreSQL's now() as before.
 */
const db = useTestDatabase({ poolMax: 4 });

const T1 = Date.parse('2031-03-04T05:06:07.891Z');
const T2 = Date.parse('2031-03-04T05:36:07.123Z');
const T3 = Date.parse('2031-03-05T00:00:00.001Z');

let restoreClock: (() => void) | undefined;
function installClock(startMs: number): ManualClock {
  const clock = new ManualClock(startMs);
  restoreClock = useClock(clock);
  return clock;
}
afterEach(() => {
  restoreClock?.();
  restoreClock = undefined;
  vi.restoreAllMocks();
});

beforeAll(async () => {
  await seedHierarchy(db().pool);
});

const ms = (value: Date | null | undefined): number | undefined => value?.getTime();

async function insertApiError(q: Pick<pg.ClientBase, 'query'>, message: string): Promise<Date> {
  const { rows } = await q.query(
    `INSERT INTO api_errors (api, method, url, kind, message, attempt, final) VALUES ('kalshi', 'GET', '/x', 'http', $1, 1, true)
     RETURNING occurred_at`,
    [message],
  );
  return rows[0].occurred_at;
}

// Every way of reading the clock that is not precog_now(), as PostgreSQL prints them back.
const WALL_CLOCK_SQL = /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp)\s*\(|\b(current_timestamp|localtimestamp|current_date|current_time|localtime)\b/i;

describe('the migrated catalog reads the time only through precog_now()', () => {
  it('no column default, function of ours, view, constraint or trigger condition reads the wall clock', async () => {
    expect(WALL_CLOCK_SQL.test('now()')).toBe(true); // the pattern itself catches what it must
    expect(WALL_CLOCK_SQL.test('precog_now()')).toBe(false);
    const { rows } = await db().pool.query<{ what: string; definition: string }>(`
      WITH functions AS MATERIALIZED (
        -- pg_get_functiondef refuses aggregates: pick plain functions and procedures first.
        SELECT p.oid, p.proname FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p') AND p.proname <> 'precog_now'
      )
      SELECT 'function ' || proname AS what, pg_get_functiondef(oid) AS definition FROM functions
      UNION ALL
      SELECT 'default ' || c.relname || '.' || a.attname, pg_get_expr(d.adbin, d.adrelid)
      FROM pg_attrdef d
      JOIN pg_class c ON c.oid = d.adrelid
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
      WHERE c.relnamespace = 'public'::regnamespace
      UNION ALL
      SELECT 'view ' || c.relname, pg_get_viewdef(c.oid) FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')
      UNION ALL
      SELECT 'constraint ' || conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      UNION ALL
      SELECT 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal`);
    const offenders = rows.filter((r) => WALL_CLOCK_SQL.test(r.definition)).map((r) => `${r.what}: ${r.definition.trim()}`);
    expect(offenders, 'these read the wall clock: use precog_now() (a new migration)').toEqual([]);

    // And the defaults that stamp rows do read precog_now() (44 of them today, 0001-0016).
    const clocked = rows.filter((r) => r.what.startsWith('default ') && r.definition === 'precog_now()');
    expect(clocked.length).toBeGreaterThanOrEqual(44);
    expect(clocked.map((r) => r.what)).toEqual(expect.arrayContaining(['default markets.created_at', 'default orders.updated_at', 'default api_errors.occurred_at']));
  });
});

describe('on a virtual clock', () => {
  it('a standalone pool.query, withTransaction and a checked-out client all read the virtual time', async () => {
    const clock = installClock(T1);
    const { pool } = db();

    const viaPool = await pool.query('SELECT precog_now() AS t');
    expect(ms(viaPool.rows[0].t)).toBe(T1);
    expect(ms(await insertApiError(pool, 'pool.query'))).toBe(T1);

    await clock.set(T2);
    const viaTransaction = await withTransaction(pool, async (c) => {
      const first = await insertApiError(c, 'withTransaction');
      const { rows } = await c.query('SELECT precog_now() AS t');
      return [first, rows[0].t as Date];
    });
    expect(viaTransaction.map(ms)).toEqual([T2, T2]);

    await clock.set(T3);
    const client = await pool.connect();
    try {
      // A single statement on a checked-out client (outside any transaction) …
      expect(ms(await insertApiError(client, 'checked out'))).toBe(T3);
      // … and a transaction the holder opens itself.
      await client.query('BEGIN');
      expect(ms(await insertApiError(client, 'own BEGIN'))).toBe(T3);
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    const { rows } = await pool.query('SELECT message, occurred_at FROM api_errors ORDER BY api_error_id');
    expect(rows.map((r) => [r.message, ms(r.occurred_at)])).toEqual([
      ['pool.query', T1], ['withTransaction', T2], ['checked out', T3], ['own BEGIN', T3],
    ]);
  });

  it('versioned upserts, orders, trades, positions and the updated_at trigger carry the virtual time', async () => {
    const clock = installClock(T1);
    const { pool } = db();
    const markets = new MarketRepository(pool);
    await markets.upsertSnapshots([marketSnapshot('CLOCK-1', '0.6000')]);
    await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: dec('10000') }]);
    const balance = await pool.query(`SELECT created_at FROM account_balance WHERE platform_id = 'kalshi' AND execution_mode = 'paper'`);
    expect(balance.rows.map((r) => ms(r.created_at))).toEqual([T1]);
    await clock.set(T2);
    await markets.upsertSnapshots([marketSnapshot('CLOCK-1', '0.6100')]);
    const history = await markets.history('CLOCK-1');
    expect(history.map((v) => [ms(v.createdAt), ms(v.supersededAt)])).toEqual([[T1, T2], [T2, undefined]]);

    const positionId = await openPosition(pool, paperExchange(pool), { marketId: 'CLOCK-1', side: 'yes', quantity: 2, price: '0.6100', clientOrderId: 'pc-clock-1' });
    const order = await pool.query('SELECT order_id, created_at, updated_at FROM orders WHERE client_order_id = $1', ['pc-clock-1']);
    expect([ms(order.rows[0].created_at), ms(order.rows[0].updated_at)]).toEqual([T2, T2]);
    const trades = await pool.query('SELECT created_at FROM trades WHERE client_order_id = $1', ['pc-clock-1']);
    expect(trades.rows.length).toBeGreaterThan(0);
    expect(trades.rows.map((r) => ms(r.created_at))).toEqual(trades.rows.map(() => T2));
    // The paper venue stamps its account with its own `now` option, which defaults to the clock.
    const paperAccount = await pool.query('SELECT created_at FROM paper_accounts');
    expect(paperAccount.rows.map((r) => ms(r.created_at))).toEqual([T2]);
    const positions = await pool.query('SELECT created_at, updated_at FROM positions WHERE position_id = $1', [positionId]);
    expect(positions.rows.map((r) => [ms(r.created_at), ms(r.updated_at)])).toEqual(positions.rows.map(() => [T2, T2]));

    // The touch_updated_at trigger (orders, exit_requests, series, events).
    await clock.set(T3);
    await pool.query(`UPDATE orders SET status_reason = 'touched by the clock test' WHERE client_order_id = $1`, ['pc-clock-1']);
    const touched = await pool.query('SELECT created_at, updated_at FROM orders WHERE client_order_id = $1', ['pc-clock-1']);
    expect([ms(touched.rows[0].created_at), ms(touched.rows[0].updated_at)]).toEqual([T2, T3]);
  });

  it('two transactions open at once keep their own virtual times (transaction-local, through the pooler)', async () => {
    const clock = installClock(T1);
    const { pool } = db();
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await clock.set(T2);
      await b.query('BEGIN');
      const atB = await insertApiError(b, 'b');
      const atA = await insertApiError(a, 'a'); // issued later, still in A's transaction begun at T1
      await a.query('COMMIT');
      await b.query('COMMIT');
      expect([ms(atA), ms(atB)]).toEqual([T1, T2]);
    } finally {
      a.release();
      b.release();
    }
  });

  it('withTransaction stays one transaction: an error rolls back everything it wrote', async () => {
    installClock(T1);
    const { pool } = db();
    await expect(
      withTransaction(pool, async (c) => {
        await insertApiError(c, 'rolled back');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM api_errors WHERE message = 'rolled back'`);
    expect(rows[0].n).toBe(0);
  });

  it('an error in a wrapped statement rolls it back and leaves the connection usable', async () => {
    installClock(T1);
    const client = await db().pool.connect();
    try {
      await expect(client.query('SELECT 1/0')).rejects.toThrow(/division by zero/);
      expect(ms((await client.query('SELECT precog_now() AS t')).rows[0].t)).toBe(T1);
      expect(client.getTransactionStatus()).toBe('I'); // wrapped statements commit: no transaction left open
    } finally {
      client.release();
    }
  });

  it('costs one round trip per BEGIN, per standalone statement (BEGIN, stamp, statement with its parameters as literals, COMMIT) and per plain read; three when parameters cannot travel as literals', async () => {
    const { pool } = db();
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : config.text ?? '');
      return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
    });

    // System clock: exactly what the caller sends.
    await pool.query('SELECT 1');
    await withTransaction(pool, (c) => c.query('SELECT 2'));
    expect(sent).toEqual(['SELECT 1', 'BEGIN', 'SELECT 2', 'COMMIT']);

    sent.length = 0;
    installClock(T1);
    await pool.query('SELECT 1');
    const { rows: [read] } = await pool.query('SELECT precog_now() AS at, $1::text AS said, $2::int AS n, $3::text AS none', ["it's", 7, null]);
    const { rows: [binary] } = await pool.query('SELECT precog_now() AS at, $1::bytea AS b', [Buffer.from([1, 2])]);
    await withTransaction(pool, (c) => c.query('SELECT 2'));
    const stamp = `SELECT set_config('precog.now', '${new Date(T1).toISOString()}', true)`;
    expect(sent).toEqual([
      'SELECT 1',
      `BEGIN; ${stamp}; SELECT precog_now() AS at, 'it''s'::text AS said, '7'::int AS n, NULL::text AS none; COMMIT`,
      `BEGIN; ${stamp}`, 'SELECT precog_now() AS at, $1::bytea AS b', 'COMMIT',
      `BEGIN; ${stamp}`, 'SELECT 2', 'COMMIT',
    ]);
    expect(read).toEqual({ at: new Date(T1), said: "it's", n: 7, none: null });
    expect((binary.at as Date).getTime()).toBe(T1);
    expect(binary.b).toEqual(Buffer.from([1, 2]));
  });

  it("the schema's functions callable from a query are precog_now() and the immutable version_sort_key() only (the plain-read shortcut relies on it)", async () => {
    // A new function a SELECT could call might read the clock or write rows: then ClockedClient's
    // readsNoClock shortcut (no stamp for a plain standalone read) must be reviewed.
    const { rows } = await db().pool.query(
      `SELECT proname, provolatile FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prorettype <> 'trigger'::regtype ORDER BY proname`,
    );
    // ensure_history_partitions (0021) writes, but reads no clock: its range comes as arguments and
    // the rows it moves from a default partition keep every value (no default is evaluated).
    expect(rows).toEqual([
      { proname: 'ensure_history_partitions', provolatile: 'v' },
      { proname: 'precog_now', provolatile: 's' },
      { proname: 'version_sort_key', provolatile: 'i' },
    ]);
  });

  it.each([
    ['SELECT 1', true], ['  select * from current_markets where market_id = $1', true], ['-- why\nSELECT 1', true], ["SELECT 'update' AS x", true],
    ['SELECT updated_at FROM orders', true], ['SELECT precog_now()', false], ['SELECT now()', false], ['SELECT * FROM t FOR UPDATE', false],
    ['WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x', false], ['UPDATE t SET a = 1', false], ['INSERT INTO t VALUES (1)', false],
    ["SELECT set_config('precog.now', 'x', false)", false], ['SELECT nextval(1)', false],
  ])('readsNoClock(%j) is %s', (text, expected) => {
    expect(readsNoClock(text)).toBe(expected);
  });

  it.each([
    ['INSERT INTO t VALUES ($1, $2)', ['a', 1], "INSERT INTO t VALUES ('a', '1')"],
    ["SELECT '$1', \"$2\", $1 -- $2\n", ['x'], "SELECT '$1', \"$2\", 'x' -- $2\n"],
    ['SELECT $1::text[]', [['a', 'b']], "SELECT '{\"a\",\"b\"}'::text[]"],
    ['SELECT $1', [null], 'SELECT NULL'],
    ['SELECT $2', ['only one'], undefined],
    ['DO $$ BEGIN END $$', [], undefined],
    ['SELECT 1; SELECT 2', [], undefined],
    ['SELECT $1', [Buffer.from([1])], undefined],
  ])('inlineParameters(%j, %j) is %j', (text, values, expected) => {
    expect(inlineParameters(text, values, (v) => `'${v.replace(/'/g, "''")}'`)).toBe(expected);
  });

  it('a failing standalone statement rolls back and leaves the connection usable', async () => {
    installClock(T1);
    const { pool } = db();
    await expect(pool.query('INSERT INTO platforms (platform_id) VALUES ($1)', [null])).rejects.toThrow();
    const client = await pool.connect();
    try {
      expect(client.getTransactionStatus()).toBe('I');
      expect((await client.query('SELECT $1::text AS ok', ['yes'])).rows).toEqual([{ ok: 'yes' }]);
    } finally {
      client.release();
    }
  });

  it('migrate on a virtual clock stamps its own transaction', async () => {
    // The template is migrated already: a second run applies nothing but still opens its transaction.
    installClock(T1);
    const { migrate } = await import('../../shared/db/migrate');
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : config.text ?? '');
      return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    expect(await migrate({ connection: db().url })).toEqual([]);
    expect(sent[0]).toBe(`BEGIN; SELECT set_config('precog.now', '${new Date(T1).toISOString()}', true)`);
  });

  it('withTransaction refuses a pool whose clients cannot carry the clock', async () => {
    installClock(T1);
    const plain = new pg.Pool({ connectionString: db().url, max: 1 });
    try {
      await expect(withTransaction(plain, (c) => c.query('SELECT 1'))).rejects.toThrow(/not made by createPool/);
    } finally {
      await plain.end();
    }
  });
});

describe('on the system clock', () => {
  it('rows carry the wall clock, between two readings of now()', async () => {
    const { pool } = db();
    const before: Date = (await pool.query('SELECT now() AS t')).rows[0].t;
    const viaPool = await insertApiError(pool, 'system pool.query');
    const viaTransaction = await withTransaction(pool, (c) => insertApiError(c, 'system withTransaction'));
    const after: Date = (await pool.query('SELECT now() AS t')).rows[0].t;
    for (const at of [viaPool, viaTransaction]) {
      expect(at.getTime()).toBeGreaterThanOrEqual(before.getTime());
      expect(at.getTime()).toBeLessThanOrEqual(after.getTime());
    }
    const same = await pool.query('SELECT precog_now() = now() AS same');
    expect(same.rows[0].same).toBe(true);
  });

  it('a session that carried a virtual time earlier reads now() again once that transaction ended', async () => {
    // One direct session (no pooler in between), so the second transaction surely runs where the first did.
    const pool = createPool({ connectionString: db().directUrl, max: 1 });
    try {
      const restore = useClock(new ManualClock(T1));
      try {
        expect(ms((await pool.query('SELECT precog_now() AS t')).rows[0].t)).toBe(T1);
      } finally {
        restore();
      }
      const { rows } = await pool.query(`SELECT current_setting('precog.now', true) AS setting, precog_now() = now() AS same`);
      expect(rows[0]).toEqual({ setting: '', same: true }); // the placeholder stays, empty: NULLIF reads it as unset
    } finally {
      await pool.end();
    }
  });

  it('through the test lane: the pool reaches PostgreSQL via PgBouncer when it is installed', () => {
    // Documents which lane the assertions above ran on (transaction pooling unless PRECOG_DB_PROXY=none).
    expect(['pgbouncer', 'none']).toContain(inject('databaseProxy'));
    if (inject('databaseProxy') === 'pgbouncer') expect(db().url).not.toBe(db().directUrl);
  });
});

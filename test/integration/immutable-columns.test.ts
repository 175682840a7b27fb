import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { withTransaction } from '../../shared/db/transaction';
import { ACCOUNT_BALANCE, EDGES, GAME_STATES, MARKETS, POSITIONS } from '../../shared/db/versionedTables';
import { executeExit } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useTestDatabase } from '../helpers/database';
import { openPosition, paperExchange, scannedEntries } from '../helpers/execution';
import { GAME_EVENT, quoteYes } from '../helpers/scanWorld';

/**
 * History cannot be edited in place, column by column. The columns come from information_schema,
 * so a column added by a later migration is covered without touching this file; a trigger whose
 * comparison list forgets a column (positions' heartbeat trigger lists them by hand) fails here.
 */

const db = useTestDatabase();

/** The SCD-2 tables (shared/db/versionedTables.ts; triggers in 0002, positions' in 0009/0012). */
const VERSIONED = [MARKETS, GAME_STATES, EDGES, POSITIONS, ACCOUNT_BALANCE].map((t) => ({ table: t.table, versionKey: t.versionKey }));
/** Append-only history (0002, paper ledger in 0007 and 0010). */
const APPEND_ONLY = ['trades', 'settlements', 'position_exits', 'exit_attempts', 'paper_fills', 'paper_settlements'];

/**
 * The single-column UPDATEs of a current version the triggers deliberately allow: closing it
 * (row_current_ind TRUE → FALSE), and on positions the monitor's heartbeat (last_update, D23).
 */
const ALLOWED_ON_CURRENT: Record<string, string[]> = {
  markets: ['row_current_ind'],
  game_states: ['row_current_ind'],
  edges: ['row_current_ind'],
  positions: ['row_current_ind', 'last_update'],
  account_balance: ['row_current_ind'],
};

interface Column {
  name: string; dataType: string; udtName: string; domain: string | null; numericScale: number | null; identity: boolean; generated: boolean;
}

async function columnsOf(pool: pg.Pool, table: string): Promise<Column[]> {
  const { rows } = await pool.query(
    `SELECT column_name, data_type, udt_name, domain_name, numeric_scale, is_identity, is_generated
     FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  expect(rows.length, `${table} has columns`).toBeGreaterThan(0);
  return rows.map((r) => ({
    name: r.column_name, dataType: r.data_type, udtName: r.udt_name, domain: r.domain_name, numericScale: r.numeric_scale,
    identity: r.is_identity === 'YES', generated: r.is_generated === 'ALWAYS',
  }));
}

/** An SQL expression giving the column a value different from the one it has (NULL included). */
async function changedValue(pool: pg.Pool, c: Column): Promise<string> {
  const col = `"${c.name}"`;
  if (c.identity) return 'DEFAULT';
  if (c.domain) {
    // A domain's CHECK lists its values (VALUE IN ('yes', 'no')): switch between the first two.
    const { rows } = await pool.query(
      `SELECT pg_get_constraintdef(k.oid) AS def FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid WHERE t.typname = $1`, [c.domain],
    );
    const labels = [...new Set(rows.flatMap((r) => [...String(r.def).matchAll(/'([^']*)'/g)].map((m) => m[1]!)))];
    expect(labels.length, `domain ${c.domain} lists two values`).toBeGreaterThan(1);
    return `CASE WHEN ${col} IS NOT DISTINCT FROM '${labels[0]}' THEN '${labels[1]}' ELSE '${labels[0]}' END`;
  }
  switch (c.dataType) {
    case 'boolean': return `coalesce(NOT ${col}, TRUE)`;
    case 'smallint': case 'integer': case 'bigint':
      return `CASE WHEN ${col} IS NOT DISTINCT FROM 1 THEN 2 ELSE 1 END`;
    case 'numeric': {
      const step = c.numericScale ? `0.${'0'.repeat(c.numericScale - 1)}1` : '1';
      return `CASE WHEN ${col} IS NOT DISTINCT FROM ${step} THEN 0 ELSE ${step} END`;
    }
    case 'text': case 'character varying': case 'character':
      return `CASE WHEN ${col} IS NOT DISTINCT FROM 'a' THEN 'b' ELSE 'a' END`;
    case 'jsonb': case 'json':
      return `CASE WHEN ${col}::text IS NOT DISTINCT FROM '{"a": 1}' THEN '{"a": 2}' ELSE '{"a": 1}' END::${c.dataType}`;
    case 'timestamp with time zone': case 'timestamp without time zone': case 'date':
      return `coalesce(${col} + interval '1 day', '2001-01-01')`;
    case 'USER-DEFINED': {
      const { rows } = await pool.query(
        `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder`, [c.udtName],
      );
      expect(rows.length, `${c.udtName} is an enum with two labels`).toBeGreaterThan(1);
      const [a, b] = rows.map((r) => `'${r.enumlabel}'::"${c.udtName}"`);
      return `CASE WHEN ${col} IS NOT DISTINCT FROM ${a} THEN ${b} ELSE ${a} END`;
    }
    default:
      throw new Error(`column ${c.name}: no way to change a ${c.dataType} value yet: add one to changedValue`);
  }
}

/** Runs the UPDATE in a transaction that is always rolled back: 'allowed' or the error message. */
async function tryUpdate(pool: pg.Pool, sql: string, params: unknown[]): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rowCount } = await client.query(sql, params);
    expect(rowCount, sql).toBe(1);
    return 'allowed';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

/** The updatable columns (a generated column cannot be written at all, trigger or not). */
const writable = (columns: Column[]) => columns.filter((c) => !c.generated);

beforeAll(async () => {
  const { pool } = db();
  // Every table gets rows the real way: a scan (edges), entries on two markets (positions,
  // trades, paper fills), a stop-loss exit (position_exits, exit_attempts), a settlement.
  await scannedEntries(pool, { strategies: 1 });
  const exchange = paperExchange(pool);
  await openPosition(pool, exchange, { marketId: `${GAME_EVENT}-KC`, side: 'yes', quantity: 10, price: '0.60' });
  await openPosition(pool, exchange, { marketId: `${GAME_EVENT}-DAL`, side: 'no', quantity: 10, price: '0.72' });
  await quoteYes(pool, `${GAME_EVENT}-KC`, 40, 42);
  const queue = new MemoryExitQueue();
  await sweepPositions({ pool, queue });
  for (const message of queue.sent) await executeExit({ pool, exchange }, message);
  await exchange.settle(`${GAME_EVENT}-DAL`, dec('0'));
  await pool.query(`INSERT INTO settlements (market_id, platform_id, outcome, payout) VALUES ($1, 'kalshi', 'no', 0)`, [`${GAME_EVENT}-DAL`]);
});

describe('the triggers guard exactly the tables named here', () => {
  it('every table with row_current_ind is a versioned table with its rewrite trigger; the append-only tables have theirs', async () => {
    const { rows: scd } = await db().pool.query(
      `SELECT table_name FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
       WHERE c.table_schema = current_schema() AND column_name = 'row_current_ind' AND t.table_type = 'BASE TABLE'
         -- partitions of a partitioned versioned table (0021) are that table
         AND NOT EXISTS (SELECT 1 FROM pg_class k WHERE k.relname = c.table_name AND k.relispartition) ORDER BY 1`,
    );
    expect(scd.map((r) => r.table_name)).toEqual(VERSIONED.map((t) => t.table).sort());
    const { rows: guarded } = await db().pool.query(
      `SELECT DISTINCT c.relname AS table_name, p.proname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
       WHERE NOT g.tgisinternal AND g.tgparentid = 0 AND p.proname IN ('reject_version_rewrite', 'reject_append_only_change')`,
    );
    const by = (fn: string) => guarded.filter((r) => r.proname === fn).map((r) => r.table_name);
    expect(by('reject_version_rewrite').sort()).toEqual(VERSIONED.map((t) => t.table).sort());
    expect(by('reject_append_only_change')).toEqual(expect.arrayContaining(APPEND_ONLY));
  });
});

describe.each(VERSIONED)('versioned table $table', ({ table, versionKey }) => {
  it('a current version: every column alone is refused in place, except exactly the allow-list', async () => {
    const { pool } = db();
    const { rows: [row] } = await pool.query(`SELECT ${versionKey} AS id FROM ${table} WHERE row_current_ind ORDER BY 1 LIMIT 1`);
    expect(row, `${table} has a current row to test on`).toBeDefined();
    const allowed: string[] = [];
    for (const c of writable(await columnsOf(pool, table))) {
      // Closing a version also stamps superseded_at (a CHECK wants both): that pair is the one close.
      const set = c.name === 'row_current_ind' ? 'row_current_ind = FALSE, superseded_at = now()' : `"${c.name}" = ${await changedValue(pool, c)}`;
      const outcome = await tryUpdate(pool, `UPDATE ${table} SET ${set} WHERE ${versionKey} = $1`, [row.id]);
      if (outcome === 'allowed') allowed.push(c.name);
      else expect(outcome, `${table}.${c.name}`).toContain(`${table} is versioned: only closing the current version`);
    }
    expect(allowed.sort()).toEqual([...ALLOWED_ON_CURRENT[table]!].sort());
  });

  it('a closed version: every column alone is refused', async () => {
    const { pool } = db();
    // A closed version made the legal way: close the current one, insert its successor.
    const columns = writable(await columnsOf(pool, table));
    const copied = columns.filter((c) => !c.identity && c.name !== 'row_current_ind' && c.name !== 'superseded_at').map((c) => `"${c.name}"`);
    const { rows: [current] } = await pool.query(`SELECT ${versionKey} AS id FROM ${table} WHERE row_current_ind ORDER BY 1 LIMIT 1`);
    await withTransaction(pool, async (client) => {
      await client.query(`UPDATE ${table} SET row_current_ind = FALSE, superseded_at = now() WHERE ${versionKey} = $1`, [current.id]);
      await client.query(`INSERT INTO ${table} (${copied.join(', ')}) SELECT ${copied.join(', ')} FROM ${table} WHERE ${versionKey} = $1`, [current.id]);
    });
    for (const c of columns) {
      const value = c.name === 'row_current_ind' ? 'TRUE' : await changedValue(pool, c);
      const outcome = await tryUpdate(pool, `UPDATE ${table} SET "${c.name}" = ${value} WHERE ${versionKey} = $1`, [current.id]);
      expect(outcome, `${table}.${c.name} on a closed version`).toContain(`${table} is versioned: only closing the current version`);
    }
  });
});

describe.each(APPEND_ONLY)('append-only table %s', (table) => {
  it('every column alone is refused', async () => {
    const { pool } = db();
    const { rows: [{ n }] } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(n, `${table} has a row to test on`).toBeGreaterThan(0);
    for (const c of writable(await columnsOf(pool, table))) {
      // Each statement touches every row; the trigger must refuse before any is written.
      const client = await pool.connect();
      let outcome = 'allowed';
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE ${table} SET "${c.name}" = ${await changedValue(pool, c)}`);
      } catch (error) {
        outcome = (error as Error).message;
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
      expect(outcome, `${table}.${c.name}`).toBe(`${table} is append-only: UPDATE is not allowed`);
    }
  });
});

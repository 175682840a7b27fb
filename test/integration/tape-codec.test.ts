import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { describeTable, exportTableFile, insertRowsExact, readTableFile, type ColumnSpec } from '../../shared/tape';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/**
 * The tape codec against a real PostgreSQL: every column of every table of the migrated schema
 * goes through export → Parquet → insertRowsExact and comes back byte-equal (compared as
 * PostgreSQL prints the whole row). Constraints are relaxed in both databases so that each column
 * can carry its type's extreme values (bigints past 2^53, microseconds, unicode JSON, NULL in
 * every nullable column) whatever the business rules allow: this tests the codec, not the rules.
 */

let source: TestDatabase;
let target: TestDatabase;
let dir: string;

async function admin(database: TestDatabase, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: database.directUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops foreign keys, CHECKs and domain checks, disables user triggers: any value of the column's type goes in. */
const RELAX = `
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           WHERE n.nspname = current_schema() AND contype IN ('f', 'c') AND conrelid <> 0 AND coninhcount = 0 LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
  FOR r IN SELECT t.typname, c.conname FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid
           JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() LOOP
    EXECUTE format('ALTER DOMAIN %I DROP CONSTRAINT %I', r.typname, r.conname);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition LOOP
    EXECUTE format('ALTER TABLE %s DISABLE TRIGGER USER', r.t);
  END LOOP;
END $$;`;

/** Three rows' values per column kind: extremes, the other extreme (or NULL), and an ordinary one. */
function valueFor(column: ColumnSpec, row: number): string | null {
  if (row === 1 && column.nullable) return null;
  switch (column.kind) {
    case 'int64':
      return ['9007199254740993', '-9223372036854775808', '9223372036854775807'][row]!;
    case 'int32':
      return ['2147483647', '-2147483648', '7'][row]!;
    case 'decimal': {
      const whole = column.precision! - column.scale!;
      const nines = (n: number) => '9'.repeat(n);
      const max = column.scale! > 0 ? `${whole > 0 ? nines(whole) : '0'}.${nines(column.scale!)}` : nines(whole);
      const smallest = column.scale! > 0 ? `0.${'0'.repeat(column.scale! - 1)}1` : '1';
      return [max, `-${max}`, smallest][row]!;
    }
    case 'numeric_text':
      return ['12345678901234567890.123456789012', '-0.000000000000000001', '0'][row]!;
    case 'timestamptz':
      return ['2026-09-13 17:00:00.123456+00', '1969-12-31 23:59:59.999999+00', '2026-12-31 23:59:59.000001+00'][row]!;
    case 'date':
      return ['2026-09-13', '1969-12-31', '2000-02-29'][row]!;
    case 'boolean':
      return ['true', 'false', 'true'][row]!;
    case 'json':
      return [
        '{"é": "ünïcødé 🏈 \\"q\\" \\\\", "nested": {"a": [1, 2.50, {"b": null}], "big": 123456789012345678901234567890.5, "neg": -1e-7}}',
        '[]',
        '"just a string"',
      ][row]!;
    case 'text':
      return [`ü🏈'"\\\t\n€${column.name.slice(0, 3)}`, '', `v1.0-${column.name.slice(0, 8)}`][row]!;
  }
}

async function userTables(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
  );
  // pgmigrations is the migration tool's bookkeeping, never on a tape.
  return rows.map((r) => r.relname).filter((name) => name !== 'pgmigrations');
}

async function rowsAsText(db: TestDatabase, table: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ t: string }>(`SELECT t::text AS t FROM "${table}" t ORDER BY 1`);
  return rows.map((r) => r.t);
}

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await Promise.all([admin(source, RELAX), admin(target, RELAX)]);
  dir = await mkdtemp(path.join(tmpdir(), 'precog-tape-codec-'));
});

afterAll(async () => {
  await Promise.all([source?.drop(), target?.drop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tape codec: PostgreSQL ⇄ Parquet, exact', () => {
  it('round-trips every column of every table byte-equal (export → file → insertRowsExact in a fresh database)', async () => {
    const tables = await userTables(source);
    expect(tables).toEqual(expect.arrayContaining(['markets', 'game_states', 'strategies', 'probability_models', 'trades', 'positions']));
    const kinds = new Set<string>();
    for (const table of tables) {
      const columns = await describeTable(source.pool, table);
      columns.forEach((c) => kinds.add(c.kind));
      for (let row = 0; row < 3; row++) {
        const values = columns.map((c) => valueFor(c, row));
        const overriding = columns.some((c) => c.identity) ? ' OVERRIDING SYSTEM VALUE' : '';
        await source.pool.query(
          `INSERT INTO "${table}" (${columns.map((c) => `"${c.name}"`).join(', ')})${overriding} VALUES (${columns.map((c, i) => `$${i + 1}::${c.pgType}`).join(', ')})`,
          values,
        );
      }
      // batchRows 2: three rows make two row groups, so reading crosses a row-group boundary.
      const file = await exportTableFile(source.pool, { table, batchRows: 2 });
      expect(file.rows, table).toBe(3);
      const filePath = path.join(dir, `${table}.parquet`);
      await writeFile(filePath, file.bytes);
      const client = await target.pool.connect();
      try {
        await client.query('BEGIN');
        await insertRowsExact(client, table, readTableFile(filePath));
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      expect(await rowsAsText(target, table), table).toEqual(await rowsAsText(source, table));
    }
    // The schema exercises these kinds; a new kind would need its own extreme values above.
    expect([...kinds].sort()).toEqual(['boolean', 'decimal', 'int32', 'int64', 'json', 'text', 'timestamptz']);
  });

  it('reads values exactly: bigint past 2^53, numeric digits, microseconds, unicode JSON text, NULL', async () => {
    const rows = [];
    for await (const row of readTableFile(path.join(dir, 'markets.parquet'))) rows.push(row);
    const byId = new Map(rows.map((r) => [r.market_version_id, r]));
    const first = byId.get(9007199254740993n)!;
    expect(first).toBeDefined();
    expect(first.yes_price).toBe('999999.9999');
    expect(first.created_at).toBe('2026-09-13T17:00:00.123456Z');
    // jsonb's own text: key order and number spelling as PostgreSQL prints them, digits kept.
    expect(first.metadata).toBe('{"é": "ünïcødé 🏈 \\"q\\" \\\\", "nested": {"a": [1, 2.50, {"b": null}], "big": 123456789012345678901234567890.5, "neg": -0.0000001}}');
    const second = byId.get(-9223372036854775808n)!;
    expect(second.created_at).toBe('1969-12-31T23:59:59.999999Z');
    expect(second.yes_price).toBeNull();
    expect(second.metadata).toBeNull();
    expect(second.market_id).toBe(''); // NOT NULL text keeps its empty string
  });

  it('opens in DuckDB (an independent Parquet reader) with the same values and SQL types', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const file = path.join(dir, 'markets.parquet').replace(/'/g, "''");
      const reader = await connection.runAndReadAll(
        `SELECT market_version_id::VARCHAR AS id, typeof(yes_price) AS price_type, yes_price::VARCHAR AS yes_price,
                typeof(created_at) AS time_type, epoch_us(created_at)::VARCHAR AS created_us,
                title, typeof(metadata) AS json_type, metadata::VARCHAR AS metadata
           FROM read_parquet('${file}') ORDER BY market_version_id`,
      );
      const rows = reader.getRowObjectsJS();
      const first = rows.find((r) => r.id === '9007199254740993')!;
      expect(first).toMatchObject({
        price_type: 'DECIMAL(10,4)',
        yes_price: '999999.9999',
        time_type: 'TIMESTAMP WITH TIME ZONE',
        created_us: '1789318800123456',
        json_type: 'JSON',
      });
      expect(first.title).toBe(`ü🏈'"\\\t\n€tit`);
      expect(JSON.parse(first.metadata as string)).toEqual({ é: 'ünïcødé 🏈 "q" \\', nested: { a: [1, 2.5, { b: null }], big: 123456789012345678901234567890.5, neg: -0.0000001 } });
      const second = rows.find((r) => r.id === '-9223372036854775808')!;
      expect(second).toMatchObject({ yes_price: null, created_us: '-1' });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('orders by the table\'s columns, not by their exported text (9 before 10)', async () => {
    await source.pool.query('CREATE TABLE ordering_check (id bigint PRIMARY KEY, seen timestamptz NOT NULL)');
    await source.pool.query(`INSERT INTO ordering_check VALUES (10, '2026-09-13 17:00:00+00'), (9, '2026-09-13 17:00:00+00'), (100, '2026-09-13 16:59:59.999999+00')`);
    const file = await exportTableFile(source.pool, { table: 'ordering_check', orderBy: 'seen, id' });
    const ids = [];
    for await (const row of readTableFile(file.bytes)) ids.push(row.id);
    expect(ids).toEqual([100n, 9n, 10n]);
  });

  it('names the file when it is not Parquet or is corrupted', async () => {
    const bogus = path.join(dir, 'bogus.parquet');
    await writeFile(bogus, 'not parquet at all');
    await expect(async () => {
      for await (const _ of readTableFile(bogus)) void _;
    }).rejects.toThrow(`${bogus}: not a readable Parquet file`);
  });
});

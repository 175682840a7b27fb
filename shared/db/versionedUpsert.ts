import { Decimal, toSqlDecimal } from '../domain/decimal';
import pg from 'pg';
import { withTransaction, type Queryable } from './transaction';

/** Column types the versioned upsert can carry through `unnest` without losing exactness. */
export type ColumnType = 'text' | 'numeric' | 'int' | 'bigint' | 'boolean' | 'jsonb' | 'timestamptz';

export type ColumnValue = string | number | boolean | Decimal | Date | object | null | undefined;
export type SnapshotRow = Record<string, ColumnValue>;

/**
 * Describes one SCD-2 table: which columns a snapshot writes, which of them form the business key,
 * and the identity table whose rows serialise writers of the same key.
 */
export interface VersionedTableSpec {
  table: string;
  versionKey: string;
  businessKey: readonly string[];
  /** Every column a snapshot writes, business key included. */
  columns: Readonly<Record<string, ColumnType>>;
  /** Columns whose change makes a new version (default: every non-key column). */
  compare?: readonly string[];
  identity: {
    table: string;
    /**
     * Columns inserted into the identity table for keys seen for the first time (business key
     * first). Omit when identities are created elsewhere (positions): then every key must exist.
     */
    insertColumns?: readonly string[];
  };
}

export interface VersionedUpsertResult {
  /** Snapshots received (after de-duplicating keys within the batch, last one wins). */
  received: number;
  /** New versions written (new keys + changed keys). */
  inserted: number;
  /** Previous current versions closed. */
  closed: number;
  unchanged: number;
  /** Business key (as array) and version key of each new version. */
  versions: Array<{ key: unknown[]; versionId: number }>;
}

const SQL_ARRAY_TYPE: Record<ColumnType, string> = {
  text: 'text[]',
  numeric: 'numeric[]',
  int: 'int[]',
  bigint: 'bigint[]',
  boolean: 'boolean[]',
  jsonb: 'jsonb[]',
  timestamptz: 'timestamptz[]',
};

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

function encode(type: ColumnType, column: string, value: ColumnValue): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'numeric':
      if (typeof value === 'number') {
        throw new TypeError(`${column}: NUMERIC values must be Decimal or string, never a JS number`);
      }
      return toSqlDecimal(value as Decimal | string);
    case 'jsonb':
      return JSON.stringify(value);
    case 'timestamptz':
      return value instanceof Date ? value.toISOString() : value;
    case 'int':
    case 'bigint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new TypeError(`${column}: expected an integer, got ${String(value)}`);
      }
      return value;
    default:
      return value;
  }
}

interface CompiledSpec {
  columns: string[];
  identityLockSql: string;
  identityColumns: string[];
  upsertSql: string;
}

const compiled = new WeakMap<VersionedTableSpec, CompiledSpec>();

function compile(spec: VersionedTableSpec): CompiledSpec {
  const cached = compiled.get(spec);
  if (cached) return cached;

  const columns = Object.keys(spec.columns);
  for (const key of spec.businessKey) {
    if (!columns.includes(key)) throw new Error(`${spec.table}: business key ${key} is not a column`);
  }
  const compare = spec.compare ?? columns.filter((c) => !spec.businessKey.includes(c));
  const unnestOf = (cols: readonly string[], offset = 0) =>
    `unnest(${cols.map((c, i) => `$${i + 1 + offset}::${SQL_ARRAY_TYPE[spec.columns[c]!]}`).join(', ')}) AS i(${cols.map(ident).join(', ')})`;
  const keyList = spec.businessKey.map(ident).join(', ');
  const keyJoin = (a: string, b: string) => spec.businessKey.map((k) => `${a}.${ident(k)} = ${b}.${ident(k)}`).join(' AND ');

  // Statement 1: create identities for new keys and row-lock every key of the batch, in key order
  // so that two batches with overlapping keys cannot deadlock. Identity rows never change, so
  // (unlike locking the current version) the lock target is stable across concurrent versions.
  let identityLockSql: string;
  let identityColumns: string[];
  if (spec.identity.insertColumns) {
    identityColumns = [...spec.identity.insertColumns];
    const firstKey = ident(spec.businessKey[0]!);
    identityLockSql =
      `INSERT INTO ${ident(spec.identity.table)} (${identityColumns.map(ident).join(', ')}) ` +
      `SELECT * FROM ${unnestOf(identityColumns)} ORDER BY ${keyList} ` +
      // DO UPDATE ... WHERE FALSE writes nothing but still locks the existing row.
      `ON CONFLICT (${keyList}) DO UPDATE SET ${firstKey} = EXCLUDED.${firstKey} WHERE FALSE`;
  } else {
    identityColumns = [...spec.businessKey];
    identityLockSql =
      `SELECT 1 FROM ${ident(spec.identity.table)} t JOIN ${unnestOf(identityColumns)} ON ${keyJoin('t', 'i')} ` +
      `ORDER BY ${spec.businessKey.map((k) => `t.${ident(k)}`).join(', ')} FOR UPDATE OF t`;
  }

  // Statement 2 (after the locks, so its snapshot sees every committed earlier version): compare
  // snapshots with current rows, close the changed ones, insert their new versions.
  const table = ident(spec.table);
  const version = ident(spec.versionKey);
  const upsertSql = `
WITH incoming AS (SELECT * FROM ${unnestOf(columns)}),
cur AS (
  SELECT t.${version} AS _version_id, ${columns.map((c) => `t.${ident(c)}`).join(', ')}
  FROM ${table} t JOIN incoming i ON ${keyJoin('t', 'i')}
  WHERE t.row_current_ind
),
changed AS (
  SELECT i.*, c._version_id AS _old_version_id
  FROM incoming i LEFT JOIN cur c ON ${keyJoin('c', 'i')}
  WHERE c._version_id IS NULL
     OR (${compare.map((c) => `c.${ident(c)}`).join(', ')}) IS DISTINCT FROM (${compare.map((c) => `i.${ident(c)}`).join(', ')})
),
closed AS (
  UPDATE ${table} t SET row_current_ind = FALSE, superseded_at = now()
  FROM changed ch WHERE t.${version} = ch._old_version_id
  RETURNING t.${version}
),
inserted AS (
  INSERT INTO ${table} (${columns.map(ident).join(', ')})
  SELECT ${columns.map(ident).join(', ')} FROM changed
  -- The scalar sub-select runs before the first row is inserted: old versions are closed before
  -- their successors enter the one-current-row unique index.
  WHERE (SELECT count(*) FROM closed) >= 0
  RETURNING ${version} AS _version_id, ${keyList}
)
SELECT ins.*, (SELECT count(*) FROM closed)::int AS _closed FROM inserted ins`;

  const result = { columns, identityLockSql, identityColumns, upsertSql };
  compiled.set(spec, result);
  return result;
}

function keyOf(spec: VersionedTableSpec, row: SnapshotRow): string {
  return JSON.stringify(spec.businessKey.map((k) => {
    const v = row[k];
    if (v === null || v === undefined) throw new TypeError(`${spec.table}: business key ${k} is missing`);
    return v instanceof Decimal ? v.toFixed() : v;
  }));
}

/**
 * SCD-2 write of a batch of snapshots in two statements, whatever the batch size:
 * unchanged snapshots write nothing; a changed snapshot closes the current version and inserts
 * the new one; a new key inserts its first version.
 *
 * Given a pool it runs in a transaction of its own. Given a client it joins the caller's
 * transaction, which must be open: the identity row locks that serialise concurrent writers of
 * the same key are held until that transaction ends.
 */
export async function versionedUpsert(
  db: pg.Pool | Queryable,
  spec: VersionedTableSpec,
  rows: readonly SnapshotRow[],
): Promise<VersionedUpsertResult> {
  if (db instanceof pg.Pool) {
    return withTransaction(db, (client) => versionedUpsert(client, spec, rows));
  }
  const client = db;
  const { columns, identityLockSql, identityColumns, upsertSql } = compile(spec);

  const latest = new Map<string, SnapshotRow>();
  for (const row of rows) {
    for (const column of Object.keys(row)) {
      if (!(column in spec.columns)) throw new TypeError(`${spec.table}: snapshot has unknown column ${column}`);
    }
    const key = keyOf(spec, row);
    latest.delete(key); // keep insertion order = last occurrence
    latest.set(key, row);
  }
  const batch = [...latest.values()];
  if (batch.length === 0) return { received: 0, inserted: 0, closed: 0, unchanged: 0, versions: [] };

  const arrays = (cols: readonly string[]) =>
    cols.map((c) => {
      const type = spec.columns[c];
      if (type === undefined) throw new Error(`${spec.table}: unknown column ${c}`);
      return batch.map((row) => encode(type, c, row[c]));
    });

  await client.query(identityLockSql, arrays(identityColumns));
  const result = await client.query(upsertSql, arrays(columns));

  const versions = result.rows.map((r: Record<string, unknown>) => ({
    key: spec.businessKey.map((k) => r[k]),
    versionId: r._version_id as number,
  }));
  const closed = result.rows.length > 0 ? (result.rows[0]._closed as number) : 0;
  return {
    received: batch.length,
    inserted: result.rows.length,
    closed,
    unchanged: batch.length - result.rows.length,
    versions,
  };
}

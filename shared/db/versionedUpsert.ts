import { Decimal, toSqlDecimal } from '../domain/decimal';
import pg from 'pg';
import { withTransaction, type Queryable } from './transaction';

/** Column types the versioned upsert can carry through `unnest` without losing exactness. */
export type ColumnType = 'text' | 'numeric' | 'int' | 'bigint' | 'boolean' | 'jsonb' | 'timestamptz';

export type ColumnValue = string | number | boolean | Decimal | Date | object | null | undefined;
export type SnapshotRow = Record<string, ColumnValue>;

/**
 * Describes one SCD-2 table: which columns a snapshot writes, which of them form the business key,
 * and the identity table that gives each key a stable row for foreign keys to point at.
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

/** One value as the text PostgreSQL parses for its column type (null stays null). */
function encode(type: ColumnType, column: string, value: ColumnValue): string | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'numeric':
      if (typeof value === 'number') {
        throw new TypeError(`${column}: NUMERIC values must be Decimal or string, never a JS number`);
      }
      return value instanceof Decimal ? value.toFixed() : toSqlDecimal(value as string);
    case 'jsonb':
      return JSON.stringify(value);
    case 'timestamptz':
      if (value instanceof Date) return value.toISOString();
      if (typeof value !== 'string') throw new TypeError(`${column}: expected a Date, got ${typeof value}`);
      return value;
    case 'int':
    case 'bigint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new TypeError(`${column}: expected an integer, got ${String(value)}`);
      }
      return String(value);
    case 'boolean':
      if (typeof value !== 'boolean') throw new TypeError(`${column}: expected a boolean, got ${typeof value}`);
      return value ? 't' : 'f';
    default:
      if (typeof value !== 'string') throw new TypeError(`${column}: expected a string, got ${typeof value}`);
      return value;
  }
}

/** Types whose text form (digits, ISO instants, t/f) never needs quoting inside an array literal. */
const BARE: ReadonlySet<ColumnType> = new Set(['numeric', 'int', 'bigint', 'boolean', 'timestamptz']);

/**
 * One column of the batch as a PostgreSQL array literal ('{"a","b",NULL}'), built in one pass.
 * pg's generic array serialisation costs several times more on 10,000-row batches.
 */
function columnLiteral(type: ColumnType, column: string, batch: readonly SnapshotRow[]): string {
  const bare = BARE.has(type);
  const parts = new Array<string>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const v = encode(type, column, batch[i]![column]);
    if (v === null) parts[i] = 'NULL';
    else if (bare) parts[i] = v;
    else if (v.includes('"') || v.includes('\\')) parts[i] = `"${v.replace(/[\\"]/g, '\\$&')}"`;
    else parts[i] = `"${v}"`;
  }
  return `{${parts.join(',')}}`;
}

interface CompiledSpec {
  columns: string[];
  lockClass: number;
  upsertSql: string;
}

/**
 * Writers of the same table serialise per key through transaction-scoped advisory locks on a
 * fixed number of stripes (hash of the business key). A fixed stripe count bounds the locks one
 * transaction holds (PostgreSQL's shared lock table is finite) however large the batch, and
 * taking stripes in ascending order means two batches can never deadlock each other.
 */
export const LOCK_STRIPES = 256;

// The same statement raises work_mem for this transaction only: comparing a large batch sorts or
// hashes every snapshot, and the 4 MB default would spill that to disk.
const LOCK_SQL = `SELECT set_config('work_mem', '64MB', true),
  (SELECT count(pg_advisory_xact_lock($1::int4, s)) FROM (SELECT s FROM unnest($2::int4[]) AS s ORDER BY s) AS stripes)`;

/** FNV-1a, 32-bit: a stable, fast string hash (same value in every process and release). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
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
  const table = ident(spec.table);
  const version = ident(spec.versionKey);
  const keyList = spec.businessKey.map(ident).join(', ');
  const keyJoin = spec.businessKey.map((k) => `t.${ident(k)} = i.${ident(k)}`).join(' AND ');
  const list = (prefix: string, cols: readonly string[]) => cols.map((c) => `${prefix}${ident(c)}`).join(', ');
  const unnest = `unnest(${columns.map((c, i) => `$${i + 1}::${SQL_ARRAY_TYPE[spec.columns[c]!]}`).join(', ')}) AS i(${list('', columns)})`;

  // New keys get their identity row in the same statement; with the stripe locks held no other
  // writer can be creating the same key, and ON CONFLICT covers identities made elsewhere.
  const identityCte = spec.identity.insertColumns
    ? `new_identities AS (
  INSERT INTO ${ident(spec.identity.table)} (${list('', spec.identity.insertColumns)})
  SELECT ${list('', spec.identity.insertColumns)} FROM changed WHERE _old_version_id IS NULL
  ON CONFLICT DO NOTHING
  RETURNING 1
),`
    : '';

  // One statement, run after the locks so that its snapshot sees every committed earlier version:
  // compare each snapshot with its key's current row, close the changed ones (by ctid, a direct
  // tuple fetch: no second search; no other writer can move those rows while the locks are held),
  // insert their successors.
  const upsertSql = `
WITH changed AS (
  SELECT i.*, t.ctid AS _old_ctid, t.${version} AS _old_version_id
  FROM ${unnest}
  -- A lateral probe of the one-current-row index per key: cost grows with the batch, never with
  -- the table's history.
  LEFT JOIN LATERAL (
    SELECT t.*, t.ctid FROM ${table} t WHERE ${keyJoin} AND t.row_current_ind
  ) t ON TRUE
  WHERE t.${version} IS NULL
     OR (${list('t.', compare)}) IS DISTINCT FROM (${list('i.', compare)})
),
${identityCte}
closed AS (
  UPDATE ${table} t SET row_current_ind = FALSE, superseded_at = precog_now()
  -- row_current_ind: on a partitioned table (migration 0021) a ctid is only unique within one
  -- partition; the condition prunes the update to the partition of current rows.
  WHERE t.row_current_ind AND t.ctid = ANY (ARRAY(SELECT _old_ctid FROM changed WHERE _old_ctid IS NOT NULL))
  RETURNING 1
),
inserted AS (
  INSERT INTO ${table} (${list('', columns)})
  SELECT ${list('', columns)} FROM changed
  -- The scalar sub-selects run before the first row is inserted: old versions are closed before
  -- their successors enter the one-current-row unique index.
  WHERE (SELECT count(*) FROM closed) >= 0${spec.identity.insertColumns ? ' AND (SELECT count(*) FROM new_identities) >= 0' : ''}
  RETURNING ${version} AS _version_id, ${keyList}
)
SELECT ins.*, (SELECT count(*) FROM closed)::int AS _closed FROM inserted ins`;

  const result = { columns, lockClass: fnv1a(spec.table) | 0, upsertSql };
  compiled.set(spec, result);
  return result;
}

function keyOf(spec: VersionedTableSpec, row: SnapshotRow): string {
  let key = '';
  for (const k of spec.businessKey) {
    const v = row[k];
    if (v === null || v === undefined) throw new TypeError(`${spec.table}: business key ${k} is missing`);
    // Length-prefixed parts: unambiguous for composite keys whatever the values contain.
    const part = v instanceof Decimal ? v.toFixed() : String(v);
    key += `${part.length}:${part}|`;
  }
  return key;
}

/**
 * SCD-2 write of a batch of snapshots in two statements, whatever the batch size:
 * unchanged snapshots write nothing; a changed snapshot closes the current version and inserts
 * the new one; a new key inserts its first version.
 *
 * Given a pool it runs in a transaction of its own. Given a client it joins the caller's
 * transaction, which must be open: the advisory locks that serialise concurrent writers of the
 * same keys are held until that transaction ends.
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
  const { columns, lockClass, upsertSql } = compile(spec);

  const latest = new Map<string, SnapshotRow>(); // business key (JSON) → last snapshot
  for (const row of rows) {
    for (const column in row) {
      if (spec.columns[column] === undefined) throw new TypeError(`${spec.table}: snapshot has unknown column ${column}`);
    }
    const key = keyOf(spec, row);
    if (latest.has(key)) latest.delete(key); // keep insertion order = last occurrence
    latest.set(key, row);
  }
  const batch = [...latest.values()];
  if (batch.length === 0) return { received: 0, inserted: 0, closed: 0, unchanged: 0, versions: [] };


  const stripes = [...new Set([...latest.keys()].map((key) => fnv1a(key) % LOCK_STRIPES))];
  await client.query(LOCK_SQL, [lockClass, stripes]);
  const result = await client.query(upsertSql, columns.map((c) => columnLiteral(spec.columns[c]!, c, batch)));

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

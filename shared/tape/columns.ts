import type { Queryable } from '../db/transaction';

/**
 * How one PostgreSQL column travels in a tape file. The kind decides the Parquet type and the
 * exact SQL read and write of the value (see docs/tape.md, "Column types").
 */
export type ColumnKind =
  | 'int64' // bigint: Parquet INT64
  | 'int32' // integer, smallint: Parquet INT32
  | 'decimal' // numeric(p, s) with p <= 38: Parquet DECIMAL(p, s)
  | 'numeric_text' // numeric without a declared scale: its exact text (Parquet has no unbounded decimal)
  | 'timestamptz' // Parquet TIMESTAMP(MICROS, UTC): microseconds since the epoch
  | 'date' // Parquet DATE: days since the epoch
  | 'boolean'
  | 'json' // json / jsonb: the JSON text PostgreSQL prints, Parquet JSON (UTF-8)
  | 'text'; // varchar, text, char and domains over them: Parquet STRING

export interface ColumnSpec {
  name: string;
  /** The declared type as PostgreSQL prints it (format_type): a domain keeps its name, e.g. semantic_version. */
  pgType: string;
  kind: ColumnKind;
  nullable: boolean;
  /** GENERATED ALWAYS / BY DEFAULT AS IDENTITY: inserted with OVERRIDING SYSTEM VALUE. */
  identity: boolean;
  precision?: number;
  scale?: number;
}

interface CatalogColumn {
  name: string;
  pg_type: string;
  base_type: string;
  typmod: number;
  not_null: boolean;
  identity: string;
  generated: string;
}

/** Maximum decimal precision a tape writes as Parquet DECIMAL (16-byte FIXED_LEN_BYTE_ARRAY). */
const MAX_DECIMAL_PRECISION = 38;

function kindOf(table: string, column: CatalogColumn): Pick<ColumnSpec, 'kind' | 'precision' | 'scale'> {
  const base = column.base_type;
  switch (base) {
    case 'int8':
      return { kind: 'int64' };
    case 'int4':
    case 'int2':
      return { kind: 'int32' };
    case 'numeric': {
      if (column.typmod < 0) return { kind: 'numeric_text' };
      // numeric's typmod packs (precision << 16 | scale) + 4 (VARHDRSZ).
      const packed = column.typmod - 4;
      const precision = (packed >> 16) & 0xffff;
      const scale = packed & 0xffff;
      if (precision > MAX_DECIMAL_PRECISION) return { kind: 'numeric_text' };
      return { kind: 'decimal', precision, scale };
    }
    case 'timestamptz':
      return { kind: 'timestamptz' };
    case 'date':
      return { kind: 'date' };
    case 'bool':
      return { kind: 'boolean' };
    case 'json':
    case 'jsonb':
      return { kind: 'json' };
    case 'varchar':
    case 'text':
    case 'bpchar':
      return { kind: 'text' };
    default:
      throw new Error(`${table}.${column.name}: column type ${column.pg_type} (${base}) has no tape encoding`);
  }
}

/**
 * The columns of `table` from the PostgreSQL catalog, in column order (dropped and generated
 * columns left out: a generated column is recomputed on insert). Domains resolve to their base
 * type; their declared name stays in pgType so an insert casts through the domain's check.
 */
export async function describeTable(db: Queryable, table: string): Promise<ColumnSpec[]> {
  const { rows } = await db.query<CatalogColumn>(
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS pg_type,
            bt.typname AS base_type,
            CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
            a.attnotnull AS not_null,
            a.attidentity AS identity,
            a.attgenerated AS generated
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE c.relname = $1 AND n.nspname = current_schema() AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table],
  );
  if (rows.length === 0) throw new Error(`table ${table} not found in the current schema`);
  return rows
    .filter((column) => column.generated === '')
    .map((column) => {
      if (column.pg_type.endsWith('[]')) throw new Error(`${table}.${column.name}: array column type ${column.pg_type} has no tape encoding`);
      return {
        name: column.name,
        pgType: column.pg_type,
        ...kindOf(table, column),
        nullable: !column.not_null,
        identity: column.identity !== '',
      };
    });
}

/** A SQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The SQL that reads a column exactly as text or an integer (node-pg turns timestamptz into a
 * millisecond Date and numeric into a float or Decimal; the tape needs every digit).
 */
export function exactSelectExpression(column: ColumnSpec): string {
  const c = quoteIdent(column.name);
  switch (column.kind) {
    case 'timestamptz':
      // EXTRACT returns numeric (exact) since PostgreSQL 14: seconds with 6 decimals.
      return `(EXTRACT(EPOCH FROM ${c}) * 1000000)::int8::text`;
    case 'date':
      return `(${c} - DATE '1970-01-01')`;
    case 'boolean':
    case 'int32':
      return c;
    default:
      return `${c}::text`;
  }
}

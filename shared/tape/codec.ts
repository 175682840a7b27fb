import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import * as z from 'zod';
import { withTransaction, type Queryable } from '../db/transaction';
import { describeTable, exactSelectExpression, quoteIdent, type ColumnSpec } from './columns';
import { ColumnSpecSchema } from './manifest';
import { parquetToTape, sqlToParquet, tapeToSqlParam, type TapeRow } from './values';

/** Key-value metadata entry of every tape file: the PostgreSQL columns it was written from. */
export const COLUMNS_METADATA_KEY = 'precog.columns';
/** Key-value metadata entry: the table the file holds. */
export const TABLE_METADATA_KEY = 'precog.table';

/** Rows per cursor FETCH and per Parquet row group: what bounds an export's and a read's memory. */
export const DEFAULT_BATCH_ROWS = 10_000;

export class TapeFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'TapeFileError';
  }
}

/** Bytes a two's-complement big-endian integer of `precision` decimal digits needs. */
function decimalByteLength(precision: number): number {
  return Math.ceil((Math.log2(10) * precision + 1) / 8);
}

function schemaElement(column: ColumnSpec): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  const name = column.name;
  switch (column.kind) {
    case 'int64':
      return { name, repetition_type, type: 'INT64' };
    case 'int32':
      return { name, repetition_type, type: 'INT32' };
    case 'decimal': {
      const decimal = { converted_type: 'DECIMAL', precision: column.precision!, scale: column.scale!, logical_type: { type: 'DECIMAL', precision: column.precision!, scale: column.scale! } } as const;
      return column.precision! <= 18
        ? { name, repetition_type, type: 'INT64', ...decimal }
        : { name, repetition_type, type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalByteLength(column.precision!), ...decimal };
    }
    case 'timestamptz':
      return { name, repetition_type, type: 'INT64', converted_type: 'TIMESTAMP_MICROS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
    case 'date':
      return { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'boolean':
      return { name, repetition_type, type: 'BOOLEAN' };
    case 'json':
      // Logical type only while writing (hyparquet-writer would JSON.stringify a converted_type
      // JSON value again, quoting the text); exportTableFile adds converted_type JSON before the
      // footer, so readers that go by it (DuckDB) see a JSON column.
      return { name, repetition_type, type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } };
    case 'numeric_text':
    case 'text':
      return { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

export interface ExportTableOptions {
  table: string;
  /** SQL condition over the table's columns (no WHERE keyword), with $1… placeholders. */
  where?: string;
  params?: unknown[];
  /** SQL ORDER BY list (default: the table's columns' natural primary key order is not assumed: give one for a deterministic file). */
  orderBy?: string;
  /** Rows per FETCH and per row group (default DEFAULT_BATCH_ROWS). */
  batchRows?: number;
}

export interface TableFile {
  bytes: Uint8Array;
  rows: number;
  sha256: string;
  columns: ColumnSpec[];
}

function isPool(db: unknown): db is pg.Pool {
  return db instanceof pg.Pool || (typeof (db as pg.Pool).connect === 'function' && typeof (db as pg.Pool).totalCount === 'number');
}

/**
 * Exports the rows of `table` (optionally filtered) to one Parquet file in memory, reading them
 * through a server-side cursor `batchRows` at a time, each batch one row group: the rows held in
 * JS at once are bounded by the batch; the file's bytes (compressed) are what grows.
 *
 * `db` is a pool (the export runs in its own read-only REPEATABLE READ transaction) or a client
 * already inside a transaction (writeTape: one snapshot for the whole tape).
 */
export async function exportTableFile(db: pg.Pool | Queryable, options: ExportTableOptions): Promise<TableFile> {
  if (isPool(db)) {
    return withTransaction(db, (client) => exportTableFile(client, options), { isolation: 'repeatable read', readOnly: true, retries: 0 });
  }
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const columns = await describeTable(db, options.table);
  const writer = new ByteWriter();
  const schema = [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
  const parquet = new ParquetWriter({
    writer,
    // hyparquet-writer bundles its own hyparquet types: same shape, a different declaration.
    schema: schema as never,
    kvMetadata: [
      { key: TABLE_METADATA_KEY, value: options.table },
      { key: COLUMNS_METADATA_KEY, value: JSON.stringify(columns) },
    ],
    createdBy: 'precog tape (hyparquet-writer)',
  });
  const cursor = `precog_tape_${randomBytes(6).toString('hex')}`;
  // Output columns are positional (c0, c1, …): aliasing them by their own names would make an
  // ORDER BY on a column sort by its exact-text form instead ('10' < '9').
  const select = `SELECT ${columns.map((c, i) => `${exactSelectExpression(c)} AS c${i}`).join(', ')} FROM ${quoteIdent(options.table)}`
    + (options.where ? ` WHERE ${options.where}` : '')
    + (options.orderBy ? ` ORDER BY ${options.orderBy}` : '');
  await db.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`, options.params ?? []);
  let rows = 0;
  for (;;) {
    const batch = await db.query({ text: `FETCH ${batchRows} FROM ${cursor}`, rowMode: 'array' });
    if (batch.rows.length === 0) break;
    const columnData = columns.map((column, i) => ({
      name: column.name,
      data: batch.rows.map((row: unknown[], r) => sqlToParquet(column, row[i], `${options.table} row ${rows + r + 1} column ${column.name}`)),
    }));
    // One write per batch with a row group as large as the batch: one row group per FETCH.
    await parquet.write({ columnData: columnData as never, rowGroupSize: batchRows });
    rows += batch.rows.length;
    if (batch.rows.length < batchRows) break;
  }
  await db.query(`CLOSE ${cursor}`);
  // The footer is written from the same schema objects: JSON columns get their converted type now.
  for (const element of schema) if (element.logical_type?.type === 'JSON') element.converted_type = 'JSON';
  await parquet.finish();
  const bytes = new Uint8Array(writer.getBuffer());
  return { bytes, rows, sha256: sha256Hex(bytes), columns };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function bufferOf(bytes: Uint8Array): AsyncBuffer {
  return {
    byteLength: bytes.byteLength,
    slice: (start: number, end?: number) => bytes.slice(start, end).buffer as ArrayBuffer,
  };
}

/**
 * The logical types removed from the schema hyparquet reads with: it would turn DECIMAL into a
 * float, TIMESTAMP into a millisecond Date and JSON into parsed objects; the tape converts the
 * raw values itself, exactly (values.ts).
 */
function rawSchema(metadata: FileMetaData): FileMetaData {
  return {
    ...metadata,
    schema: metadata.schema.map((element) => {
      if (element.converted_type === 'UTF8' || element.logical_type?.type === 'STRING') return element;
      const { converted_type: _c, logical_type: _l, ...raw } = element;
      return raw as SchemaElement;
    }),
  };
}

export interface ReadTableFileOptions {
  /** Names the file in errors (defaults to the path, or "tape file"). */
  label?: string;
}

export interface OpenedTableFile {
  table: string;
  columns: ColumnSpec[];
  rows: number;
  rowGroups: number;
  rows$: () => AsyncIterable<TapeRow>;
}

/** Opens a tape file's footer and column specs (no rows read yet). */
export async function openTableFile(source: Uint8Array | string, options: ReadTableFileOptions = {}): Promise<OpenedTableFile> {
  const label = options.label ?? (typeof source === 'string' ? source : 'tape file');
  let file: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    file = typeof source === 'string' ? await asyncBufferFromFile(source) : bufferOf(source);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new TapeFileError(label, `not a readable Parquet file (${(error as Error).message})`);
  }
  const entry = (key: string) => metadata.key_value_metadata?.find((kv) => kv.key === key)?.value;
  const table = entry(TABLE_METADATA_KEY);
  const columnsJson = entry(COLUMNS_METADATA_KEY);
  if (!table || !columnsJson) throw new TapeFileError(label, `not a Precog tape file (no ${TABLE_METADATA_KEY} / ${COLUMNS_METADATA_KEY} metadata)`);
  let columns: ColumnSpec[];
  try {
    columns = z.array(ColumnSpecSchema).min(1).parse(JSON.parse(columnsJson));
  } catch (error) {
    throw new TapeFileError(label, `its ${COLUMNS_METADATA_KEY} metadata is not a valid column list (${(error as Error).message.slice(0, 200)})`);
  }
  const raw = rawSchema(metadata);
  async function* rows(): AsyncIterable<TapeRow> {
    let rowStart = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      const rowEnd = rowStart + Number(group.num_rows);
      let objects: Record<string, unknown>[];
      try {
        objects = await parquetReadObjects({ file, metadata: raw, rowStart, rowEnd, columns: columns.map((c) => c.name) });
      } catch (error) {
        throw new TapeFileError(label, `row group ${g} cannot be read (${(error as Error).message})`);
      }
      for (const [i, object] of objects.entries()) {
        const row: TapeRow = {};
        for (const column of columns) {
          row[column.name] = parquetToTape(column, object[column.name], `${label} row ${rowStart + i + 1} column ${column.name}`);
        }
        yield row;
      }
      rowStart = rowEnd;
    }
  }
  return { table, columns, rows: Number(metadata.num_rows), rowGroups: metadata.row_groups.length, rows$: rows };
}

/**
 * The rows of a tape file in file order, one row group in memory at a time (a path is read by
 * ranges, never whole). Values are exact (see values.ts for each column kind's JS form).
 */
export async function* readTableFile(source: Uint8Array | string, options: ReadTableFileOptions = {}): AsyncIterable<TapeRow> {
  const opened = await openTableFile(source, options);
  yield* opened.rows$();
}

/** Rows per INSERT statement (PostgreSQL allows 65,535 parameters per statement). */
const INSERT_CHUNK_PARAMS = 30_000;

/**
 * Inserts rows read from a tape exactly (identity values kept with OVERRIDING SYSTEM VALUE, every
 * value cast from its exact text), in the caller's transaction: a failure leaves it to the
 * caller's ROLLBACK. Identity sequences are moved past the largest inserted value, so rows the
 * database creates afterwards (a replay's new versions) never collide with restored ones.
 * Columns of the table missing from the rows take their defaults; a row column the table does
 * not have is an error.
 */
export async function insertRowsExact(db: Queryable, table: string, rows: Iterable<TapeRow> | AsyncIterable<TapeRow>): Promise<number> {
  const tableColumns = await describeTable(db, table);
  const byName = new Map(tableColumns.map((c) => [c.name, c]));
  let columns: ColumnSpec[] | undefined;
  let chunk: TapeRow[] = [];
  let inserted = 0;
  let chunkRows = 0;

  const flush = async () => {
    if (chunk.length === 0 || !columns) return;
    const params: unknown[] = [];
    const tuples = chunk.map((row, r) => {
      const placeholders = columns!.map((column) => {
        params.push(tapeToSqlParam(column, row[column.name], `${table} row ${inserted + r + 1} column ${column.name}`));
        return `$${params.length}::${column.pgType}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const overriding = columns.some((c) => c.identity) ? ' OVERRIDING SYSTEM VALUE' : '';
    await db.query(`INSERT INTO ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')})${overriding} VALUES ${tuples.join(', ')}`, params);
    inserted += chunk.length;
    chunk = [];
  };

  for await (const row of rows as AsyncIterable<TapeRow>) {
    if (!columns) {
      columns = Object.keys(row).map((name) => {
        const column = byName.get(name);
        if (!column) throw new Error(`${table}: the tape has column ${name}, the table does not`);
        return column;
      });
      chunkRows = Math.max(1, Math.floor(INSERT_CHUNK_PARAMS / columns.length));
    }
    chunk.push(row);
    if (chunk.length >= chunkRows) await flush();
  }
  await flush();

  for (const column of columns ?? []) {
    if (!column.identity) continue;
    await db.query(
      `SELECT setval(s.seq, m.v)::text
         FROM (SELECT pg_get_serial_sequence($1, $2) AS seq) s, (SELECT max(${quoteIdent(column.name)}) AS v FROM ${quoteIdent(table)}) m
        WHERE m.v IS NOT NULL AND m.v > COALESCE(pg_sequence_last_value(s.seq::regclass), 0)`,
      [quoteIdent(table), column.name],
    );
  }
  return inserted;
}

import type pg from 'pg';
import { withTransaction, type Queryable } from '../db/transaction';
import { exportTableFile, openTableFile, insertRowsExact, sha256Hex, TapeFileError } from './codec';
import {
  MANIFEST_KEY, TAPE_FORMAT, TAPE_FORMAT_VERSION, TapeError, canonicalJson, manifestText, monthBounds, monthsOverlapping, readManifest, tapeId,
  type Manifest, type ManifestFile, type ManifestTable,
} from './manifest';
import { DirectoryStore, type ArchiveStore } from './store';
import { isoToMicros, microsToIso, type TapeRow, type TapeValue } from './values';

/**
 * What a tape holds, in load order (a table's foreign keys point at tables above it). The catalog
 * is what must exist before a replay's first version: the venue hierarchy the versions hang on,
 * the game identities, and every model (with its matrix cells) and strategy version a replay may
 * name. The time series are what Precog saw, each row stamped with created_at: when Precog
 * stored it, never the venue's own timestamp.
 */
export const TAPE_TABLES: readonly ManifestTable[] = Object.freeze([
  { table: 'platforms', role: 'catalog', timeColumn: null, keyColumns: ['platform_id'] },
  { table: 'series', role: 'catalog', timeColumn: null, keyColumns: ['series_id'] },
  { table: 'events', role: 'catalog', timeColumn: null, keyColumns: ['event_id'] },
  { table: 'market_identities', role: 'catalog', timeColumn: null, keyColumns: ['market_id'] },
  { table: 'game_identities', role: 'catalog', timeColumn: null, keyColumns: ['sport', 'external_game_id'] },
  { table: 'probability_matrices', role: 'catalog', timeColumn: null, keyColumns: ['probability_id'] },
  { table: 'probability_models', role: 'catalog', timeColumn: null, keyColumns: ['model_id'] },
  { table: 'strategies', role: 'catalog', timeColumn: null, keyColumns: ['strategy_id'] },
  { table: 'markets', role: 'timeseries', timeColumn: 'created_at', keyColumns: ['market_version_id'] },
  { table: 'game_states', role: 'timeseries', timeColumn: 'created_at', keyColumns: ['game_state_id'] },
] as const satisfies ManifestTable[]);

/**
 * Rows per row group in a time-series file: what a reader holds per table at once (about 2 MiB of
 * rows), whatever the tape's length. Catalog files keep the codec's default.
 */
export const TIME_SERIES_ROW_GROUP_ROWS = 2_000;

/** A time-series key's version that is already over at the window's start is left out of the opening state. */
const TERMINAL_STATUS: Record<string, string> = { markets: 'settled', game_states: 'final' };

export interface TapeWindow {
  from: Date;
  to: Date;
  /** Series ids (e.g. KXNFLGAME): only their events, markets and matched game states. */
  series?: string[];
}

export class EmptyWindowError extends TapeError {
  constructor(from: Date, to: Date) {
    super(`no market or game-state version was seen in [${from.toISOString()}, ${to.toISOString()}): empty window`);
    this.name = 'EmptyWindowError';
  }
}

interface Selection {
  where: string;
  params: unknown[];
}

/** Rows of a catalog table the tape keeps ($1 = series ids). */
function catalogSelection(table: string, series: string[] | null): Selection {
  if (series === null) return { where: 'TRUE', params: [] };
  const events = 'SELECT event_id FROM events WHERE series_id = ANY($1::text[])';
  switch (table) {
    case 'series':
    case 'events':
      return { where: 'series_id = ANY($1::text[])', params: [series] };
    case 'market_identities':
      return { where: `market_id IN (SELECT market_id FROM markets WHERE event_id IN (${events}))`, params: [series] };
    case 'game_identities':
      return { where: `(sport, external_game_id) IN (SELECT sport, external_game_id FROM game_states WHERE event_id IN (${events}))`, params: [series] };
    default:
      return { where: 'TRUE', params: [] };
  }
}

/**
 * Rows of a time-series table the tape keeps: every version seen in [from, to) ($1, $2), plus
 * the opening state: each key's version current at `from` unless already terminal (a replay
 * starting at `from` must know the markets and games as they stood). $3 = series ids or null.
 */
function timeSeriesSelection(table: ManifestTable, window: { from: Date; to: Date }, series: string[] | null): Selection {
  const t = table.timeColumn!;
  const terminal = TERMINAL_STATUS[table.table];
  const opening = `(${t} < $1 AND (superseded_at IS NULL OR superseded_at > $1)${terminal ? ` AND status IS DISTINCT FROM '${terminal}'` : ''})`;
  const seriesFilter = series === null ? '' : ' AND event_id IN (SELECT event_id FROM events WHERE series_id = ANY($3::text[]))';
  return {
    where: `((${t} >= $1 AND ${t} < $2) OR ${opening})${seriesFilter}`,
    params: series === null ? [window.from, window.to] : [window.from, window.to, series],
  };
}

const orderBy = (table: ManifestTable) => [...(table.timeColumn ? [table.timeColumn] : []), ...table.keyColumns].map((c) => `"${c}"`).join(', ');

/**
 * Writes a tape of [from, to) from `db` into `store` (which must be empty): one consistent
 * snapshot (REPEATABLE READ), one Parquet file per catalog table and one per time-series table
 * per UTC month of created_at (every month the window overlaps has its file, empty or not), the
 * manifest last. Returns the manifest.
 */
export async function writeTape(db: pg.Pool, window: TapeWindow, store: ArchiveStore): Promise<Manifest> {
  if (!(window.from.getTime() < window.to.getTime())) throw new TapeError(`the window's from (${window.from.toISOString()}) must be before its to (${window.to.toISOString()})`);
  const existing = await store.list('');
  if (existing.length > 0) throw new TapeError(`${store.location} is not empty (${existing[0]} …): a tape is written into an empty place`);
  const series = window.series && window.series.length > 0 ? [...window.series].sort() : null;
  const files: ManifestFile[] = [];
  // One read-only snapshot for every file of the tape; not retried (files are written as it goes).
  await withTransaction(db, async (client) => {
    // First the months of each time series (and whether the window saw anything), before any file is written.
    const monthsOf = new Map<string, string[]>();
    let seenInWindow = 0;
    for (const table of TAPE_TABLES.filter((t) => t.role === 'timeseries')) {
      const selection = timeSeriesSelection(table, window, series);
      const t = `"${table.timeColumn!}"`;
      const { rows: months } = await client.query<{ month: string; in_window: string }>(
        `SELECT to_char(${t} AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
                count(*) FILTER (WHERE ${t} >= $1 AND ${t} < $2)::text AS in_window
           FROM "${table.table}" WHERE ${selection.where} GROUP BY 1 ORDER BY 1`,
        selection.params,
      );
      seenInWindow += months.reduce((sum, m) => sum + Number(m.in_window), 0);
      monthsOf.set(table.table, [...new Set([...months.map((m) => m.month), ...monthsOverlapping(window.from, window.to)])].sort());
    }
    if (seenInWindow === 0) throw new EmptyWindowError(window.from, window.to);
    for (const table of TAPE_TABLES) {
      if (table.role === 'catalog') {
        files.push(await writeFile(client, store, table, 'all', catalogSelection(table.table, series), null));
        continue;
      }
      const selection = timeSeriesSelection(table, window, series);
      const t = `"${table.timeColumn!}"`;
      for (const month of monthsOf.get(table.table)!) {
        const { start, end } = monthBounds(month);
        const n = selection.params.length;
        files.push(await writeFile(client, store, table, month, {
          where: `${selection.where} AND ${t} >= $${n + 1} AND ${t} < $${n + 2}`,
          params: [...selection.params, start, end],
        }, table.timeColumn));
      }
    }
  }, { isolation: 'repeatable read', readOnly: true, retries: 0 });
  const withoutId = {
    format: TAPE_FORMAT,
    formatVersion: TAPE_FORMAT_VERSION,
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    series,
    tables: TAPE_TABLES.map((t) => ({ ...t, keyColumns: [...t.keyColumns] })),
    files,
  } as const;
  const manifest: Manifest = { ...withoutId, tapeId: tapeId(withoutId) };
  const text = new TextEncoder().encode(manifestText(manifest));
  await store.put(MANIFEST_KEY, text, { sha256: sha256Hex(text) });
  return manifest;
}

async function writeFile(client: Queryable, store: ArchiveStore, table: ManifestTable, month: string, selection: Selection, timeColumn: string | null): Promise<ManifestFile> {
  const file = await exportTableFile(client, {
    table: table.table, where: selection.where, params: selection.params, orderBy: orderBy(table),
    ...(table.role === 'timeseries' ? { batchRows: TIME_SERIES_ROW_GROUP_ROWS } : {}),
  });
  let minTime: string | null = null;
  let maxTime: string | null = null;
  if (timeColumn && file.rows > 0) {
    const t = `"${timeColumn}"`;
    const { rows } = await client.query<{ min: string; max: string }>(
      `SELECT (EXTRACT(EPOCH FROM min(${t})) * 1000000)::int8::text AS min, (EXTRACT(EPOCH FROM max(${t})) * 1000000)::int8::text AS max
         FROM "${table.table}" WHERE ${selection.where}`,
      selection.params,
    );
    minTime = microsToIso(BigInt(rows[0]!.min));
    maxTime = microsToIso(BigInt(rows[0]!.max));
  }
  const key = `${table.table}/${month}.parquet`;
  await store.put(key, file.bytes, { sha256: file.sha256 });
  return { key, table: table.table, month, rows: file.rows, bytes: file.bytes.byteLength, sha256: file.sha256, timeColumn, minTime, maxTime, columns: file.columns };
}

export interface TapeEvent {
  table: string;
  /** When Precog saw the row (its created_at), to the millisecond; `atIso` is exact to the microsecond. */
  at: Date;
  atIso: string;
  row: TapeRow;
}

export interface OpenedTape {
  manifest: Manifest;
  store: ArchiveStore;
  /** The tape's identity (= manifest.tapeId, verified). */
  tapeId: string;
  /** The rows of one table, file by file (months in order), in file order. */
  rows(table: string): AsyncIterable<TapeRow>;
  /** The rows of one file of the manifest (checked against its table and row count). */
  fileRows(file: ManifestFile): AsyncIterable<TapeRow>;
  /**
   * The time-series rows merged in (seen time, table order, key) order, with seen time in
   * [from, to) when given (default: everything, including the opening state before the window).
   * Holds one row group per time-series table in memory.
   */
  events(from?: Date, to?: Date): AsyncIterable<TapeEvent>;
}

async function verifyFiles(manifest: Manifest, store: ArchiveStore): Promise<void> {
  for (const file of manifest.files) {
    const where = `${store.location}/${file.key}`;
    const stored = await store.stat(file.key);
    if (!stored) throw new TapeError(`${where}: listed in the manifest but missing`);
    if (stored.bytes !== file.bytes) throw new TapeError(`${where}: ${stored.bytes} bytes, the manifest says ${file.bytes} (truncated or replaced?)`);
    if (stored.sha256 !== file.sha256) throw new TapeError(`${where}: sha256 ${stored.sha256} does not match the manifest's ${file.sha256} (corrupted or replaced)`);
  }
}

function verifyCoverage(manifest: Manifest): void {
  const months = monthsOverlapping(new Date(manifest.window.from), new Date(manifest.window.to));
  for (const table of manifest.tables.filter((t) => t.role === 'timeseries')) {
    const present = new Set(manifest.files.filter((f) => f.table === table.table).map((f) => f.month));
    const missing = months.filter((m) => !present.has(m));
    if (missing.length > 0) {
      throw new TapeError(`the tape does not cover its window ${manifest.window.from} – ${manifest.window.to}: ${table.table} has no file for ${missing.join(', ')} (${missing.map((m) => `${table.table}/${m}.parquet`).join(', ')})`);
    }
  }
  for (const table of manifest.tables.filter((t) => t.role === 'catalog')) {
    if (!manifest.files.some((f) => f.table === table.table)) throw new TapeError(`the tape has no file for catalog table ${table.table} (${table.table}/all.parquet)`);
  }
}

function compareKeys(a: TapeValue[], b: TapeValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Opens a tape (a directory or a store) after checking it whole: the manifest's schema and
 * tapeId, every file present with its size and sha256, and that each time-series table has a
 * file for every month its window overlaps. Errors name the file (or the missing month).
 */
export async function openTape(source: string | ArchiveStore): Promise<OpenedTape> {
  const store = typeof source === 'string' ? new DirectoryStore(source) : source;
  const manifest = await readManifest(store);
  await verifyFiles(manifest, store);
  verifyCoverage(manifest);

  async function* fileRows(file: ManifestFile): AsyncIterable<TapeRow> {
    const where = `${store.location}/${file.key}`;
    let source: Uint8Array | string;
    if (store instanceof DirectoryStore) {
      source = store.pathOf(file.key); // read by ranges: the file is never loaded whole
    } else {
      const bytes = await store.get(file.key);
      if (!bytes) throw new TapeError(`${where}: listed in the manifest but missing`);
      if (sha256Hex(bytes) !== file.sha256) throw new TapeError(`${where}: sha256 does not match the manifest (corrupted or replaced)`);
      source = bytes;
    }
    const opened = await openTableFile(source, { label: where });
    if (opened.table !== file.table) throw new TapeFileError(where, `holds table ${opened.table}, the manifest says ${file.table}`);
    if (opened.rows !== file.rows) throw new TapeFileError(where, `holds ${opened.rows} rows, the manifest says ${file.rows}`);
    if (canonicalJson(opened.columns) !== canonicalJson(file.columns)) throw new TapeFileError(where, 'its columns differ from the manifest\'s');
    yield* opened.rows$();
  }

  function filesOf(table: string): ManifestFile[] {
    return manifest.files.filter((f) => f.table === table).sort((a, b) => (a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  }

  async function* rows(table: string): AsyncIterable<TapeRow> {
    if (!manifest.tables.some((t) => t.table === table)) throw new TapeError(`the tape has no table ${table}`);
    for (const file of filesOf(table)) yield* fileRows(file);
  }

  interface Cursor {
    tableIndex: number;
    table: ManifestTable;
    iterator: AsyncIterator<{ micros: bigint; key: TapeValue[]; event: TapeEvent }>;
    head: { micros: bigint; key: TapeValue[]; event: TapeEvent } | null;
  }

  async function* tableEvents(table: ManifestTable, fromMicros: bigint | null, toMicros: bigint | null) {
    let previous: { micros: bigint; key: TapeValue[] } | null = null;
    for (const file of filesOf(table.table)) {
      if (fromMicros !== null && file.maxTime !== null && isoToMicros(file.maxTime) < fromMicros) continue;
      if (file.rows === 0) continue;
      for await (const row of fileRows(file)) {
        const atIso = row[table.timeColumn!] as string;
        const micros = isoToMicros(atIso);
        const key = table.keyColumns.map((c) => row[c]!);
        if (previous && (micros < previous.micros || (micros === previous.micros && compareKeys(key, previous.key) <= 0))) {
          throw new TapeFileError(`${store.location}/${file.key}`, `rows out of (${table.timeColumn}, ${table.keyColumns.join(', ')}) order at ${atIso}`);
        }
        previous = { micros, key };
        if (fromMicros !== null && micros < fromMicros) continue;
        if (toMicros !== null && micros >= toMicros) return;
        yield { micros, key, event: { table: table.table, at: new Date(Number(micros / 1000n)), atIso, row } };
      }
    }
  }

  async function* events(from?: Date, to?: Date): AsyncIterable<TapeEvent> {
    const fromMicros = from ? BigInt(from.getTime()) * 1000n : null;
    const toMicros = to ? BigInt(to.getTime()) * 1000n : null;
    const cursors: Cursor[] = [];
    for (const [tableIndex, table] of manifest.tables.entries()) {
      if (table.role !== 'timeseries') continue;
      const iterator = tableEvents(table, fromMicros, toMicros)[Symbol.asyncIterator]();
      const first = await iterator.next();
      cursors.push({ tableIndex, table, iterator, head: first.done ? null : first.value });
    }
    for (;;) {
      let best: Cursor | null = null;
      for (const cursor of cursors) {
        if (!cursor.head) continue;
        if (!best || cursor.head.micros < best.head!.micros || (cursor.head.micros === best.head!.micros && cursor.tableIndex < best.tableIndex)) best = cursor;
      }
      if (!best) return;
      yield best.head!.event;
      const next = await best.iterator.next();
      best.head = next.done ? null : next.value;
    }
  }

  return { manifest, store, tapeId: manifest.tapeId, rows, fileRows, events };
}

export interface ImportTapeOptions {
  /** Called in the import's transaction before a file's rows go in (e.g. to create the partitions a month needs). */
  beforeFile?: (db: Queryable, file: ManifestFile) => Promise<void>;
}

/**
 * Loads a tape's rows exactly into `db` in one transaction, tables in load order: either every
 * row goes in or nothing does. A row that collides with one already there is an error naming
 * the table and the key.
 */
export async function importTape(db: pg.Pool, source: string | ArchiveStore | OpenedTape, options: ImportTapeOptions = {}): Promise<Record<string, number>> {
  const tape = typeof source === 'object' && 'events' in source ? source : await openTape(source);
  const counts: Record<string, number> = {};
  return withTransaction(db, async (client) => {
    for (const table of tape.manifest.tables) {
      counts[table.table] = 0;
      for (const file of tape.manifest.files.filter((f) => f.table === table.table).sort((a, b) => (a.month < b.month ? -1 : 1))) {
        if (file.rows === 0) continue;
        await options.beforeFile?.(client, file);
        try {
          counts[table.table]! += await insertRowsExact(client, table.table, tape.fileRows(file));
        } catch (error) {
          const pgError = error as { code?: string; detail?: string; message: string };
          if (pgError.code === '23505') throw new TapeError(`${file.key}: a row is already in the database (${pgError.detail ?? pgError.message}); nothing was imported`);
          if (pgError.code === '23503') throw new TapeError(`${file.key}: a row references one that is neither in the tape nor in the database (${pgError.detail ?? pgError.message}); nothing was imported`);
          if (pgError.code) throw new TapeError(`${file.key}: ${pgError.message}${pgError.detail ? ` (${pgError.detail})` : ''}; nothing was imported`);
          throw error;
        }
      }
    }
    return counts;
  }, { retries: 0 });
}

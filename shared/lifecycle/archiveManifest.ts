import type pg from 'pg';
import { MANIFEST_KEY, TAPE_TABLES, parseManifest, sha256Hex, tapeId, type Manifest, type ManifestFile, type ManifestTable } from '../tape';
import { TAPE_FORMAT, TAPE_FORMAT_VERSION, manifestText } from '../tape/manifest';
import { addMonths, monthStart } from './archiveMonths';
import type { ArchiveStore, ExportedFile } from './archiveTypes';

/**
 * The archive's manifest.json is a tape manifest (shared/tape/manifest.ts): same schema, same
 * tapeId, so `precog tape show|import` and openTape read an archive. Its time-series tables are
 * keyed by their partition column (superseded_at: the month a version was closed, the month of
 * its partition), not by created_at as a recorded tape is: each file holds exactly one dropped
 * partition, its rows ordered by (superseded_at, the tape's key columns).
 */

export { MANIFEST_KEY };

/** The archive's manifest, or null when nothing was archived there yet; a TapeError when it does not validate. */
export async function readArchiveManifest(store: ArchiveStore): Promise<Manifest | null> {
  const bytes = await store.get(MANIFEST_KEY);
  if (bytes === null) return null;
  return parseManifest(new TextDecoder().decode(bytes), `${store.location}/${MANIFEST_KEY}`);
}

/** The tape's key columns of `table` (the order of rows after the time), else none. */
export function archiveKeyColumns(table: string): string[] {
  return [...(TAPE_TABLES.find((t) => t.table === table)?.keyColumns ?? [])];
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Adds (or replaces) the entry of one archived month, widens the window, recomputes the tapeId. */
export async function recordArchivedFile(
  deps: { pool: pg.Pool; store: ArchiveStore },
  archived: { table: string; month: string; key: string; timeColumn: string; source: string; where?: string; params?: unknown[]; file: ExportedFile },
): Promise<ManifestFile> {
  let minTime: string | null = null;
  let maxTime: string | null = null;
  if (archived.file.rows > 0) {
    const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    const time = quoteIdent(archived.timeColumn);
    const { rows } = await deps.pool.query<{ min_time: string; max_time: string }>(
      `SELECT ${iso(`min(${time})`)} AS min_time, ${iso(`max(${time})`)} AS max_time FROM ${quoteIdent(archived.source)}${archived.where ? ` WHERE ${archived.where}` : ''}`,
      archived.params ?? [],
    );
    minTime = rows[0]!.min_time;
    maxTime = rows[0]!.max_time;
  }
  const entry: ManifestFile = {
    key: archived.key,
    table: archived.table,
    month: archived.month,
    rows: archived.file.rows,
    bytes: archived.file.bytes.byteLength,
    sha256: archived.file.sha256,
    timeColumn: archived.timeColumn,
    minTime,
    maxTime,
    columns: archived.file.columns as ManifestFile['columns'],
  };
  const current = await readArchiveManifest(deps.store);
  const files = (current?.files ?? []).filter((f) => f.key !== entry.key);
  files.push(entry);
  files.sort((a, b) => a.table.localeCompare(b.table) || a.month.localeCompare(b.month));
  const tables: ManifestTable[] = [...(current?.tables ?? [])];
  if (!tables.some((t) => t.table === entry.table)) {
    tables.push({ table: entry.table, role: 'timeseries', timeColumn: archived.timeColumn, keyColumns: archiveKeyColumns(entry.table) });
  }
  const months = files.map((f) => f.month).filter((m) => m !== 'all').sort();
  const manifest: Manifest = {
    format: TAPE_FORMAT,
    formatVersion: TAPE_FORMAT_VERSION,
    tapeId: tapeId({ files }),
    window: { from: monthStart(months[0]!).toISOString(), to: addMonths(monthStart(months.at(-1)!), 1).toISOString() },
    series: null,
    tables,
    files,
  };
  const bytes = new TextEncoder().encode(manifestText(manifest));
  await deps.store.put(MANIFEST_KEY, bytes, { sha256: sha256Hex(bytes) });
  return entry;
}

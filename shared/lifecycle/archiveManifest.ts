import * as z from 'zod';
import { addMonths, monthStart } from './archiveMonths';
import type { ArchiveStore, ExportedFile, TableFileCodec } from './archiveTypes';
import type pg from 'pg';
import { createHash } from 'node:crypto';

/**
 * The archive's manifest.json (PROVISIONAL shape until shared/tape's Manifest lands: the archive
 * then writes the tape's own manifest so `openTape(store)` replays it).
 */
export const MANIFEST_KEY = 'manifest.json';

const ArchiveFileEntry = z.object({
  table: z.string().min(1),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  path: z.string().min(1),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  timeColumn: z.string().min(1),
  minTime: z.string().nullable(),
  maxTime: z.string().nullable(),
  columns: z.array(z.record(z.string(), z.unknown())),
});
export type ArchiveFileEntry = z.infer<typeof ArchiveFileEntry>;

export const ArchiveManifest = z.object({
  window: z.object({ from: z.string(), to: z.string() }),
  files: z.array(ArchiveFileEntry),
});
export type ArchiveManifest = z.infer<typeof ArchiveManifest>;

export class ArchiveManifestError extends Error {
  override name = 'ArchiveManifestError';
}

export async function readArchiveManifest(store: ArchiveStore): Promise<ArchiveManifest | null> {
  const bytes = await store.get(MANIFEST_KEY);
  if (bytes === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ArchiveManifestError(`${MANIFEST_KEY}: not JSON (${(error as Error).message})`);
  }
  const parsed = ArchiveManifest.safeParse(json);
  if (!parsed.success) {
    throw new ArchiveManifestError(`${MANIFEST_KEY}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

async function writeManifest(store: ArchiveStore, manifest: ArchiveManifest): Promise<void> {
  const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  await store.put(MANIFEST_KEY, bytes, { sha256: createHash('sha256').update(bytes).digest('hex') });
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Adds (or replaces) the entry of one archived month and widens the window to cover it. */
export async function recordArchivedFile(
  deps: { pool: pg.Pool; store: ArchiveStore; codec: TableFileCodec },
  file: { table: string; month: string; key: string; timeColumn: string; source: string; where?: string; params?: unknown[]; file: ExportedFile },
): Promise<ArchiveFileEntry> {
  const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  const time = quoteIdent(file.timeColumn);
  const { rows } = await deps.pool.query<{ min_time: string | null; max_time: string | null }>(
    `SELECT ${iso(`min(${time})`)} AS min_time, ${iso(`max(${time})`)} AS max_time FROM ${quoteIdent(file.source)}${file.where ? ` WHERE ${file.where}` : ''}`,
    file.params ?? [],
  );
  const entry: ArchiveFileEntry = {
    table: file.table,
    month: file.month,
    path: file.key,
    rows: file.file.rows,
    bytes: file.file.bytes.byteLength,
    sha256: file.file.sha256,
    timeColumn: file.timeColumn,
    minTime: rows[0]?.min_time ?? null,
    maxTime: rows[0]?.max_time ?? null,
    columns: (await deps.codec.describeTable(deps.pool, file.table)) as Array<Record<string, unknown>>,
  };
  const current = await readArchiveManifest(deps.store);
  const files = (current?.files ?? []).filter((f) => !(f.table === entry.table && f.month === entry.month));
  files.push(entry);
  files.sort((a, b) => a.table.localeCompare(b.table) || a.month.localeCompare(b.month));
  const months = files.map((f) => f.month).sort();
  const window = { from: monthStart(months[0]!).toISOString(), to: addMonths(monthStart(months.at(-1)!), 1).toISOString() };
  await writeManifest(deps.store, { window, files });
  return entry;
}

import type pg from 'pg';
import { withTransaction } from '../db/transaction';
import { sha256Hex } from '../tape';
import { archiveRows, exportOrder, type ArchiveDeps } from './archive';
import type { Manifest, ManifestFile } from '../tape/manifest';
import { readArchiveManifest } from './archiveManifest';
import { addMonths, monthStart, monthsBetween } from './archiveMonths';

/**
 * Restore and manual export of archived months (`precog archive restore|export|list`).
 *
 * A restore brings months of one table back exactly: the month partitions are re-created
 * (ensurePartitionsFor) and the archived rows inserted as they were, identity values included
 * (insertRowsExact), all in one transaction. It refuses, naming them, when rows of those months
 * are already in the database, and when a file is missing, altered (sha256) or short (rows).
 */

export class RestoreError extends Error {
  override name = 'RestoreError';
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface MonthRange {
  table: string;
  /** `YYYY-MM`, included. */
  from: string;
  /** `YYYY-MM`, included. */
  to: string;
}

function timeColumnOf(deps: Pick<ArchiveDeps, 'partitions'>, table: string): string {
  const spec = deps.partitions.tables().find((t) => t.table === table);
  if (!spec) {
    const known = deps.partitions.tables().map((t) => t.table).join(', ');
    throw new RestoreError(`table ${table} is not archived by month (the partitioned tables are: ${known || 'none'})`);
  }
  return spec.timeColumn;
}

async function requireManifest(deps: Pick<ArchiveDeps, 'store'>): Promise<Manifest> {
  const manifest = await readArchiveManifest(deps.store);
  if (manifest === null) throw new RestoreError('the archive has no manifest.json: nothing was archived there');
  return manifest;
}

/** Rows of `table` already in the database for each month of the range: "2025-03: 12 rows (keys …)". */
async function rowsAlreadyThere(db: pg.ClientBase, table: string, timeColumn: string, months: readonly string[]): Promise<string[]> {
  const order = await exportOrder(db, table, timeColumn);
  const found: string[] = [];
  for (const month of months) {
    const range = [monthStart(month), addMonths(monthStart(month), 1)];
    const where = `${quoteIdent(timeColumn)} >= $1 AND ${quoteIdent(timeColumn)} < $2`;
    const { rows } = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${quoteIdent(table)} WHERE ${where}`, range);
    const n = Number(rows[0]!.n);
    if (n === 0) continue;
    const sample = await db.query(`SELECT ${order} FROM ${quoteIdent(table)} WHERE ${where} ORDER BY ${order} LIMIT 3`, range);
    const keys = sample.rows.map((r: Record<string, unknown>) => `(${Object.values(r).map(String).join(', ')})`).join(', ');
    found.push(`${month}: ${n} row${n === 1 ? '' : 's'} (first keys ${keys}${n > 3 ? ', …' : ''})`);
  }
  return found;
}

export interface RestoredMonth {
  month: string;
  rows: number;
  key: string;
}

export async function restoreMonths(deps: ArchiveDeps, range: MonthRange): Promise<{ table: string; months: RestoredMonth[] }> {
  const timeColumn = timeColumnOf(deps, range.table);
  const months = monthsBetween(range.from, range.to);
  if (months.length === 0) throw new RestoreError(`--from ${range.from} is after --to ${range.to}`);
  const manifest = await requireManifest(deps);
  const entries = new Map<string, ManifestFile>();
  for (const f of manifest.files) if (f.table === range.table) entries.set(f.month, f);
  const missing = months.filter((m) => !entries.has(m));
  if (missing.length > 0) throw new RestoreError(`${range.table}: not in the archive for ${missing.join(', ')}`);

  return withTransaction(deps.pool, async (client) => {
    const present = await rowsAlreadyThere(client, range.table, timeColumn, months);
    if (present.length > 0) {
      throw new RestoreError(`${range.table} already has rows in the months to restore; nothing restored:\n  ${present.join('\n  ')}`);
    }
    await deps.partitions.ensurePartitionsFor(client, range.table, monthStart(range.from), addMonths(monthStart(range.to), 1));
    const restored: RestoredMonth[] = [];
    for (const month of months) {
      const entry = entries.get(month)!;
      const bytes = await deps.store.get(entry.key);
      if (bytes === null) throw new RestoreError(`${entry.key}: listed in the manifest but missing from the archive`);
      const sha = sha256Hex(bytes);
      if (sha !== entry.sha256) throw new RestoreError(`${entry.key}: sha256 ${sha}, the manifest says ${entry.sha256} (the file was altered or truncated)`);
      const rows = await deps.codec.insertRowsExact(client, range.table, deps.codec.readTableFile(bytes));
      if (rows !== entry.rows) throw new RestoreError(`${entry.key}: holds ${rows} rows, the manifest says ${entry.rows}`);
      restored.push({ month, rows, key: entry.key });
    }
    return { table: range.table, months: restored };
  }, { retries: 0 });
}

/** Manual archival of months of one table (no drop): each month's rows, verified like archival's. */
export async function exportMonths(deps: ArchiveDeps, range: MonthRange): Promise<Array<{ month: string; rows: number; key: string; uploaded: boolean }>> {
  const timeColumn = timeColumnOf(deps, range.table);
  const months = monthsBetween(range.from, range.to);
  if (months.length === 0) throw new RestoreError(`--from ${range.from} is after --to ${range.to}`);
  const out = [];
  for (const month of months) {
    const params = [monthStart(month), addMonths(monthStart(month), 1)];
    const where = `${quoteIdent(timeColumn)} >= $1 AND ${quoteIdent(timeColumn)} < $2`;
    const { rows } = await deps.pool.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${quoteIdent(range.table)} WHERE ${where}`, params);
    const archived = await archiveRows(deps, {
      table: range.table, timeColumn, month, source: range.table, where, params, expectedRows: Number(rows[0]!.n),
    });
    out.push({ month, rows: archived.rows, key: archived.key, uploaded: archived.uploaded });
  }
  return out;
}

/** What the archive holds, from its manifest. */
export async function listArchive(deps: Pick<ArchiveDeps, 'store'>): Promise<Manifest | null> {
  return readArchiveManifest(deps.store);
}

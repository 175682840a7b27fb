import type pg from 'pg';
import { sha256Hex } from '../tape';
import { now as clockNow } from '../clock/clock';
import type { ArchiveTiers } from './archiveConfig';
import { withTransaction } from '../db/transaction';
import { archiveKeyColumns, recordArchivedFile } from './archiveManifest';
import { exactMonth, hotWindowStart } from './archiveMonths';
import type { ArchiveStore, PartitionOps, TableFileCodec, TimePartition } from './archiveTypes';

/**
 * Archival (issue 20): every time partition whose whole range ends before the hot window is
 * exported to Parquet, put to the archive at its tape path (`<table>/<YYYY-MM>.parquet`, so the
 * archive is a replayable tape), recorded in the archive's manifest, VERIFIED, and only then
 * detached and dropped.
 *
 * The steps of one partition, each safe to repeat (a crash anywhere is finished by the next run):
 *   1. export   the partition's rows (read through the parent table, pruned to the partition's
 *               range), ordered by (partition key, the tape's key columns): same rows, same bytes
 *   2. put      unless the object exists: an existing object with the same sha256 and size is this
 *               export (a run that crashed after its upload); any other is an ArchiveConflict and
 *               is never overwritten
 *   3. record   the file in manifest.json (rows, bytes, sha256, min/max time)
 *   4. verify   stat (size and sha256 as exported), read the object back, its sha256 again, and
 *               count its rows: they must equal the partition's row count in the database
 *   5. drop     in one transaction: lock the partition against writes, count its rows again (still
 *               the verified count), detach and drop it
 * Any failure stops that table's run before step 5: nothing is dropped, the error is reported.
 */

export class ArchiveConflict extends Error {
  override name = 'ArchiveConflict';
}

export class ArchiveVerificationError extends Error {
  override name = 'ArchiveVerificationError';
}

export interface ArchiveDeps {
  pool: pg.Pool;
  store: ArchiveStore;
  partitions: PartitionOps;
  codec: TableFileCodec;
}

export interface ArchivedPartition {
  table: string;
  partition: string;
  month: string;
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** False when the object was already there from an earlier run (verified again, then dropped). */
  uploaded: boolean;
}

export interface ArchiveFailure {
  table: string;
  partition: string;
  month: string | null;
  error: string;
}

export interface ArchiveRunResult {
  /** Partitions ending at or before this instant were due. */
  cutoff: Date;
  archived: ArchivedPartition[];
  failures: ArchiveFailure[];
}

export function archiveKey(table: string, month: string): string {
  return `${table}/${month}.parquet`;
}

/** The partitions of `table` due for archival: their whole range ends at or before the cutoff. */
export function duePartitions(partitions: readonly TimePartition[], cutoff: Date): TimePartition[] {
  return partitions.filter((p) => p.to.getTime() <= cutoff.getTime());
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The ORDER BY of an archive file: the time column, then the tape's key columns of the table (the
 * order openTape checks); a table the tape does not know, its primary key or every column. The
 * same rows give the same bytes.
 */
export async function exportOrder(db: Pick<pg.ClientBase, 'query'>, table: string, timeColumn: string): Promise<string> {
  const keys = archiveKeyColumns(table);
  if (keys.length > 0) return [timeColumn, ...keys].map(quoteIdent).join(', ');
  const pk = await db.query<{ column_name: string }>(
    `SELECT a.attname AS column_name
       FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [table],
  );
  if (pk.rows.length > 0) return [timeColumn, ...pk.rows.map((r) => r.column_name)].map(quoteIdent).join(', ');
  const cols = await db.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  );
  if (cols.rows.length === 0) throw new Error(`table ${table} does not exist`);
  return [timeColumn, ...cols.rows.map((r) => r.attname).filter((c) => c !== timeColumn)].map(quoteIdent).join(', ');
}

async function countRows(db: Pick<pg.ClientBase, 'query'>, relation: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${quoteIdent(relation)}`);
  return Number(rows[0]!.n);
}

async function countFileRows(codec: TableFileCodec, bytes: Uint8Array): Promise<number> {
  let n = 0;
  for await (const _row of codec.readTableFile(bytes)) n++;
  return n;
}

/**
 * Step 4: the stored object is the exported file and holds every row of the partition. Throws an
 * ArchiveVerificationError naming what does not match.
 */
export async function verifyArchivedFile(
  deps: Pick<ArchiveDeps, 'store' | 'codec'>,
  key: string,
  expected: { bytes: number; sha256: string; rows: number },
): Promise<void> {
  const stat = await deps.store.stat(key);
  if (stat === null) throw new ArchiveVerificationError(`${key}: not found in the archive after the upload`);
  if (stat.bytes !== expected.bytes) throw new ArchiveVerificationError(`${key}: the archive holds ${stat.bytes} bytes, the export wrote ${expected.bytes}`);
  if (stat.sha256 !== expected.sha256) throw new ArchiveVerificationError(`${key}: the archive's sha256 ${stat.sha256} is not the export's ${expected.sha256}`);
  const stored = await deps.store.get(key);
  if (stored === null) throw new ArchiveVerificationError(`${key}: not readable from the archive`);
  const readSha = sha256Hex(stored);
  if (readSha !== expected.sha256) throw new ArchiveVerificationError(`${key}: read back ${stored.byteLength} bytes with sha256 ${readSha}, expected ${expected.sha256}`);
  const rows = await countFileRows(deps.codec, stored);
  if (rows !== expected.rows) throw new ArchiveVerificationError(`${key}: the file holds ${rows} rows, the partition ${expected.rows}`);
}

/**
 * Steps 1-4 for rows of `table` (a partition, or the parent table with a WHERE): the file is in the
 * archive, recorded in the manifest and verified against `expectedRows`. Returns what was written.
 */
export async function archiveRows(
  deps: ArchiveDeps,
  target: { table: string; timeColumn: string; month: string; source: string; where?: string; params?: unknown[]; expectedRows: number },
): Promise<Omit<ArchivedPartition, 'partition'>> {
  const key = archiveKey(target.table, target.month);
  const orderBy = await exportOrder(deps.pool, target.table, target.timeColumn);
  const file = await deps.codec.exportTableFile(deps.pool, {
    table: target.source,
    orderBy,
    ...(target.where !== undefined ? { where: target.where, params: target.params ?? [] } : {}),
  });
  const existing = await deps.store.stat(key);
  let uploaded = false;
  if (existing === null) {
    await deps.store.put(key, file.bytes, { sha256: file.sha256 });
    uploaded = true;
  } else if (existing.sha256 !== file.sha256 || existing.bytes !== file.bytes.byteLength) {
    throw new ArchiveConflict(
      `${key} is already in the archive with a different content (sha256 ${existing.sha256}, ${existing.bytes} bytes; this export: ${file.sha256}, ${file.bytes.byteLength} bytes): not overwritten`,
    );
  }
  await recordArchivedFile(deps, {
    table: target.table, month: target.month, key, timeColumn: target.timeColumn, source: target.source,
    ...(target.where !== undefined ? { where: target.where, params: target.params ?? [] } : {}),
    file,
  });
  await verifyArchivedFile(deps, key, { bytes: file.bytes.byteLength, sha256: file.sha256, rows: target.expectedRows });
  return { table: target.table, month: target.month, key, rows: target.expectedRows, bytes: file.bytes.byteLength, sha256: file.sha256, uploaded };
}

/** Steps 1-5 for one partition. */
export async function archivePartition(deps: ArchiveDeps, partition: TimePartition, timeColumn: string): Promise<ArchivedPartition> {
  const month = exactMonth(partition.from, partition.to);
  if (month === null) {
    throw new Error(`partition ${partition.partition} covers ${partition.from.toISOString()} to ${partition.to.toISOString()}, not one UTC calendar month: the archive holds months`);
  }
  const rows = await countRows(deps.pool, partition.partition);
  // Read through the parent (partition pruning keeps it to this partition): the file then names
  // the table, not the partition, as a tape file must. Its rows are checked against the partition's count.
  const archived = await archiveRows(deps, {
    table: partition.table, timeColumn, month, source: partition.table,
    where: `${quoteIdent(timeColumn)} >= $1 AND ${quoteIdent(timeColumn)} < $2`, params: [partition.from, partition.to],
    expectedRows: rows,
  });
  // Writes are blocked while the rows are counted once more and the partition leaves: what is
  // dropped is exactly what was verified (history months are closed, so this only guards a mistake).
  await withTransaction(deps.pool, async (client) => {
    await client.query(`LOCK TABLE ${quoteIdent(partition.partition)} IN SHARE MODE`);
    const now = await countRows(client, partition.partition);
    if (now !== rows) throw new ArchiveVerificationError(`${partition.partition}: ${now} rows now, ${rows} when archived: not dropped`);
    await deps.partitions.detachAndDropPartition(client, partition.table, partition.partition);
  }, { retries: 0 });
  return { ...archived, partition: partition.partition };
}

/**
 * One archival run over every partitioned table: the due partitions, oldest first. A failure stops
 * its table (the archive stays contiguous) and is reported; other tables go on.
 */
export async function archiveDuePartitions(
  deps: ArchiveDeps,
  tiers: Pick<ArchiveTiers, 'hotMonths'>,
  hooks: { onArchived?: (a: ArchivedPartition) => void; onFailure?: (f: ArchiveFailure) => void } = {},
): Promise<ArchiveRunResult> {
  const cutoff = hotWindowStart(clockNow(), tiers.hotMonths);
  const result: ArchiveRunResult = { cutoff, archived: [], failures: [] };
  for (const { table, timeColumn } of deps.partitions.tables()) {
    let due: TimePartition[];
    try {
      due = duePartitions(await deps.partitions.listTimePartitions(deps.pool, table), cutoff);
    } catch (error) {
      const failure = { table, partition: '(listing partitions)', month: null, error: (error as Error).message };
      result.failures.push(failure);
      hooks.onFailure?.(failure);
      continue;
    }
    for (const partition of due) {
      try {
        const archived = await archivePartition(deps, partition, timeColumn);
        result.archived.push(archived);
        hooks.onArchived?.(archived);
      } catch (error) {
        const failure = { table, partition: partition.partition, month: exactMonth(partition.from, partition.to), error: (error as Error).message };
        result.failures.push(failure);
        hooks.onFailure?.(failure);
        break;
      }
    }
  }
  return result;
}

import { InvalidArgumentError } from 'commander';
import type pg from 'pg';
import type { ArchiveDeps } from '../../shared/lifecycle/archive';
import { DEFAULT_ARCHIVE_PREFIX, archiveConfigFromEnv, type ArchiveLocation } from '../../shared/lifecycle/archiveConfig';
import { archiveDeps, archiveStore } from '../../shared/lifecycle/archiveDeps';
import { isMonth, monthStart } from '../../shared/lifecycle/archiveMonths';
import { exportMonths, listArchive, restoreMonths } from '../../shared/lifecycle/archiveRestore';
import { table } from '../format';
import type { CommandContext } from './context';
import { UsageError } from './usage';

/**
 * `precog archive list|export|restore`: what is archived (the manifest), manual archival of months
 * to a directory (nothing dropped), and restoring archived months into the database exactly.
 *
 * The archive is a directory (--dir) or an S3 bucket (--bucket [--prefix], default prefix
 * archive/); without either, the function's own ARCHIVE_DIR / ARCHIVE_BUCKET [+ ARCHIVE_PREFIX].
 */

/** commander argument parser for `YYYY-MM`. */
export function parseMonthArgument(value: string): string {
  if (!isMonth(value)) throw new InvalidArgumentError('expected a month as YYYY-MM, e.g. 2025-03.');
  return value;
}

export interface LocationOptions {
  dir?: string;
  bucket?: string;
  prefix?: string;
}

/** The archive the options name, else the one of the environment; a UsageError when neither or both. */
export function archiveLocation(options: LocationOptions, env: NodeJS.ProcessEnv): ArchiveLocation {
  if (options.dir !== undefined && options.bucket !== undefined) throw new UsageError('give either --dir or --bucket, not both');
  if (options.prefix !== undefined && options.bucket === undefined) throw new UsageError('--prefix only applies with --bucket');
  if (options.prefix !== undefined && !/^([A-Za-z0-9!_.*'()-]+\/)+$/.test(options.prefix)) {
    throw new UsageError(`--prefix: "${options.prefix}" is not a key prefix ending in "/" such as archive/`);
  }
  if (options.dir !== undefined) return { kind: 'directory', dir: options.dir };
  if (options.bucket !== undefined) return { kind: 's3', bucket: options.bucket, prefix: options.prefix ?? DEFAULT_ARCHIVE_PREFIX };
  if (env.ARCHIVE_DIR || env.ARCHIVE_BUCKET) return archiveConfigFromEnv(env).location;
  throw new UsageError('which archive? give --dir DIR or --bucket BUCKET [--prefix P] (or set ARCHIVE_DIR / ARCHIVE_BUCKET)');
}

function checkRange(from: string, to: string): void {
  if (monthStart(from) > monthStart(to)) throw new UsageError(`--from ${from} is after --to ${to}`);
}

export type DepsFactory = (pool: pg.Pool, location: ArchiveLocation) => ArchiveDeps;

export interface MonthCommandOptions {
  table: string;
  from: string;
  to: string;
  location: ArchiveLocation;
  json?: boolean;
}

/** `precog archive restore --table T --from YYYY-MM --to YYYY-MM (--dir DIR | --bucket B [--prefix P])`. */
export async function archiveRestoreCommand(ctx: CommandContext, options: MonthCommandOptions, makeDeps: DepsFactory = archiveDeps): Promise<void> {
  checkRange(options.from, options.to);
  const result = await restoreMonths(makeDeps(ctx.pool, options.location), options);
  if (options.json) {
    ctx.out(JSON.stringify(result));
    return;
  }
  const total = result.months.reduce((n, m) => n + m.rows, 0);
  ctx.out(`restored ${total} rows of ${result.table} (${result.months.map((m) => `${m.month}: ${m.rows}`).join(', ')})`);
}

/** `precog archive export --table T --from YYYY-MM --to YYYY-MM --dir DIR`: archival without the drop. */
export async function archiveExportCommand(ctx: CommandContext, options: MonthCommandOptions, makeDeps: DepsFactory = archiveDeps): Promise<void> {
  checkRange(options.from, options.to);
  const written = await exportMonths(makeDeps(ctx.pool, options.location), options);
  if (options.json) {
    ctx.out(JSON.stringify({ table: options.table, months: written }));
    return;
  }
  for (const w of written) ctx.out(`${w.key}: ${w.rows} rows, verified${w.uploaded ? '' : ' (already archived, same content)'}`);
}

/** `precog archive list`: the archived months per table, from the manifest. */
export async function archiveListCommand(
  out: (line: string) => void,
  options: { location: ArchiveLocation; table?: string; json?: boolean },
  makeStore: (location: ArchiveLocation) => Pick<ArchiveDeps, 'store'> = (location) => ({ store: archiveStore(location) }),
): Promise<void> {
  const manifest = await listArchive(makeStore(options.location));
  const files = (manifest?.files ?? []).filter((f) => options.table === undefined || f.table === options.table);
  if (options.json) {
    out(JSON.stringify({ window: manifest?.window ?? null, files: files.map(({ columns: _columns, ...f }) => f) }));
    return;
  }
  if (files.length === 0) {
    out(manifest === null ? 'nothing is archived there (no manifest.json)' : `nothing of ${options.table} is archived`);
    return;
  }
  for (const line of table(files, [
    { header: 'TABLE', cell: (f) => f.table },
    { header: 'MONTH', cell: (f) => f.month },
    { header: 'ROWS', cell: (f) => String(f.rows), align: 'right' },
    { header: 'BYTES', cell: (f) => String(f.bytes), align: 'right' },
    { header: 'FIRST', cell: (f) => f.minTime ?? '-' },
    { header: 'LAST', cell: (f) => f.maxTime ?? '-' },
    { header: 'FILE', cell: (f) => f.key },
  ])) out(line);
}

import { InvalidArgumentError, type Command } from 'commander';
import { DirectoryStore, isEmptyOrMissingDirectory, importTape, openTape, writeTape, EmptyWindowError, type Manifest } from '../../shared/tape';
import type { CommandContext } from './context';
import { UsageError } from './usage';

/**
 * `precog tape export | import | show`: a tape is a directory (manifest.json + one Parquet file
 * per table and UTC month); docs/tape.md describes it.
 */

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO-8601 instant with its zone (or a bare date: UTC midnight). */
export function isoInstant(value: string): Date {
  const ms = ISO_INSTANT.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO-8601 instant with its zone, e.g. 2026-09-13T17:00:00Z (or a date, 2026-09-13, for UTC midnight).');
  return new Date(ms);
}

function collectSeries(value: string, previous: string[] = []): string[] {
  const tickers = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (tickers.length === 0) throw new InvalidArgumentError('expected a series ticker, e.g. KXNFLGAME.');
  return [...previous, ...tickers];
}

export interface TapeExportArgs {
  dir: string;
  from: Date;
  to: Date;
  series?: string[];
  json?: boolean;
}

/** Checks what can be checked before the database is touched: the window and the directory. */
export async function checkTapeExportArgs(args: Pick<TapeExportArgs, 'dir' | 'from' | 'to'>): Promise<void> {
  if (args.from.getTime() >= args.to.getTime()) {
    throw new UsageError(`--from (${args.from.toISOString()}) must be before --to (${args.to.toISOString()})`);
  }
  if (!(await isEmptyOrMissingDirectory(args.dir))) {
    throw new UsageError(`${args.dir} exists and is not an empty directory: a tape is written into a new or empty directory`);
  }
}

function summary(manifest: Manifest) {
  const tables = manifest.tables.map((t) => {
    const files = manifest.files.filter((f) => f.table === t.table);
    return {
      table: t.table,
      role: t.role,
      months: t.role === 'timeseries' ? files.map((f) => f.month) : [],
      files: files.length,
      rows: files.reduce((n, f) => n + f.rows, 0),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    };
  });
  return { tapeId: manifest.tapeId, window: manifest.window, series: manifest.series, tables };
}

function printSummary(out: (line: string) => void, manifest: Manifest, heading: string): void {
  const s = summary(manifest);
  out(heading);
  out(`  tapeId  ${s.tapeId}`);
  out(`  window  ${s.window.from} → ${s.window.to}${s.series ? `  series ${s.series.join(', ')}` : ''}`);
  for (const t of s.tables) {
    out(`  ${t.table.padEnd(21)} ${String(t.rows).padStart(9)} rows  ${String(t.bytes).padStart(10)} bytes  ${t.role === 'timeseries' ? `months ${t.months.join(', ')}` : 'catalog'}`);
  }
}

/** `precog tape export --from ISO --to ISO [--series TICKER …] DIR`. */
export async function tapeExport(ctx: CommandContext, args: TapeExportArgs): Promise<Manifest> {
  await checkTapeExportArgs(args);
  let manifest: Manifest;
  try {
    manifest = await writeTape(ctx.pool, { from: args.from, to: args.to, series: args.series }, new DirectoryStore(args.dir));
  } catch (error) {
    if (error instanceof EmptyWindowError) throw new UsageError(`${error.message}${args.series ? ` for series ${args.series.join(', ')}` : ''}; nothing written`);
    throw error;
  }
  if (args.json) ctx.out(JSON.stringify({ dir: args.dir, ...summary(manifest) }));
  else printSummary(ctx.out, manifest, `wrote tape ${args.dir}`);
  return manifest;
}

/** `precog tape import DIR`: every row exactly, in one transaction (a conflict imports nothing). */
export async function tapeImport(ctx: CommandContext, args: { dir: string; json?: boolean }): Promise<Record<string, number>> {
  const tape = await openTape(args.dir);
  const counts = await importTape(ctx.pool, tape);
  if (args.json) ctx.out(JSON.stringify({ dir: args.dir, tapeId: tape.tapeId, rows: counts }));
  else {
    ctx.out(`imported tape ${args.dir} (${tape.tapeId})`);
    for (const [table, rows] of Object.entries(counts)) ctx.out(`  ${table.padEnd(21)} ${String(rows).padStart(9)} rows`);
  }
  return counts;
}

/** `precog tape show DIR`: the manifest's summary, after checking every file against it. */
export async function tapeShow(out: (line: string) => void, args: { dir: string; json?: boolean }): Promise<Manifest> {
  const tape = await openTape(args.dir);
  if (args.json) out(JSON.stringify({ dir: args.dir, ...summary(tape.manifest) }));
  else printSummary(out, tape.manifest, `tape ${args.dir} (every file present, sizes and sha256 match the manifest)`);
  return tape.manifest;
}

type Run = (json: boolean | undefined, fn: (ctx: CommandContext) => Promise<unknown>) => Promise<unknown>;
type RunWithoutDatabase = (json: boolean | undefined, fn: () => Promise<unknown>) => Promise<unknown>;

/** Registers `precog tape …` on the program (cli/precog.ts wires the runners). */
export function addTapeCommands(program: Command, runners: { run: Run; runWithoutDatabase: RunWithoutDatabase; out: (line: string) => void }): void {
  const tape = program.command('tape').summary('recorded versions as Parquet tapes').description('tapes: recorded market and game-state versions as Parquet (docs/tape.md)');
  tape
    .command('export')
    .summary('write a tape of a window from the database')
    .description('write the market and game-state versions seen in [--from, --to) (plus each one\'s opening version and the catalog a replay needs) '
      + 'as a tape directory: manifest.json and one Parquet file per table and UTC month')
    .argument('<dir>', 'a new or empty directory')
    .requiredOption('--from <iso>', 'window start (inclusive), e.g. 2026-09-13T17:00:00Z', isoInstant)
    .requiredOption('--to <iso>', 'window end (exclusive)', isoInstant)
    .option('--series <ticker>', 'only this series (repeat, or comma-separate, for several), e.g. KXNFLGAME', collectSeries)
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { from: Date; to: Date; series?: string[]; json?: boolean }) => {
      await runners.runWithoutDatabase(opts.json, () => checkTapeExportArgs({ dir, from: opts.from, to: opts.to }));
      await runners.run(opts.json, (ctx) => tapeExport(ctx, { dir, ...opts }));
    });
  tape
    .command('import')
    .summary('load a tape\'s rows exactly into the database')
    .description('load every row of a tape exactly (ids, decimals, microseconds) into the database, in one transaction: '
      + 'a row already there is an error and nothing is written')
    .argument('<dir>', 'tape directory')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await runners.run(opts.json, (ctx) => tapeImport(ctx, { dir, json: opts.json }));
    });
  tape
    .command('show')
    .summary('summarise a tape (checks every file)')
    .description('check a tape (manifest, every file\'s size and sha256, window coverage) and print its window, tables, months, rows and tapeId; no database')
    .argument('<dir>', 'tape directory')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await runners.runWithoutDatabase(opts.json, () => tapeShow(runners.out, { dir, json: opts.json }));
    });
}

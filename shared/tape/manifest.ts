import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ArchiveStore } from './store';

export const MANIFEST_KEY = 'manifest.json';
export const TAPE_FORMAT = 'precog-tape';
export const TAPE_FORMAT_VERSION = 1;

const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 timestamp');
/** Microsecond-exact instants are kept as ISO text ("2026-09-13T17:00:00.123456Z"). */
const IsoMicros = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/, 'an ISO-8601 UTC timestamp with 6 fractional digits');
const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const ColumnSpecSchema = z.strictObject({
  name: z.string().min(1),
  pgType: z.string().min(1),
  kind: z.enum(['int64', 'int32', 'decimal', 'numeric_text', 'timestamptz', 'date', 'boolean', 'json', 'text']),
  nullable: z.boolean(),
  identity: z.boolean(),
  precision: z.number().int().positive().optional(),
  scale: z.number().int().nonnegative().optional(),
});

export const ManifestFileSchema = z.strictObject({
  /** Store key: `<table>/<YYYY-MM>.parquet`, or `<table>/all.parquet` for a catalog table. */
  key: z.string().regex(/^[a-z_][a-z0-9_]*\/(\d{4}-\d{2}|all)\.parquet$/, '<table>/<YYYY-MM|all>.parquet'),
  table: z.string().min(1),
  /** UTC calendar month of the time column, or "all" (a catalog table in one file). */
  month: z.union([Month, z.literal('all')]),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().positive(),
  sha256: Sha256,
  timeColumn: z.string().nullable(),
  minTime: IsoMicros.nullable(),
  maxTime: IsoMicros.nullable(),
  columns: z.array(ColumnSpecSchema).min(1),
}).superRefine((file, ctx) => {
  if (file.key !== `${file.table}/${file.month}.parquet`) ctx.addIssue({ code: 'custom', path: ['key'], message: `must be ${file.table}/${file.month}.parquet` });
  if ((file.month === 'all') !== (file.timeColumn === null)) ctx.addIssue({ code: 'custom', path: ['timeColumn'], message: 'a month file has a time column, an "all" file none' });
  const timed = file.timeColumn !== null && file.rows > 0;
  if (timed !== (file.minTime !== null) || timed !== (file.maxTime !== null)) {
    ctx.addIssue({ code: 'custom', path: ['minTime'], message: 'minTime/maxTime are set exactly when a month file has rows' });
  }
});

export const ManifestTableSchema = z.strictObject({
  table: z.string().min(1),
  role: z.enum(['catalog', 'timeseries']),
  /** The time a row was seen (created_at): the month of its file and its replay time. */
  timeColumn: z.string().nullable(),
  /** Tie-break after the time (and the order of rows in a catalog file). */
  keyColumns: z.array(z.string()).min(1),
});

export const ManifestSchema = z.strictObject({
  format: z.literal(TAPE_FORMAT),
  formatVersion: z.literal(TAPE_FORMAT_VERSION),
  tapeId: Sha256,
  /** Half-open [from, to): the time-series rows seen in it, plus each key's opening version. */
  window: z.strictObject({ from: Iso, to: Iso }),
  series: z.array(z.string()).nullable(),
  /** In load order (foreign keys first); time-series tables merge in this order at equal times. */
  tables: z.array(ManifestTableSchema).min(1),
  files: z.array(ManifestFileSchema),
}).superRefine((manifest, ctx) => {
  if (Date.parse(manifest.window.from) >= Date.parse(manifest.window.to)) ctx.addIssue({ code: 'custom', path: ['window'], message: 'from must be before to' });
  const tables = new Set(manifest.tables.map((t) => t.table));
  const keys = new Set<string>();
  manifest.files.forEach((file, i) => {
    if (!tables.has(file.table)) ctx.addIssue({ code: 'custom', path: ['files', i, 'table'], message: `${file.table} is not in tables` });
    if (keys.has(file.key)) ctx.addIssue({ code: 'custom', path: ['files', i, 'key'], message: `${file.key} listed twice` });
    keys.add(file.key);
  });
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestFile = z.infer<typeof ManifestFileSchema>;
export type ManifestTable = z.infer<typeof ManifestTableSchema>;

export class TapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TapeError';
  }
}

/** JSON with object keys sorted at every level: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The tape's identity: sha256 over its file entries (canonical JSON, sorted by key). Same files → same id. */
export function tapeId(manifest: Pick<Manifest, 'files'>): string {
  const files = [...manifest.files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return createHash('sha256').update(canonicalJson(files)).digest('hex');
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

/** Parses and validates a manifest's text; errors name manifest.json and the field path. */
export function parseManifest(text: string, location = MANIFEST_KEY): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TapeError(`${location}: not JSON (${(error as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw new TapeError(`${location}: invalid tape manifest: ${describeIssues(parsed.error)}`);
  const expected = tapeId(parsed.data);
  if (parsed.data.tapeId !== expected) throw new TapeError(`${location}: tapeId ${parsed.data.tapeId} does not match its file entries (${expected})`);
  return parsed.data;
}

/** The manifest of the tape in `store` (validated; not the files: openTape checks those). */
export async function readManifest(store: ArchiveStore): Promise<Manifest> {
  const bytes = await store.get(MANIFEST_KEY);
  const location = `${store.location}/${MANIFEST_KEY}`;
  if (!bytes) throw new TapeError(`${location}: missing (not a tape)`);
  return parseManifest(new TextDecoder().decode(bytes), location);
}

/** The manifest's text as written: stable key order, one file entry per line is not needed. */
export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** UTC months ("YYYY-MM") that overlap the half-open window [from, to). */
export function monthsOverlapping(from: Date, to: Date): string[] {
  const months: string[] = [];
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth();
  for (;;) {
    const start = Date.UTC(year, month, 1);
    if (start >= to.getTime()) break;
    months.push(`${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}`);
    month += 1;
    if (month === 12) {
      month = 0;
      year += 1;
    }
  }
  return months;
}

/** [start, end) of a UTC month "YYYY-MM". */
export function monthBounds(month: string): { start: Date; end: Date } {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return { start: new Date(Date.UTC(year, m - 1, 1)), end: new Date(Date.UTC(year, m, 1)) };
}

import pg from 'pg';
import * as z from 'zod';
import { Decimal } from '../../domain/decimal';
import type { MatrixCell } from '../../models/types';
import { decimal, decimalOrNull } from '../rows';
import { withTransaction, type Queryable } from '../transaction';

/**
 * Probability matrices: published, immutable tables of win probabilities by game state. A matrix
 * is identified by (category, subcategory, version) and is imported once, whole, from a CSV file;
 * a correction is a new version (an UPDATE is refused by the probability_matrices_immutable
 * trigger, and importing an existing version is refused here).
 */

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): comma separated, fields optionally quoted with ", a quote inside a quoted field
// doubled (""), commas and line breaks allowed inside quotes; LF, CRLF or CR line ends; a leading
// UTF-8 BOM is ignored; blank lines are skipped.

export interface CsvRecord {
  /** Physical line (1-based) on which the record starts. */
  line: number;
  fields: string[];
}

export interface CsvSyntaxIssue {
  /** Line of the problem. */
  line: number;
  /** Line on which the record holding the problem starts. */
  recordLine: number;
  /** 0-based index of the field the problem is in. */
  field: number;
  message: string;
}

export interface CsvParseResult {
  records: CsvRecord[];
  issues: CsvSyntaxIssue[];
}

/** Splits CSV text into records. Never throws: syntax problems are returned as issues. */
export function parseCsv(text: string): CsvParseResult {
  const records: CsvRecord[] = [];
  const issues: CsvSyntaxIssue[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const isEnd = (ch: string | undefined) => ch === ',' || ch === '\n' || ch === '\r';

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let quotedAny = false;
    for (;;) {
      const field = fields.length;
      let value = '';
      if (text[i] === '"') {
        quotedAny = true;
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
          value += ch;
          i++;
        }
        if (!closed) {
          // Everything after the opening quote was swallowed: nothing further can be trusted.
          issues.push({ line: quoteLine, recordLine: start, field, message: 'unterminated quoted field (a " opens a field that never closes)' });
          return { records, issues };
        }
        if (i < n && !isEnd(text[i])) {
          issues.push({ line, recordLine: start, field, message: 'text after a closing quote (a quote inside a quoted field must be doubled: "")' });
          while (i < n && !isEnd(text[i])) value += text[i++];
        }
      } else {
        let strayQuote = false;
        while (i < n && !isEnd(text[i])) {
          if (text[i] === '"') strayQuote = true;
          value += text[i++];
        }
        if (strayQuote) {
          issues.push({ line, recordLine: start, field, message: 'quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")' });
        }
      }
      fields.push(value);
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // Line end: CRLF, LF or CR.
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      break;
    }
    const blank = fields.length === 1 && fields[0] === '' && !quotedAny;
    if (!blank) records.push({ line: start, fields });
  }
  return { records, issues };
}

// ---------------------------------------------------------------------------------------------
// Import

export interface MatrixImportIssue {
  line: number;
  /** Column name; absent when the problem is the whole row (e.g. its number of fields). */
  column?: string;
  message: string;
}

export function formatIssue(issue: MatrixImportIssue): string {
  return issue.column === undefined
    ? `line ${issue.line}: ${issue.message}`
    : `line ${issue.line}, column ${issue.column}: ${issue.message}`;
}

/** A matrix file was refused; `issues` lists every problem found (nothing was written). */
export class MatrixImportError extends Error {
  override name = 'MatrixImportError';
  constructor(readonly issues: readonly MatrixImportIssue[]) {
    super(
      `matrix import refused, nothing written: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
        issues.map((i) => `  ${formatIssue(i)}`).join('\n'),
    );
  }
}

/** The matrix version is already in the database: matrices are immutable. */
export class MatrixVersionExistsError extends Error {
  override name = 'MatrixVersionExistsError';
  constructor(
    readonly matrix: MatrixKey,
    readonly existingCells: number,
  ) {
    super(
      `matrix ${matrix.category}/${matrix.subcategory} ${matrix.version} already exists (${existingCells} cells): ` +
        'matrices are immutable, import the corrected file as a new version (e.g. v1.1)',
    );
  }
}

export interface MatrixKey {
  category: string;
  subcategory: string;
  version: string;
}

export interface MatrixImportResult extends MatrixKey {
  cells: number;
}

export const REQUIRED_COLUMNS = [
  'category',
  'subcategory',
  'version',
  'state_descriptor',
  'value_bucket',
  'win_probability',
  'confidence_interval_lower',
  'confidence_interval_upper',
  'sample_size',
  'source',
  'methodology',
] as const;
export const OPTIONAL_COLUMNS = ['situational_factors'] as const;
const KNOWN_COLUMNS = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

const noNul = (v: string) => !v.includes('\u0000');
const requiredText = z
  .string()
  .min(1, { message: 'must not be empty' })
  .refine(noNul, { message: 'contains a NUL character' });
const optionalText = z
  .string()
  .refine(noNul, { message: 'contains a NUL character' })
  .transform((v) => (v === '' ? null : v));

/** A probability as text: 0..1 with at most 4 decimals (the DECIMAL(10,4) columns). */
const PROBABILITY = /^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})$/;
const PROBABILITY_MESSAGE = 'must be a probability 0..1 with at most 4 decimals (e.g. 0.7250)';
const requiredProbability = z
  .string()
  .refine((v) => PROBABILITY.test(v), { message: PROBABILITY_MESSAGE })
  .transform((v) => new Decimal(v));
/** Empty = no value (NULL). */
const optionalProbability = z
  .string()
  .refine((v) => v === '' || PROBABILITY.test(v), { message: PROBABILITY_MESSAGE })
  .transform((v) => (v === '' ? null : new Decimal(v)));

const INT4_MAX = 2_147_483_647;
const sampleSize = z
  .string()
  .refine((v) => v === '' || /^\d+$/.test(v), { message: 'must be a non-negative integer' })
  .refine((v) => v === '' || !/^\d+$/.test(v) || Number(v) <= INT4_MAX, { message: `must be at most ${INT4_MAX}` })
  .transform((v) => (v === '' ? null : Number(v)));

const situationalFactors = z.string().transform((v, ctx): Record<string, unknown> | null => {
  if (v === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
    return z.NEVER;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object (e.g. {"home_favorite": true})' });
    return z.NEVER;
  }
  if (v.includes('\\u0000') || v.includes('\u0000')) {
    ctx.addIssue({ code: 'custom', message: 'contains a NUL character' });
    return z.NEVER;
  }
  return parsed as Record<string, unknown>;
});

const rowShape = {
  category: requiredText,
  subcategory: requiredText,
  version: z.string().regex(/^v\d+\.\d+(\.\d+)?$/, { message: 'must be a version like v1.0 or v1.0.1' }),
  state_descriptor: requiredText,
  value_bucket: requiredText,
  win_probability: requiredProbability,
  confidence_interval_lower: optionalProbability,
  confidence_interval_upper: optionalProbability,
  sample_size: sampleSize,
  source: optionalText,
  methodology: optionalText,
  situational_factors: situationalFactors,
};
const rowSchema = z.object(rowShape);
type MatrixRow = z.output<typeof rowSchema>;

/**
 * Validates one row: every column on its own (so that each bad column is reported, whatever else
 * is wrong), then the bounds against the probability when those columns parsed.
 */
function validateRow(raw: Record<string, string>): { row?: MatrixRow; issues: { column: string; message: string }[] } {
  const issues: { column: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const [column, schema] of Object.entries(rowShape)) {
    const parsed = (schema as z.ZodType).safeParse(raw[column] ?? '');
    if (parsed.success) values[column] = parsed.data;
    else for (const issue of parsed.error.issues) issues.push({ column, message: issue.message.replace(/^Invalid input: /, '') });
  }
  const ok = (column: string) => Object.prototype.hasOwnProperty.call(values, column);
  if (ok('win_probability') && ok('confidence_interval_lower') && ok('confidence_interval_upper')) {
    const p = values.win_probability as Decimal;
    const lower = values.confidence_interval_lower as Decimal | null;
    const upper = values.confidence_interval_upper as Decimal | null;
    if ((lower === null) !== (upper === null)) {
      issues.push({ column: lower === null ? 'confidence_interval_lower' : 'confidence_interval_upper', message: 'give both confidence bounds or neither' });
    } else {
      if (lower !== null && lower.gt(p)) issues.push({ column: 'confidence_interval_lower', message: `${lower.toFixed()} is above win_probability ${p.toFixed()}` });
      if (upper !== null && upper.lt(p)) issues.push({ column: 'confidence_interval_upper', message: `${upper.toFixed()} is below win_probability ${p.toFixed()}` });
    }
  }
  return issues.length > 0 ? { issues } : { row: values as MatrixRow, issues };
}

/** JSON with sorted keys: the identity of a situational_factors object (null ≡ {} as in uq_probability_cell). */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

interface ValidatedFile {
  key: MatrixKey;
  rows: MatrixRow[];
}

/** Parses and validates a whole matrix file; throws MatrixImportError listing every problem. */
export function validateMatrixCsv(text: string): ValidatedFile {
  const { records, issues: syntax } = parseCsv(text);
  const issues: MatrixImportIssue[] = [];
  const header = records[0];
  if (!header) {
    throw new MatrixImportError(syntax.length > 0 ? syntax.map((s) => ({ line: s.line, message: s.message })) : [{ line: 1, message: 'empty file: expected a header row' }]);
  }
  const columns = header.fields.map((f) => f.trim());
  const nameOf = (index: number) => columns[index] ?? `#${index + 1}`;
  for (const s of syntax) issues.push({ line: s.line, column: nameOf(s.field), message: s.message });

  const seen = new Set<string>();
  columns.forEach((c, index) => {
    if (!KNOWN_COLUMNS.has(c)) issues.push({ line: header.line, column: c || `#${index + 1}`, message: 'unknown column' });
    else if (seen.has(c)) issues.push({ line: header.line, column: c, message: 'duplicate column' });
    seen.add(c);
  });
  for (const c of REQUIRED_COLUMNS) {
    if (!seen.has(c)) issues.push({ line: header.line, column: c, message: 'missing column' });
  }
  if (issues.some((i) => i.line === header.line)) throw new MatrixImportError(sortIssues(issues));

  const dataRecords = records.slice(1);
  if (dataRecords.length === 0) issues.push({ line: header.line + 1, message: 'no data rows after the header' });
  const syntaxRecords = new Set(syntax.map((s) => s.recordLine));
  const rows: MatrixRow[] = [];
  let key: (MatrixKey & { line: number }) | undefined;
  const cells = new Map<string, number>();

  for (const record of dataRecords) {
    if (record.fields.length !== columns.length) {
      issues.push({ line: record.line, message: `expected ${columns.length} fields, found ${record.fields.length}` });
      continue;
    }
    const raw: Record<string, string> = { situational_factors: '' };
    columns.forEach((c, index) => {
      raw[c] = record.fields[index]!.trim();
    });
    const validated = validateRow(raw);
    for (const issue of validated.issues) issues.push({ line: record.line, ...issue });
    const row = validated.row;
    if (!row || syntaxRecords.has(record.line)) continue; // reported; not a valid row
    if (!key) {
      key = { category: row.category, subcategory: row.subcategory, version: row.version, line: record.line };
    } else {
      for (const part of ['category', 'subcategory', 'version'] as const) {
        if (row[part] !== key[part]) {
          issues.push({
            line: record.line,
            column: part,
            message: `${JSON.stringify(row[part])} differs from ${JSON.stringify(key[part])} (line ${key.line}): a file holds one matrix (category, subcategory, version)`,
          });
        }
      }
    }
    const cellKey = `${row.state_descriptor}\u0000${row.value_bucket}\u0000${canonicalJson(row.situational_factors ?? {})}`;
    const earlier = cells.get(cellKey);
    if (earlier !== undefined) {
      issues.push({
        line: record.line,
        column: 'value_bucket',
        message: `duplicate cell: same state_descriptor, value_bucket and situational_factors as line ${earlier}`,
      });
    } else {
      cells.set(cellKey, record.line);
    }
    rows.push(row);
  }
  if (issues.length > 0 || !key) throw new MatrixImportError(sortIssues(issues));
  return { key: { category: key.category, subcategory: key.subcategory, version: key.version }, rows };
}

function sortIssues(issues: MatrixImportIssue[]): MatrixImportIssue[] {
  return issues.map((issue, order) => ({ issue, order })).sort((a, b) => a.issue.line - b.issue.line || a.order - b.order).map((x) => x.issue);
}

// ---------------------------------------------------------------------------------------------

function toCell(r: Record<string, any>): MatrixCell {
  return {
    probabilityId: r.probability_id,
    category: r.category,
    subcategory: r.subcategory,
    version: r.version,
    stateDescriptor: r.state_descriptor,
    valueBucket: r.value_bucket,
    situationalFactors: r.situational_factors,
    winProbability: decimal(r.win_probability),
    ciLower: decimalOrNull(r.confidence_interval_lower),
    ciUpper: decimalOrNull(r.confidence_interval_upper),
    sampleSize: r.sample_size,
  };
}

export class ProbabilityMatrixRepository {
  /**
   * With a pool, an import runs in a transaction of its own; with a client, the caller's
   * transaction (if any) is the boundary (the import is one INSERT statement either way).
   */
  constructor(private readonly db: pg.Pool | Queryable) {}

  /**
   * Imports one matrix version from CSV text: every row is validated first (all problems are
   * reported together in a MatrixImportError, nothing is written), then all cells are inserted by
   * one INSERT … SELECT FROM unnest. An existing (category, subcategory, version) is refused with
   * MatrixVersionExistsError. `source` fills the source column of rows that leave it empty.
   */
  async importCsv(text: string, options: { source?: string } = {}): Promise<MatrixImportResult> {
    const { key, rows } = validateMatrixCsv(text);
    const write = async (db: Queryable): Promise<MatrixImportResult> => {
      // Serialise concurrent imports of the same version: the existence check below then holds.
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('probability_matrices:' || $1 || '/' || $2 || '/' || $3))`, [
        key.category, key.subcategory, key.version,
      ]);
      const existing = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM probability_matrices WHERE category = $1 AND subcategory = $2 AND version = $3`,
        [key.category, key.subcategory, key.version],
      );
      const n = existing.rows[0]?.n ?? 0;
      if (n > 0) throw new MatrixVersionExistsError(key, n);
      const column = <T>(pick: (r: MatrixRow) => T) => rows.map(pick);
      const inserted = await db.query(
        `INSERT INTO probability_matrices (category, subcategory, version, state_descriptor, value_bucket, situational_factors,
           win_probability, confidence_interval_lower, confidence_interval_upper, sample_size, source, methodology)
         SELECT category, subcategory, version, state_descriptor, value_bucket, situational_factors,
                win_probability, ci_lower, ci_upper, sample_size, source, methodology
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::numeric[], $8::numeric[],
                     $9::numeric[], $10::int[], $11::text[], $12::text[])
           AS t(category, subcategory, version, state_descriptor, value_bucket, situational_factors, win_probability, ci_lower,
                ci_upper, sample_size, source, methodology)`,
        [
          column((r) => r.category),
          column((r) => r.subcategory),
          column((r) => r.version),
          column((r) => r.state_descriptor),
          column((r) => r.value_bucket),
          column((r) => (r.situational_factors === null ? null : JSON.stringify(r.situational_factors))),
          column((r) => r.win_probability.toFixed()),
          column((r) => r.confidence_interval_lower?.toFixed() ?? null),
          column((r) => r.confidence_interval_upper?.toFixed() ?? null),
          column((r) => r.sample_size),
          column((r) => r.source ?? options.source ?? null),
          column((r) => r.methodology),
        ],
      );
      return { ...key, cells: inserted.rowCount ?? rows.length };
    };
    return this.db instanceof pg.Pool ? withTransaction(this.db, write) : write(this.db);
  }

  /** The cells of the given matrix versions, ordered by matrix, state and bucket. */
  async loadCells(versions: readonly MatrixKey[]): Promise<MatrixCell[]> {
    if (versions.length === 0) return [];
    const { rows } = await this.db.query(
      `SELECT m.* FROM probability_matrices m
       JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[]) AS u(category, subcategory, version)) v
         ON m.category = v.category AND m.subcategory = v.subcategory AND m.version = v.version
       ORDER BY m.category, m.subcategory, version_sort_key(m.version), m.state_descriptor, m.value_bucket, m.probability_id`,
      [versions.map((v) => v.category), versions.map((v) => v.subcategory), versions.map((v) => v.version)],
    );
    return rows.map(toCell);
  }
}

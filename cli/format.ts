import { Decimal } from '../shared/domain/decimal';

/**
 * How the CLI prints numbers and tables for people (--json prints the exact values instead).
 * Money is dollars rounded half-up to cents (`$1,234.56`, `-$5.00`); ROI and other fractions are
 * percentages with one decimal (`12.3%`); prices keep their exact decimals. All from decimal text
 * or Decimal, never through a JS number.
 */

const EMPTY = '-';

function parse(value: Decimal | string | null | undefined): Decimal | undefined {
  if (value === null || value === undefined) return undefined;
  if (Decimal.isDecimal(value)) return value as Decimal;
  const text = String(value).trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return new Decimal(text);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Dollars to the cent: `$1,234.56`, `-$0.29`; `signed` adds `+` to a gain (P&L columns). */
export function usd(value: Decimal | string | null | undefined, options: { signed?: boolean } = {}): string {
  const d = parse(value);
  if (!d) return value === null || value === undefined ? EMPTY : String(value);
  const cents = d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const [whole = '0', fraction = '00'] = cents.abs().toFixed(2).split('.');
  const body = `$${groupThousands(whole)}.${fraction}`;
  if (cents.isNegative() && !cents.isZero()) return `-${body}`;
  return options.signed && !cents.isZero() ? `+${body}` : body;
}

/** A fraction as a percentage with one decimal, half-up: 0.1234 → `12.3%`, -0.15 → `-15.0%`. */
export function pct(value: Decimal | string | null | undefined): string {
  const d = parse(value);
  if (!d) return value === null || value === undefined ? EMPTY : String(value);
  const p = d.times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP);
  return `${p.isZero() ? '0.0' : p.toFixed(1)}%`;
}

/** A price or probability exactly, with at least two decimals: `0.42`, `0.4250` → `0.425`. */
export function price(value: Decimal | string | null | undefined): string {
  const d = parse(value);
  if (!d) return value === null || value === undefined ? EMPTY : String(value);
  return d.decimalPlaces() <= 2 ? d.toFixed(2) : d.toFixed();
}

/** A contract count exactly: `5`, `2.97`. */
export function count(value: Decimal | string | number | null | undefined): string {
  if (value === null || value === undefined) return EMPTY;
  const d = typeof value === 'number' ? new Decimal(value) : parse(value);
  return d ? d.toFixed() : String(value);
}

/** An instant as `2026-12-06 18:04:05Z` (UTC, seconds): sortable and short. */
export function time(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return EMPTY;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export interface Column<Row> {
  /** Header text. */
  header: string;
  /** The cell text of a row. */
  cell: (row: Row) => string;
  /** Numbers are right-aligned so their digits line up. */
  align?: 'left' | 'right';
}

/**
 * An aligned table: a header row, then one line per row; columns separated by two spaces, widths
 * by the longest cell (in characters), trailing spaces trimmed.
 */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string[] {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = columns.map((c, i) => Math.max([...c.header].length, ...cells.map((r) => [...r[i]!].length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const pad = ' '.repeat(widths[i]! - [...v].length);
        return columns[i]!.align === 'right' ? pad + v : v + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

/** `label value` pairs aligned on the values (a summary block). */
export function labelled(pairs: ReadonlyArray<readonly [label: string, value: string]>, indent = '  '): string[] {
  const width = Math.max(...pairs.map(([label]) => [...label].length));
  return pairs.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`.trimEnd());
}

import type { ColumnSpec } from './columns';

/**
 * Exact conversions between PostgreSQL's text forms and the values a tape file stores. A row read
 * from a tape holds (by column kind): int64 → bigint, int32 → number, decimal / numeric_text →
 * the exact decimal string PostgreSQL prints ("0.6100"), timestamptz → ISO-8601 with six
 * fractional digits ("2026-09-13T17:00:00.123456Z"), date → "YYYY-MM-DD", boolean → boolean,
 * json → the JSON text, text → string; NULL → null. No JS number ever holds a money value.
 */
export type TapeValue = bigint | number | string | boolean | null;
export type TapeRow = Record<string, TapeValue>;

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/** "12.3400" with scale 4 → 123400n (exact; more decimals than the scale is an error). */
export function decimalTextToUnscaled(text: string, scale: number, where: string): bigint {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) throw new Error(`${where}: ${JSON.stringify(text)} is not a finite decimal`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale) throw new Error(`${where}: ${text} has more than ${scale} decimals`);
  const unscaled = BigInt(whole! + fraction.padEnd(scale, '0'));
  return sign === '-' ? -unscaled : unscaled;
}

/** 123400n with scale 4 → "12.3400": what PostgreSQL prints for numeric(p, 4). */
export function unscaledToDecimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A big-endian two's-complement byte array (Parquet DECIMAL as FIXED_LEN_BYTE_ARRAY) → bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

const MICROS_PER_MS = 1000n;

/** Microseconds since the epoch → "2026-09-13T17:00:00.123456Z" (exact, any sign). */
export function microsToIso(micros: bigint): string {
  let ms = micros / MICROS_PER_MS;
  let rest = micros % MICROS_PER_MS;
  if (rest < 0n) {
    rest += MICROS_PER_MS;
    ms -= 1n;
  }
  const iso = new Date(Number(ms)).toISOString(); // ...SS.mmmZ
  if (iso.length !== 24) throw new RangeError(`timestamp ${micros} µs is outside the years 0000-9999`);
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

const ISO_MICROS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/** "2026-09-13T17:00:00.123456Z" → microseconds since the epoch (exact). */
export function isoToMicros(iso: string): bigint {
  const match = ISO_MICROS.exec(iso);
  if (!match) throw new Error(`${JSON.stringify(iso)} is not an ISO-8601 UTC timestamp`);
  const seconds = Date.parse(`${match[1]}Z`);
  if (!Number.isFinite(seconds)) throw new Error(`${JSON.stringify(iso)} is not a valid timestamp`);
  return BigInt(seconds) * MICROS_PER_MS + BigInt((match[2] ?? '').padEnd(6, '0'));
}

const MS_PER_DAY = 86_400_000;

export function daysToDate(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The PostgreSQL value of a SELECT through exactSelectExpression → what the Parquet writer takes. */
export function sqlToParquet(column: ColumnSpec, value: unknown, where: string): unknown {
  if (value === null || value === undefined) {
    if (!column.nullable) throw new Error(`${where}: NULL in NOT NULL column`);
    return null;
  }
  switch (column.kind) {
    case 'int64':
    case 'timestamptz':
      return BigInt(value as string);
    case 'decimal':
      return decimalTextToUnscaled(value as string, column.scale!, where);
    case 'json':
      return new TextEncoder().encode(value as string);
    case 'int32':
    case 'date':
    case 'boolean':
    case 'numeric_text':
    case 'text':
      return value;
  }
}

/** A raw Parquet value (decoded by hyparquet with every logical conversion turned off) → a TapeValue. */
export function parquetToTape(column: ColumnSpec, raw: unknown, where: string): TapeValue {
  if (raw === null || raw === undefined) {
    if (!column.nullable) throw new Error(`${where}: NULL in NOT NULL column`);
    return null;
  }
  switch (column.kind) {
    case 'int64':
      return typeof raw === 'bigint' ? raw : BigInt(raw as number);
    case 'timestamptz':
      return microsToIso(typeof raw === 'bigint' ? raw : BigInt(raw as number));
    case 'decimal': {
      const unscaled = raw instanceof Uint8Array ? bytesToBigInt(raw) : BigInt(raw as bigint | number);
      return unscaledToDecimalText(unscaled, column.scale!);
    }
    case 'date':
      return daysToDate(raw as number);
    case 'int32':
    case 'boolean':
      return raw as number | boolean;
    case 'json':
    case 'numeric_text':
    case 'text':
      return raw instanceof Uint8Array ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : (raw as string);
  }
}

/** A TapeValue → the text parameter PostgreSQL casts to the column's type (`$n::type`). */
export function tapeToSqlParam(column: ColumnSpec, value: unknown, where: string): string | boolean | null {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new Error(`${where}: expected a boolean, got ${typeof value}`);
      return value;
    case 'int64':
    case 'int32':
      if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value)) && !(typeof value === 'string' && /^-?\d+$/.test(value))) {
        throw new Error(`${where}: expected an integer, got ${String(value)}`);
      }
      return String(value);
    default:
      if (typeof value !== 'string') throw new Error(`${where}: expected a string (${column.kind}), got ${typeof value}`);
      return value;
  }
}

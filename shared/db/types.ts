import pg from 'pg';
import { Decimal } from '../domain/decimal';

const { types } = pg;

const NUMERIC_OID = 1700;
const INT8_OID = 20;
const NUMERIC_ARRAY_OID = 1231;

function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`bigint ${value} does not fit a JS safe integer`);
  }
  return n;
}

// pg's own numeric[] parser goes through parseFloat; parse as text[] and convert exactly instead.
const TEXT_ARRAY_OID = 1009;
const parseNumericArray = types.getTypeParser(TEXT_ARRAY_OID as Parameters<typeof types.getTypeParser>[0], 'text');

/**
 * Per-pool type parsers (no global mutation of pg): NUMERIC becomes Decimal, BIGINT (identity keys,
 * counts) becomes a checked JS integer. Everything else keeps pg's defaults.
 */
export const precogTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format === undefined || format === 'text') {
      if (oid === NUMERIC_OID) return (value: string) => new Decimal(value);
      if (oid === INT8_OID) return parseInt8;
      if (oid === NUMERIC_ARRAY_OID) {
        return (value: string) => (parseNumericArray(value) as (string | null)[]).map((v) => (v === null ? null : new Decimal(v)));
      }
    }
    return types.getTypeParser(oid, format ?? 'text');
  },
} as pg.CustomTypesConfig;

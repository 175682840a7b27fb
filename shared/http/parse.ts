import * as z from 'zod';
import { Decimal } from '../domain/decimal';
import { PayloadError } from './errors';

function describe(issue: z.core.$ZodIssue): string {
  return issue.message;
}

function pathOf(prefix: string, issue: z.core.$ZodIssue): string {
  let path = prefix;
  for (const part of issue.path) path += typeof part === 'number' ? `[${part}]` : path ? `.${String(part)}` : String(part);
  return path || '(root)';
}

/**
 * A list inside a payload that is parsed later, element by element (nested markets of an event,
 * the records of a page): the checks below leave it to that later parse.
 */
export class Deferred {
  constructor(readonly items: readonly unknown[]) {}
}

/** A list to be parsed element by element later (see Deferred). */
export const deferredList = () => z.array(z.unknown()).transform((items) => new Deferred(items));

/**
 * What no schema should let into the database, checked for every parser in one place, on the
 * parsed record: strings containing NUL (PostgreSQL text cannot hold them) and numbers that are
 * not finite or exceed the safe-integer range (counts, scores).
 */
function unsafeValue(parsed: unknown): { path: string; reason: string } | undefined {
  // Runs on every parsed record: a plain recursive walk without per-level allocations.
  const walk = (value: unknown, depth: number): string | undefined => {
    switch (typeof value) {
      case 'string':
        return value.includes('\u0000') ? 'contains a NUL character' : undefined;
      case 'number':
        return !Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)) ? 'number out of range' : undefined;
      case 'object':
        break;
      default:
        return undefined;
    }
    if (value === null || depth > 8 || value instanceof Decimal || value instanceof Date || value instanceof Deferred) return undefined;
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const reason = walk(record[key], depth + 1);
      if (reason) {
        path.unshift(Array.isArray(value) ? `[${key}]` : `.${key}`);
        return reason;
      }
    }
    return undefined;
  };
  const path: string[] = [];
  const reason = walk(parsed, 0);
  return reason ? { path: path.join(''), reason } : undefined;
}

/** Parses a whole payload or throws a PayloadError naming the first offending field. */
export function parseStrict<S extends z.ZodType>(source: string, schema: S, value: unknown, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) {
    const unsafe = unsafeValue(parsed.data);
    if (!unsafe) return parsed.data;
    throw new PayloadError(source, `${prefix || '(root)'}${unsafe.path}`, unsafe.reason);
  }
  const issue = parsed.error.issues[0]!;
  throw new PayloadError(source, pathOf(prefix, issue), describe(issue));
}

export interface RejectedRecord {
  /** Where the record sat, e.g. "markets[3]". */
  at: string;
  /** The record's id when it had a readable one. */
  id?: string;
  /** The offending field, e.g. "markets[3].yes_ask_dollars". */
  path: string;
  reason: string;
}

/**
 * Parses each element of a list on its own: good records come back parsed, bad ones come back
 * as rejections naming the field, so that one bad record never costs the others.
 */
export function parseEach<S extends z.ZodType>(
  source: string,
  schema: S,
  list: readonly unknown[],
  listName: string,
  idField?: string,
): { items: Array<z.infer<S>>; rejected: RejectedRecord[] } {
  const items: Array<z.infer<S>> = [];
  const rejected: RejectedRecord[] = [];
  list.forEach((value, index) => {
    const parsed = schema.safeParse(value);
    const rawId = idField && value && typeof value === 'object' ? (value as Record<string, unknown>)[idField] : undefined;
    const id = typeof rawId === 'string' && !rawId.includes('\u0000') ? rawId : undefined;
    if (parsed.success) {
      const unsafe = unsafeValue(parsed.data);
      if (!unsafe) {
        items.push(parsed.data);
        return;
      }
      rejected.push({ at: `${listName}[${index}]`, id, path: `${listName}[${index}]${unsafe.path}`, reason: `${source}: ${unsafe.reason}` });
      return;
    }
    const issue = parsed.error.issues[0]!;
    rejected.push({ at: `${listName}[${index}]`, id, path: pathOf(`${listName}[${index}]`, issue), reason: `${source}: ${describe(issue)}` });
  });
  return { items, rejected };
}

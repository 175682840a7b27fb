import type { z } from 'zod';
import { PayloadError } from './errors';

function describe(issue: z.core.$ZodIssue): string {
  return issue.message;
}

function pathOf(prefix: string, issue: z.core.$ZodIssue): string {
  let path = prefix;
  for (const part of issue.path) path += typeof part === 'number' ? `[${part}]` : path ? `.${String(part)}` : String(part);
  return path || '(root)';
}

/** Parses a whole payload or throws a PayloadError naming the first offending field. */
export function parseStrict<S extends z.ZodType>(source: string, schema: S, value: unknown, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
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
    if (parsed.success) {
      items.push(parsed.data);
      return;
    }
    const issue = parsed.error.issues[0]!;
    const rawId = idField && value && typeof value === 'object' ? (value as Record<string, unknown>)[idField] : undefined;
    rejected.push({
      at: `${listName}[${index}]`,
      id: typeof rawId === 'string' ? rawId : undefined,
      path: pathOf(`${listName}[${index}]`, issue),
      reason: `${source}: ${describe(issue)}`,
    });
  });
  return { items, rejected };
}

import type { z } from 'zod';

/** A Lambda event (console test event, schedule, queue message) that does not match its schema. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
  constructor(
    readonly functionName: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
  ) {
    super(`invalid ${functionName} event: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** Validates an event before anything runs, naming each offending field. */
export function parseEvent<S extends z.ZodType>(functionName: string, schema: S, event: unknown): z.infer<S> {
  const parsed = schema.safeParse(event ?? {});
  if (parsed.success) return parsed.data;
  throw new InvalidEventError(
    functionName,
    parsed.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(event)',
      message: issue.message,
    })),
  );
}

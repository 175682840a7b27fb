import * as z from 'zod';

const decimalText = z.string().regex(/^\d+(\.\d{1,4})?$/, 'a price with at most 4 decimals, as a string');

/**
 * The entry-orders queue message: one order intent already recorded in `orders` (status
 * 'pending'). The consumer re-checks everything before sending it to the venue.
 */
export const EntryOrderMessage = z
  .object({
    version: z.literal(1),
    clientOrderId: z.string().regex(/^pc-[0-9a-f]{32}$/),
    marketId: z.string().min(1),
    platformId: z.string().min(1),
    strategyId: z.number().int().positive(),
    modelId: z.number().int().positive(),
    edgeId: z.number().int().positive(),
    side: z.enum(['yes', 'no']),
    quantity: z.number().int().positive(),
    limitPrice: decimalText,
    createdAt: z.iso.datetime(),
  })
  .strict();
export type EntryOrderMessage = z.infer<typeof EntryOrderMessage>;

/** Where entry orders go: SQS in AWS, an in-process queue locally and in tests. */
export interface EntryQueue {
  /** Sends the messages; returns the client order ids that could not be sent (retried next scan). */
  send(messages: readonly EntryOrderMessage[]): Promise<{ failed: string[] }>;
}

/**
 * The exit-orders queue message: one exit request recorded by the monitor. Each receive is one
 * attempt (price walking); the consumer reads everything else from the request row.
 */
export const ExitOrderMessage = z
  .object({
    version: z.literal(1),
    exitRequestId: z.number().int().positive(),
    positionId: z.number().int().positive(),
    priority: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']),
    createdAt: z.iso.datetime(),
  })
  .strict();
export type ExitOrderMessage = z.infer<typeof ExitOrderMessage>;

/** Where exit orders go: SQS in AWS, an in-process queue locally and in tests. */
export interface ExitQueue {
  /** Sends the messages; returns the exit request ids that could not be sent (retried next sweep). */
  send(messages: readonly ExitOrderMessage[]): Promise<{ failed: number[] }>;
}

/** A queue message that can never be executed as it is (bad JSON, wrong shape). */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
}

/**
 * Parses an entry-orders message body, naming the first field that is wrong
 * ("entry order message: quantity: Too small: expected number to be >0").
 */
export function parseEntryOrderMessage(body: string): EntryOrderMessage {
  return parseMessage('entry order message', EntryOrderMessage, body);
}

/** Parses an exit-orders message body, naming the first field that is wrong. */
export function parseExitOrderMessage(body: string): ExitOrderMessage {
  return parseMessage('exit order message', ExitOrderMessage, body);
}

function parseMessage<S extends z.ZodType>(what: string, schema: S, body: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidMessageError(`${what} is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : '(message)';
    throw new InvalidMessageError(`${what}: ${field}: ${issue.message}`);
  }
  return parsed.data;
}

import { z } from 'zod';

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

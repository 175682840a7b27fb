import * as z from 'zod';
import { parseEvent } from './parseEvent';

/** The event an EventBridge schedule delivers. */
const ScheduledEvent = z.object({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
});

/**
 * Scheduled functions take either the EventBridge scheduled event (run with defaults) or a
 * hand-written console event validated by `options` (`{}` also means defaults).
 */
export function parseScheduledOrConsoleEvent<S extends z.ZodType>(functionName: string, options: S, event: unknown): z.infer<S> {
  if (ScheduledEvent.safeParse(event).success) return parseEvent(functionName, options, {});
  return parseEvent(functionName, options, event);
}

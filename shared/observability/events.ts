import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { now, sleep } from '../clock/clock';
import { parseEnvironment } from '../config/environment';
import {
  CONFIDENCE_LEVELS,
  EXIT_CONDITIONS,
  EXIT_PRIORITIES,
  type BreakerEffect,
  type CircuitBreakerType,
} from '../config/tradingRules';
import { dec, type Decimal } from '../domain/decimal';
import { createLogger } from './logger';

/**
 * Precog's operational events, put on its own EventBridge bus. Operators route them anywhere (the
 * stack sends them to the alarm topic). Every event is `{ detailType, detail }`; each detail type
 * has a zod schema and a detail is validated before anything is sent. Money, prices, edges and EVs
 * are 4-decimal strings ("0.1500"), never JSON numbers.
 *
 * Publishing never breaks trading: entries EventBridge refuses (and SDK errors) are retried with
 * backoff, and what still fails is logged and returned, never thrown. Only an invalid detail (a
 * programming error) throws, before anything is sent.
 */

/** The events' `source` unless configured otherwise. */
export const DEFAULT_EVENT_SOURCE = 'precog';

// ---------------------------------------------------------------------------------------------
// Detail types.

export const CIRCUIT_BREAKER_TRIPPED = 'Circuit Breaker Tripped';
export const CIRCUIT_BREAKER_RESOLVED = 'Circuit Breaker Resolved';
export const EDGE_ALERT = 'Edge Alert';
export const EXIT_STOPPED = 'Exit Stopped';
export const VENUE_DESYNC_DETECTED = 'Venue Desync Detected';

export const DETAIL_TYPES = [
  CIRCUIT_BREAKER_TRIPPED,
  CIRCUIT_BREAKER_RESOLVED,
  EDGE_ALERT,
  EXIT_STOPPED,
  VENUE_DESYNC_DETECTED,
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

// ---------------------------------------------------------------------------------------------
// Field schemas.

/** The schema's `circuit_breaker_events.breaker_type` values. */
export const BREAKER_TYPES = ['daily_loss_limit', 'api_failures', 'data_stale', 'rapid_loss', 'trade_rate', 'manual'] as const;
// Both directions: the list is exactly the trading rules' CircuitBreakerType.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const breakerTypesMatch: Same<(typeof BREAKER_TYPES)[number], CircuitBreakerType> = true;
void breakerTypesMatch;

/** How a tripped breaker is reset (the trading rules' BreakerEffect.reset). */
export const BREAKER_RESETS = ['next_trading_day', 'when_clear', 'manual'] as const;
const breakerResetsMatch: Same<(typeof BREAKER_RESETS)[number], BreakerEffect['reset']> = true;
void breakerResetsMatch;

const NOT_A_NUMBER = 'a 4-decimal string such as "0.1500", never a JSON number';
const fourDecimalText = (pattern: RegExp, message: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : NOT_A_NUMBER) })
    .regex(pattern, message);

/** A price or probability: "0.0000" to "1.0000". */
export const eventPrice = fourDecimalText(/^(0\.\d{4}|1\.0000)$/, 'a price from "0.0000" to "1.0000" with exactly 4 decimals');
/** An edge or an expected value: "-1.0000" to "1.0000". */
export const eventSignedFraction = fourDecimalText(
  /^-?(0\.\d{4}|1\.0000)$/,
  'a value from "-1.0000" to "1.0000" with exactly 4 decimals',
);
/** Money or any other decimal: exactly 4 decimals, optionally negative ("-12.5000"). */
export const eventDecimal = fourDecimalText(/^-?\d+\.\d{4}$/, 'a decimal with exactly 4 decimals, e.g. "12.5000"');

/** A Decimal (or decimal string) as the events' 4-decimal text: `fourDecimals(dec('0.15'))` is "0.1500". */
export function fourDecimals(value: Decimal | string): string {
  return dec(value).toFixed(4);
}

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const timestamp = z.iso.datetime({ offset: true, error: 'an ISO 8601 timestamp such as "2026-11-27T18:00:00.000Z"' });
const name = z.string().min(1);
const versionRef = z.object({ name, version: name }).strict();

/**
 * A free-form JSON object (trigger values, desync snapshots): plain objects, arrays, strings,
 * booleans, null and whole numbers (counts, seconds) only. A number with decimals is refused
 * (money and prices travel as 4-decimal strings), and so is anything JSON.stringify would change
 * (a Decimal, a Date, undefined, NaN).
 */
export const jsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const visit = (v: unknown, path: PropertyKey[]): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) {
        ctx.addIssue({ code: 'custom', path, message: `${v} is not a whole number: money and prices are 4-decimal strings` });
      }
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, [...path, i]));
      return;
    }
    if (typeof v === 'object' && isPlainObject(v)) {
      for (const [key, child] of Object.entries(v)) visit(child, [...path, key]);
      return;
    }
    const what = typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
    ctx.addIssue({ code: 'custom', path, message: `${what} is not plain JSON (a Decimal goes as a 4-decimal string, a time as ISO text)` });
  };
  visit(value, []);
});

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Detail schemas.

/** A circuit breaker tripped (a `circuit_breaker_events` row was opened). */
export const CircuitBreakerTrippedDetail = z
  .object({
    eventId: id,
    breakerType: z.enum(BREAKER_TYPES),
    triggeredAt: timestamp,
    /** What tripped it (the row's `trigger_value`). */
    triggerValue: jsonObject,
    /** What the breaker does (the trading rules' BreakerEffect). */
    effect: z
      .object({
        liquidate: z.boolean(),
        blockEntries: z.boolean(),
        reset: z.enum(BREAKER_RESETS),
      })
      .strict(),
  })
  .strict();
export type CircuitBreakerTrippedDetail = z.infer<typeof CircuitBreakerTrippedDetail>;
const effectMatches: Same<CircuitBreakerTrippedDetail['effect'], BreakerEffect> = true;
void effectMatches;

/** A tripped circuit breaker was resolved (automatically or by an operator). */
export const CircuitBreakerResolvedDetail = z
  .object({
    eventId: id,
    breakerType: z.enum(BREAKER_TYPES),
    triggeredAt: timestamp,
    resolvedAt: timestamp,
    resolutionAction: name,
  })
  .strict()
  .refine((d) => Date.parse(d.resolvedAt) >= Date.parse(d.triggeredAt), {
    path: ['resolvedAt'],
    message: 'resolvedAt is before triggeredAt',
  });
export type CircuitBreakerResolvedDetail = z.infer<typeof CircuitBreakerResolvedDetail>;

/** An edge whose recommended action is `alert`: for a human to review, never traded automatically. */
export const EdgeAlertDetail = z
  .object({
    edgeId: id,
    marketId: name,
    strategy: versionRef,
    model: versionRef,
    side: z.enum(['yes', 'no']),
    edge: eventSignedFraction,
    expectedValue: eventSignedFraction,
    marketPrice: eventPrice,
    confidence: z.enum(CONFIDENCE_LEVELS),
  })
  .strict();
export type EdgeAlertDetail = z.infer<typeof EdgeAlertDetail>;

/** An exit request that gave up after its last price walk (`stop_and_alert`): the position is still open. */
export const ExitStoppedDetail = z
  .object({
    exitRequestId: id,
    positionId: id,
    marketId: name,
    condition: z.enum(EXIT_CONDITIONS),
    priority: z.enum(EXIT_PRIORITIES),
    reason: name,
    /** Contracts of the request left unsold, as exact decimal text ("5", "2.97"): counts can be fractional. */
    remainingQuantity: z.string().regex(/^\d+(\.\d{1,2})?$/, 'a non-negative count with at most 2 decimals, as a string'),
  })
  .strict();
export type ExitStoppedDetail = z.infer<typeof ExitStoppedDetail>;

/** Reconciliation (positions, orders) or settle-markets (settlement credits) found Precog's books and the venue disagreeing (a `venue_desyncs` row). */
export const VenueDesyncDetectedDetail = z
  .object({
    ticker: name,
    /** null when the venue reports a market Precog has never ingested. */
    marketId: name.nullable(),
    kind: z.enum(['position', 'order', 'settlement']),
    local: jsonObject,
    venue: jsonObject,
    detectedAt: timestamp,
  })
  .strict();
export type VenueDesyncDetectedDetail = z.infer<typeof VenueDesyncDetectedDetail>;

/** The schema of each detail type. */
export const DETAIL_SCHEMAS = {
  [CIRCUIT_BREAKER_TRIPPED]: CircuitBreakerTrippedDetail,
  [CIRCUIT_BREAKER_RESOLVED]: CircuitBreakerResolvedDetail,
  [EDGE_ALERT]: EdgeAlertDetail,
  [EXIT_STOPPED]: ExitStoppedDetail,
  [VENUE_DESYNC_DETECTED]: VenueDesyncDetectedDetail,
} as const satisfies Record<DetailType, z.ZodType>;

export type DetailOf<T extends DetailType> = z.infer<(typeof DETAIL_SCHEMAS)[T]>;

/** One operational event: a detail type and its detail. */
export type PrecogEvent = { [T in DetailType]: { detailType: T; detail: DetailOf<T> } }[DetailType];

/** An event whose detail does not match its schema (a programming error: nothing was sent). */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/**
 * Validates an event against its detail type's schema: the parsed event, or an InvalidEventError
 * naming the field ("invalid "Edge Alert" event: detail.edge: a 4-decimal string such as …").
 */
export function validatePrecogEvent(event: PrecogEvent): PrecogEvent {
  const detailType = (event as { detailType?: unknown } | null)?.detailType;
  if (typeof detailType !== 'string' || !Object.hasOwn(DETAIL_SCHEMAS, detailType)) {
    throw new InvalidEventError(
      `invalid event: detailType: ${JSON.stringify(detailType)} is not one of ${DETAIL_TYPES.map((t) => `"${t}"`).join(', ')}`,
    );
  }
  const parsed = (DETAIL_SCHEMAS[detailType as DetailType] as z.ZodType).safeParse(event.detail);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${['detail', ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new InvalidEventError(`invalid "${detailType}" event: ${issues.join('; ')}`);
  }
  return { detailType, detail: parsed.data } as PrecogEvent;
}

// ---------------------------------------------------------------------------------------------
// Publishers.

export interface PublishResult {
  /** Events accepted by the bus (or kept, in memory). */
  published: number;
  /** Events that could not be published after every attempt, with the last error. */
  failed: Array<{ event: PrecogEvent; error: string }>;
}

/** Where Precog's operational events go: EventBridge in AWS, memory locally and in tests. */
export interface EventPublisher {
  /**
   * Publishes the events. Throws only when a detail is invalid (before anything is sent); a
   * delivery failure is returned in `failed` (and logged), never thrown.
   */
  publish(events: PrecogEvent[]): Promise<PublishResult>;
}

export type EventLogger = Pick<Logger, 'debug' | 'warn' | 'error'>;

/** PutEvents accepts at most 10 entries per request… */
export const MAX_ENTRIES_PER_REQUEST = 10;
/** …of at most 256 KB in all (entry sizes as EventBridge counts them). */
export const MAX_REQUEST_BYTES = 256 * 1024;

export interface EventBridgePublisherOptions {
  /** The event bus: its name or ARN. */
  busName: string;
  /** The events' `source` (default "precog"). */
  source?: string;
  /** Attempts per entry, the first included (default 3). */
  maxAttempts?: number;
  /** Backoff before attempt n+1 is `baseDelayMs × 2^(n−1)` (default 100 ms: 100, 200, …). */
  baseDelayMs?: number;
  /** Waits between attempts (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** The entries' `Time` (default: now, once per publish). */
  now?: () => Date;
  logger?: EventLogger;
}

interface Pending {
  event: PrecogEvent;
  entry: PutEventsRequestEntry;
  size: number;
  error: string;
}

const utf8Bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/**
 * The size EventBridge counts for an entry (Time 14 bytes, Source, DetailType, Detail, Resources),
 * plus the bus name (not counted by EventBridge, counted here to stay safely under the limit).
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time ? 14 : 0) +
    utf8Bytes(entry.Source) +
    utf8Bytes(entry.DetailType) +
    utf8Bytes(entry.Detail) +
    utf8Bytes(entry.EventBusName) +
    (entry.Resources ?? []).reduce((n, r) => n + utf8Bytes(r), 0)
  );
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The bus name or ARN PutEvents accepts. */
const BUS_NAME = /^(arn:aws[\w-]*:events:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;
const busName = z
  .string()
  .max(1600, 'at most 1600 characters')
  .regex(BUS_NAME, 'an event bus name (letters, digits, . - _ /) or an event bus ARN');
const eventSource = z
  .string()
  .min(1, 'required')
  .max(256, 'at most 256 characters')
  .refine((s) => !s.toLowerCase().startsWith('aws.'), 'the "aws." prefix is reserved for AWS services');

/**
 * Publishes to an EventBridge bus with PutEvents: at most 10 entries and 256 KB per request. When
 * EventBridge refuses some entries (`FailedEntryCount > 0`), only those (matched by their index in
 * the response's `Entries`) are sent again, with backoff, up to `maxAttempts`; a thrown SDK error
 * retries the whole batch the same way. What still fails is logged and returned, never thrown.
 * Delivery is at least once: a retried entry may reach a rule twice.
 */
export class EventBridgePublisher implements EventPublisher {
  readonly busName: string;
  readonly source: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => Date;
  private loggerInstance: EventLogger | undefined;

  constructor(
    private readonly client: Pick<EventBridgeClient, 'send'>,
    options: EventBridgePublisherOptions,
  ) {
    const bus = busName.safeParse(options.busName);
    if (!bus.success) throw new RangeError(`EventBridgePublisher busName: ${bus.error.issues[0]!.message}`);
    const source = eventSource.safeParse(options.source ?? DEFAULT_EVENT_SOURCE);
    if (!source.success) throw new RangeError(`EventBridgePublisher source: ${source.error.issues[0]!.message}`);
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`EventBridgePublisher maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
    }
    this.busName = bus.data;
    this.source = source.data;
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? sleep;
    this.now = options.now ?? now;
    this.loggerInstance = options.logger;
  }

  private get logger(): EventLogger {
    return (this.loggerInstance ??= createLogger('precog-events'));
  }

  async publish(events: PrecogEvent[]): Promise<PublishResult> {
    // All or nothing: one invalid detail and nothing is sent.
    const valid = events.map(validatePrecogEvent);
    const time = this.now();
    const failed: PublishResult['failed'] = [];
    const sendable: Pending[] = [];
    valid.forEach((event, i) => {
      const entry: PutEventsRequestEntry = {
        Time: time,
        EventBusName: this.busName,
        Source: this.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
      };
      const size = putEventsEntrySize(entry);
      const pending = { event: events[i]!, entry, size, error: '' };
      if (size > MAX_REQUEST_BYTES) {
        failed.push({ event: pending.event, error: `entry is ${size} bytes, over the ${MAX_REQUEST_BYTES}-byte PutEvents limit` });
      } else {
        sendable.push(pending);
      }
    });

    let published = 0;
    for (const batch of this.batches(sendable)) {
      const result = await this.sendBatch(batch);
      published += result.published;
      failed.push(...result.failed.map((p) => ({ event: p.event, error: p.error })));
    }

    if (failed.length > 0) {
      this.logger.error('events not published', {
        busName: this.busName,
        published,
        failed: failed.map((f) => ({ detailType: f.event.detailType, error: f.error, detail: f.event.detail })),
      });
    }
    return { published, failed };
  }

  /** Consecutive batches of at most 10 entries and 256 KB. */
  private *batches(entries: Pending[]): Generator<Pending[]> {
    let batch: Pending[] = [];
    let bytes = 0;
    for (const p of entries) {
      if (batch.length === MAX_ENTRIES_PER_REQUEST || (batch.length > 0 && bytes + p.size > MAX_REQUEST_BYTES)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(p);
      bytes += p.size;
    }
    if (batch.length > 0) yield batch;
  }

  private async sendBatch(batch: Pending[]): Promise<{ published: number; failed: Pending[] }> {
    let pending = batch;
    let published = 0;
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
      let response;
      try {
        response = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
      } catch (error) {
        const text = errorText(error);
        for (const p of pending) p.error = text;
        this.logger.warn('PutEvents request failed', { attempt, maxAttempts: this.maxAttempts, entries: pending.length, error: text });
        continue;
      }
      if ((response.FailedEntryCount ?? 0) === 0) {
        published += pending.length;
        pending = [];
        break;
      }
      // Results are in the order of the request's entries.
      const stillFailing: Pending[] = [];
      pending.forEach((p, i) => {
        const result = response.Entries?.[i];
        if (result?.ErrorCode || !result?.EventId) {
          p.error = result?.ErrorCode
            ? `${result.ErrorCode}: ${result.ErrorMessage ?? 'no message'}`
            : 'PutEvents returned no result for this entry';
          stillFailing.push(p);
        } else {
          published++;
        }
      });
      if (stillFailing.length > 0) {
        this.logger.warn('PutEvents entries failed', {
          attempt,
          maxAttempts: this.maxAttempts,
          failed: stillFailing.map((p) => ({ detailType: p.event.detailType, error: p.error })),
        });
      }
      pending = stillFailing;
    }
    return { published, failed: pending };
  }
}

/** Keeps what was published (the local runtime, tests). Details are validated as on EventBridge. */
export class MemoryEventPublisher implements EventPublisher {
  readonly published: PrecogEvent[] = [];

  constructor(private readonly options: { logger?: EventLogger } = {}) {}

  async publish(events: PrecogEvent[]): Promise<PublishResult> {
    events.forEach(validatePrecogEvent);
    for (const event of events) {
      this.options.logger?.debug('event', { detailType: event.detailType, detail: event.detail });
    }
    this.published.push(...events);
    return { published: events.length, failed: [] };
  }

  /** The details published with one detail type, in order. */
  details<T extends DetailType>(detailType: T): DetailOf<T>[] {
    return this.published.filter((e) => e.detailType === detailType).map((e) => e.detail as DetailOf<T>);
  }

  clear(): void {
    this.published.length = 0;
  }
}

/** Publishes nothing (events switched off); details are still validated. `published` is 0. */
export class NoopEventPublisher implements EventPublisher {
  async publish(events: PrecogEvent[]): Promise<PublishResult> {
    events.forEach(validatePrecogEvent);
    return { published: 0, failed: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// From the environment.

const emptyIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);

export const EventsEnv = z.object({
  /** Precog's event bus (name or ARN); unset: events are kept in memory and logged at debug. */
  EVENT_BUS_NAME: z.preprocess(emptyIsUnset, busName.optional()),
  /** The events' `source`. */
  EVENT_SOURCE: z.preprocess(emptyIsUnset, eventSource.default(DEFAULT_EVENT_SOURCE)),
});
export type EventsEnv = z.infer<typeof EventsEnv>;

export function parseEventsEnv(env: NodeJS.ProcessEnv = process.env): EventsEnv {
  return parseEnvironment('events', EventsEnv, env);
}

// One client per container, created on the first publish (cold starts that publish nothing pay nothing).
let sharedClient: EventBridgeClient | undefined;
const lazyClient: Pick<EventBridgeClient, 'send'> = {
  send: ((...args: Parameters<EventBridgeClient['send']>) =>
    (sharedClient ??= new EventBridgeClient({})).send(...args)) as EventBridgeClient['send'],
};

/**
 * The publisher a function uses: EventBridge when EVENT_BUS_NAME is set (EVENT_SOURCE, default
 * "precog"), else memory with a debug log line per event (local runs). A bad value is a ConfigError
 * naming the variable.
 */
export function eventPublisherFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: Omit<EventBridgePublisherOptions, 'busName' | 'source'> & { client?: Pick<EventBridgeClient, 'send'> } = {},
): EventBridgePublisher | MemoryEventPublisher {
  const parsed = parseEventsEnv(env);
  const { client, ...rest } = options;
  if (!parsed.EVENT_BUS_NAME) {
    return new MemoryEventPublisher({ logger: options.logger ?? createLogger('precog-events') });
  }
  return new EventBridgePublisher(client ?? lazyClient, { ...rest, busName: parsed.EVENT_BUS_NAME, source: parsed.EVENT_SOURCE });
}

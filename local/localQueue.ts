import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { EntryOrderMessage, EntryQueue, ExitOrderMessage, ExitQueue } from '../shared/queues/messages';

/**
 * An SQS standard queue in process, for the local runtime: the semantics the consumers rely on,
 * on an injectable clock. A received message is invisible for the visibility timeout (or what
 * ChangeMessageVisibility set), then comes back with ApproximateReceiveCount one higher; only its
 * latest receipt handle deletes it; a message that comes back visible after `maxReceiveCount`
 * receives goes to the dead-letter list on the next receive instead of being delivered (SQS's
 * redrive policy). Delivery order is the send order (deterministic; SQS does not promise one).
 */
export interface LocalQueueOptions<M, Id> {
  /** The queue's name (in the records' eventSourceARN). */
  name: string;
  /** The id send reports failures by (like SqsQueue), also sent as the `key` message attribute. */
  idOf: (message: M) => Id;
  /** Epoch ms (default Date.now): the local runtime passes its virtual clock. */
  now?: () => number;
  /** Default 30 (SQS's default). */
  visibilityTimeoutSeconds?: number;
  /** Receives before the dead-letter list (default: no redrive policy). */
  maxReceiveCount?: number;
  /** After every send, receive, visibility change, delete and dead-letter move: persist `saveState()` here (SQS is durable; a local process is not). */
  onChange?: () => void;
}

/** A message as saved between runs of the local runtime. */
export interface SavedMessage<M> {
  message: M;
  receiveCount: number;
  sentAt: number;
}

/**
 * A queue's whole state, saved by the local runtime on every change: every message with its
 * visibility and receive state, the dead letters and the id sequence, so that a restarted run
 * continues the same timeline (a message in flight when the process died comes back when its
 * visibility timeout ends, as in SQS).
 */
export interface SavedQueue<M> {
  seq: number;
  messages: {
    messageId: string;
    message: M;
    sentAt: number;
    receiveCount: number;
    firstReceivedAt: number | null;
    receivedAt: number | null;
    visibleAt: number;
    receiptHandle: string | null;
  }[];
  deadLetters: DeadLetter<M>[];
}

export interface DeadLetter<M> {
  messageId: string;
  message: M;
  body: string;
  receiveCount: number;
  sentAt: number;
  movedAt: number;
}

export interface DeliveryResult {
  /** Records handed to the consumer (0: the consumer was not called). */
  received: number;
  /** Message ids acknowledged (deleted). */
  deleted: string[];
  /** Message ids left in flight, to come back after their visibility timeout. */
  failed: string[];
  /** The consumer threw, or reported an identifier not in the batch: the whole batch failed. */
  error?: Error;
}

/** The longest visibility timeout SQS accepts, and the longest a message may stay in flight after a receive. */
export const MAX_VISIBILITY_SECONDS = 43_200;

interface Stored<M> {
  messageId: string;
  message: M;
  body: string;
  id: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt: number | null;
  receivedAt: number | null;
  visibleAt: number;
  receiptHandle: string | null;
}

export class LocalQueue<M, Id = string> {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** Messages moved by the redrive policy, oldest first. */
  readonly deadLetters: DeadLetter<M>[] = [];
  private readonly idOf: (message: M) => Id;
  private readonly now: () => number;
  private readonly onChange?: () => void;
  private readonly messages = new Map<string, Stored<M>>();
  private readonly byReceipt = new Map<string, string>();
  private seq = 0;

  constructor(options: LocalQueueOptions<M, Id>) {
    this.name = options.name;
    this.arn = `arn:aws:sqs:local:000000000000:${options.name}`;
    this.idOf = options.idOf;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
    this.maxReceiveCount = options.maxReceiveCount ?? Number.POSITIVE_INFINITY;
    checkSeconds(this.visibilityTimeoutSeconds);
    if (!(this.maxReceiveCount >= 1)) throw new RangeError(`maxReceiveCount must be at least 1, not ${this.maxReceiveCount}`);
  }

  /** Enqueues the messages (visible at once); nothing fails locally. */
  async send(messages: readonly M[]): Promise<{ failed: Id[] }> {
    const at = this.now();
    for (const message of messages) {
      const seq = ++this.seq;
      const messageId = `${this.name}-${String(seq).padStart(6, '0')}`;
      this.messages.set(messageId, {
        messageId, message, body: JSON.stringify(message), id: String(this.idOf(message)), sentAt: at,
        receiveCount: 0, firstReceivedAt: null, receivedAt: null, visibleAt: at, receiptHandle: null,
      });
    }
    if (messages.length > 0) this.onChange?.();
    return { failed: [] };
  }

  /** Every message not yet deleted (in flight ones too), oldest first. */
  exportMessages(): SavedMessage<M>[] {
    return [...this.messages.values()].map((m) => ({ message: m.message, receiveCount: m.receiveCount, sentAt: m.sentAt }));
  }

  /**
   * Messages saved by `exportMessages` (a restart): all visible at once, as in-flight messages of a
   * consumer that died become visible again; their receive counts are kept.
   */
  importMessages(saved: readonly SavedMessage<M>[]): void {
    for (const s of saved) {
      const seq = ++this.seq;
      const messageId = `${this.name}-${String(seq).padStart(6, '0')}`;
      this.messages.set(messageId, {
        messageId, message: s.message, body: JSON.stringify(s.message), id: String(this.idOf(s.message)), sentAt: s.sentAt,
        receiveCount: s.receiveCount, firstReceivedAt: null, receivedAt: null, visibleAt: this.now(), receiptHandle: null,
      });
    }
  }

  /** The queue's whole state (see SavedQueue). */
  saveState(): SavedQueue<M> {
    return {
      seq: this.seq,
      messages: [...this.messages.values()].map((m) => ({
        messageId: m.messageId, message: m.message, sentAt: m.sentAt, receiveCount: m.receiveCount,
        firstReceivedAt: m.firstReceivedAt, receivedAt: m.receivedAt, visibleAt: m.visibleAt, receiptHandle: m.receiptHandle,
      })),
      deadLetters: [...this.deadLetters],
    };
  }

  /** Replaces this queue's state with a saved one (a restarted local run). */
  restoreState(saved: SavedQueue<M>): void {
    this.messages.clear();
    this.byReceipt.clear();
    this.deadLetters.length = 0;
    this.seq = saved.seq;
    for (const m of saved.messages) {
      this.messages.set(m.messageId, { ...m, body: JSON.stringify(m.message), id: String(this.idOf(m.message)) });
      if (m.receiptHandle) this.byReceipt.set(m.receiptHandle, m.messageId);
    }
    this.deadLetters.push(...saved.deadLetters);
  }

  /** When the next message becomes visible (epoch ms; at or before now: one is visible), or undefined when the queue is empty. */
  nextVisibleAt(): number | undefined {
    let next: number | undefined;
    for (const m of this.messages.values()) if (next === undefined || m.visibleAt < next) next = m.visibleAt;
    return next;
  }

  /**
   * Up to `max` (1–10) visible messages as Lambda delivers them, each now in flight for the
   * visibility timeout with a new receipt handle. Visible messages already received
   * `maxReceiveCount` times go to the dead-letter list instead.
   */
  receive(max = 10): SQSRecord[] {
    if (!Number.isInteger(max) || max < 1 || max > 10) throw new RangeError(`receive takes 1 to 10 messages, not ${max}`);
    const at = this.now();
    const records: SQSRecord[] = [];
    // A Map iterates in insertion order: the send order.
    for (const m of this.messages.values()) {
      if (records.length >= max) break;
      if (m.visibleAt > at) continue;
      if (m.receiveCount >= this.maxReceiveCount) {
        this.forget(m);
        this.deadLetters.push({ messageId: m.messageId, message: m.message, body: m.body, receiveCount: m.receiveCount, sentAt: m.sentAt, movedAt: at });
        this.onChange?.();
        continue;
      }
      if (m.receiptHandle) this.byReceipt.delete(m.receiptHandle);
      m.receiveCount++;
      m.firstReceivedAt ??= at;
      m.receivedAt = at;
      m.visibleAt = at + this.visibilityTimeoutSeconds * 1000;
      m.receiptHandle = `${m.messageId}#${m.receiveCount}`;
      this.byReceipt.set(m.receiptHandle, m.messageId);
      records.push(this.record(m));
    }
    if (records.length > 0) this.onChange?.();
    return records;
  }

  /** Deletes the message if this is its latest receipt handle; a stale or unknown one deletes nothing (false), as in SQS. */
  delete(receiptHandle: string): boolean {
    const messageId = this.byReceipt.get(receiptHandle);
    const m = messageId === undefined ? undefined : this.messages.get(messageId);
    if (!m) return false;
    this.forget(m);
    this.onChange?.();
    return true;
  }

  /**
   * Makes the in-flight message visible `seconds` from now (0: at once). Throws, as SQS does, for
   * a stale or unknown receipt handle, a message no longer in flight, or a timeout beyond 12 hours
   * after its receive.
   */
  changeVisibility(receiptHandle: string, seconds: number): void {
    checkSeconds(seconds);
    const messageId = this.byReceipt.get(receiptHandle);
    const m = messageId === undefined ? undefined : this.messages.get(messageId);
    if (!m) throw new Error(`${this.name}: receipt handle ${receiptHandle} is not the latest of any message (ReceiptHandleIsInvalid)`);
    const at = this.now();
    if (m.visibleAt <= at) throw new Error(`${this.name}: message ${m.messageId} is not in flight (MessageNotInflight)`);
    const visibleAt = at + seconds * 1000;
    if (visibleAt - m.receivedAt! > MAX_VISIBILITY_SECONDS * 1000) {
      throw new RangeError(`${this.name}: message ${m.messageId} cannot stay in flight more than ${MAX_VISIBILITY_SECONDS} s after its receive`);
    }
    m.visibleAt = visibleAt;
    this.onChange?.();
  }

  /** execute-exit's `runtime.retryAfter`: the record comes back after `seconds` (rounded up, clamped as in AWS). */
  readonly retryAfter = async (record: SQSRecord, seconds: number): Promise<void> => {
    if (record.eventSourceARN !== this.arn) throw new Error(`${this.name}: record ${record.messageId} comes from ${record.eventSourceARN}`);
    this.changeVisibility(record.receiptHandle, Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(seconds))));
  };

  /**
   * One Lambda poll: receives up to `batchSize` messages and, if any, hands them to the consumer
   * as an SQS event. Records not in `batchItemFailures` are deleted; failed ones stay in flight
   * until their visibility timeout (or what the consumer set). A consumer that throws, or names an
   * identifier not in the batch, fails the whole batch (Lambda's rule); the error is returned.
   */
  async deliver(
    consumer: (event: SQSEvent) => Promise<SQSBatchResponse | void>,
    options: { batchSize?: number } = {},
  ): Promise<DeliveryResult> {
    const records = this.receive(options.batchSize ?? 10);
    if (records.length === 0) return { received: 0, deleted: [], failed: [] };
    const all = records.map((r) => r.messageId);
    let failedIds: Set<string>;
    let error: Error | undefined;
    try {
      const response = await consumer({ Records: records });
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      const unknown = [...failedIds].filter((id) => !all.includes(id));
      if (unknown.length > 0) {
        error = new Error(`${this.name}: batchItemFailures names ${unknown.map((id) => JSON.stringify(id)).join(', ')}, not in the batch`);
        failedIds = new Set(all);
      }
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new Error(String(thrown));
      failedIds = new Set(all);
    }
    const deleted: string[] = [];
    for (const r of records) {
      if (failedIds.has(r.messageId)) continue;
      if (this.delete(r.receiptHandle)) deleted.push(r.messageId);
    }
    return { received: records.length, deleted, failed: all.filter((id) => failedIds.has(id)), ...(error ? { error } : {}) };
  }

  /** Visible and in-flight messages (SQS's ApproximateNumberOfMessages + …NotVisible), dead letters excluded. */
  depth(): number {
    return this.messages.size;
  }

  /** Messages received and not yet visible again. */
  inFlight(): number {
    const at = this.now();
    let n = 0;
    for (const m of this.messages.values()) if (m.visibleAt > at) n++;
    return n;
  }

  private forget(m: Stored<M>): void {
    this.messages.delete(m.messageId);
    if (m.receiptHandle) this.byReceipt.delete(m.receiptHandle);
  }

  private record(m: Stored<M>): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle!,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
      },
      messageAttributes: { key: { dataType: 'String', stringValue: m.id, stringListValues: [], binaryListValues: [] } },
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: 'local',
    };
  }
}

function checkSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
    throw new RangeError(`a visibility timeout is 0 to ${MAX_VISIBILITY_SECONDS} whole seconds, not ${seconds}`);
  }
}

type QueueOptions = Partial<Omit<LocalQueueOptions<never, never>, 'idOf'>>;

/** The deployed queues' visibility timeouts (infra/queues.ts): 6× the consumer's timeout (a test keeps them equal). */
export const ENTRY_VISIBILITY_SECONDS = 360;
export const EXIT_VISIBILITY_SECONDS = 360;

/** Messages per invocation of both consumers (infra/functions.ts ORDER_BATCH_SIZE; a test keeps them equal). */
export const ORDER_BATCH_SIZE = 1;

/**
 * The entry-orders queue locally: as in AWS, 6× execute-entry's 60 s timeout of visibility and 5
 * receives before the dead-letter list (infra/queues.ts ENTRY_MAX_RECEIVE_COUNT).
 */
export class LocalEntryQueue extends LocalQueue<EntryOrderMessage, string> implements EntryQueue {
  constructor(options: QueueOptions = {}) {
    super({
      name: options.name ?? 'precog-entry-orders', now: options.now, onChange: options.onChange, idOf: (m) => m.clientOrderId,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? ENTRY_VISIBILITY_SECONDS, maxReceiveCount: options.maxReceiveCount ?? 5,
    });
  }
}

/** The exit-orders queue locally: 6× execute-exit's 60 s timeout, 30 receives (EXIT_MAX_RECEIVE_COUNT). */
export class LocalExitQueue extends LocalQueue<ExitOrderMessage, number> implements ExitQueue {
  constructor(options: QueueOptions = {}) {
    super({
      name: options.name ?? 'precog-exit-orders', now: options.now, onChange: options.onChange, idOf: (m) => m.exitRequestId,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? EXIT_VISIBILITY_SECONDS, maxReceiveCount: options.maxReceiveCount ?? 30,
    });
  }
}

import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand,
  SendMessageCommand, type Message, type MessageAttributeValue, type SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigError } from '../../shared/config/environment';

/**
 * `precog dlq list|redrive`: the dead-letter queues of entry-orders and exit-orders on SQS.
 *
 * The queues are found from the functions' own settings: ENTRY_QUEUE_URL / EXIT_QUEUE_URL (the
 * stack's EntryQueueUrl / ExitQueueUrl outputs); each one's dead-letter queue is read from its
 * redrive policy, unless ENTRY_DLQ_URL / EXIT_DLQ_URL name it. Any SQS-compatible endpoint works
 * (AWS_ENDPOINT_URL_SQS). The local runtime's queues live inside the `npm start` process and are
 * not reachable from here: it prints each dead letter as it happens.
 *
 * `list` receives the dead letters without deleting them (each one's receive count grows by one)
 * and makes them visible again at once. `redrive` sends each dead letter back to its queue (same
 * body and attributes) and only then deletes it from the dead-letter queue: a failure in between
 * leaves a duplicate, never a loss; the consumers are idempotent.
 */

export type DlqName = 'entry' | 'exit';
export const DLQ_NAMES: readonly DlqName[] = ['entry', 'exit'];

const SOURCE_ENV: Record<DlqName, string> = { entry: 'ENTRY_QUEUE_URL', exit: 'EXIT_QUEUE_URL' };
const DLQ_ENV: Record<DlqName, string> = { entry: 'ENTRY_DLQ_URL', exit: 'EXIT_DLQ_URL' };
/** While `list` reads them, dead letters are hidden this long (made visible again at the end). */
const LIST_VISIBILITY_SECONDS = 30;
/** A redriven message is hidden this long between its receive and its delete. */
const REDRIVE_VISIBILITY_SECONDS = 60;

export interface DlqDeps {
  sqs: Pick<SQSClient, 'send'>;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
}

export interface DlqOptions {
  queues: readonly DlqName[];
  /** At most this many dead letters per queue. */
  limit: number;
  json?: boolean;
}

export interface DeadLetterView {
  messageId: string;
  sentAt: string | null;
  /** SQS's count: the consumer's receives, plus this command's. */
  receiveCount: number | null;
  /** What the message is about (exit request and position, or entry order), when its body says. */
  subject: string;
  body: string;
}

interface ResolvedQueue {
  name: DlqName;
  sourceUrl: string;
  dlqUrl: string;
}

export async function resolveDlq(deps: Pick<DlqDeps, 'sqs' | 'env'>, name: DlqName): Promise<ResolvedQueue> {
  const sourceUrl = deps.env[SOURCE_ENV[name]];
  if (!sourceUrl) {
    throw new ConfigError(`precog dlq: ${SOURCE_ENV[name]} is not set (the ${name}-orders queue URL: the stack's ${name === 'entry' ? 'EntryQueueUrl' : 'ExitQueueUrl'} output)`);
  }
  const explicit = deps.env[DLQ_ENV[name]];
  if (explicit) return { name, sourceUrl, dlqUrl: explicit };
  const { Attributes } = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ['RedrivePolicy'] }));
  const policy = Attributes?.RedrivePolicy;
  if (!policy) throw new ConfigError(`precog dlq: ${sourceUrl} has no redrive policy (no dead-letter queue); set ${DLQ_ENV[name]} to name one`);
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? '';
  const [, , service, , account, queueName] = arn.split(':');
  if (service !== 'sqs' || !account || !queueName) throw new ConfigError(`precog dlq: ${sourceUrl}'s redrive policy names no SQS queue (${policy})`);
  const { QueueUrl } = await deps.sqs.send(new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: account }));
  if (!QueueUrl) throw new ConfigError(`precog dlq: the dead-letter queue ${arn} has no URL`);
  return { name, sourceUrl, dlqUrl: QueueUrl };
}

/**
 * Long polling (1 s): a short poll samples some of SQS's servers and may answer empty while messages
 * wait, which would end the listing early.
 */
async function receive(sqs: DlqDeps['sqs'], queueUrl: string, max: number, visibilitySeconds: number): Promise<Message[]> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({
    QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, max), VisibilityTimeout: visibilitySeconds, WaitTimeSeconds: 1,
    MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'],
  }));
  return Messages ?? [];
}

function view(message: Message): DeadLetterView {
  const body = message.Body ?? '';
  const sent = Number(message.Attributes?.SentTimestamp);
  const receives = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId ?? '?',
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    receiveCount: Number.isFinite(receives) ? receives : null,
    subject: subjectOf(body),
    body,
  };
}

/** "exit request 12 (position 7, CRITICAL)", "entry order pc-…", or what is wrong with the body. */
export function subjectOf(body: string): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return 'not JSON';
  }
  if (parsed && typeof parsed.exitRequestId === 'number') {
    return `exit request ${parsed.exitRequestId} (position ${String(parsed.positionId)}, ${String(parsed.priority)})`;
  }
  if (parsed && typeof parsed.clientOrderId === 'string') return `entry order ${parsed.clientOrderId} (${String(parsed.marketId)})`;
  return 'unknown shape';
}

export interface DlqListResult {
  queue: DlqName;
  deadLetterQueueUrl: string;
  messages: DeadLetterView[];
}

/** The dead letters of each queue (up to `limit`), left in place and visible again. */
export async function dlqList(deps: DlqDeps, options: DlqOptions): Promise<DlqListResult[]> {
  const results: DlqListResult[] = [];
  for (const name of options.queues) {
    const queue = await resolveDlq(deps, name);
    const seen = new Map<string, Message>();
    // SQS returns what it samples: keep receiving (the ones seen stay hidden) until nothing new comes.
    while (seen.size < options.limit) {
      const batch = (await receive(deps.sqs, queue.dlqUrl, options.limit - seen.size, LIST_VISIBILITY_SECONDS))
        .filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (batch.length === 0) break;
      for (const m of batch) seen.set(m.MessageId!, m);
    }
    const messages = [...seen.values()];
    for (let i = 0; i < messages.length; i += 10) {
      await deps.sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queue.dlqUrl,
        Entries: messages.slice(i, i + 10).map((m, n) => ({ Id: `m${i + n}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }));
    }
    results.push({ queue: name, deadLetterQueueUrl: queue.dlqUrl, messages: messages.map(view) });
  }
  if (options.json) {
    deps.out(JSON.stringify(results));
    return results;
  }
  for (const r of results) {
    deps.out(`${r.queue}-orders dead letters (${r.deadLetterQueueUrl}): ${r.messages.length}${r.messages.length >= options.limit ? ` (--limit ${options.limit} reached)` : ''}`);
    for (const m of r.messages) deps.out(`  ${m.messageId}  sent ${m.sentAt ?? '?'}  receives ${m.receiveCount ?? '?'}  ${m.subject}`);
  }
  if (results.some((r) => r.queue === 'exit' && r.messages.length > 0)) {
    deps.out('An active exit request whose message is dead-lettered is re-sent by the monitor once its message window has passed; redrive sends it now.');
  }
  return results;
}

export interface DlqRedriveResult {
  queue: DlqName;
  to: string;
  redriven: Array<{ messageId: string; newMessageId: string; subject: string }>;
  failed: Array<{ messageId: string; error: string }>;
}

/** Sends each dead letter (up to `limit` per queue) back to its queue, then deletes it from the dead-letter queue. */
export async function dlqRedrive(deps: DlqDeps, options: DlqOptions): Promise<DlqRedriveResult[]> {
  const results: DlqRedriveResult[] = [];
  for (const name of options.queues) {
    const queue = await resolveDlq(deps, name);
    const result: DlqRedriveResult = { queue: name, to: queue.sourceUrl, redriven: [], failed: [] };
    while (result.redriven.length + result.failed.length < options.limit) {
      const batch = await receive(deps.sqs, queue.dlqUrl, options.limit - result.redriven.length - result.failed.length, REDRIVE_VISIBILITY_SECONDS);
      if (batch.length === 0) break;
      for (const m of batch) {
        try {
          const { MessageId } = await deps.sqs.send(new SendMessageCommand({
            QueueUrl: queue.sourceUrl, MessageBody: m.Body ?? '', MessageAttributes: resendable(m.MessageAttributes),
          }));
          await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
          result.redriven.push({ messageId: m.MessageId ?? '?', newMessageId: MessageId ?? '?', subject: subjectOf(m.Body ?? '') });
        } catch (error) {
          // Left in the dead-letter queue (visible again after its hold), or sent twice if only the delete failed.
          result.failed.push({ messageId: m.MessageId ?? '?', error: (error as Error).message });
        }
      }
      // A failed message comes back after its hold: one pass per command, not a retry loop on it.
      if (result.failed.length > 0) break;
    }
    results.push(result);
  }
  if (options.json) {
    deps.out(JSON.stringify(results));
  } else {
    for (const r of results) {
      deps.out(`${r.queue}-orders: ${r.redriven.length} redriven to ${r.to}${r.failed.length > 0 ? `, ${r.failed.length} failed` : ''}`);
      for (const m of r.redriven) deps.out(`  ${m.messageId} -> ${m.newMessageId}  ${m.subject}`);
      for (const f of r.failed) deps.out(`  ${f.messageId} not redriven: ${f.error}`);
    }
  }
  const failed = results.reduce((n, r) => n + r.failed.length, 0);
  if (failed > 0) throw new Error(`${failed} dead letter(s) could not be redriven (see above)`);
  return results;
}

/** Message attributes as SendMessage takes them (the received ones carry empty list fields). */
function resendable(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  return Object.fromEntries(Object.entries(attributes).map(([key, v]) => [key, {
    DataType: v.DataType, ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : {}), ...(v.BinaryValue !== undefined ? { BinaryValue: v.BinaryValue } : {}),
  }]));
}

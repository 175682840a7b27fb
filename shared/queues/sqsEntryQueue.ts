import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EntryOrderMessage, EntryQueue, ExitOrderMessage, ExitQueue } from './messages';

/**
 * Messages on SQS, 10 per SendMessageBatch. Entries SQS reports as failed are retried once; the
 * ids of what still fails are returned (the outbox row stays unsent and the next run sends it).
 * Standard queues deliver at least once: consumers deduplicate on the row the message names.
 */
export class SqsQueue<M, Id> {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    private readonly idOf: (message: M) => Id,
  ) {}

  async send(messages: readonly M[]): Promise<{ failed: Id[] }> {
    const failed: Id[] = [];
    for (let i = 0; i < messages.length; i += 10) {
      let batch = messages.slice(i, i + 10);
      for (let attempt = 1; attempt <= 2 && batch.length > 0; attempt++) {
        const response = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((m, n) => ({
              Id: `m${n}`,
              MessageBody: JSON.stringify(m),
              MessageAttributes: { key: { DataType: 'String', StringValue: String(this.idOf(m)) } },
            })),
          }),
        );
        const failedIds = new Set((response.Failed ?? []).map((f) => f.Id));
        batch = batch.filter((_, n) => failedIds.has(`m${n}`));
      }
      failed.push(...batch.map(this.idOf));
    }
    return { failed };
  }
}

/** The entry-orders queue on SQS. */
export class SqsEntryQueue extends SqsQueue<EntryOrderMessage, string> implements EntryQueue {
  constructor(sqs: Pick<SQSClient, 'send'>, queueUrl: string) {
    super(sqs, queueUrl, (m) => m.clientOrderId);
  }
}

/** The exit-orders queue on SQS. */
export class SqsExitQueue extends SqsQueue<ExitOrderMessage, number> implements ExitQueue {
  constructor(sqs: Pick<SQSClient, 'send'>, queueUrl: string) {
    super(sqs, queueUrl, (m) => m.exitRequestId);
  }
}

/** An in-memory queue (local runtime, tests): keeps what was sent. */
export class MemoryQueue<M, Id> {
  readonly sent: M[] = [];
  async send(messages: readonly M[]): Promise<{ failed: Id[] }> {
    this.sent.push(...messages);
    return { failed: [] };
  }
}

export class MemoryEntryQueue extends MemoryQueue<EntryOrderMessage, string> implements EntryQueue {}
export class MemoryExitQueue extends MemoryQueue<ExitOrderMessage, number> implements ExitQueue {}

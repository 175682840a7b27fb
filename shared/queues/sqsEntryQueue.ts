import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EntryOrderMessage, EntryQueue } from './messages';

/**
 * Entry orders on SQS, 10 per SendMessageBatch. Entries SQS reports as failed are retried once;
 * what still fails is returned (its order stays unsent and the next scan sends it again).
 * Standard queues deliver at least once: the consumer deduplicates by clientOrderId.
 */
export class SqsEntryQueue implements EntryQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly EntryOrderMessage[]): Promise<{ failed: string[] }> {
    const failed: string[] = [];
    for (let i = 0; i < messages.length; i += 10) {
      let batch = messages.slice(i, i + 10);
      for (let attempt = 1; attempt <= 2 && batch.length > 0; attempt++) {
        const response = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((m, n) => ({
              Id: `m${n}`,
              MessageBody: JSON.stringify(m),
              MessageAttributes: { clientOrderId: { DataType: 'String', StringValue: m.clientOrderId } },
            })),
          }),
        );
        const failedIds = new Set((response.Failed ?? []).map((f) => f.Id));
        batch = batch.filter((_, n) => failedIds.has(`m${n}`));
      }
      failed.push(...batch.map((m) => m.clientOrderId));
    }
    return { failed };
  }
}

/** An in-memory queue (local runtime, tests): keeps what was sent. */
export class MemoryEntryQueue implements EntryQueue {
  readonly sent: EntryOrderMessage[] = [];
  async send(messages: readonly EntryOrderMessage[]): Promise<{ failed: string[] }> {
    this.sent.push(...messages);
    return { failed: [] };
  }
}

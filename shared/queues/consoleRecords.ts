import type { SQSRecord } from 'aws-lambda';

/**
 * Receipt handles of hand-written records: Precog's sample events (events/*.json) and the Lambda
 * console's SQS template. SQS's own are long opaque tokens, never these.
 */
export const CONSOLE_RECEIPT_HANDLES: readonly string[] = ['console-test', 'MessageReceiptHandle'];

/**
 * Why `record` did not come from the queue this function consumes (a console test event invoked by
 * hand), or null when it did. Such a record has no message to act on: ChangeMessageVisibility
 * with its receipt handle can only fail (ReceiptHandleIsInvalid) or, with a stale real handle
 * pasted by hand, move a message someone else holds. With `queueUrl` (the configured queue), a
 * record from any other queue is not the function's either.
 */
export function notFromQueue(record: SQSRecord, queueUrl?: string): string | null {
  if (CONSOLE_RECEIPT_HANDLES.includes(record.receiptHandle) || record.attributes?.SenderId === 'console') {
    return `record ${record.messageId} is a console test event (receipt handle ${JSON.stringify(record.receiptHandle)})`;
  }
  if (queueUrl) {
    const expected = queueArnOf(queueUrl);
    if (expected && record.eventSourceARN !== expected) {
      return `record ${record.messageId} comes from ${record.eventSourceARN}, not from this function's queue ${expected}`;
    }
  }
  return null;
}

/** arn:aws:sqs:REGION:ACCOUNT:NAME of https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (null: not an SQS queue URL). */
export function queueArnOf(queueUrl: string): string | null {
  const match = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([A-Za-z0-9_-]+(?:\.fifo)?)$/.exec(queueUrl);
  if (!match) return null;
  const [, region, account, name] = match;
  const partition = region!.startsWith('cn-') ? 'aws-cn' : region!.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:sqs:${region}:${account}:${name}`;
}

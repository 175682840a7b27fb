import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/execute-exit/handler';
import { closeSharedPool } from '../../shared/db/pool';
import { sweepPositions } from '../../shared/monitor/sweep';
import { notFromQueue, queueArnOf } from '../../shared/queues/consoleRecords';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useTestDatabase } from '../helpers/database';
import { lambdaContext, openPosition, paperExchange, sqsRecord } from '../helpers/execution';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * execute-exit as deployed (pool, paper exchange and SQS client from the environment): an
 * unfilled attempt returns its message after the priority's wait with ChangeMessageVisibility, but
 * a record invoked by hand from the console (events/execute-exit.json) has no message in flight,
 * so the call is skipped and what it would have done is logged.
 */
// The handler's logger is made at import: WARN, so the skipped call's log line can be read.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
});
const db = useTestDatabase();
const sqs = mockClient(SQSClient);
const savedEnv = { ...process.env };
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/precog-exit-orders';
const KC = `${GAME_EVENT}-KC`;
const consoleSample = (): SQSEvent => JSON.parse(readFileSync(new URL('../../events/execute-exit.json', import.meta.url), 'utf8'));

beforeAll(() => {
  Object.assign(process.env, { DATABASE_URL: db().url, EXIT_QUEUE_URL: QUEUE_URL, POWERTOOLS_METRICS_DISABLED: 'true' });
  delete process.env.EXECUTION_MODE;
});
afterAll(async () => {
  process.env = savedEnv;
  sqs.restore();
  await closeSharedPool();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

describe('execute-exit handler: console records and visibility', () => {
  it('a console record walks no message (no ChangeMessageVisibility, logged); a record from the queue does', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quoteYes(db().pool, KC, 58, 60);
    await openPosition(db().pool, paperExchange(db().pool), { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
    await quoteYes(db().pool, KC, 69, 71); // +15 %: a MEDIUM partial exit at the mid (0.70), resting
    const queue = new MemoryExitQueue();
    await sweepPositions({ pool: db().pool, queue });
    const message = queue.sent[0]!;
    expect(message.priority).toBe('MEDIUM');

    // The console's sample event, its body pointed at that request (as the README says to do).
    const event = consoleSample();
    event.Records[0]!.body = JSON.stringify(message);
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const byHand = await handler(event, lambdaContext);
    const logged = warn.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.includes('ChangeMessageVisibility skipped'));
    warn.mockRestore();
    // The attempt ran (its order rests at the venue) and reports the record failed, as for SQS…
    expect(byHand.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    const { rows: orders } = await db().pool.query(`SELECT status FROM orders WHERE exit_request_id = $1`, [message.exitRequestId]);
    expect(orders).toEqual([{ status: 'resting' }]);
    // …but no visibility change was asked for a receipt handle that SQS never gave.
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0]!)).toMatchObject({
      level: 'WARN', reason: expect.stringContaining('console test event'), wouldSetVisibilityTimeoutSeconds: 30,
    });

    // The same message delivered by SQS: its visibility is set to what is left of MEDIUM's 30 s wait.
    const fromQueue = { ...sqsRecord(message, 2), receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a', eventSourceARN: queueArnOf(QUEUE_URL)! };
    const delivered = await handler({ Records: [fromQueue] }, lambdaContext);
    expect(delivered.batchItemFailures).toEqual([{ itemIdentifier: fromQueue.messageId }]);
    const calls = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ QueueUrl: QUEUE_URL, ReceiptHandle: fromQueue.receiptHandle, VisibilityTimeout: expect.any(Number) }]);
    expect(calls[0]!.VisibilityTimeout).toBeGreaterThan(0);
    expect(calls[0]!.VisibilityTimeout).toBeLessThanOrEqual(30);
  });
});

describe('notFromQueue', () => {
  const record = (overrides: Record<string, unknown> = {}) => ({ ...sqsRecord({}), receiptHandle: 'AQEBzWwaftRI0KuVm4tP', ...overrides });
  it.each([
    ['the sample events\' receipt handle', record({ receiptHandle: 'console-test' }), undefined, /console test event/],
    ['the Lambda console SQS template', record({ receiptHandle: 'MessageReceiptHandle' }), undefined, /console test event/],
    ['a console sender', record({ attributes: { ...sqsRecord({}).attributes, SenderId: 'console' } }), undefined, /console test event/],
    ['another queue than the configured one', record({ eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:MyQueue' }), QUEUE_URL,
      /comes from arn:aws:sqs:us-east-1:123456789012:MyQueue, not from this function's queue arn:aws:sqs:us-east-1:123456789012:precog-exit-orders/],
  ])('refuses %s', (_what, r, url, reason) => {
    expect(notFromQueue(r, url)).toMatch(reason);
  });
  it('accepts a record of the configured queue, or any real one when no queue is configured', () => {
    expect(notFromQueue(record({ eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:precog-exit-orders' }), QUEUE_URL)).toBeNull();
    expect(notFromQueue(record())).toBeNull();
  });
});

import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand,
  SendMessageCommand, SQSClient, type Message,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';

/** precog dlq against SQS mocked at the SDK boundary; no database is touched (DATABASE_URL is a closed port). */
const sqs = mockClient(SQSClient);
afterAll(() => sqs.restore());

const NO_DATABASE = 'postgres://nobody@127.0.0.1:1/no_database';
const ACCOUNT = '123456789012';
const url = (name: string) => `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`;
const ENV = { ENTRY_QUEUE_URL: url('precog-entry-orders'), EXIT_QUEUE_URL: url('precog-exit-orders'), AWS_REGION: 'us-east-1' };
const precog = (...args: string[]) => runPrecog(NO_DATABASE, args, ENV);

const exitBody = JSON.stringify({ version: 1, exitRequestId: 12, positionId: 7, priority: 'CRITICAL', createdAt: '2026-12-06T20:00:00.000Z' });
const deadLetter = (n: number, body: string): Message => ({
  MessageId: `dead-${n}`, ReceiptHandle: `rh-${n}`, Body: body,
  Attributes: { SentTimestamp: '1796500000000', ApproximateReceiveCount: '31' },
  MessageAttributes: { key: { DataType: 'String', StringValue: '12', StringListValues: [], BinaryListValues: [] } },
});

beforeEach(() => {
  sqs.reset();
  for (const name of ['entry', 'exit']) {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: url(`precog-${name}-orders`) }).resolves({
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:precog-${name}-dlq`, maxReceiveCount: 30 }) },
    });
    sqs.on(GetQueueUrlCommand, { QueueName: `precog-${name}-dlq`, QueueOwnerAWSAccountId: ACCOUNT }).resolves({ QueueUrl: url(`precog-${name}-dlq`) });
  }
  // The exit DLQ holds two messages (SQS returns one of them twice before saying nothing new); the entry DLQ none.
  sqs.on(ReceiveMessageCommand, { QueueUrl: url('precog-exit-dlq') })
    .resolvesOnce({ Messages: [deadLetter(1, exitBody)] })
    .resolvesOnce({ Messages: [deadLetter(1, exitBody), deadLetter(2, 'not json')] })
    .resolves({ Messages: [] });
  sqs.on(ReceiveMessageCommand, { QueueUrl: url('precog-entry-dlq') }).resolves({});
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'new-1' });
  sqs.on(DeleteMessageCommand).resolves({});
});

const calls = <C extends abstract new (...args: never[]) => unknown>(command: C) => sqs.commandCalls(command as never).map((c) => c.args[0].input as Record<string, unknown>);

describe('precog dlq list', () => {
  it('shows the dead letters of both queues, found through the redrive policies, and leaves them visible', async () => {
    const r = await precog('dlq', 'list', '--json');
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.out)).toEqual([
      { queue: 'entry', deadLetterQueueUrl: url('precog-entry-dlq'), messages: [] },
      {
        queue: 'exit', deadLetterQueueUrl: url('precog-exit-dlq'), messages: [
          { messageId: 'dead-1', sentAt: '2026-12-05T19:46:40.000Z', receiveCount: 31, subject: 'exit request 12 (position 7, CRITICAL)', body: exitBody },
          { messageId: 'dead-2', sentAt: '2026-12-05T19:46:40.000Z', receiveCount: 31, subject: 'not JSON', body: 'not json' },
        ],
      },
    ]);
    expect(calls(ChangeMessageVisibilityBatchCommand)).toEqual([{
      QueueUrl: url('precog-exit-dlq'),
      Entries: [{ Id: 'm0', ReceiptHandle: 'rh-1', VisibilityTimeout: 0 }, { Id: 'm1', ReceiptHandle: 'rh-2', VisibilityTimeout: 0 }],
    }]);
    expect(calls(DeleteMessageCommand)).toEqual([]);
    expect(calls(SendMessageCommand)).toEqual([]);
    // Long polls (a short poll may answer empty while messages wait), everything asked for.
    for (const c of calls(ReceiveMessageCommand)) {
      expect(c).toMatchObject({ WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] });
    }
  });

  it('text output names each message and what it is about; --queue narrows, a DLQ URL can be given', async () => {
    const r = await runPrecog(NO_DATABASE, ['dlq', 'list', '--queue', 'exit'], { ...ENV, EXIT_DLQ_URL: url('precog-exit-dlq') });
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/^exit-orders dead letters \(.*precog-exit-dlq\): 2\n {2}dead-1 {2}sent 2026-12-05T19:46:40.000Z {2}receives 31 {2}exit request 12 \(position 7, CRITICAL\)/);
    expect(calls(GetQueueAttributesCommand)).toEqual([]);
    expect(calls(ReceiveMessageCommand).every((c) => c.QueueUrl === url('precog-exit-dlq'))).toBe(true);
  });
});

describe('precog dlq redrive', () => {
  it('sends each dead letter back to its queue with its attributes, then deletes it from the DLQ', async () => {
    sqs.on(ReceiveMessageCommand, { QueueUrl: url('precog-exit-dlq') })
      .resolvesOnce({ Messages: [deadLetter(1, exitBody), deadLetter(2, 'not json')] })
      .resolves({ Messages: [] });
    const r = await precog('dlq', 'redrive', '--queue', 'exit', '--json');
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.out)).toEqual([{
      queue: 'exit', to: url('precog-exit-orders'), failed: [],
      redriven: [
        { messageId: 'dead-1', newMessageId: 'new-1', subject: 'exit request 12 (position 7, CRITICAL)' },
        { messageId: 'dead-2', newMessageId: 'new-1', subject: 'not JSON' },
      ],
    }]);
    expect(calls(SendMessageCommand)[0]).toEqual({
      QueueUrl: url('precog-exit-orders'), MessageBody: exitBody, MessageAttributes: { key: { DataType: 'String', StringValue: '12' } },
    });
    // Each send precedes its delete: a failure in between duplicates, never loses.
    const order = sqs.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name)
      .filter((n) => n === 'SendMessageCommand' || n === 'DeleteMessageCommand');
    expect(order).toEqual(['SendMessageCommand', 'DeleteMessageCommand', 'SendMessageCommand', 'DeleteMessageCommand']);
    expect(calls(DeleteMessageCommand).map((c) => c.ReceiptHandle)).toEqual(['rh-1', 'rh-2']);
  });

  it('a message that cannot be sent stays in the DLQ (not deleted) and the command exits 1', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('AccessDenied: not authorized to sqs:SendMessage'));
    const r = await precog('dlq', 'redrive', '--queue', 'exit', '--json');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(JSON.parse(r.out)[0]).toMatchObject({ redriven: [], failed: [{ messageId: 'dead-1', error: expect.stringMatching(/AccessDenied/) }] });
    expect(JSON.parse(r.err)).toEqual({ error: '1 dead letter(s) could not be redriven (see above)' });
    expect(calls(DeleteMessageCommand)).toEqual([]);
  });
});

describe('precog dlq errors', () => {
  it('without the queue URL: exit 1 naming the variable', async () => {
    const r = await runPrecog(NO_DATABASE, ['dlq', 'list', '--json'], { ENTRY_QUEUE_URL: ENV.ENTRY_QUEUE_URL });
    expect(r.code).toBe(EXIT_FAILURE);
    expect(JSON.parse(r.err).error).toMatch(/EXIT_QUEUE_URL is not set/);
  });

  it('an unknown queue or a bad limit is a usage error (exit 2)', async () => {
    const queue = await precog('dlq', 'list', '--queue', 'orders', '--json');
    expect(queue.code).toBe(EXIT_USAGE);
    expect(JSON.parse(queue.err)).toMatchObject({ code: 'commander.invalidArgument', error: expect.stringMatching(/Allowed choices are entry, exit, all/) });
    expect((await precog('dlq', 'redrive', '--limit', '0')).code).toBe(EXIT_USAGE);
    expect((await precog('dlq')).code).toBe(EXIT_USAGE);
    expect(sqs.calls()).toHaveLength(0);
  });
});

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ExecuteExitRuntime } from '../../functions/execute-exit/handler';
import { LocalEntryQueue, LocalExitQueue, LocalQueue } from '../../local/localQueue';
import type { EntryQueue, ExitQueue } from '../../shared/queues/messages';
import { parseEntryOrderMessage, parseExitOrderMessage } from '../../shared/queues/messages';
import { lambdaContext } from '../helpers/execution';

interface Msg { n: number }

/** A queue on a hand-moved clock (epoch ms). */
function setup(options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}) {
  const clock = { t: 1_000_000 };
  const queue = new LocalQueue<Msg, number>({ name: 'test-q', idOf: (m) => m.n, now: () => clock.t, ...options });
  const advance = (seconds: number) => {
    clock.t += seconds * 1000;
  };
  return { clock, queue, advance };
}

const ns = (records: SQSRecord[]) => records.map((r) => (JSON.parse(r.body) as Msg).n);
const ok = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });

describe('LocalQueue: receiving', () => {
  it('delivers real SQS records (body, ids, attributes, ARN) and counts depth and in-flight', async () => {
    const { queue, clock } = setup();
    expect(await queue.send([{ n: 1 }, { n: 2 }])).toEqual({ failed: [] });
    expect([queue.depth(), queue.inFlight()]).toEqual([2, 0]);
    const [r1, r2] = queue.receive();
    expect(r1).toEqual({
      messageId: 'test-q-000001',
      receiptHandle: expect.any(String),
      body: '{"n":1}',
      attributes: {
        ApproximateReceiveCount: '1', SentTimestamp: String(clock.t), SenderId: 'local', ApproximateFirstReceiveTimestamp: String(clock.t),
      },
      messageAttributes: { key: { dataType: 'String', stringValue: '1', stringListValues: [], binaryListValues: [] } },
      md5OfBody: createHash('md5').update('{"n":1}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:test-q',
      awsRegion: 'local',
    });
    expect(r2!.messageId).toBe('test-q-000002');
    expect(r1!.receiptHandle).not.toBe(r2!.receiptHandle);
    expect([queue.depth(), queue.inFlight()]).toEqual([2, 2]);
  });

  it('hides a received message for the visibility timeout, then redelivers it with a higher receive count and a new receipt handle', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }]);
    const [first] = queue.receive();
    advance(29.999);
    expect(queue.receive()).toEqual([]);
    expect(queue.inFlight()).toBe(1);
    advance(0.001);
    expect(queue.inFlight()).toBe(0);
    const [second] = queue.receive();
    expect(second!.messageId).toBe(first!.messageId);
    expect(second!.attributes.ApproximateReceiveCount).toBe('2');
    expect(second!.attributes.ApproximateFirstReceiveTimestamp).toBe(first!.attributes.ApproximateFirstReceiveTimestamp);
    expect(second!.receiptHandle).not.toBe(first!.receiptHandle);
    advance(30);
    expect(queue.receive()[0]!.attributes.ApproximateReceiveCount).toBe('3');
  });

  it('receives at most the batch size, in send order, deterministically', async () => {
    const { queue } = setup();
    await queue.send(Array.from({ length: 15 }, (_, i) => ({ n: i + 1 })));
    expect(ns(queue.receive(3))).toEqual([1, 2, 3]);
    expect(ns(queue.receive())).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(ns(queue.receive())).toEqual([14, 15]);
    expect(queue.receive()).toEqual([]);
    expect(() => queue.receive(11)).toThrow(/1 to 10/);
    expect(() => queue.receive(0)).toThrow(/1 to 10/);
  });

  it('redelivers in send order: an expired earlier message comes before later ones', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 10 });
    await queue.send([{ n: 1 }]);
    queue.receive();
    advance(5);
    await queue.send([{ n: 2 }]);
    advance(5);
    expect(ns(queue.receive())).toEqual([1, 2]);
  });
});

describe('LocalQueue: deleting and visibility', () => {
  it('deletes only with the latest receipt handle', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }]);
    const [old] = queue.receive();
    advance(30);
    const [latest] = queue.receive();
    expect(queue.delete(old!.receiptHandle)).toBe(false);
    expect(queue.depth()).toBe(1);
    expect(queue.delete('no-such-handle')).toBe(false);
    expect(queue.delete(latest!.receiptHandle)).toBe(true);
    expect(queue.depth()).toBe(0);
    expect(queue.delete(latest!.receiptHandle)).toBe(false);
    advance(60);
    expect(queue.receive()).toEqual([]);
  });

  it('changeVisibility shortens and extends the timeout, counted from now', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }, { n: 2 }]);
    const [a, b] = queue.receive();
    queue.changeVisibility(a!.receiptHandle, 0);
    const [again] = queue.receive();
    expect(ns([again!])).toEqual([1]);
    queue.changeVisibility(again!.receiptHandle, 80);
    advance(20);
    queue.changeVisibility(b!.receiptHandle, 60);
    advance(59);
    expect(ns(queue.receive())).toEqual([]);
    advance(1);
    expect(ns(queue.receive())).toEqual([1, 2]);
  });

  it('changeVisibility refuses a stale handle, a message not in flight, and an out-of-range timeout', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }]);
    const [old] = queue.receive();
    advance(30);
    expect(() => queue.changeVisibility(old!.receiptHandle, 10)).toThrow(/MessageNotInflight/);
    const [latest] = queue.receive();
    expect(() => queue.changeVisibility(old!.receiptHandle, 10)).toThrow(/ReceiptHandleIsInvalid/);
    expect(() => queue.changeVisibility(latest!.receiptHandle, -1)).toThrow(RangeError);
    expect(() => queue.changeVisibility(latest!.receiptHandle, 1.5)).toThrow(RangeError);
    expect(() => queue.changeVisibility(latest!.receiptHandle, 43_201)).toThrow(RangeError);
    advance(10);
    // 12 hours after the receive at most.
    expect(() => queue.changeVisibility(latest!.receiptHandle, 43_200)).toThrow(/12|43200/);
    queue.changeVisibility(latest!.receiptHandle, 43_190);
    expect(queue.inFlight()).toBe(1);
  });

  it('moves a message received maxReceiveCount times to the dead letters when it comes back, instead of delivering it', async () => {
    const { queue, advance, clock } = setup({ visibilityTimeoutSeconds: 10, maxReceiveCount: 3 });
    await queue.send([{ n: 1 }, { n: 2 }]);
    for (let i = 1; i <= 3; i++) {
      const records = queue.receive(1);
      expect(ns(records)).toEqual([1]);
      expect(records[0]!.attributes.ApproximateReceiveCount).toBe(String(i));
      advance(10);
    }
    // The receive that finds message 1 exhausted delivers message 2 instead.
    expect(ns(queue.receive(1))).toEqual([2]);
    expect(queue.deadLetters).toEqual([
      { messageId: 'test-q-000001', message: { n: 1 }, body: '{"n":1}', receiveCount: 3, sentAt: 1_000_000, movedAt: clock.t },
    ]);
    expect(queue.depth()).toBe(1);
  });

  it('validates its options', () => {
    expect(() => setup({ visibilityTimeoutSeconds: -1 })).toThrow(RangeError);
    expect(() => setup({ maxReceiveCount: 0 })).toThrow(RangeError);
  });
});

describe('LocalQueue: deliver (a Lambda poll)', () => {
  it('deletes what the consumer acknowledged; a failed record comes back after the visibility timeout', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const seen: SQSEvent[] = [];
    const result = await queue.deliver(async (event) => {
      seen.push(event);
      return { batchItemFailures: [{ itemIdentifier: event.Records[1]!.messageId }] };
    });
    expect(ns(seen[0]!.Records)).toEqual([1, 2, 3]);
    expect(result).toEqual({ received: 3, deleted: ['test-q-000001', 'test-q-000003'], failed: ['test-q-000002'] });
    expect([queue.depth(), queue.inFlight()]).toEqual([1, 1]);
    expect(await queue.deliver(ok)).toEqual({ received: 0, deleted: [], failed: [] });
    advance(30);
    const again: SQSRecord[] = [];
    await queue.deliver(async (event) => {
      again.push(...event.Records);
      return { batchItemFailures: [] };
    });
    expect(ns(again)).toEqual([2]);
    expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect(queue.depth()).toBe(0);
  });

  it('does not call the consumer for an empty poll, and takes a batch size', async () => {
    const { queue } = setup();
    let calls = 0;
    const counting = async (event: SQSEvent) => {
      calls++;
      return { batchItemFailures: [] as { itemIdentifier: string }[], size: event.Records.length };
    };
    expect((await queue.deliver(counting)).received).toBe(0);
    expect(calls).toBe(0);
    await queue.send(Array.from({ length: 7 }, (_, i) => ({ n: i })));
    expect((await queue.deliver(counting, { batchSize: 5 })).received).toBe(5);
    expect((await queue.deliver(counting, { batchSize: 5 })).received).toBe(2);
    expect(calls).toBe(2);
  });

  it('a consumer that throws, or names a record not in the batch, fails the whole batch', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 30 });
    await queue.send([{ n: 1 }, { n: 2 }]);
    const thrown = await queue.deliver(async () => {
      throw new Error('database down');
    });
    expect(thrown).toMatchObject({ received: 2, deleted: [], failed: ['test-q-000001', 'test-q-000002'], error: { message: 'database down' } });
    advance(30);
    const unknown = await queue.deliver(async () => ({ batchItemFailures: [{ itemIdentifier: 'elsewhere' }] }));
    expect(unknown).toMatchObject({ received: 2, deleted: [], failed: ['test-q-000001', 'test-q-000002'] });
    expect(unknown.error?.message).toMatch(/"elsewhere", not in the batch/);
    advance(30);
    const fine = await queue.deliver(async () => undefined);
    expect(fine.deleted).toHaveLength(2);
  });

  it('a consumer can set when a failed record comes back through retryAfter (execute-exit price walking)', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 180 });
    const runtime: Pick<ExecuteExitRuntime, 'retryAfter'> = { retryAfter: queue.retryAfter };
    await queue.send([{ n: 1 }]);
    // The handler's way: Powertools' partial batch processing, retryAfter then throw.
    const consumer = (event: SQSEvent) =>
      processPartialResponse(event, async (record: SQSRecord) => {
        await runtime.retryAfter(record, 4.2);
        throw new Error('not filled: next attempt in 4.2 s');
      }, new BatchProcessor(EventType.SQS), { context: lambdaContext, processInParallel: false, throwOnFullBatchFailure: false });
    expect((await queue.deliver(consumer)).failed).toEqual(['test-q-000001']);
    advance(4);
    expect(queue.receive()).toEqual([]);
    advance(1); // rounded up to 5 s
    const [back] = queue.receive();
    expect(back!.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('retryAfter refuses a record of another queue', async () => {
    const { queue } = setup();
    const other = new LocalQueue<Msg, number>({ name: 'other', idOf: (m) => m.n });
    await other.send([{ n: 1 }]);
    const [record] = other.receive();
    await expect(queue.retryAfter(record!, 5)).rejects.toThrow(/comes from arn:aws:sqs:local:000000000000:other/);
  });
});

describe('LocalEntryQueue and LocalExitQueue', () => {
  it('are EntryQueue/ExitQueue with the AWS timeouts and receive counts, and their bodies parse', async () => {
    const t = 5_000;
    const entries: EntryQueue & LocalEntryQueue = new LocalEntryQueue({ now: () => t });
    const exits: ExitQueue & LocalExitQueue = new LocalExitQueue({ now: () => t });
    expect([entries.name, entries.visibilityTimeoutSeconds, entries.maxReceiveCount]).toEqual(['precog-entry-orders', 360, 5]);
    expect([exits.name, exits.visibilityTimeoutSeconds, exits.maxReceiveCount]).toEqual(['precog-exit-orders', 360, 30]);
    const entry = {
      version: 1 as const, clientOrderId: `pc-${'ab'.repeat(16)}`, marketId: 'KXNFL-1', platformId: 'kalshi', strategyId: 1, modelId: 1, edgeId: 1,
      side: 'yes' as const, quantity: 3, limitPrice: '0.61', createdAt: '2026-01-01T00:00:00.000Z',
    };
    const exit = { version: 1 as const, exitRequestId: 42, positionId: 7, priority: 'HIGH' as const, createdAt: '2026-01-01T00:00:00.000Z' };
    expect(await entries.send([entry])).toEqual({ failed: [] });
    expect(await exits.send([exit])).toEqual({ failed: [] });
    const [e] = entries.receive(5);
    const [x] = exits.receive(5);
    expect(parseEntryOrderMessage(e!.body)).toEqual(entry);
    expect(e!.messageAttributes.key!.stringValue).toBe(entry.clientOrderId);
    expect(e!.eventSourceARN).toBe('arn:aws:sqs:local:000000000000:precog-entry-orders');
    expect(parseExitOrderMessage(x!.body)).toEqual(exit);
    expect(x!.messageAttributes.key!.stringValue).toBe('42');
  });
});

describe('LocalQueue: saving and restoring (the local runtime\'s resume)', () => {
  it('exportMessages/importMessages keep bodies, send times and receive counts; in-flight messages come back visible', async () => {
    const { queue, advance, clock } = setup({ visibilityTimeoutSeconds: 30 });
    const sentAt = clock.t;
    await queue.send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // 1: received twice and in flight; 2: received once, in flight; 3: never received.
    queue.receive(1);
    advance(30);
    queue.receive(2);
    expect(queue.inFlight()).toBe(2);
    const saved = queue.exportMessages();
    expect(saved).toEqual([
      { message: { n: 1 }, receiveCount: 2, sentAt },
      { message: { n: 2 }, receiveCount: 1, sentAt },
      { message: { n: 3 }, receiveCount: 0, sentAt },
    ]);
    // What the runtime writes to its state file and reads back.
    const restored = JSON.parse(JSON.stringify(saved)) as typeof saved;

    const later = { t: clock.t + 5_000 };
    const next = new LocalQueue<Msg, number>({ name: 'test-q', idOf: (m) => m.n, now: () => later.t, visibilityTimeoutSeconds: 30 });
    next.importMessages(restored);
    expect([next.depth(), next.inFlight()]).toEqual([3, 0]);
    // Visible at once (the consumer that held 1 and 2 died with the process), counts carried on.
    const records = next.receive();
    expect(ns(records)).toEqual([1, 2, 3]);
    expect(records.map((r) => r.body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['3', '2', '1']);
    expect(records.map((r) => r.attributes.SentTimestamp)).toEqual([String(sentAt), String(sentAt), String(sentAt)]);
    expect(records.map((r) => r.messageAttributes.key!.stringValue)).toEqual(['1', '2', '3']);
    // A deleted message is gone from the next export.
    expect(next.delete(records[1]!.receiptHandle)).toBe(true);
    expect(next.exportMessages().map((s) => [s.message.n, s.receiveCount])).toEqual([[1, 3], [3, 1]]);
  });

  it('a restored message that had used up its receives goes to the dead letters, not to the consumer', async () => {
    const { queue, advance } = setup({ visibilityTimeoutSeconds: 10, maxReceiveCount: 2 });
    await queue.send([{ n: 1 }, { n: 2 }]);
    queue.receive(1);
    advance(10);
    queue.receive(1); // message 1 received twice: its last chance, in flight when the process dies
    const next = new LocalQueue<Msg, number>({ name: 'test-q', idOf: (m) => m.n, now: () => 1, maxReceiveCount: 2 });
    next.importMessages(queue.exportMessages());
    expect(ns(next.receive())).toEqual([2]);
    expect(next.deadLetters.map((d) => [d.message.n, d.receiveCount])).toEqual([[1, 2]]);
  });

  it('onChange fires on send, receive, delete and dead-letter moves', async () => {
    let changes = 0;
    const clock = { t: 0 };
    const queue = new LocalQueue<Msg, number>({
      name: 'test-q', idOf: (m) => m.n, now: () => clock.t, visibilityTimeoutSeconds: 10, maxReceiveCount: 1, onChange: () => changes++,
    });
    const delta = async (action: () => unknown) => {
      const before = changes;
      await action();
      return changes - before;
    };
    expect(await delta(() => queue.send([{ n: 1 }, { n: 2 }, { n: 3 }]))).toBe(1);
    expect(await delta(() => queue.send([]))).toBe(0);
    let r1: SQSRecord | undefined;
    let r2: SQSRecord | undefined;
    // A receive changes receive counts and visibility: saved too.
    expect(await delta(() => {
      [r1, r2] = queue.receive(2);
    })).toBe(1);
    expect(await delta(() => queue.delete(r1!.receiptHandle))).toBe(1);
    // Nothing deleted: nothing changed.
    expect(await delta(() => queue.delete(r1!.receiptHandle))).toBe(0);
    expect(await delta(() => queue.delete('unknown'))).toBe(0);
    clock.t += 10_000;
    // Message 2 comes back exhausted (maxReceiveCount 1): moved to the dead letters; 3 is delivered.
    let received: SQSRecord[] = [];
    expect(await delta(() => {
      received = queue.receive();
    })).toBe(2);
    expect(ns(received)).toEqual([3]);
    expect(queue.deadLetters.map((d) => d.message.n)).toEqual([2]);
    expect(r2).toBeDefined();
    // deliver deletes what the consumer acknowledged: one change per deletion.
    await queue.send([{ n: 4 }, { n: 5 }]);
    clock.t += 10_000; // 3 comes back exhausted too: a dead letter, and 4 and 5 are received, delivered and deleted
    expect(await delta(() => queue.deliver(ok))).toBe(4);
    expect(queue.depth()).toBe(0);
    expect(queue.deadLetters.map((d) => d.message.n)).toEqual([2, 3]);
  });
});

describe('LocalQueue: the whole state (saveState/restoreState) and nextVisibleAt, for the discrete-event runtime', () => {
  it('a restored queue continues the same timeline: in-flight messages stay invisible until their timeout, receive counts, ids and dead letters kept', async () => {
    const clock = { t: 1_000 };
    const make = () => new LocalQueue<Msg, number>({ name: 'test-q', idOf: (m) => m.n, now: () => clock.t, visibilityTimeoutSeconds: 30, maxReceiveCount: 2 });
    const queue = make();
    expect(queue.nextVisibleAt()).toBeUndefined();
    await queue.send([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(queue.nextVisibleAt()).toBe(1_000);
    const [first] = queue.receive(1);
    await queue.retryAfter(first!, 5); // message 1 back at 6 000
    const [second] = queue.receive(1); // message 2 in flight until 31 000
    expect(ns([second!])).toEqual([2]);
    queue.receive(1); // message 3 in flight until 31 000
    expect(queue.nextVisibleAt()).toBe(6_000);

    const restored = make();
    restored.restoreState(JSON.parse(JSON.stringify(queue.saveState())));
    expect(restored.nextVisibleAt()).toBe(6_000);
    expect(restored.receive()).toEqual([]);
    clock.t = 6_000;
    const again = restored.receive();
    expect(ns(again)).toEqual([1]);
    expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    // The old receipt handle of message 2 still deletes it (it is still its latest).
    expect(restored.delete(second!.receiptHandle)).toBe(true);
    await restored.send([{ n: 4 }]);
    expect(restored.saveState().messages.map((m) => m.messageId)).toEqual(['test-q-000001', 'test-q-000003', 'test-q-000004']);
    // Message 1 used its two receives: the next time it is visible it becomes a dead letter, kept by a save.
    clock.t = 40_000;
    restored.receive();
    const last = make();
    last.restoreState(restored.saveState());
    expect(last.deadLetters.map((d) => d.message.n)).toEqual([1]);
  });
});

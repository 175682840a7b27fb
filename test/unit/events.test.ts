import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../shared/config/environment';
import { dec } from '../../shared/domain/decimal';
import {
  CIRCUIT_BREAKER_RESOLVED,
  CIRCUIT_BREAKER_TRIPPED,
  DETAIL_TYPES,
  EDGE_ALERT,
  EXIT_STOPPED,
  EventBridgePublisher,
  InvalidEventError,
  MemoryEventPublisher,
  NoopEventPublisher,
  VENUE_DESYNC_DETECTED,
  eventPublisherFromEnv,
  fourDecimals,
  type EventLogger,
  type PrecogEvent,
} from '../../shared/observability/events';

const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });
const NOW = new Date('2026-11-27T18:00:05.000Z');

const trip: PrecogEvent = {
  detailType: CIRCUIT_BREAKER_TRIPPED,
  detail: {
    eventId: 7,
    breakerType: 'daily_loss_limit',
    triggeredAt: '2026-11-27T18:00:00.000Z',
    triggerValue: { lossUsd: '512.2500', limitUsd: '500.0000', openPositions: 4 },
    effect: { liquidate: true, blockEntries: true, reset: 'next_trading_day' },
  },
};

const edgeAlert = (edgeId: number): PrecogEvent => ({
  detailType: EDGE_ALERT,
  detail: {
    edgeId,
    marketId: 'KXNFLGAME-26NOV27KCDAL-KC',
    strategy: { name: 'halftime_entry', version: 'v1.1' },
    model: { name: 'nfl_matrix', version: 'v1.0' },
    side: 'yes',
    edge: '0.1000',
    expectedValue: '0.0900',
    marketPrice: '0.6000',
    confidence: 'low',
  },
});

const exitStopped: PrecogEvent = {
  detailType: EXIT_STOPPED,
  detail: {
    exitRequestId: 31,
    positionId: 12,
    marketId: 'KXNFLGAME-26NOV27KCDAL-KC',
    condition: 'profit_target',
    priority: 'MEDIUM',
    reason: '5 limit attempts without a fill',
    remainingQuantity: '40',
  },
};

const fakeLogger = () => ({ debug: vi.fn(), warn: vi.fn(), error: vi.fn() });
const sleeps: number[] = [];
const sleep = async (ms: number) => {
  sleeps.push(ms);
};
const publisher = (logger: EventLogger = fakeLogger()) =>
  new EventBridgePublisher(client, { busName: 'precog-events', sleep, now: () => NOW, logger });

const calls = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
const ok = (entries: PutEventsRequestEntry[] | undefined) => ({
  FailedEntryCount: 0,
  Entries: (entries ?? []).map((_, i) => ({ EventId: `id-${i}` })),
});

beforeEach(() => {
  eventBridge.reset();
  sleeps.length = 0;
  eventBridge.on(PutEventsCommand).callsFake((input) => ok(input.Entries));
});

describe('EventBridgePublisher', () => {
  it('sends a breaker trip as exactly this PutEvents entry', async () => {
    const result = await publisher().publish([trip]);
    expect(result).toEqual({ published: 1, failed: [] });
    const sent = eventBridge.commandCalls(PutEventsCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: 'precog-events',
          Source: 'precog',
          DetailType: 'Circuit Breaker Tripped',
          Detail:
            '{"eventId":7,"breakerType":"daily_loss_limit","triggeredAt":"2026-11-27T18:00:00.000Z",' +
            '"triggerValue":{"lossUsd":"512.2500","limitUsd":"500.0000","openPositions":4},' +
            '"effect":{"liquidate":true,"blockEntries":true,"reset":"next_trading_day"}}',
          Time: expect.any(Date),
        },
      ],
    });
    expect(sent[0]!.args[0].input.Entries![0]!.Time).toEqual(NOW);
  });

  it('uses the configured source and the detail schema order whatever the caller key order', async () => {
    const p = new EventBridgePublisher(client, { busName: 'precog-events', source: 'precog.staging', sleep, logger: fakeLogger() });
    const resolved: PrecogEvent = {
      detailType: CIRCUIT_BREAKER_RESOLVED,
      detail: {
        resolutionAction: 'next_trading_day',
        resolvedAt: '2026-11-28T05:00:00.000Z',
        triggeredAt: '2026-11-27T18:00:00.000Z',
        breakerType: 'daily_loss_limit',
        eventId: 7,
      },
    };
    await p.publish([resolved]);
    const [entry] = calls()[0]!;
    expect(entry).toMatchObject({ Source: 'precog.staging', DetailType: 'Circuit Breaker Resolved' });
    expect(entry!.Detail).toBe(
      '{"eventId":7,"breakerType":"daily_loss_limit","triggeredAt":"2026-11-27T18:00:00.000Z",' +
        '"resolvedAt":"2026-11-28T05:00:00.000Z","resolutionAction":"next_trading_day"}',
    );
    expect(entry!.Time).toBeInstanceOf(Date);
  });

  it('sends 23 events as batches of 10, 10 and 3, in order', async () => {
    const events = Array.from({ length: 23 }, (_, i) => edgeAlert(i + 1));
    const result = await publisher().publish(events);
    expect(result).toEqual({ published: 23, failed: [] });
    expect(calls().map((entries) => entries.length)).toEqual([10, 10, 3]);
    const edgeIds = calls().flat().map((e) => JSON.parse(e.Detail!).edgeId);
    expect(edgeIds).toEqual(events.map((_, i) => i + 1));
  });

  it('keeps each request under 256 KB and fails an entry that alone is over it, sending the rest', async () => {
    const big = (n: number, reasonBytes: number): PrecogEvent => ({
      detailType: EXIT_STOPPED,
      detail: { ...(exitStopped.detail as object), exitRequestId: n, reason: 'x'.repeat(reasonBytes) } as never,
    });
    const result = await publisher().publish([big(1, 100_000), big(2, 100_000), big(3, 100_000), big(4, 300_000)]);
    expect(calls().map((entries) => entries.map((e) => JSON.parse(e.Detail!).exitRequestId))).toEqual([[1, 2], [3]]);
    expect(result.published).toBe(3);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.error).toMatch(/over the 262144-byte PutEvents limit/);
  });

  it('retries only the entry EventBridge refused, after a backoff', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }, { EventId: 'c' }],
      })
      .callsFake((input) => ok(input.Entries));
    const events = [edgeAlert(1), edgeAlert(2), edgeAlert(3)];
    const result = await publisher().publish(events);
    expect(result).toEqual({ published: 3, failed: [] });
    const [first, second] = calls();
    expect(calls()).toHaveLength(2);
    expect(first).toHaveLength(3);
    expect(second).toEqual([first![1]]);
    expect(JSON.parse(second![0]!.Detail!).edgeId).toBe(2);
    expect(sleeps).toEqual([100]);
  });

  it('returns an entry that fails every attempt in failed, logged and not thrown', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => {
      const entries = input.Entries as PutEventsRequestEntry[];
      const results = entries.map((e, i) =>
        e.DetailType === EXIT_STOPPED ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error' } : { EventId: `id-${i}` },
      );
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });
    const logger = fakeLogger();
    const result = await publisher(logger).publish([trip, exitStopped, edgeAlert(1)]);
    expect(result.published).toBe(2);
    expect(result.failed).toEqual([{ event: exitStopped, error: 'InternalFailure: Internal service error' }]);
    expect(result.failed[0]!.event).toBe(exitStopped);
    expect(calls().map((entries) => entries.map((e) => e.DetailType))).toEqual([
      [CIRCUIT_BREAKER_TRIPPED, EXIT_STOPPED, EDGE_ALERT],
      [EXIT_STOPPED],
      [EXIT_STOPPED],
    ]);
    expect(sleeps).toEqual([100, 200]);
    expect(logger.warn).toHaveBeenCalledTimes(3);
    expect(logger.error).toHaveBeenCalledWith(
      'events not published',
      expect.objectContaining({
        busName: 'precog-events',
        failed: [{ detailType: EXIT_STOPPED, error: 'InternalFailure: Internal service error', detail: exitStopped.detail }],
      }),
    );
  });

  it('treats an entry without an EventId in a failed response as failed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }] })
      .callsFake((input) => ok(input.Entries));
    const result = await publisher().publish([edgeAlert(1), edgeAlert(2)]);
    expect(result).toEqual({ published: 2, failed: [] });
    expect(calls()[1]!.map((e) => JSON.parse(e.Detail!).edgeId)).toEqual([2]);
  });

  it('retries the whole batch when the SDK call rejects', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake((input) => ok(input.Entries));
    const result = await publisher().publish([trip, edgeAlert(1)]);
    expect(result).toEqual({ published: 2, failed: [] });
    expect(calls()).toHaveLength(2);
    expect(calls()[1]).toEqual(calls()[0]);
    expect(sleeps).toEqual([100]);
  });

  it('returns every event of a batch whose request keeps rejecting, without throwing', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('getaddrinfo ENOTFOUND events.us-east-1.amazonaws.com'));
    const logger = fakeLogger();
    const p = new EventBridgePublisher(client, { busName: 'precog-events', maxAttempts: 4, baseDelayMs: 50, sleep, logger });
    const result = await p.publish([trip, edgeAlert(1)]);
    expect(result.published).toBe(0);
    expect(result.failed.map((f) => [f.event.detailType, f.error])).toEqual([
      [CIRCUIT_BREAKER_TRIPPED, 'Error: getaddrinfo ENOTFOUND events.us-east-1.amazonaws.com'],
      [EDGE_ALERT, 'Error: getaddrinfo ENOTFOUND events.us-east-1.amazonaws.com'],
    ]);
    expect(calls()).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 200]);
    expect(logger.error).toHaveBeenCalledOnce();
  });

  it('refuses an invalid detail naming the field, sending nothing', async () => {
    const bad = edgeAlert(1);
    (bad.detail as Record<string, unknown>).edge = 0.15;
    await expect(publisher().publish([trip, bad])).rejects.toThrow(InvalidEventError);
    await expect(publisher().publish([trip, bad])).rejects.toThrow(
      /invalid "Edge Alert" event: detail\.edge: a 4-decimal string such as "0\.1500", never a JSON number/,
    );
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it.each<[string, PrecogEvent, RegExp]>([
    ['a price outside 0..1', { ...edgeAlert(1), detail: { ...edgeAlert(1).detail, marketPrice: '1.2000' } } as PrecogEvent, /detail\.marketPrice: a price from/],
    ['two decimals', { ...edgeAlert(1), detail: { ...edgeAlert(1).detail, expectedValue: '0.09' } } as PrecogEvent, /detail\.expectedValue: .*exactly 4 decimals/],
    ['a missing field', { detailType: EDGE_ALERT, detail: { ...edgeAlert(1).detail, strategy: { name: 'halftime_entry' } } } as PrecogEvent, /detail\.strategy\.version: Invalid input: expected string/],
    ['a float in a trigger value', { ...trip, detail: { ...trip.detail, triggerValue: { lossUsd: 512.25 } } } as PrecogEvent, /detail\.triggerValue\.lossUsd: 512\.25 is not a whole number/],
    ['a Decimal in a desync snapshot', {
      detailType: VENUE_DESYNC_DETECTED,
      detail: { ticker: 'T', marketId: null, kind: 'position', local: { cost: dec('1.5') }, venue: {}, detectedAt: '2026-11-27T18:00:00Z' },
    } as unknown as PrecogEvent, /detail\.local\.cost: Decimal is not plain JSON/],
    ['an unknown breaker type', { ...trip, detail: { ...trip.detail, breakerType: 'oops' } } as unknown as PrecogEvent, /detail\.breakerType/],
    ['an unexpected key', { ...exitStopped, detail: { ...exitStopped.detail, extra: 1 } } as unknown as PrecogEvent, /Unrecognized key.*extra/],
    ['a resolution before the trip', {
      detailType: CIRCUIT_BREAKER_RESOLVED,
      detail: { eventId: 1, breakerType: 'manual', triggeredAt: '2026-11-27T18:00:00Z', resolvedAt: '2026-11-27T17:00:00Z', resolutionAction: 'operator' },
    } as PrecogEvent, /detail\.resolvedAt: resolvedAt is before triggeredAt/],
    ['an unknown detail type', { detailType: 'Edge Found', detail: {} } as unknown as PrecogEvent, /detailType: "Edge Found" is not one of/],
  ])('refuses %s', async (_, event, message) => {
    await expect(publisher().publish([event])).rejects.toThrow(message);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('accepts a venue desync with a null market and ISO offsets', async () => {
    const desync: PrecogEvent = {
      detailType: VENUE_DESYNC_DETECTED,
      detail: {
        ticker: 'KXNFLGAME-26NOV27KCDAL-KC',
        marketId: null,
        kind: 'position',
        local: { quantity: 0 },
        venue: { quantity: 10, side: 'yes', averagePrice: fourDecimals(dec('0.61')) },
        detectedAt: '2026-11-27T13:00:00-05:00',
      },
    };
    expect(await publisher().publish([desync])).toEqual({ published: 1, failed: [] });
    expect(JSON.parse(calls()[0]![0]!.Detail!)).toEqual(desync.detail);
    expect(JSON.parse(calls()[0]![0]!.Detail!).venue.averagePrice).toBe('0.6100');
  });

  it('sends nothing for no events', async () => {
    expect(await publisher().publish([])).toEqual({ published: 0, failed: [] });
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('refuses a bad configuration when built', () => {
    expect(() => new EventBridgePublisher(client, { busName: 'precog events' })).toThrow(/busName/);
    expect(() => new EventBridgePublisher(client, { busName: 'b', source: 'aws.events' })).toThrow(/source: the "aws\." prefix is reserved/);
    expect(() => new EventBridgePublisher(client, { busName: 'b', maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe('MemoryEventPublisher and NoopEventPublisher', () => {
  it('keeps what was published, by detail type', async () => {
    const logger = fakeLogger();
    const memory = new MemoryEventPublisher({ logger });
    expect(await memory.publish([trip, edgeAlert(1), edgeAlert(2)])).toEqual({ published: 3, failed: [] });
    expect(memory.published).toEqual([trip, edgeAlert(1), edgeAlert(2)]);
    expect(memory.details(EDGE_ALERT).map((d) => d.edgeId)).toEqual([1, 2]);
    expect(memory.details(CIRCUIT_BREAKER_TRIPPED)[0]!.effect.liquidate).toBe(true);
    expect(logger.debug).toHaveBeenCalledTimes(3);
    memory.clear();
    expect(memory.published).toEqual([]);
  });

  it('validates like EventBridge and keeps nothing of an invalid call', async () => {
    const memory = new MemoryEventPublisher();
    const bad = { ...exitStopped, detail: { ...exitStopped.detail, remainingQuantity: '-1' } } as PrecogEvent;
    await expect(memory.publish([trip, bad])).rejects.toThrow(/detail\.remainingQuantity/);
    expect(memory.published).toEqual([]);
  });

  it('the noop publisher sends nothing but still validates', async () => {
    const noop = new NoopEventPublisher();
    expect(await noop.publish([trip])).toEqual({ published: 0, failed: [] });
    await expect(noop.publish([{ ...trip, detail: { ...trip.detail, eventId: 0 } } as PrecogEvent])).rejects.toThrow(/detail\.eventId/);
  });

  it('every detail type is a distinct constant', () => {
    expect(DETAIL_TYPES).toEqual([
      'Circuit Breaker Tripped',
      'Circuit Breaker Resolved',
      'Edge Alert',
      'Exit Stopped',
      'Venue Desync Detected',
    ]);
  });
});

describe('eventPublisherFromEnv', () => {
  it('keeps events in memory when EVENT_BUS_NAME is unset or empty', async () => {
    expect(eventPublisherFromEnv({})).toBeInstanceOf(MemoryEventPublisher);
    const local = eventPublisherFromEnv({ EVENT_BUS_NAME: '  ' }, { logger: fakeLogger() });
    expect(local).toBeInstanceOf(MemoryEventPublisher);
    await local.publish([trip]);
    expect((local as MemoryEventPublisher).published).toEqual([trip]);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('publishes to the named bus through a lazily created client', async () => {
    const p = eventPublisherFromEnv(
      { EVENT_BUS_NAME: 'arn:aws:events:us-east-1:123456789012:event-bus/precog', EVENT_SOURCE: 'precog.prod' },
      { sleep, logger: fakeLogger() },
    );
    expect(p).toBeInstanceOf(EventBridgePublisher);
    expect(eventBridge.calls()).toHaveLength(0);
    expect(await p.publish([trip])).toEqual({ published: 1, failed: [] });
    expect(calls()[0]![0]).toMatchObject({
      EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/precog',
      Source: 'precog.prod',
      DetailType: CIRCUIT_BREAKER_TRIPPED,
    });
  });

  it('defaults the source to precog', () => {
    expect(eventPublisherFromEnv({ EVENT_BUS_NAME: 'precog-events' })).toMatchObject({ busName: 'precog-events', source: 'precog' });
  });

  it('refuses bad values naming the variable', () => {
    expect(() => eventPublisherFromEnv({ EVENT_BUS_NAME: 'precog events' })).toThrow(ConfigError);
    expect(() => eventPublisherFromEnv({ EVENT_BUS_NAME: 'precog events' })).toThrow(/invalid events configuration: EVENT_BUS_NAME: /);
    expect(() => eventPublisherFromEnv({ EVENT_BUS_NAME: 'b', EVENT_SOURCE: 'aws.ec2' })).toThrow(/EVENT_SOURCE: the "aws\." prefix is reserved/);
  });
});

import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { currentRules, forgetRules } from '../../shared/config/runtimeRules';
import { HttpClient } from '../../shared/http/httpClient';
import { TokenBucket } from '../../shared/http/rateLimiter';
import { CIRCUIT_BREAKER_TRIPPED, EventBridgePublisher } from '../../shared/observability/events';
import { kalshiAuthHeaders } from '../../shared/venues/kalshi/signing';
import { startTestServer, type TestServer } from '../helpers/httpServer';

/**
 * The defaults that used to be Date.now / new Date() / setTimeout now follow the installed clock
 * (issue 17): on a virtual clock they read its time and wait on it, and nothing waits on the
 * machine; technical timeouts stay on machine time.
 */
const START = Date.parse('2031-06-01T12:00:00.000Z');

let restore: (() => void) | undefined;
let server: TestServer | undefined;
function install(clock: ManualClock): ManualClock {
  restore = useClock(clock);
  return clock;
}
afterEach(async () => {
  restore?.();
  restore = undefined;
  await server?.close();
  server = undefined;
  forgetRules();
});

/** Lets every task that can run, run (I/O callbacks included), without moving any clock. */
const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** Waits until `condition` holds, observing state between event-loop turns (no timed sleep). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('the rate limiter on the installed clock', () => {
  it('waits for tokens on a virtual clock: nothing is granted until that clock moves', async () => {
    const clock = install(new ManualClock(START));
    const bucket = new TokenBucket(1, 2); // 1 token a second, burst 2: no now/sleep given
    await bucket.take();
    await bucket.take();
    let third = false;
    const waiting = bucket.take().then(() => (third = true));
    await settle();
    expect(third).toBe(false);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(999);
    await settle();
    expect(third).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(third).toBe(true);
  });

  it('a bucket made on the wall clock does not stall when a virtual clock set in the past is installed', async () => {
    const bucket = new TokenBucket(1, 1); // its last refill is now on the wall clock
    install(new ManualClock(Date.parse('2001-01-01T00:00:00Z')));
    let granted = false;
    const take = bucket.take().then(() => (granted = true));
    await settle();
    expect(granted).toBe(true); // its burst token, as before; time running "backwards" takes none
    await take;
  });
});

describe('the HTTP client', () => {
  it('sleeps its retry backoff on the installed clock', async () => {
    const clock = install(new ManualClock(START));
    server = await startTestServer((_request, count) => (count === 0 ? { status: 503, json: { error: 'busy' } } : { json: { ok: true } }));
    const client = new HttpClient({ baseUrl: server.url, name: 'test', retry: { maxAttempts: 2, baseDelayMs: 1_000, maxDelayMs: 1_000 }, random: () => 0.5 });
    let answer: unknown;
    const request = client.get('/thing').then((value) => (answer = value));
    await until(() => clock.pendingTimers() === 1); // the backoff sleeps on the virtual clock
    expect(server.requests).toHaveLength(1);
    expect(answer).toBeUndefined();
    await clock.advance(1_000);
    await request;
    expect(answer).toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
  });

  it('times a request out on machine time even while the virtual clock stands still', async () => {
    install(new ManualClock(START));
    server = await startTestServer(() => ({ json: { late: true }, delayMs: 5_000 }));
    const client = new HttpClient({ baseUrl: server.url, name: 'test', timeoutMs: 50, retry: { maxAttempts: 1 } });
    await expect(client.get('/slow')).rejects.toThrow(/timed out after 50 ms/);
  });
});

describe('time stamps from the installed clock', () => {
  it('Kalshi request signatures carry the clock\'s time', () => {
    install(new ManualClock(START));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const headers = kalshiAuthHeaders({ keyId: 'key', privateKey }, 'GET', '/trade-api/v2/portfolio/balance');
    expect(headers['KALSHI-ACCESS-TIMESTAMP']).toBe(String(START));
  });

  it('EventBridge entries are timed by the clock', async () => {
    install(new ManualClock(START));
    const eventBridge = mockClient(EventBridgeClient);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    try {
      const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), { busName: 'precog' });
      await publisher.publish([{
        detailType: CIRCUIT_BREAKER_TRIPPED,
        detail: {
          eventId: 7, breakerType: 'daily_loss_limit', triggeredAt: '2031-06-01T11:59:00.000Z',
          triggerValue: { lossUsd: '512.2500', limitUsd: '500.0000', openPositions: 4 },
          effect: { liquidate: true, blockEntries: true, reset: 'next_trading_day' },
        },
      }]);
      const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
      expect(entries.map((e) => e.Time?.getTime())).toEqual([START]);
    } finally {
      eventBridge.restore();
    }
  });

  it('the trading rules are re-read when they are 15 s old on the clock, not on the machine', async () => {
    const clock = install(new ManualClock(START));
    let reads = 0;
    const db = { query: async () => ((reads += 1), { rows: [], rowCount: 0 }) } as never;
    await currentRules(db, { env: {} });
    await currentRules(db, { env: {} });
    expect(reads).toBe(1);
    await clock.advance(14_999);
    await currentRules(db, { env: {} });
    expect(reads).toBe(1);
    await clock.advance(1);
    await currentRules(db, { env: {} });
    expect(reads).toBe(2);
  });
});

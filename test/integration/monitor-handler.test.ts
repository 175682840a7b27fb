import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/monitor-positions/handler';
import { ManualClock, useClock } from '../../shared/clock/clock';
import { MarketRepository } from '../../shared/db';
import { closeSharedPool } from '../../shared/db/pool';
import { MONITOR_LOCK_KEY } from '../../shared/monitor/sweep';
import { ExitOrderMessage } from '../../shared/queues/messages';
import { useTestDatabase } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';

const db = useTestDatabase();
const sqs = mockClient(SQSClient);
const context = { functionName: 'monitor-positions', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
const savedEnv = { ...process.env };
const KC = `${GAME_EVENT}-KC`;
let positionId: number;

beforeAll(async () => {
  Object.assign(process.env, {
    DATABASE_URL: db().url, EXIT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123/exit-orders', POWERTOOLS_METRICS_DISABLED: 'true',
  });
  delete process.env.EXECUTION_MODE;
  await seedHalftimeWorld(db().pool, { strategies: 1 });
  await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(KC, 60, 58, 42, 40)]);
  positionId = await openPosition(db().pool, paperExchange(db().pool), { marketId: KC, side: 'yes', quantity: 50, price: '0.60' });
});
afterAll(async () => {
  process.env = savedEnv;
  await closeSharedPool();
});
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const sent = () => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => ExitOrderMessage.parse(JSON.parse(e.MessageBody!))));

describe('monitor-positions function', () => {
  it('rejects a malformed console event naming the field, writing nothing', async () => {
    await expect(handler({ positionIds: ['1'] }, context)).rejects.toThrow(/invalid monitor-positions event: positionIds\.0: /);
    await expect(handler({ dryrun: true }, context)).rejects.toThrow(/Unrecognized key.*dryrun/);
  });

  it('the sample events are valid', () => {
    for (const name of ['monitor-positions', 'monitor-positions-dry-run', 'monitor-positions-some']) {
      const event = JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
      expect(event).toBeTypeOf('object');
    }
  });

  it('a dry run reports what it would do, writing and sending nothing', async () => {
    await new MarketRepository(db().pool).upsertSnapshots([quotedMarket(KC, 47, 45, 55, 53)]); // bid 0.45: −25%
    const { rows: [before] } = await db().pool.query('SELECT count(*)::int AS n FROM positions');
    const result = await handler({ dryRun: true }, context);
    expect(result.sweeps).toHaveLength(1);
    expect(result.last).toMatchObject({ positions: 1, exits: [expect.objectContaining({ positionId, condition: 'stop_loss', priority: 'CRITICAL' })] });
    const { rows: [after] } = await db().pool.query('SELECT count(*)::int AS n, (SELECT count(*)::int FROM exit_requests) AS requests FROM positions');
    expect(after).toEqual({ n: before.n, requests: 0 });
    expect(sqs.calls()).toHaveLength(0);
  });

  it('one sweep from the console: reconciles, re-prices, decides the exit and sends it to the exit queue', async () => {
    const result = await handler({ once: true }, context);
    expect(result.reconciliation).toMatchObject({ desyncs: [], errors: [] });
    expect(result.sweeps).toHaveLength(1);
    expect(sent()).toEqual([expect.objectContaining({ positionId, priority: 'CRITICAL' })]);
    const { rows: [position] } = await db().pool.query(
      'SELECT current_price::text, unrealized_pnl::text, unrealized_pnl_pct::text, exit_reason, exit_priority, last_update FROM positions WHERE position_id = $1 AND row_current_ind',
      [positionId],
    );
    expect(position).toMatchObject({ current_price: '0.4500', unrealized_pnl: '-7.500000', unrealized_pnl_pct: '-0.2500', exit_reason: 'stop_loss', exit_priority: 'CRITICAL' });
    expect(position.last_update).toBeInstanceOf(Date);
  });

  it('the scheduled event runs the cadence until shortly before the timeout', async () => {
    const short = { ...context, getRemainingTimeInMillis: () => 9_000 } as Context;
    const result = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, short);
    // 9 s left minus the 8 s margin: one full sweep, no time for a 5 s tick.
    expect(result.sweeps.map((s) => s.kind)).toEqual(['full']);
    // The exit is in flight: nothing new is sent.
    expect(sent()).toEqual([]);
  });

  it('re-sends an active exit whose message went unseen past the deployed visibility timeout plus the margin', async () => {
    // The stop-loss decided above is in flight; its message was last seen 75 s ago.
    const { rows: [request] } = await db().pool.query(`SELECT exit_request_id FROM exit_requests WHERE status = 'active'`);
    const unseenFor = (seconds: number) => db().pool.query(
      `UPDATE exit_requests SET enqueued_at = now() - make_interval(secs => $2), message_received_at = NULL WHERE exit_request_id = $1`,
      [request.exit_request_id, seconds]);
    await unseenFor(75);
    // Deployed 180 s visibility (the default): 75 s unseen is a live message.
    expect((await handler({ once: true }, context)).last).toMatchObject({ resent: 0, enqueued: 0 });
    expect(sent()).toEqual([]);
    // A 10 s visibility: 75 s > 10 + 60: the message is gone, sent again.
    process.env.EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS = '10';
    try {
      expect((await handler({ once: true }, context)).last).toMatchObject({ resent: 1, enqueued: 1 });
      expect(sent()).toEqual([expect.objectContaining({ exitRequestId: request.exit_request_id, priority: 'CRITICAL' })]);
      process.env.EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS = 'three minutes';
      await expect(handler({ once: true }, context)).rejects.toThrow(
        /invalid monitor-positions configuration: EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS: .*number/);
    } finally {
      delete process.env.EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS;
    }
  });

  it('invoked by hand while another invocation sweeps: its sweep is skipped, touching nothing; the next one sweeps', async () => {
    // Another invocation in the middle of a sweep holds the monitor's transaction-level lock.
    const other = await db().pool.connect();
    const lastUpdate = async () => (await db().pool.query('SELECT last_update FROM positions WHERE position_id = $1 AND row_current_ind', [positionId])).rows[0].last_update;
    const before = await lastUpdate();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [MONITOR_LOCK_KEY]);
      const byHand = await handler({ once: true }, context);
      expect(byHand.sweeps).toEqual([expect.objectContaining({ kind: 'full', skipped: 'another monitor sweep is running' })]);
      expect(byHand.last).toMatchObject({ skipped: 'another monitor sweep is running', positions: 0 });
      expect(await lastUpdate()).toEqual(before);
      const { rows: [health] } = await db().pool.query(
        `SELECT details FROM system_health WHERE component = 'monitor-positions' ORDER BY health_id DESC LIMIT 1`);
      expect(health.details).toMatchObject({ skipped_all: true });
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    const after = await handler({ once: true }, context);
    expect(after.last).toMatchObject({ positions: 1 });
    expect(after.last?.skipped).toBeUndefined();
  });

  it('on an installed virtual clock the cadence sleeps on that clock and its deadline is counted on it', async () => {
    // A fixed instant (no dependence on today's date); the test moves the clock a second at a time,
    // only while the cadence is asleep on it, so every sweep sees one constant virtual instant.
    const start = Date.parse('2040-01-01T00:00:00Z');
    const clock = new ManualClock(start);
    const restore = useClock(clock);
    try {
      let settled = false;
      const run = handler({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, context);
      run.then(() => (settled = true), () => (settled = true));
      while (!settled) {
        if (clock.pendingTimers() > 0) await clock.advance(1_000);
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const result = await run;
      const offsets = result.sweeps.map((s) => s.at - start);
      // 60 s left minus the 8 s margin: ticks every 5 s up to 50 s, full sweeps at 0 and 30 s.
      expect(result.sweeps.filter((s) => s.kind === 'full').map((s) => s.at - start)).toEqual([0, 30_000]);
      expect(offsets.every((o) => o % 5_000 === 0 && o <= 50_000)).toBe(true);
      expect(result.sweeps.map((s) => s.ms)).toEqual(result.sweeps.map(() => 0)); // no virtual time passes inside a sweep
      expect(clock.nowMs() - start).toBeLessThanOrEqual(52_000);
    } finally {
      restore();
    }
  });
});

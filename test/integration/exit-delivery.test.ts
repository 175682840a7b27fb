import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processExitRecord, runExecuteExit, type ExecuteExitRuntime } from '../../functions/execute-exit/handler';
import { MarketRepository } from '../../shared/db';
import { executeExit } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { executionFootprint, lambdaContext, openPosition, paperExchange, sqsEvent, sqsRecord } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld, quoteYes } from '../helpers/scanWorld';

const db = useDatabasePerTest({ poolMax: 30 });

const KC = `${GAME_EVENT}-KC`;
const DAL = `${GAME_EVENT}-DAL`;
const quote = (market: string, yesBid: number, yesAsk: number) => quoteYes(db().pool, market, yesBid, yesAsk);

function runtime(exchange = paperExchange(db().pool)) {
  const retries: Array<{ messageId: string; seconds: number }> = [];
  const rt: ExecuteExitRuntime = {
    pool: db().pool, exchange, retryAfter: async (record: SQSRecord, seconds: number) => {
      retries.push({ messageId: record.messageId, seconds });
    },
  };
  return { rt, retries, exchange };
}

const held = async (positionId: number) =>
  (await db().pool.query('SELECT quantity, status FROM positions WHERE position_id = $1 AND row_current_ind', [positionId])).rows[0];
const soldOf = async (positionId: number) =>
  (await db().pool.query(`SELECT coalesce(sum(quantity), 0)::int AS q FROM trades WHERE position_id = $1 AND side = 'sell'`, [positionId])).rows[0].q;

describe('exit deliveries', () => {
  it('an exit message delivered 3 times at once sells the position exactly once', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(KC, 58, 60);
    const { rt, exchange } = runtime();
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 80, price: '0.60' });
    // A crash: bid 0.45 is −25%: stop_loss, CRITICAL, market (IOC at the bid).
    await quote(KC, 45, 47);
    const queue = new MemoryExitQueue();
    const sweep = await sweepPositions({ pool: db().pool, queue });
    expect(sweep.exits).toEqual([expect.objectContaining({ condition: 'stop_loss', priority: 'CRITICAL', quantity: 80 })]);
    const message = queue.sent[0]!;

    const responses = await Promise.all([1, 1, 2].map((n) => runExecuteExit(sqsEvent(sqsRecord(message, n)), lambdaContext, rt)));
    for (const r of responses) expect(r.batchItemFailures).toEqual([]);
    expect(await soldOf(positionId)).toBe(80);
    expect(await held(positionId)).toEqual({ quantity: 0, status: 'closed' });
    const { rows: exits } = await db().pool.query('SELECT count(*)::int AS n, sum(quantity_exited)::int AS q FROM position_exits');
    expect(exits[0]).toEqual({ n: 1, q: 80 });
    const { rows: venue } = await db().pool.query(`SELECT count(*)::int AS n FROM paper_orders WHERE action = 'sell'`);
    expect(venue[0].n).toBe(1);
  });

  it('a higher-priority exit supersedes one in flight; together they never sell more than is held', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(KC, 58, 60);
    const { rt, retries, exchange } = runtime();
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
    const queue = new MemoryExitQueue();

    // +15%: a MEDIUM partial exit of 50, placed at the mid (0.70), resting.
    await quote(KC, 69, 71);
    await sweepPositions({ pool: db().pool, queue });
    const partial = queue.sent[0]!;
    const first = await runExecuteExit(sqsEvent(sqsRecord(partial)), lambdaContext, rt);
    expect(first.batchItemFailures).toHaveLength(1); // not filled: back to the queue…
    expect(retries).toEqual([{ messageId: expect.any(String), seconds: 30 }]); // …after MEDIUM's 30 s

    // The market collapses before it fills: stop loss, CRITICAL, supersedes the partial exit.
    await quote(KC, 40, 42);
    const crash = await sweepPositions({ pool: db().pool, queue });
    expect(crash.exits).toEqual([expect.objectContaining({ condition: 'stop_loss', priority: 'CRITICAL', quantity: 100, supersedes: partial.exitRequestId })]);
    const stop = queue.sent.at(-1)!;

    // Both messages arrive at once, each twice.
    const responses = await Promise.all([
      runExecuteExit(sqsEvent(sqsRecord(partial, 2)), lambdaContext, rt),
      runExecuteExit(sqsEvent(sqsRecord(stop, 1)), lambdaContext, rt),
      runExecuteExit(sqsEvent(sqsRecord(stop, 1)), lambdaContext, rt),
      runExecuteExit(sqsEvent(sqsRecord(partial, 3)), lambdaContext, rt),
    ]);
    for (const r of responses) expect(r.batchItemFailures).toEqual([]);
    expect(await soldOf(positionId)).toBe(100);
    expect(await held(positionId)).toEqual({ quantity: 0, status: 'closed' });
    const { rows: requests } = await db().pool.query('SELECT exit_condition, status, filled_quantity FROM exit_requests ORDER BY exit_request_id');
    expect(requests).toEqual([
      { exit_condition: 'partial_exit_target', status: 'superseded', filled_quantity: 0 },
      { exit_condition: 'stop_loss', status: 'filled', filled_quantity: 100 },
    ]);
    // The partial exit's resting order was cancelled, its attempt recorded as unsuccessful.
    const { rows: orders } = await db().pool.query(`SELECT client_order_id, status FROM orders WHERE purpose = 'exit' ORDER BY order_id`);
    expect(orders[0]).toMatchObject({ client_order_id: `px-${partial.exitRequestId}-1`, status: 'cancelled' });
    const { rows: attempts } = await db().pool.query('SELECT exit_condition, success FROM exit_attempts ORDER BY attempt_id');
    expect(attempts).toEqual([{ exit_condition: 'partial_exit_target', success: false }, { exit_condition: 'stop_loss', success: true }]);
    expect((await exchange.getPositions())).toEqual([]);
  });

  // Never oversell: an exit request sells at most what the position still holds when it runs.
  describe('an exit request larger than the holding', () => {
    /**
     * 100 held. A MEDIUM partial exit of 50 rests at 0.70; the market crashes and a CRITICAL stop
     * loss of all 100 supersedes it; the market bounces to a 0.70 bid, so when the stop loss runs
     * the venue has already filled the partial's resting order: 50 are left, not 100.
     */
    const holding = async (positionId: number) => {
      const { quantity, status } = await held(positionId);
      return { quantity: String(quantity), status };
    };

    async function stopLossAfterAPartialSold() {
      await seedHalftimeWorld(db().pool, { strategies: 1 });
      await quote(KC, 58, 60);
      const exchange = paperExchange(db().pool);
      const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
      const queue = new MemoryExitQueue();
      const run = (message: (typeof queue.sent)[number], receiveCount = 1) =>
        executeExit({ pool: db().pool, exchange }, message, { receiveCount });

      await quote(KC, 69, 71);
      await sweepPositions({ pool: db().pool, queue });
      const partial = queue.sent[0]!;
      expect(await run(partial)).toMatchObject({ outcome: 'retry' });
      await quote(KC, 40, 42);
      const crash = await sweepPositions({ pool: db().pool, queue });
      expect(crash.exits).toEqual([expect.objectContaining({ condition: 'stop_loss', supersedes: partial.exitRequestId })]);
      expect(crash.exits[0]!.quantity.toString()).toBe('100');
      const stop = queue.sent.at(-1)!;
      await quote(KC, 70, 72);
      return { positionId, stop, run, exchange };
    }

    it('another exit sold part first: the request sells only what is left', async () => {
      const { positionId, stop, run, exchange } = await stopLossAfterAPartialSold();
      const outcome = await run(stop);
      // The partial's fill (50 at 0.70) is recorded first; the stop loss then sells the other 50.
      expect(outcome).toMatchObject({ outcome: 'retry' });
      const { rows: orders } = await db().pool.query(
        `SELECT exit_request_id, quantity::text, filled_quantity::text, status FROM orders WHERE purpose = 'exit' ORDER BY order_id`,
      );
      expect(orders).toEqual([
        { exit_request_id: expect.any(Number), quantity: '50.00', filled_quantity: '50.00', status: 'filled' },
        { exit_request_id: stop.exitRequestId, quantity: '50.00', filled_quantity: '50.00', status: 'filled' },
      ]);
      expect(await soldOf(positionId)).toBe(100);
      expect(await holding(positionId)).toEqual({ quantity: '0', status: 'closed' });
      expect(await exchange.getPositions()).toEqual([]);
      // No rejection, no alert: nothing was ever asked of the venue beyond what was held.
      const { rows: alerts } = await db().pool.query(`SELECT count(*)::int AS n FROM system_health WHERE component = 'execute-exit'`);
      expect(alerts[0].n).toBe(0);
    });

    it('the position already closed: the request is cancelled, nothing left to sell, no order placed', async () => {
      const { positionId, stop, run } = await stopLossAfterAPartialSold();
      await run(stop);
      const ordersBefore = (await db().pool.query(`SELECT count(*)::int AS n FROM paper_orders`)).rows[0].n;
      // The request still wants 50 more (it asked for 100, 50 filled) but nothing is held.
      const again = await run(stop, 2);
      expect(again).toEqual({
        outcome: 'finished', exitRequestId: stop.exitRequestId, status: 'cancelled',
        reason: 'the position holds nothing more to sell (closed by another exit or settled)',
      });
      const { rows: [request] } = await db().pool.query(
        'SELECT status, status_reason, quantity::text, filled_quantity::text FROM exit_requests WHERE exit_request_id = $1', [stop.exitRequestId],
      );
      expect(request).toEqual({ status: 'cancelled', status_reason: again.outcome === 'finished' ? again.reason : null, quantity: '100.00', filled_quantity: '50.00' });
      expect((await db().pool.query(`SELECT count(*)::int AS n FROM paper_orders`)).rows[0].n).toBe(ordersBefore);
      expect(await soldOf(positionId)).toBe(100);
      expect(await holding(positionId)).toEqual({ quantity: '0', status: 'closed' });
    });
  });

  it('two concurrent sweeps decide each exit once', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(KC, 58, 60);
    await quote(DAL, 28, 30);
    const { exchange } = runtime();
    await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 50, price: '0.60' });
    await openPosition(db().pool, exchange, { marketId: DAL, side: 'yes', quantity: 50, price: '0.30' });
    await quote(KC, 45, 47);
    await quote(DAL, 20, 22);
    const queue = new MemoryExitQueue();
    const sweeps = await Promise.all(Array.from({ length: 4 }, () => sweepPositions({ pool: db().pool, queue })));
    expect(sweeps.flatMap((s) => s.exits)).toHaveLength(2);
    // Later sweeps (after the first finished) see the exits in flight and add nothing.
    await sweepPositions({ pool: db().pool, queue });
    const { rows } = await db().pool.query('SELECT position_id, count(*)::int AS n FROM exit_requests GROUP BY position_id');
    expect(rows.map((r) => r.n)).toEqual([1, 1]);
    expect(queue.sent).toHaveLength(2);
  });

  it('a MEDIUM exit that never fills stops after its five limit prices and raises an alert', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(KC, 58, 60);
    const { rt, exchange } = runtime();
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
    const queue = new MemoryExitQueue();
    // +15% at a bid of 0.69: a partial exit, MEDIUM, first at the mid 0.70, then walking
    // 1¢ × 1.0, 1.5, 2.0, 2.5 (each rounded down to the cent): 0.69, 0.67, 0.65, 0.62.
    await quote(KC, 69, 71);
    await sweepPositions({ pool: db().pool, queue });
    // The venue's book has no bid at all: nothing ever fills.
    const { StaticBookSource } = await import('../../shared/exchange/paper/bookSources');
    const { PaperExchange } = await import('../../shared/exchange/paper/paperExchange');
    const { dec } = await import('../../shared/domain/decimal');
    const empty = new PaperExchange(db().pool, {
      books: new StaticBookSource([{ ticker: KC, at: new Date(), open: true, yes: { bids: [], asks: [] }, no: { bids: [], asks: [] } }]),
      startingBalance: dec('10000'),
    });
    const clock = { t: Date.now() };
    const outcomes = [];
    for (let receive = 1; receive <= 10; receive++) {
      const outcome = await executeExit({ pool: db().pool, exchange: empty, now: () => new Date(clock.t) }, queue.sent[0]!, { receiveCount: receive });
      outcomes.push(outcome.outcome);
      if (outcome.outcome !== 'retry') break;
      clock.t = Math.max(clock.t, Date.now()) + outcome.afterSeconds * 1000;
    }
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'stopped']);
    const { rows: attempts } = await db().pool.query('SELECT attempt_number, limit_price::text, success FROM exit_attempts ORDER BY attempt_id');
    expect(attempts.map((a) => [a.attempt_number, a.limit_price, a.success])).toEqual([
      [1, '0.7000', false], [2, '0.6900', false], [3, '0.6700', false], [4, '0.6500', false], [5, '0.6200', false],
    ]);
    const { rows: [request] } = await db().pool.query('SELECT status, status_reason FROM exit_requests');
    expect(request.status).toBe('stopped');
    expect(request.status_reason).toMatch(/MEDIUM exit unfilled after 5 limit attempts/);
    const { rows: [alert] } = await db().pool.query(`SELECT status, details FROM system_health WHERE component = 'execute-exit'`);
    expect(alert).toMatchObject({ status: 'degraded', details: { alert: 'exit stopped', positionId } });
    expect(await held(positionId)).toEqual({ quantity: 100, status: 'open' });
    // rt unused here: the handler path is covered above.
    expect(rt.pool).toBe(db().pool);
  });

  it('a malformed exit message fails with a clear reason and writes nothing', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const { rt } = runtime();
    const before = await executionFootprint(db().pool);
    const record = sqsRecord({ version: 1, exitRequestId: 'one', positionId: 1, priority: 'HIGH', createdAt: new Date().toISOString() });
    await expect(processExitRecord(record, rt)).rejects.toThrow(/exit order message: exitRequestId: /);
    const response = await runExecuteExit(sqsEvent(record, sqsRecord('nope')), lambdaContext, rt);
    expect(response.batchItemFailures).toHaveLength(2);
    expect(await executionFootprint(db().pool)).toEqual(before);
  });
});

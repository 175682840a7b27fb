import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MONITOR_LOCK_KEY, sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * The monitor's single-runner guarantee without reserved concurrency (the reservedConcurrency
 * deploy setting is off by default): EventBridge may start a second monitor-positions while one
 * still runs, and Lambda runs both. Each sweep takes a transaction-level advisory try-lock first,
 * so while one sweep works, the other reports `skipped` and writes and sends nothing.
 */

const db = useDatabasePerTest({ poolMax: 20 });
const KC = `${GAME_EVENT}-KC`;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * The pool, except that the first query matching `when` on a connected client signals `reached`
 * and then waits for `gate`: a sweep held at a known point, inside its transaction.
 */
function pausedAt(pool: pg.Pool, when: (sql: string) => boolean, reached: () => void, gate: Promise<void>): pg.Pool {
  let paused = false;
  const wrapClient = (client: pg.PoolClient) =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === 'query') {
          return async (...args: unknown[]) => {
            const first = args[0];
            const sql = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '';
            if (!paused && when(sql)) {
              paused = true;
              reached();
              await gate;
            }
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'connect') return async () => wrapClient(await target.connect());
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function positionWithStopLoss() {
  const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 1 });
  await quoteYes(db().pool, KC, 58, 60);
  const positionId = await openPosition(db().pool, paperExchange(db().pool), {
    marketId: KC, side: 'yes', quantity: 100, price: '0.60', strategyId: strategies[0]!.id, modelId: model.id,
  });
  // The bid collapses: the stop loss fires on the next sweep.
  await quoteYes(db().pool, KC, 20, 22);
  return positionId;
}

const exitRequests = async (positionId: number) =>
  (await db().pool.query('SELECT exit_request_id, exit_condition, enqueued_at FROM exit_requests WHERE position_id = $1', [positionId])).rows;

describe('monitor single runner (advisory lock, no reserved concurrency)', () => {
  it('two overlapping sweeps: the one holding the lock decides the exit once; the other skips, writing and sending nothing', async () => {
    const positionId = await positionWithStopLoss();
    const queue = new MemoryExitQueue();
    const held = deferred();
    const release = deferred();
    // Run A is paused inside its transaction, after its try-lock, at the positions query.
    const runA = sweepPositions(
      { pool: pausedAt(db().pool, (sql) => sql.includes('JOIN position_identities pi'), held.resolve, release.promise), queue },
    );
    await held.promise;
    const { rows: [seen] } = await db().pool.query(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND granted`, [MONITOR_LOCK_KEY],
    );
    expect(seen.n).toBe(1);

    // Run B overlaps it: skipped, nothing evaluated, nothing written or sent.
    const runB = await sweepPositions({ pool: db().pool, queue });
    expect(runB).toMatchObject({ skipped: 'another monitor sweep is running', positions: 0, exits: [], enqueued: 0 });
    expect(await exitRequests(positionId)).toEqual([]);
    expect(queue.sent).toEqual([]);

    release.resolve();
    const resultA = await runA;
    expect(resultA.skipped).toBeUndefined();
    expect(resultA.exits).toEqual([expect.objectContaining({ positionId, condition: 'stop_loss' })]);
    expect(await exitRequests(positionId)).toEqual([expect.objectContaining({ exit_condition: 'stop_loss', enqueued_at: expect.any(Date) })]);
    expect(queue.sent.map((m) => m.positionId)).toEqual([positionId]);

    // The lock went with A's transaction: the next sweep runs, and decides nothing new.
    const after = await sweepPositions({ pool: db().pool, queue });
    expect(after.skipped).toBeUndefined();
    expect(after.exits).toEqual([]);
    expect(await exitRequests(positionId)).toHaveLength(1);
  });

  it('many sweeps started at once: exactly one exit request for the position, whoever got the lock', async () => {
    const positionId = await positionWithStopLoss();
    const queue = new MemoryExitQueue();
    const results = await Promise.all(Array.from({ length: 6 }, () => sweepPositions({ pool: db().pool, queue })));
    expect(results.flatMap((r) => r.exits).map((e) => e.positionId)).toEqual([positionId]);
    expect(await exitRequests(positionId)).toHaveLength(1);
  });
});

import type { Context, SQSEvent } from 'aws-lambda';
import type pg from 'pg';
import type { Exchange } from '../shared/exchange/types';
import type { EventLoop, Scheduled } from './des/eventLoop';
import { ORDER_BATCH_SIZE, type LocalEntryQueue, type LocalExitQueue, type LocalQueue } from './localQueue';
import type { LocalScheduler } from './scheduler';

/**
 * The deployed trading functions on the discrete-event loop, as AWS wires them: EventBridge
 * schedules (scan-edges, monitor-positions, check-health, settle-markets) on `LocalScheduler`, the
 * two SQS event source mappings (execute-entry, execute-exit) on the local queues, and the Lambda
 * context on the virtual clock. Shared by `npm start` (local/runtime.ts, which adds ingestion
 * against the simulator) and the backtest (backtest/engine.ts, where a tape replaces ingestion),
 * so both run the same handlers the same way.
 */

/** EventBridge periods of the scheduled functions, seconds (infra/functions.ts FUNCTION_SPECS; a test keeps them equal). */
export const LOCAL_SCHEDULES = {
  'ingest-markets': 60,
  'ingest-game-states': 60,
  'scan-edges': 60,
  'monitor-positions': 60,
  'check-health': 60,
  'settle-markets': 300,
} as const;

/** The deployed functions' timeouts, ms (infra/functions.ts): what the Lambda context's remaining time counts down from. */
export const FUNCTION_TIMEOUT_MS = { 'monitor-positions': 60_000, 'execute-entry': 60_000, 'execute-exit': 60_000 } as const;

/** A delivery of a queue consumer, as saved by a resumable run. */
export interface SavedDelivery {
  at: number;
  seq: number;
}

/** The trading handlers' modules (imported after the caller has set their environment). */
export async function importTradingHandlers() {
  const [scan, monitor, health, settle, entry, exit] = await Promise.all([
    import('../functions/scan-edges/handler'), import('../functions/monitor-positions/handler'), import('../functions/check-health/handler'),
    import('../functions/settle-markets/handler'), import('../functions/execute-entry/handler'), import('../functions/execute-exit/handler'),
  ]);
  return { scan, monitor, health, settle, entry, exit };
}
export type TradingHandlers = Awaited<ReturnType<typeof importTradingHandlers>>;

/** A Lambda context on the virtual clock: the remaining time counts down in virtual time. */
export function lambdaContextFactory(loop: EventLoop): (name: keyof typeof FUNCTION_TIMEOUT_MS) => Context {
  let invocations = 0;
  return (name) => {
    const deadline = loop.nowMs() + FUNCTION_TIMEOUT_MS[name];
    return {
      functionName: `precog-${name}`, functionVersion: '$LATEST', invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:precog-${name}`,
      memoryLimitInMB: '512', awsRequestId: `local-${name}-${++invocations}`, logGroupName: `/aws/lambda/precog-${name}`, logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => Math.max(0, deadline - loop.nowMs()),
      done: () => undefined, fail: () => undefined, succeed: () => undefined,
    };
  };
}

export interface TradingWiring {
  loop: EventLoop;
  jobs: LocalScheduler;
  handlers: TradingHandlers;
  pool: pg.Pool;
  entryQueue: LocalEntryQueue;
  exitQueue: LocalExitQueue;
  /** The exchange execute-exit uses (the same one the other handlers build from the environment). */
  exitExchange: Exchange;
  /** A handler's error or a dead letter, said once per distinct message by the caller. */
  problem: (name: string, message: string) => void;
  /** Deliveries pending when a saved run stopped (resume). */
  restored?: { entry: SavedDelivery | null; exit: SavedDelivery | null };
}

export interface Wired {
  /** Call at every quiescent point (the loop's `beforeAdvance`): schedules each queue's next delivery. */
  ensureDeliveries: () => void;
  /** The pending delivery of each queue (saved by a resumable run). */
  pendingDelivery: Record<'entry' | 'exit', () => Scheduled | undefined>;
}

/**
 * Registers the scheduled trading functions (after whatever the caller registered before them:
 * registration order is the order of ticks at one instant) and the two queue consumers.
 */
export function wireTradingHandlers(w: TradingWiring): Wired {
  const { loop, jobs, handlers, pool, entryQueue, exitQueue, problem } = w;
  const context = lambdaContextFactory(loop);
  jobs.every('scan-edges', LOCAL_SCHEDULES['scan-edges'], () => handlers.scan.runScanEdges({}, { queue: entryQueue }));
  jobs.every('monitor-positions', LOCAL_SCHEDULES['monitor-positions'], () =>
    handlers.monitor.runMonitor({}, context('monitor-positions'), { queue: exitQueue, now: () => loop.nowMs(), sleep: (ms) => loop.sleep(ms) }));
  jobs.every('check-health', LOCAL_SCHEDULES['check-health'], () => handlers.health.runCheckHealth({}));
  jobs.every('settle-markets', LOCAL_SCHEDULES['settle-markets'], () => handlers.settle.runSettleMarkets({}));

  const pendingDelivery = {} as Wired['pendingDelivery'];
  // SQS event source mappings: one consumer per queue at a time, a delivery when a message is visible.
  const consumer = <M, Id>(
    key: 'entry' | 'exit', name: string, queue: LocalQueue<M, Id>, handler: (event: SQSEvent) => Promise<unknown>, restored: SavedDelivery | null,
  ) => {
    let busy = false;
    let pending: Scheduled | undefined;
    let deadLetters = queue.deadLetters.length;
    const deliver = () => {
      pending = undefined;
      busy = true;
      void loop.spawn(name, async () => {
        try {
          const delivered = await queue.deliver(async (event) => (await handler(event)) as never, { batchSize: ORDER_BATCH_SIZE });
          if (delivered.error) problem(name, delivered.error.message);
          // The dead-letter queue's alarm, locally: a message that used up its receives.
          for (const dead of queue.deadLetters.slice(deadLetters)) {
            problem(name, `message ${dead.messageId} moved to the dead-letter queue after ${dead.receiveCount} receives: ${dead.body}`);
          }
          deadLetters = queue.deadLetters.length;
        } finally {
          busy = false;
        }
      });
    };
    if (restored) pending = loop.at(restored.at, deliver, restored.seq, name);
    pendingDelivery[key] = () => pending;
    return () => {
      if (busy) return;
      const visibleAt = queue.nextVisibleAt();
      if (visibleAt === undefined) {
        pending?.cancel();
        pending = undefined;
        return;
      }
      const at = Math.max(loop.nowMs(), visibleAt);
      if (pending?.at === at) return;
      pending?.cancel();
      pending = loop.at(at, deliver, undefined, name);
    };
  };
  const consumers = [
    consumer('entry', 'execute-entry', entryQueue, (event) => handlers.entry.runExecuteEntry(event, context('execute-entry')), w.restored?.entry ?? null),
    consumer('exit', 'execute-exit', exitQueue, (event) =>
      handlers.exit.runExecuteExit(event, context('execute-exit'), { pool, exchange: w.exitExchange, retryAfter: (record, seconds) => exitQueue.retryAfter(record, seconds) }),
    w.restored?.exit ?? null),
  ];
  return { ensureDeliveries: () => consumers.forEach((ensure) => ensure()), pendingDelivery };
}

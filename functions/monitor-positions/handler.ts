import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { now, nowMs, sleep } from '../../shared/clock/clock';
import { ConfigError, getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type pg from 'pg';
import { reconcileVenue, type ReconcileResult } from '../../shared/execution/reconcile';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { runCadence, type CadenceSweep } from '../../shared/monitor/cadence';
import { EXIT_MESSAGE_MARGIN_SECONDS, EXIT_VISIBILITY_TIMEOUT_SECONDS, sweepPositions, type SweepResult } from '../../shared/monitor/sweep';
import { parseEnvironment } from '../../shared/config/environment';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { reportHealth } from '../../shared/observability/health';
import { OperationsRepository } from '../../shared/db/repositories/operations';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { createLogger } from '../../shared/observability/logger';
import { desyncEvents, publishQuietly } from '../../shared/observability/operationalEvents';
import { SqsExitQueue } from '../../shared/queues/sqsEntryQueue';
import type { ExitQueue } from '../../shared/queues/messages';

const logger = createLogger('monitor-positions');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'monitor-positions' });
let sqs: SQSClient | undefined;
/** Venue request failures of this container, written to api_errors after each reconciliation. */
const failures = new FailureLog();
/** The invocation running now: the cached exchange's retries read its remaining time. */
const deadline = new InvocationDeadline();
const exchange = memoizeUntilRejected((pool: pg.Pool) =>
  createExchangeFromEnv({ pool, onFailedAttempt: failures.hook('kalshi'), remainingTimeMs: deadline.remainingTimeMs }), { sameAs: samePool });
let publisher: EventPublisher | undefined;

/**
 * Console event: `{}` runs a minute of monitoring (reconciliation, then sweeps on the 30 s / 5 s
 * cadence until shortly before the timeout); `{"positionIds": [...]}` sweeps only those, once;
 * `{"dryRun": true}` evaluates once and reports, writing and sending nothing; `{"once": true}`
 * runs a single full sweep.
 */
export const MonitorEvent = z
  .object({
    positionIds: z.array(z.number().int().positive()).min(1).max(10_000).optional(),
    dryRun: z.boolean().default(false),
    once: z.boolean().default(false),
  })
  .strict();

/**
 * EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS: the exit queue's visibility timeout as deployed (infra sets
 * it from the queue); an active exit whose message nobody has seen for that long plus a margin has
 * lost it (dead-lettered) and is sent again.
 */
export const MonitorEnv = z.object({
  EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(43_200).default(EXIT_VISIBILITY_TIMEOUT_SECONDS),
});

/** Stop this long before the function's timeout: the last sweep must commit in time. */
const DEADLINE_MARGIN_MS = 8_000;

export interface MonitorResult {
  reconciliation?: Pick<ReconcileResult, 'ordersChecked' | 'fillsRecorded' | 'desyncs' | 'errors' | 'balance'> | { error: string };
  sweeps: CadenceSweep[];
  /** The last sweep's report (dry runs: what would be done). */
  last?: Omit<SweepResult, 'triggers'> & { triggers: number };
}

/**
 * What the local runtime may inject instead of SQS and the clock (defaults: EXIT_QUEUE_URL and the
 * clock in use, shared/clock/clock.ts: the system clock deployed, the virtual one in a simulation).
 */
export interface MonitorRuntime {
  queue?: ExitQueue;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export async function runMonitor(
  event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
  runtime: MonitorRuntime = {},
): Promise<MonitorResult> {
  const options = parseScheduledOrConsoleEvent('monitor-positions', MonitorEvent, event);
  deadline.enter(context);
  const queueUrl = process.env.EXIT_QUEUE_URL;
  if (!options.dryRun && !queueUrl && !runtime.queue) throw new ConfigError('invalid monitor-positions configuration: EXIT_QUEUE_URL is not set');
  const env = parseEnvironment('monitor-positions', MonitorEnv, process.env);
  const messageWindowSeconds = env.EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS + EXIT_MESSAGE_MARGIN_SECONDS;
  const pool = await getPool();
  const executionMode = process.env.EXECUTION_MODE === 'live' ? 'live' : 'paper';
  const queue = runtime.queue ?? (queueUrl ? new SqsExitQueue((sqs ??= new SQSClient({})), queueUrl) : undefined);
  const result: MonitorResult = { sweeps: [] };
  const rules = await currentRules(pool, { log: (m, e) => logger.warn(m, { ...e }) });

  // Reconciliation first (once a minute): the positions the sweep prices are the venue's too.
  if (!options.dryRun && !options.positionIds) {
    try {
      const r = await reconcileVenue({ pool, exchange: await exchange(pool), rules }).finally(() =>
        failures.flush(new OperationsRepository(pool), 'monitor-positions').catch((error: Error) =>
          logger.error('could not record venue failures', { error: error.message })));
      result.reconciliation = { ordersChecked: r.ordersChecked, fillsRecorded: r.fillsRecorded, desyncs: r.desyncs, errors: r.errors, balance: r.balance };
      metrics.addMetric('OpenDesyncs', MetricUnit.Count, r.desyncs.length);
      if (r.desyncs.length > 0) logger.warn('venue desyncs', { desyncs: r.desyncs });
      publisher ??= eventPublisherFromEnv();
      await publishQuietly(publisher, desyncEvents(r.newDesyncs, now()), (message, extra) => logger.error(message, { ...extra }));
    } catch (error) {
      // Monitoring must go on when the venue is unreachable: the exits are what protects capital.
      result.reconciliation = { error: (error as Error).message };
      logger.error('reconciliation failed; sweeping anyway', { error: (error as Error).message });
    }
  }

  let last: SweepResult | undefined;
  const sweep = async (positionIds?: number[]) => {
    last = await sweepPositions({ pool, queue, executionMode, rules, messageWindowSeconds }, { positionIds: positionIds ?? options.positionIds, dryRun: options.dryRun });
    if (last.resent > 0) {
      logger.warn('exit messages presumed lost (dead-lettered or expired): sent again', { resent: last.resent, messageWindowSeconds });
      metrics.addMetric('ExitMessagesResent', MetricUnit.Count, last.resent);
    }
    for (const t of last.triggers) logger.info('exit condition fired', { ...t });
    for (const e of last.exits) logger.info('exit decided', { ...e });
    metrics.addMetric('SweepMs', MetricUnit.Milliseconds, last.ms);
    metrics.addMetric('ExitsDecided', MetricUnit.Count, last.exits.length);
    return last;
  };
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const clockNowMs = runtime.now ?? nowMs;
  result.sweeps = await runCadence(
    {
      sweep, rules, now: clockNowMs, sleep: runtime.sleep ?? sleep,
      // The remaining time is counted on the clock the invocation runs on (AWS's when deployed; a
      // simulation passes a context counting its virtual time), so the deadline is too.
      deadline: clockNowMs() + remaining - DEADLINE_MARGIN_MS,
    },
    { once: options.once || options.dryRun || options.positionIds !== undefined },
  );
  if (last) result.last = { ...last, triggers: last.triggers.length };
  if (!options.dryRun) {
    const skippedAll = result.sweeps.length > 0 && result.sweeps.every((s) => s.skipped);
    await reportHealth(pool, 'monitor-positions', result.reconciliation && 'error' in result.reconciliation ? 'degraded' : 'healthy', {
      sweeps: result.sweeps.length, positions: last?.positions ?? 0, slowest_ms: Math.max(0, ...result.sweeps.map((s) => s.ms)),
      skipped_all: skippedAll,
    }, (m, e) => logger.error(m, { ...e }));
  }
  logger.info('monitoring done', { sweeps: result.sweeps.length, positions: last?.positions ?? 0 });
  // Once per completed run (a run that throws emits none): its absence is the heartbeat alarm (infra/monitoring.ts).
  metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
  return result;
}

export const handler = middy((event: unknown, context: Context) => runMonitor(event, context)).use(injectLambdaContext(logger)).use(logMetrics(metrics));

import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type { Context } from 'aws-lambda';
import type pg from 'pg';
import { reconcileVenue, type ReconcileResult } from '../../shared/execution/reconcile';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { reportHealth } from '../../shared/observability/health';
import { OperationsRepository } from '../../shared/db/repositories/operations';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { createLogger } from '../../shared/observability/logger';
import { desyncEvents, publishQuietly } from '../../shared/observability/operationalEvents';

const logger = createLogger('reconcile');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'reconcile' });
/** Venue request failures of this container, written to api_errors after each run. */
const failures = new FailureLog();
/** The invocation running now: the cached exchange's retries read its remaining time. */
const deadline = new InvocationDeadline();
const exchange = memoizeUntilRejected((pool: pg.Pool) =>
  createExchangeFromEnv({ pool, onFailedAttempt: failures.hook('kalshi'), remainingTimeMs: deadline.remainingTimeMs }), { sameAs: samePool });
let publisher: EventPublisher | undefined;

/**
 * Console event: `{}` (or the EventBridge scheduled event). Syncs open orders with the venue,
 * records missing fills, compares positions and resting orders; the monitor runs the same step
 * every minute. `OpenDesyncs` is the metric an alarm watches.
 */
export const ReconcileEvent = z.object({}).strict();

export async function runReconcile(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ReconcileResult> {
  parseScheduledOrConsoleEvent('reconcile', ReconcileEvent, event);
  deadline.enter(context);
  const pool = await getPool();
  const rules = await currentRules(pool, { log: (m, e) => logger.warn(m, { ...e }) });
  const result = await reconcileVenue({ pool, exchange: await exchange(pool), rules }).finally(() =>
    failures.flush(new OperationsRepository(pool), 'reconcile').catch((error: Error) =>
      logger.error('could not record venue failures', { error: error.message })));
  metrics.addMetric('OpenDesyncs', MetricUnit.Count, result.desyncs.length);
  metrics.addMetric('ReconcileFillsRecorded', MetricUnit.Count, result.fillsRecorded);
  metrics.addMetric('ReconcileErrors', MetricUnit.Count, result.errors.length);
  publisher ??= eventPublisherFromEnv();
  await publishQuietly(publisher, desyncEvents(result.newDesyncs, now()), (message, extra) => logger.error(message, { ...extra }));
  const log = result.desyncs.length > 0 || result.errors.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('reconciled', { ...result });
  await reportHealth(pool, 'reconcile', result.desyncs.length > 0 || result.errors.length > 0 ? 'degraded' : 'healthy', {
    desyncs: result.desyncs.length, errors: result.errors.length, fills_recorded: result.fillsRecorded,
  }, (m, e) => logger.error(m, { ...e }));
  return result;
}

export const handler = middy(runReconcile).use(injectLambdaContext(logger)).use(logMetrics(metrics));

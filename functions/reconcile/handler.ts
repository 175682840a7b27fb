import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { z } from 'zod';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type { Exchange } from '../../shared/exchange/types';
import { reconcileVenue, type ReconcileResult } from '../../shared/execution/reconcile';
import { createLogger } from '../../shared/observability/logger';

const logger = createLogger('reconcile');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'reconcile' });
let exchange: Promise<Exchange> | undefined;

/**
 * Console event: `{}` (or the EventBridge scheduled event). Syncs open orders with the venue,
 * records missing fills, compares positions and resting orders; the monitor runs the same step
 * every minute. `OpenDesyncs` is the metric an alarm watches.
 */
export const ReconcileEvent = z.object({}).strict();

export async function runReconcile(event: unknown): Promise<ReconcileResult> {
  parseScheduledOrConsoleEvent('reconcile', ReconcileEvent, event);
  const pool = await getPool();
  exchange ??= createExchangeFromEnv({ pool });
  const result = await reconcileVenue({ pool, exchange: await exchange });
  metrics.addMetric('OpenDesyncs', MetricUnit.Count, result.desyncs.length);
  metrics.addMetric('ReconcileFillsRecorded', MetricUnit.Count, result.fillsRecorded);
  metrics.addMetric('ReconcileErrors', MetricUnit.Count, result.errors.length);
  const log = result.desyncs.length > 0 || result.errors.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('reconciled', { ...result });
  return result;
}

export const handler = middy(runReconcile).use(injectLambdaContext(logger)).use(logMetrics(metrics));

import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { ConfigError, getPool } from '../../shared/db/pool';
import { scanEdges, type ScanEdgesResult } from '../../shared/edges/scanEdges';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { EDGE_ALERT, eventPublisherFromEnv, type EventPublisher, type PrecogEvent } from '../../shared/observability/events';
import { reportHealth } from '../../shared/observability/health';
import { claimEdgeAlerts, releaseEdgeAlerts } from '../../shared/observability/edgeAlerts';
import { publishQuietly } from '../../shared/observability/operationalEvents';
import { createLogger } from '../../shared/observability/logger';
import { SqsEntryQueue } from '../../shared/queues/sqsEntryQueue';
import type { EntryQueue } from '../../shared/queues/messages';

const logger = createLogger('scan-edges');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'scan-edges' });
let sqs: SQSClient | undefined;
let publisher: EventPublisher | undefined;

/**
 * Console event: `{}` scans every open market; `{"marketIds": [...]}` or `{"seriesTickers": [...]}`
 * narrows it; `{"dryRun": true}` computes and reports without writing or enqueueing.
 */
export const ScanEdgesEvent = z
  .object({
    marketIds: z.array(z.string().min(1)).min(1).max(1000).optional(),
    seriesTickers: z.array(z.string().regex(/^[A-Z0-9][A-Z0-9-]*$/, 'a series ticker is upper-case letters, digits and dashes')).min(1).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

/** What the local runtime and tests inject instead of SQS and EventBridge (defaults: ENTRY_QUEUE_URL, EVENT_BUS_NAME). */
export interface ScanEdgesRuntime {
  queue?: EntryQueue;
  publisher?: EventPublisher;
}

export interface ScanEdgesRun extends ScanEdgesResult {
  /** New alert-level edge versions not announced: their edge's alert already went out (claimEdgeAlerts). */
  alertsRepeated: number;
}

/**
 * The result's `alerts` are those announced (one per edge: see shared/observability/edgeAlerts.ts);
 * a dry run announces nothing and reports what the scan found.
 */
export async function runScanEdges(event: unknown, runtime: ScanEdgesRuntime = {}): Promise<ScanEdgesRun> {
  const options = parseScheduledOrConsoleEvent('scan-edges', ScanEdgesEvent, event);
  const queueUrl = process.env.ENTRY_QUEUE_URL;
  if (!options.dryRun && !queueUrl && !runtime.queue) throw new ConfigError('invalid scan-edges configuration: ENTRY_QUEUE_URL is not set');
  const pool = await getPool();
  const result = await scanEdges(
    {
      pool,
      rules: await currentRules(pool, { log: (m, e) => logger.warn(m, { ...e }) }),
      queue: runtime.queue ?? (queueUrl ? new SqsEntryQueue((sqs ??= new SQSClient({})), queueUrl) : undefined),
      executionMode: process.env.EXECUTION_MODE === 'live' ? 'live' : 'paper',
    },
    options,
  );
  logger.info('edges scanned', {
    markets: result.markets, evaluated: result.evaluated, edges: result.edges, orders: result.orders, skipped: result.skipped.length,
  });
  for (const s of result.skipped.slice(0, 100)) logger.debug('market skipped', { ...s });
  if (options.dryRun) {
    // A dry run is counted, not silent (and Powertools warns of an invocation that published nothing).
    metrics.addMetric('DryRuns', MetricUnit.Count, 1);
    return { ...result, alertsRepeated: 0 };
  }
  // Announcing is never worth failing the scan (its edges and orders are committed): if the
  // claim cannot be made, this scan announces nothing rather than risk a mail a minute.
  const alerts = await claimEdgeAlerts(pool, result.alerts).catch((error: Error) => {
    logger.error('edge alerts not announced: could not claim them', { error: error.message, alerts: result.alerts.length });
    return [];
  });
  metrics.addMetric('EdgesWritten', MetricUnit.Count, result.edges.inserted);
  metrics.addMetric('EdgeAlerts', MetricUnit.Count, alerts.length);
  metrics.addMetric('EntryOrdersCreated', MetricUnit.Count, result.orders.created);
  metrics.addMetric('EntryOrdersUnsent', MetricUnit.Count, result.orders.unsent);
  const events = runtime.publisher ?? (publisher ??= eventPublisherFromEnv());
  const unpublished = await publishQuietly(events, alerts.map((a) => ({ detailType: EDGE_ALERT, detail: a }) as PrecogEvent), (m, e) => logger.error(m, { ...e }));
  // An alert that did not go out is not claimed: the edge's next new version announces it.
  await releaseEdgeAlerts(pool, unpublished.map((e) => (e.detail as { edgeId: number }).edgeId));
  await reportHealth(pool, 'scan-edges', result.orders.unsent > 0 ? 'degraded' : 'healthy', {
    markets: result.markets, edges: result.edges, orders: result.orders, skipped: result.skipped.length,
  }, (m, e) => logger.error(m, { ...e }));
  return { ...result, alerts, alertsRepeated: result.alerts.length - alerts.length };
}

export const handler = middy((event: unknown) => runScanEdges(event)).use(injectLambdaContext(logger)).use(logMetrics(metrics));

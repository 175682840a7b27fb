import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { createLogger } from '../../shared/observability/logger';

/**
 * PLACEHOLDER (branch `backup`): the stack needs this entry to synthesize and bundle. Branch
 * `archive` owns the real handler (export, verify, then drop; ArchivedPartitions, ArchivedRows and
 * ArchiveFailures metrics); at merge its version replaces this file. Until then every run fails
 * loudly, counted as an archive failure, and archives nothing.
 */
const logger = createLogger('archive-partitions');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'archive-partitions' });

export async function runArchivePartitions(): Promise<never> {
  // What happened, truthfully: nothing archived, one failed run.
  metrics.addMetric('ArchivedPartitions', MetricUnit.Count, 0);
  metrics.addMetric('ArchivedRows', MetricUnit.Count, 0);
  metrics.addMetric('ArchiveFailures', MetricUnit.Count, 1);
  throw new Error('archive-partitions is not implemented in this build (placeholder from branch backup)');
}

export const handler = middy(runArchivePartitions).use(injectLambdaContext(logger)).use(logMetrics(metrics));

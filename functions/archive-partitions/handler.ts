import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { archiveDuePartitions, duePartitions, type ArchiveRunResult } from '../../shared/lifecycle/archive';
import { archiveConfigFromEnv } from '../../shared/lifecycle/archiveConfig';
import { archiveDeps } from '../../shared/lifecycle/archiveDeps';
import { hotWindowStart } from '../../shared/lifecycle/archiveMonths';
import { createLogger } from '../../shared/observability/logger';

const logger = createLogger('archive-partitions');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'archive-partitions' });

/**
 * Console event: `{}` (or the EventBridge scheduled event, daily) archives every time partition
 * older than the hot window and drops it once its Parquet file is verified;
 * `{"dryRun": true}` lists the partitions that are due and touches nothing.
 */
export const ArchivePartitionsEvent = z.object({ dryRun: z.boolean().default(false) }).strict();

export interface ArchivePartitionsDryRun {
  dryRun: true;
  cutoff: Date;
  due: Array<{ table: string; partition: string; from: Date; to: Date }>;
}

export async function runArchivePartitions(event: unknown): Promise<ArchiveRunResult | ArchivePartitionsDryRun> {
  const options = parseScheduledOrConsoleEvent('archive-partitions', ArchivePartitionsEvent, event);
  const config = archiveConfigFromEnv(process.env);
  const pool = await getPool();
  const deps = archiveDeps(pool, config.location);
  if (options.dryRun) {
    const cutoff = hotWindowStart(now(), config.tiers.hotMonths);
    const due = [];
    for (const { table } of deps.partitions.tables()) due.push(...duePartitions(await deps.partitions.listTimePartitions(pool, table), cutoff));
    logger.info('archive-partitions dry run', { cutoff: cutoff.toISOString(), due });
    return { dryRun: true, cutoff, due };
  }
  const result = await archiveDuePartitions(deps, config.tiers, {
    onArchived: (a) => logger.info('partition archived and dropped', { ...a }),
    onFailure: (f) => logger.error('partition not archived: nothing dropped', { ...f }),
  });
  // Emitted on every run, zeros included: the ArchiveFailures alarm (infra) sees the function is running.
  metrics.addMetric('ArchivedPartitions', MetricUnit.Count, result.archived.length);
  metrics.addMetric('ArchivedRows', MetricUnit.Count, result.archived.reduce((n, a) => n + a.rows, 0));
  metrics.addMetric('ArchiveFailures', MetricUnit.Count, result.failures.length);
  logger.info('archive-partitions finished', {
    cutoff: result.cutoff.toISOString(), tiers: config.tiers, location: config.location,
    archived: result.archived.length, failures: result.failures.length,
  });
  return result;
}

export const handler = middy(runArchivePartitions).use(injectLambdaContext(logger)).use(logMetrics(metrics));

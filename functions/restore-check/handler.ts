import { BackupClient } from '@aws-sdk/client-backup';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { ConfigError, createPool, parseDatabaseEnv, resolvePoolConfig } from '../../shared/db/pool';
import { createLogger } from '../../shared/observability/logger';
import { runRestoreCheck, type RestoreCheckDeps, type RestoreCheckOutcome } from './restoreCheck';

const logger = createLogger('restore-check');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'restore-check' });

/** Where the restore test keeps its baseline, from the environment the stack sets. */
const RestoreCheckEnv = z.object({
  ARCHIVE_BUCKET: z.string().min(1),
  INTEGRITY_BASELINE_KEY: z.string().min(1),
});

function depsFromEnv(env: NodeJS.ProcessEnv = process.env): RestoreCheckDeps {
  const parsed = RestoreCheckEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid restore-check configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return {
    backup: new BackupClient({}),
    rds: new RDSClient({}),
    s3: new S3Client({}),
    bucket: parsed.data.ARCHIVE_BUCKET,
    baselineKey: parsed.data.INTEGRITY_BASELINE_KEY,
    now,
    // The restored instance directly (no proxy), with the database secret (a restore keeps the
    // master password). TLS `require`: its certificate comes from a regional RDS CA, which the
    // bundle does not carry (shared/db/pool.ts sslOption).
    async connect({ host, port }) {
      const config = await resolvePoolConfig(parseDatabaseEnv({ ...env, DATABASE_HOST: host, DATABASE_SSL: 'require', DATABASE_POOL_MAX: '1' }));
      const pool = createPool({ ...config, port });
      return { db: pool, close: () => pool.end() };
    },
  };
}

/** Event: AWS Backup's "Restore Job State Change" of the restore testing plan (events/restore-check.json). */
export async function runRestoreCheckHandler(event: unknown, deps: RestoreCheckDeps = depsFromEnv()): Promise<RestoreCheckOutcome> {
  const outcome = await runRestoreCheck(event, deps);
  if (outcome.status === 'SUCCESSFUL') {
    logger.info('restore test passed', { restoreJobId: outcome.restoreJobId, message: outcome.message, checked: outcome.report?.checked });
    metrics.addMetric('RestoreTestsPassed', MetricUnit.Count, 1);
  } else {
    logger.error('restore test failed', { restoreJobId: outcome.restoreJobId, message: outcome.message, violations: outcome.report?.violations });
    metrics.addMetric('RestoreTestFailures', MetricUnit.Count, 1);
  }
  return outcome;
}

export const handler = middy((event: unknown) => runRestoreCheckHandler(event)).use(injectLambdaContext(logger)).use(logMetrics(metrics));

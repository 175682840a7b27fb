import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { createLogger } from '../../shared/observability/logger';
import { breakerEvents, publishQuietly } from '../../shared/observability/operationalEvents';
import { checkHealth, type HealthCheckResult } from '../../shared/risk/health';

const logger = createLogger('check-health');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'check-health' });
let publisher: EventPublisher | undefined;

/** Console event: `{}` (or the EventBridge scheduled event): one health check. */
export const CheckHealthEvent = z.object({}).strict();

export async function runCheckHealth(event: unknown): Promise<HealthCheckResult> {
  parseScheduledOrConsoleEvent('check-health', CheckHealthEvent, event);
  const pool = await getPool();
  const rules = await currentRules(pool, { log: (m, e) => logger.warn(m, { ...e }) });
  const result = await checkHealth({ pool, rules, executionMode: process.env.EXECUTION_MODE === 'live' ? 'live' : 'paper' });
  for (const t of result.breakers.trips) {
    logger.error('circuit breaker tripped', { ...t });
    const tripped = metrics.singleMetric();
    tripped.addDimension('BreakerType', t.type);
    tripped.addMetric('BreakerTripped', MetricUnit.Count, 1);
  }
  for (const r of result.breakers.resolutions) logger.warn('circuit breaker resolved', { ...r });
  publisher ??= eventPublisherFromEnv();
  await publishQuietly(publisher, breakerEvents(result.breakers, rules), (message, extra) => logger.error(message, { ...extra }));
  // Metrics are the observability boundary: figures become floats here, for CloudWatch only.
  metrics.addMetric('BreakersOpen', MetricUnit.Count, result.breakers.open.length);
  metrics.addMetric('DailyPnl', MetricUnit.NoUnit, result.dailyPnl.toNumber());
  metrics.addMetric('OpenExposure', MetricUnit.NoUnit, result.openExposure.toNumber());
  metrics.addMetric('OpenPositions', MetricUnit.Count, result.openPositions);
  metrics.addMetric('ApiErrors', MetricUnit.Count, result.breakers.facts.apiErrors);
  if (result.monitorAgeSeconds !== null) metrics.addMetric('MonitorSweepAgeSeconds', MetricUnit.Seconds, result.monitorAgeSeconds);
  for (const c of result.components) {
    if (c.status !== 'healthy') logger.warn('component not healthy', { ...c });
  }
  // Once per completed check (a check that throws emits none): its absence is the heartbeat alarm (infra/monitoring.ts).
  metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
  return result;
}

export const handler = middy(runCheckHealth).use(injectLambdaContext(logger)).use(logMetrics(metrics));

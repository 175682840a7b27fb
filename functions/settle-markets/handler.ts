import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type pg from 'pg';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { createExchangeFromEnv, parseExchangeEnv } from '../../shared/exchange/factory';
import type { Context } from 'aws-lambda';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { createLogger } from '../../shared/observability/logger';
import { desyncEvents, publishQuietly } from '../../shared/observability/operationalEvents';
import { settleMarkets, type SettleMarketsResult } from '../../shared/settlement/settleMarkets';

const logger = createLogger('settle-markets');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'settle-markets' });
/** The invocation running now: the cached exchange's retries read its remaining time. */
const deadline = new InvocationDeadline();
/** The exchange of the container's pool (a new pool, e.g. after a test closed the shared one, gets a new exchange). */
const exchangeOf = memoizeUntilRejected((pool: pg.Pool) => createExchangeFromEnv({ pool, remainingTimeMs: deadline.remainingTimeMs }), { sameAs: samePool });
let publisher: EventPublisher | undefined;

/**
 * Console event: `{}` (or the EventBridge scheduled event) settles every market ingestion
 * recorded as settled that the books have not settled yet; `{"marketIds": [...]}` only those
 * (each settled or skipped with its reason); `{"dryRun": true}` reports what would be settled and
 * writes nothing. On the paper exchange the simulated venue settles its account too; on Kalshi the
 * venue's settlement credits are cross-checked with the books' (a difference opens a desync).
 */
export const SettleMarketsEvent = z
  .object({
    marketIds: z.array(z.string().min(1, 'a market id cannot be empty')).min(1).max(10_000).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

export async function runSettleMarkets(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SettleMarketsResult> {
  const options = parseScheduledOrConsoleEvent('settle-markets', SettleMarketsEvent, event);
  const executionMode = parseExchangeEnv().EXECUTION_MODE;
  deadline.enter(context);
  const pool = await getPool();
  const exchange = await exchangeOf(pool);
  const result = await settleMarkets({ pool, exchange, executionMode }, options);
  metrics.addMetric('MarketsSettled', MetricUnit.Count, result.settled.length);
  metrics.addMetric('PositionsSettled', MetricUnit.Count, result.settled.reduce((n, s) => n + s.positions.length, 0));
  metrics.addMetric('SettlementErrors', MetricUnit.Count, result.errors.length);
  const differing = result.settlementChecks.filter((c) => c.status === 'differs');
  metrics.addMetric('SettlementDesyncs', MetricUnit.Count, differing.length);
  for (const c of differing) logger.warn('settlement desync: the venue credited another amount than the books', { ...c });
  publisher ??= eventPublisherFromEnv();
  await publishQuietly(publisher, desyncEvents(result.newDesyncs, now()), (message, extra) => logger.error(message, { ...extra }));
  for (const s of result.settled) logger.info(options.dryRun ? 'would settle market' : 'market settled', { ...s });
  const log = result.errors.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('settle-markets finished', {
    dryRun: result.dryRun, settled: result.settled.length, skipped: result.skipped, venueSettlements: result.venueSettlements,
    strategiesUpdated: result.strategiesUpdated, errors: result.errors, settlementChecks: result.settlementChecks,
  });
  return result;
}

export const handler = middy(runSettleMarkets).use(injectLambdaContext(logger)).use(logMetrics(metrics));

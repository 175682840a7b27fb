import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type pg from 'pg';
import { getPool } from '../../shared/db/pool';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type { Exchange } from '../../shared/exchange/types';
import { executeEntry, type EntryOutcome } from '../../shared/execution/executeEntry';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { OperationsRepository } from '../../shared/db/repositories/operations';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { reportHealth } from '../../shared/observability/health';
import { createLogger } from '../../shared/observability/logger';
import { breakerEvents, publishQuietly } from '../../shared/observability/operationalEvents';
import { checkBreakers } from '../../shared/risk/breakers';
import { InvalidMessageError, parseEntryOrderMessage } from '../../shared/queues/messages';

const logger = createLogger('execute-entry');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'execute-entry' });
let publisher: EventPublisher | undefined;

export interface ExecuteEntryRuntime {
  pool: pg.Pool;
  exchange: Exchange;
}

/** Venue request failures of this container, written to api_errors after each message. */
const failures = new FailureLog();
/** The invocation running now: the cached exchange's retries read its remaining time. */
const deadline = new InvocationDeadline();
/** Built once per container (paper, or Kalshi when switched to live); a failed creation is retried next time. */
const exchange = memoizeUntilRejected((pool: pg.Pool) =>
  createExchangeFromEnv({ pool, onFailedAttempt: failures.hook('kalshi'), remainingTimeMs: deadline.remainingTimeMs }), { sameAs: samePool });

async function defaultRuntime(): Promise<ExecuteEntryRuntime> {
  const pool = await getPool();
  return { pool, exchange: await exchange(pool) };
}

/**
 * Facts for the api_failures breaker, right where they arise: the venue failures just seen go to
 * api_errors, and a venue rejection re-checks that breaker at once (three in a row trip it).
 */
async function afterVenueContact(runtime: ExecuteEntryRuntime, outcome: EntryOutcome | undefined): Promise<void> {
  try {
    const failed = await failures.flush(new OperationsRepository(runtime.pool), 'execute-entry');
    if (failed || outcome?.outcome === 'rejected') {
      const check = await checkBreakers({ pool: runtime.pool, executionMode: runtime.exchange.executionMode }, { only: ['api_failures'] });
      for (const t of check.trips) logger.error('circuit breaker tripped', { ...t });
      publisher ??= eventPublisherFromEnv();
      await publishQuietly(publisher, breakerEvents(check), (m, extra) => logger.error(m, { ...extra }));
    }
  } catch (error) {
    logger.error('could not record venue failures or check the api_failures breaker', { error: (error as Error).message });
  }
}

/**
 * One entry-orders message. Every outcome that can never change by retrying (executed,
 * duplicate, cancelled by the last look, rejected by the venue, discarded) is acknowledged with
 * its reason logged; the order row records it. A malformed message and a transient failure
 * (database, venue unreachable, order state uncertain) throw: the record is reported as a batch
 * item failure, SQS redelivers it after the visibility timeout, and after the queue's
 * maxReceiveCount it lands in the dead-letter queue, whose alarm pages someone.
 */
export async function processEntryRecord(record: SQSRecord, runtime: ExecuteEntryRuntime): Promise<EntryOutcome> {
  let message;
  try {
    message = parseEntryOrderMessage(record.body);
  } catch (error) {
    if (error instanceof InvalidMessageError) {
      logger.error('entry message invalid: nothing written; it goes to the dead-letter queue after its retries', {
        messageId: record.messageId, reason: error.message,
      });
      metrics.addMetric('EntryMessageInvalid', MetricUnit.Count, 1);
    }
    throw error;
  }
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  try {
    const rules = await currentRules(runtime.pool, { log: (m, e) => logger.warn(m, { ...e }) });
    const outcome = await executeEntry({ pool: runtime.pool, exchange: runtime.exchange, rules }, message, { receiveCount });
    logger.info(`entry ${outcome.outcome}`, { messageId: record.messageId, receiveCount, ...outcome });
    metrics.addMetric(`Entry${outcome.outcome[0]!.toUpperCase()}${outcome.outcome.slice(1)}`, MetricUnit.Count, 1);
    await afterVenueContact(runtime, outcome);
    return outcome;
  } catch (error) {
    await afterVenueContact(runtime, undefined);
    logger.warn('entry failed transiently: the message will be retried', {
      messageId: record.messageId, clientOrderId: message.clientOrderId, receiveCount, error: (error as Error).message,
    });
    metrics.addMetric('EntryFailed', MetricUnit.Count, 1);
    throw error;
  }
}

/** Processes an SQS batch one record at a time (entries share the account's limits) and reports failures. */
export async function runExecuteEntry(
  event: SQSEvent,
  context: Context,
  runtime?: ExecuteEntryRuntime,
): Promise<SQSBatchResponse> {
  if (!event || !Array.isArray((event as Partial<SQSEvent>).Records)) {
    throw new InvalidMessageError('execute-entry expects an SQS event ({"Records": [...]}); see events/execute-entry.json');
  }
  deadline.enter(context);
  const resolved = runtime ?? (await defaultRuntime());
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(event, (record: SQSRecord) => processEntryRecord(record, resolved), processor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  const failed = response.batchItemFailures.length;
  // The batch processor keeps what each failed record threw; say it (the message comes back later).
  for (const error of processor.errors) logger.error('entry message failed; it will be delivered again', { error: error.message });
  await reportHealth(resolved.pool, 'execute-entry', failed > 0 ? 'degraded' : 'healthy', { messages: event.Records.length, failed },
    (m, e) => logger.error(m, { ...e }));
  return response;
}

export const handler = middy((event: SQSEvent, context: Context) => runExecuteEntry(event, context))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

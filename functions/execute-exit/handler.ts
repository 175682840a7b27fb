import middy from '@middy/core';
import { currentRules } from '../../shared/config/runtimeRules';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type pg from 'pg';
import { getPool } from '../../shared/db/pool';
import { decimal } from '../../shared/db/rows';
import { formatCount } from '../../shared/domain/quantity';
import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type { Exchange } from '../../shared/exchange/types';
import { InvocationDeadline } from '../../shared/lambda/invocationDeadline';
import { memoizeUntilRejected, samePool } from '../../shared/lambda/memoizeUntilRejected';
import { executeExit, type ExitOutcome } from '../../shared/execution/executeExit';
import { eventPublisherFromEnv, type EventPublisher } from '../../shared/observability/events';
import { reportHealth } from '../../shared/observability/health';
import { createLogger } from '../../shared/observability/logger';
import { breakerEvents, exitStoppedEvent, publishQuietly } from '../../shared/observability/operationalEvents';
import { checkBreakers } from '../../shared/risk/breakers';
import { notFromQueue } from '../../shared/queues/consoleRecords';
import { recordExitReceive } from '../../shared/queues/exitMessageTracking';
import { InvalidMessageError, parseExitOrderMessage, type ExitOrderMessage } from '../../shared/queues/messages';
import { OperationsRepository } from '../../shared/db/repositories/operations';
import { FailureLog } from '../../shared/ingestion/failureLog';

const logger = createLogger('execute-exit');
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'Precog', serviceName: 'execute-exit' });
let sqs: SQSClient | undefined;
let publisher: EventPublisher | undefined;
/** The invocation running now: the cached exchange's retries read its remaining time. */
const deadline = new InvocationDeadline();
/** Venue request failures of this container, written to api_errors after each message. */
const failures = new FailureLog();
const exchange = memoizeUntilRejected((pool: pg.Pool) =>
  createExchangeFromEnv({ pool, onFailedAttempt: failures.hook('kalshi'), remainingTimeMs: deadline.remainingTimeMs }), { sameAs: samePool });

export interface ExecuteExitRuntime {
  pool: pg.Pool;
  exchange: Exchange;
  /** Where operational events go (default: from EVENT_BUS_NAME). */
  publisher?: EventPublisher;
  /** Makes the received message visible again after `seconds` (SQS ChangeMessageVisibility). */
  retryAfter: (record: SQSRecord, seconds: number) => Promise<void>;
}

/** The queue URL of a record, from its source ARN (arn:aws:sqs:region:account:name). */
export function queueUrlOf(record: SQSRecord): string {
  if (process.env.EXIT_QUEUE_URL) return process.env.EXIT_QUEUE_URL;
  const [, , , region, account, name] = record.eventSourceARN.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

async function defaultRuntime(): Promise<ExecuteExitRuntime> {
  const pool = await getPool();
  sqs ??= new SQSClient({});
  const client = sqs;
  return {
    pool,
    exchange: await exchange(pool),
    retryAfter: async (record, seconds) => {
      const visibilityTimeout = Math.min(43_200, Math.max(0, Math.ceil(seconds)));
      // A record invoked by hand has no message in flight: say what SQS would have been asked.
      const notQueued = notFromQueue(record, process.env.EXIT_QUEUE_URL);
      if (notQueued) {
        logger.warn('not from the exit queue: ChangeMessageVisibility skipped', {
          reason: notQueued, messageId: record.messageId, wouldSetVisibilityTimeoutSeconds: visibilityTimeout,
        });
        return;
      }
      await client.send(new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrlOf(record), ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout,
      }));
    },
  };
}

/** A receive whose attempt is not over: the message comes back after the priority's wait. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

/**
 * One exit-orders message = one attempt. `retry` (unfilled, or walked): the message's visibility
 * is set to the priority's wait and the record reported as failed, so SQS delivers it again then
 * (price walking with the queue's own retry, never a sleeping Lambda). Filled, stopped (with an
 * alert) and finished requests are acknowledged. A malformed message fails (to the dead-letter
 * queue after its receives), writing nothing.
 */
export async function processExitRecord(record: SQSRecord, runtime: ExecuteExitRuntime): Promise<ExitOutcome> {
  let message;
  try {
    message = parseExitOrderMessage(record.body);
  } catch (error) {
    if (error instanceof InvalidMessageError) {
      logger.error('exit message invalid: nothing written', { messageId: record.messageId, reason: error.message });
      metrics.addMetric('ExitMessageInvalid', MetricUnit.Count, 1);
    }
    throw error;
  }
  // The request's receives across its messages (the sweep re-sends one that was lost): a re-sent
  // message's first receive is a redelivery all the same, and looks for a died delivery's attempt.
  const receiveCount = Math.max(Number(record.attributes?.ApproximateReceiveCount ?? '1'), await recordExitReceive(runtime.pool, message.exitRequestId));
  try {
    return await attemptExit(record, runtime, message, receiveCount);
  } finally {
    // The api_failures breaker counts these (check-health evaluates it every minute).
    await failures.flush(new OperationsRepository(runtime.pool), 'execute-exit').catch((error: Error) =>
      logger.error('could not record venue failures', { error: error.message }));
  }
}

async function attemptExit(record: SQSRecord, runtime: ExecuteExitRuntime, message: ExitOrderMessage, receiveCount: number): Promise<ExitOutcome> {
  const rules = await currentRules(runtime.pool, { log: (m, e) => logger.warn(m, { ...e }) });
  const outcome = await executeExit({ pool: runtime.pool, exchange: runtime.exchange, rules }, message, { receiveCount });
  metrics.addMetric(`Exit${outcome.outcome[0]!.toUpperCase()}${outcome.outcome.slice(1)}`, MetricUnit.Count, 1);
  if (outcome.outcome === 'stopped') {
    logger.error('exit stopped: a person must look at this position', { ...outcome, positionId: message.positionId });
    const { rows: [r] } = await runtime.pool.query(
      `SELECT r.exit_condition, r.exit_priority, r.quantity - r.filled_quantity AS remaining, p.market_id
       FROM exit_requests r JOIN position_identities p ON p.position_id = r.position_id WHERE r.exit_request_id = $1`,
      [outcome.exitRequestId],
    );
    const events = runtime.publisher ?? (publisher ??= eventPublisherFromEnv());
    await publishQuietly(events, [exitStoppedEvent({
      exitRequestId: outcome.exitRequestId, positionId: message.positionId, marketId: r.market_id, condition: r.exit_condition,
      priority: r.exit_priority, reason: outcome.reason, remainingQuantity: formatCount(decimal(r.remaining)),
    })], (m, extra) => logger.error(m, { ...extra }));
    if (outcome.reason.startsWith('venue rejected')) {
      // A venue rejection is a fact for the api_failures breaker: check it now, not in a minute.
      const check = await checkBreakers({ pool: runtime.pool, rules, executionMode: runtime.exchange.executionMode }, { only: ['api_failures'] });
      await publishQuietly(events, breakerEvents(check, rules), (m, extra) => logger.error(m, { ...extra }));
    }
  }
  else logger.info(`exit ${outcome.outcome}`, { messageId: record.messageId, receiveCount, ...outcome });
  if (outcome.outcome === 'retry') {
    await runtime.retryAfter(record, outcome.afterSeconds);
    throw new RetryLater(`exit ${outcome.exitRequestId}: attempt ${outcome.attempt} not filled (${outcome.remaining} left); next attempt in ${outcome.afterSeconds} s`);
  }
  return outcome;
}

export async function runExecuteExit(event: SQSEvent, context: Context, runtime?: ExecuteExitRuntime): Promise<SQSBatchResponse> {
  if (!event || !Array.isArray((event as Partial<SQSEvent>).Records)) {
    throw new InvalidMessageError('execute-exit expects an SQS event ({"Records": [...]}); see events/execute-exit.json');
  }
  deadline.enter(context);
  const resolved = runtime ?? (await defaultRuntime());
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(event, (record: SQSRecord) => processExitRecord(record, resolved), processor, {
    context, processInParallel: false, throwOnFullBatchFailure: false,
  });
  // What each failed record threw (a walk's RetryLater is the plan, not a failure).
  for (const error of processor.errors) {
    if (!(error instanceof RetryLater)) logger.error('exit message failed; it will be delivered again', { error: error.message, stack: error.stack });
  }
  // A walk returns its message on purpose: only a failure other than RetryLater degrades.
  await reportHealth(resolved.pool, 'execute-exit', 'healthy', { messages: event.Records.length, returned: response.batchItemFailures.length },
    (m, e) => logger.error(m, { ...e }));
  return response;
}

export const handler = middy((event: SQSEvent, context: Context) => runExecuteExit(event, context))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

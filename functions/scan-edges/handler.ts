import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { ConfigError, getPool } from '../../shared/db/pool';
import { scanEdges, type ScanEdgesResult } from '../../shared/edges/scanEdges';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { createLogger } from '../../shared/observability/logger';
import { SqsEntryQueue } from '../../shared/queues/sqsEntryQueue';

const logger = createLogger('scan-edges');
let sqs: SQSClient | undefined;

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

export async function runScanEdges(event: unknown): Promise<ScanEdgesResult> {
  const options = parseScheduledOrConsoleEvent('scan-edges', ScanEdgesEvent, event);
  const queueUrl = process.env.ENTRY_QUEUE_URL;
  if (!options.dryRun && !queueUrl) throw new ConfigError('invalid scan-edges configuration: ENTRY_QUEUE_URL is not set');
  sqs ??= new SQSClient({});
  const result = await scanEdges(
    {
      pool: await getPool(),
      queue: queueUrl ? new SqsEntryQueue(sqs, queueUrl) : undefined,
      executionMode: process.env.EXECUTION_MODE === 'live' ? 'live' : 'paper',
    },
    options,
  );
  logger.info('edges scanned', {
    markets: result.markets, evaluated: result.evaluated, edges: result.edges, orders: result.orders, skipped: result.skipped.length,
  });
  for (const s of result.skipped.slice(0, 100)) logger.debug('market skipped', { ...s });
  return result;
}

export const handler = middy(runScanEdges).use(injectLambdaContext(logger));

import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod';
import { ingestionConfig } from '../../shared/config/ingestion';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { ingestMarkets, type IngestMarketsResult } from '../../shared/ingestion/ingestMarkets';
import { createLogger } from '../../shared/observability/logger';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { GammaClient } from '../../shared/venues/polymarket/gamma';

const logger = createLogger('ingest-markets');

/**
 * Console event: `{}` ingests the configured platforms and series; `{"seriesTickers": ["KXNFLGAME"]}`
 * or `{"platforms": ["polymarket"]}` narrows the run. The EventBridge schedule sends its own shape.
 */
export const IngestMarketsEvent = z
  .object({
    platforms: z.array(z.enum(['kalshi', 'polymarket'])).min(1).optional(),
    seriesTickers: z
      .array(z.string().regex(/^[A-Z0-9][A-Z0-9-]*$/, 'a series ticker is upper-case letters, digits and dashes'))
      .min(1)
      .max(50)
      .optional(),
  })
  .strict();

export async function runIngestMarkets(event: unknown): Promise<IngestMarketsResult> {
  const options = parseScheduledOrConsoleEvent('ingest-markets', IngestMarketsEvent, event);
  const config = ingestionConfig();
  const failures = new FailureLog();
  const kalshi = new KalshiClient({
    baseUrl: config.kalshiBaseUrl,
    readsPerSecond: config.KALSHI_READS_PER_SECOND,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    onFailedAttempt: failures.hook('kalshi'),
  });
  const polymarket = new GammaClient({
    baseUrl: config.POLYMARKET_GAMMA_URL,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    onFailedAttempt: failures.hook('polymarket'),
  });
  const result = await ingestMarkets(
    { pool: await getPool(), kalshi, polymarket, failures, log: (message, details) => logger.warn(message, { details }) },
    { platforms: options.platforms ?? config.INGEST_PLATFORMS, seriesTickers: options.seriesTickers ?? config.INGEST_SERIES },
  );
  logger.info('markets ingested', {
    status: result.status, markets: result.markets, rejected: result.rejected.length, errors: result.errors,
  });
  return result;
}

export const handler = middy(runIngestMarkets).use(injectLambdaContext(logger));

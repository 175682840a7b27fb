import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { getPool } from '../../shared/db/pool';
import { withTransaction } from '../../shared/db/transaction';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { DEFAULT_MONTHS_AHEAD, maintainPartitions, type MaintainResult } from '../../shared/lifecycle/partitions';
import { createLogger } from '../../shared/observability/logger';

const logger = createLogger('maintain-partitions');

/** Console event: `{}` (or the daily EventBridge event); `monthsAhead` overrides the window. */
export const MaintainPartitionsEvent = z
  .object({
    monthsAhead: z.number().int().min(0).max(24).default(DEFAULT_MONTHS_AHEAD),
  })
  .strict();

/** Creates the month partitions ahead and empties the default partitions (shared/lifecycle/partitions.ts). */
export async function runMaintainPartitions(event: unknown): Promise<MaintainResult> {
  const { monthsAhead } = parseScheduledOrConsoleEvent('maintain-partitions', MaintainPartitionsEvent, event);
  const pool = await getPool();
  // One transaction: a failure leaves no half-moved default partition behind.
  const result = await withTransaction(pool, (client) => maintainPartitions(client, now(), monthsAhead));
  logger.info('partitions maintained', { ...result });
  for (const [table, rows] of Object.entries(result.defaultRows)) {
    if (rows > 0) logger.warn('rows left in a default partition', { table, rows });
  }
  return result;
}

export const handler = middy(runMaintainPartitions).use(injectLambdaContext(logger));

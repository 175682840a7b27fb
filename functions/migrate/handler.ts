import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import pg from 'pg';
import * as z from 'zod';
import { migrate } from '../../shared/db/migrate';
import { parseDatabaseEnv, resolvePoolConfig } from '../../shared/db/pool';
import { parseEvent } from '../../shared/events/parseEvent';
import { createLogger } from '../../shared/observability/logger';

const logger = createLogger('migrate');

/** Console event: `{}` applies pending migrations; `{"dryRun": true}` only lists them. */
export const MigrateEvent = z
  .object({
    dryRun: z.boolean().default(false),
  })
  .strict();

export interface MigrateResult {
  dryRun: boolean;
  /** Migrations applied (or, on a dry run, that would be). Empty when the schema is current. */
  migrations: string[];
}

export async function runMigrate(event: unknown): Promise<MigrateResult> {
  const { dryRun } = parseEvent('migrate', MigrateEvent, event);
  const client = new pg.Client(await resolvePoolConfig(parseDatabaseEnv()));
  await client.connect();
  try {
    const migrations = await migrate({ connection: client, dryRun, log: (message) => logger.debug(message) });
    logger.info(dryRun ? 'pending migrations' : 'migrations applied', { migrations });
    return { dryRun, migrations };
  } finally {
    await client.end();
  }
}

export const handler = middy(runMigrate).use(injectLambdaContext(logger));

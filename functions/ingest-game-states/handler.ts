import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod';
import { ingestionConfig } from '../../shared/config/ingestion';
import { getPool } from '../../shared/db/pool';
import { parseScheduledOrConsoleEvent } from '../../shared/events/scheduled';
import { ESPN_LEAGUES, EspnScoreboardClient, type League } from '../../shared/feeds/espn/scoreboard';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { ingestGameStates, type IngestGameStatesResult } from '../../shared/ingestion/ingestGameStates';
import { createLogger } from '../../shared/observability/logger';

const FUNCTION_NAME = 'ingest-game-states';
const logger = createLogger(FUNCTION_NAME);

const LEAGUES = Object.keys(ESPN_LEAGUES) as [League, ...League[]];

/** A real calendar day written YYYYMMDD (what ESPN's `dates` parameter takes). */
const scoreboardDate = z
  .string()
  .regex(/^\d{8}$/, { message: 'must be YYYYMMDD' })
  .refine(
    (v) => {
      const [y, m, d] = [Number(v.slice(0, 4)), Number(v.slice(4, 6)), Number(v.slice(6, 8))];
      const probe = new Date(Date.UTC(y, m - 1, d));
      return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
    },
    { message: 'is not a calendar date' },
  );

/**
 * Console event: `{}` ingests INGEST_LEAGUES for ESPN's current day; `{"leagues": ["nfl"],
 * "date": "20261127"}` narrows the leagues and picks the day. The EventBridge schedule's event
 * means `{}`.
 */
export const IngestGameStatesEvent = z
  .object({
    leagues: z.array(z.enum(LEAGUES)).min(1).optional(),
    date: scoreboardDate.optional(),
  })
  .strict();

export async function runIngestGameStates(event: unknown): Promise<IngestGameStatesResult> {
  // Validated before anything runs: a malformed event reads and writes nothing.
  const options = parseScheduledOrConsoleEvent(FUNCTION_NAME, IngestGameStatesEvent, event);
  const config = ingestionConfig();
  const failures = new FailureLog();
  const espn = new EspnScoreboardClient({
    baseUrl: config.ESPN_BASE_URL,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    onFailedAttempt: failures.hook('espn'),
  });
  const pool = await getPool();
  const result = await ingestGameStates(
    { pool, espn, failures, log: (message, details) => logger.warn(message, details ?? {}) },
    { leagues: options.leagues ?? config.INGEST_LEAGUES, date: options.date },
  );
  logger.info('game states ingested', {
    status: result.status,
    games: result.games,
    versions: result.versions,
    matched: result.matched.length,
    linked: result.linked,
    unmatched: result.unmatched.length,
    eventsUpdated: result.eventsUpdated,
    rejected: result.rejected.length,
    errors: result.errors,
  });
  return result;
}

export const handler = middy(runIngestGameStates).use(injectLambdaContext(logger));

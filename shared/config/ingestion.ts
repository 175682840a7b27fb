import * as z from 'zod';
import { parseEnvironment } from './environment';
import { KALSHI_BASE_URLS } from '../venues/kalshi/client';

/**
 * Ingestion settings from the environment (the shared override mechanism arrives with the risk
 * work). Every value is validated; a bad one stops the function with the variable's name.
 */
/** Ingestion's market-data budget against Kalshi (beside the trading client's; both share the key's tier). */
export const DEFAULT_KALSHI_INGEST_READS_PER_SECOND = 8;

const IngestionEnv = z.object({
  KALSHI_ENV: z.enum(['demo', 'production']).default('demo'),
  /** Overrides KALSHI_ENV's URL (the local simulator, a proxy). */
  KALSHI_BASE_URL: z.url().optional(),
  KALSHI_READS_PER_SECOND: z.coerce.number().positive().max(10).default(DEFAULT_KALSHI_INGEST_READS_PER_SECOND),
  POLYMARKET_GAMMA_URL: z.url().default('https://gamma-api.polymarket.com'),
  ESPN_BASE_URL: z.url().default('https://site.api.espn.com/apis/site/v2/sports'),
  /** Series ingested when an event names none. */
  INGEST_SERIES: z
    .string()
    .default('KXNFLGAME,KXNCAAFGAME,KXNBAGAME')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  INGEST_PLATFORMS: z
    .string()
    .default('kalshi')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['kalshi', 'polymarket'])).min(1)),
  INGEST_LEAGUES: z
    .string()
    .default('nfl,ncaaf,nba')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['nfl', 'ncaaf', 'nba'])).min(1)),
  HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});
export type IngestionConfig = z.infer<typeof IngestionEnv> & { kalshiBaseUrl: string };

export function ingestionConfig(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  const parsed = parseEnvironment('ingestion', IngestionEnv, env);
  return { ...parsed, kalshiBaseUrl: parsed.KALSHI_BASE_URL ?? KALSHI_BASE_URLS[parsed.KALSHI_ENV] };
}

import { readFile } from 'node:fs/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import * as z from 'zod';
import { ConfigError, parseEnvironment } from '../config/environment';
import type { FailedAttempt } from '../http/httpClient';
import { dec } from '../domain/decimal';
import { KALSHI_BASE_URLS, KalshiClient } from '../venues/kalshi/client';
import { loadKalshiCredentials } from '../venues/kalshi/credentials';
import type { KalshiCredentials } from '../venues/kalshi/signing';
import { KalshiExchange } from '../venues/kalshi/kalshiExchange';
import { IngestedBookSource, KalshiOrderbookBookSource } from './paper/bookSources';
import { PaperExchange } from './paper/paperExchange';
import type { Exchange } from './types';

/**
 * Which exchange a function trades on, from its environment. Paper is the default; live trading
 * needs two explicit settings (EXECUTION_MODE=live and KALSHI_ENV, never defaulted here) plus credentials in
 * Secrets Manager, so no single typo sends real orders.
 */
/**
 * The trading client's request budget against Kalshi. Basic tier: 200 read and 100 write tokens a
 * second at 10 a request (about 20 reads and 10 writes a second per account); reads are shared
 * with ingestion's market data (KALSHI_READS_PER_SECOND, default 8), so 10 + 8 stays under 20.
 */
export const KALSHI_TRADING_READS_PER_SECOND = 10;
export const KALSHI_TRADING_WRITES_PER_SECOND = 8;

export const ExchangeEnv = z
  .object({
    EXECUTION_MODE: z.enum(['paper', 'live']).default('paper'),
    /** Paper: the simulated account's opening cash, dollars. */
    PAPER_STARTING_BALANCE: z.string().regex(/^\d+(\.\d{1,4})?$/, 'dollars, e.g. "10000" or "2500.50"').default('10000'),
    /** Paper: fill against the ingested top of book (default) or Kalshi's public order book (real depth). */
    PAPER_BOOK: z.enum(['ingested', 'kalshi']).default('ingested'),
    /** Paper, ingested book: contracts available at the top of each side ("unlimited": no cap; "recorded": the sizes ingestion recorded). */
    PAPER_TOP_OF_BOOK_DEPTH: z.union([z.literal('unlimited'), z.literal('recorded'), z.coerce.number().int().positive()]).default('unlimited'),
    KALSHI_ENV: z.enum(['demo', 'production']).optional(),
    /** Overrides the environment's base URL (a local simulator). */
    KALSHI_BASE_URL: z.url().optional(),
    KALSHI_CREDENTIALS_SECRET_ARN: z.string().min(1).optional(),
    /** Off AWS (a terminal, the local simulator): the API key id and the PEM file of its private key, instead of the secret. */
    KALSHI_API_KEY_ID: z.string().min(1).optional(),
    KALSHI_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.EXECUTION_MODE !== 'live') return;
    if (!env.KALSHI_ENV) {
      // Ingestion defaults KALSHI_ENV to demo; real orders never rely on a default.
      ctx.addIssue({ code: 'custom', path: ['KALSHI_ENV'], message: 'live trading needs KALSHI_ENV set explicitly to demo or production' });
    }
    if (Boolean(env.KALSHI_API_KEY_ID) !== Boolean(env.KALSHI_PRIVATE_KEY_FILE)) {
      const missing = env.KALSHI_API_KEY_ID ? 'KALSHI_PRIVATE_KEY_FILE' : 'KALSHI_API_KEY_ID';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'a key file needs both KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE' });
    } else if (!env.KALSHI_CREDENTIALS_SECRET_ARN && !env.KALSHI_API_KEY_ID) {
      ctx.addIssue({
        code: 'custom', path: ['KALSHI_CREDENTIALS_SECRET_ARN'],
        message: 'live trading needs the Kalshi API key secret (or KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE off AWS)',
      });
    }
  });
export type ExchangeEnv = z.infer<typeof ExchangeEnv>;

export function parseExchangeEnv(env: NodeJS.ProcessEnv = process.env): ExchangeEnv {
  return parseEnvironment('exchange', ExchangeEnv, env);
}

async function readPrivateKey(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid exchange configuration: KALSHI_PRIVATE_KEY_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!pem.includes('PRIVATE KEY-----')) throw new ConfigError(`invalid exchange configuration: KALSHI_PRIVATE_KEY_FILE ${file} is not a PEM private key`);
  return pem;
}

let installedExchange: ((pool: pg.Pool) => Exchange) | undefined;

/**
 * A simulation that drives the real handlers (the backtest) installs ITS venue: every handler's
 * `createExchangeFromEnv` then returns it, so entries, exits, the monitor's reconciliation and
 * settlement all trade on one exchange (one fill model, one view of the depth taken). Returns the
 * function that uninstalls it. Deployed code never calls it.
 */
export function installExchange(build: (pool: pg.Pool) => Exchange): () => void {
  if (installedExchange) throw new Error('an exchange is already installed in this process');
  installedExchange = build;
  return () => {
    installedExchange = undefined;
  };
}

export async function createExchangeFromEnv(deps: {
  pool: pg.Pool;
  env?: NodeJS.ProcessEnv;
  secrets?: Pick<SecretsManagerClient, 'send'>;
  /** Every failed venue request (the api_failures breaker counts them). */
  onFailedAttempt?: (failure: FailedAttempt) => void;
  /**
   * The current invocation's remaining time (InvocationDeadline.remainingTimeMs): the exchange is
   * cached per container, so this reads whichever invocation runs now. Bounds the venue client's
   * retries so that none starts after the invocation would time out.
   */
  remainingTimeMs?: () => number;
}): Promise<Exchange> {
  if (installedExchange) return installedExchange(deps.pool);
  const env = parseExchangeEnv(deps.env);
  if (env.EXECUTION_MODE === 'paper') {
    const books = env.PAPER_BOOK === 'kalshi'
      ? new KalshiOrderbookBookSource(new KalshiClient({ baseUrl: env.KALSHI_BASE_URL ?? KALSHI_BASE_URLS[env.KALSHI_ENV ?? 'demo'] }))
      : new IngestedBookSource(deps.pool, { depth: env.PAPER_TOP_OF_BOOK_DEPTH === 'unlimited' ? null : env.PAPER_TOP_OF_BOOK_DEPTH });
    return new PaperExchange(deps.pool, { books, startingBalance: dec(env.PAPER_STARTING_BALANCE) });
  }
  const environment = env.KALSHI_ENV!;
  // The environment is validated above (a key file needs both variables, else the secret).
  const credentials = await loadKalshiCredentialsFromEnv(deps.env ?? process.env, deps.secrets);
  return new KalshiExchange({
    baseUrl: env.KALSHI_BASE_URL ?? KALSHI_BASE_URLS[environment], environment, credentials, onFailedAttempt: deps.onFailedAttempt,
    readsPerSecond: KALSHI_TRADING_READS_PER_SECOND,
    writesPerSecond: KALSHI_TRADING_WRITES_PER_SECOND,
    ...(deps.remainingTimeMs ? { remainingTimeMs: deps.remainingTimeMs } : {}),
  });
}

/**
 * The Kalshi API key as live trading would load it (KALSHI_API_KEY_ID + KALSHI_PRIVATE_KEY_FILE
 * off AWS, else the secret KALSHI_CREDENTIALS_SECRET_ARN), without the other live settings:
 * `precog preflight` checks the key before EXECUTION_MODE=live is set.
 */
export async function loadKalshiCredentialsFromEnv(
  env: NodeJS.ProcessEnv,
  secrets?: Pick<SecretsManagerClient, 'send'>,
): Promise<KalshiCredentials> {
  const keyId = env.KALSHI_API_KEY_ID?.trim();
  const keyFile = env.KALSHI_PRIVATE_KEY_FILE?.trim();
  if (keyId || keyFile) {
    if (!keyId || !keyFile) {
      throw new ConfigError(`invalid exchange configuration: a key file needs both KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE (${keyId ? 'KALSHI_PRIVATE_KEY_FILE' : 'KALSHI_API_KEY_ID'} is missing)`);
    }
    return { keyId, privateKeyPem: await readPrivateKey(keyFile) };
  }
  const secretArn = env.KALSHI_CREDENTIALS_SECRET_ARN?.trim();
  if (!secretArn) {
    throw new ConfigError('invalid exchange configuration: no Kalshi API key: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE, or KALSHI_CREDENTIALS_SECRET_ARN');
  }
  return loadKalshiCredentials(secretArn, secrets ?? new SecretsManagerClient({}));
}

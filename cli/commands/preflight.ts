import { createPrivateKey } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type pg from 'pg';
import type { Decimal } from '../../shared/domain/decimal';
import { DEFAULT_KALSHI_INGEST_READS_PER_SECOND } from '../../shared/config/ingestion';
import { compareBooksWithVenue } from '../../shared/execution/booksVsVenue';
import { KALSHI_TRADING_READS_PER_SECOND, KALSHI_TRADING_WRITES_PER_SECOND, loadKalshiCredentialsFromEnv } from '../../shared/exchange/factory';
import { ApiError, PayloadError } from '../../shared/http/errors';
import { KalshiAccountProbe, type KalshiApiLimits } from '../../shared/venues/kalshi/accountProbe';
import { KALSHI_BASE_URLS } from '../../shared/venues/kalshi/client';
import { KalshiExchange } from '../../shared/venues/kalshi/kalshiExchange';
import { signKalshiRequest, type KalshiCredentials } from '../../shared/venues/kalshi/signing';
import type { CommandContext } from './context';

/**
 * `precog preflight --env demo|production`: what to check before switching live trading on.
 * Read-only: it sends GETs only (never an order, never a cancel) and writes nothing to the
 * database. Each check ends PASS or FAIL with one line saying why; any FAIL exits 1.
 */

/** Beyond this, Kalshi may refuse signatures (their timestamp is judged against its clock). */
export const MAX_CLOCK_SKEW_MS = 5_000;
/** Tokens one request costs by default (Kalshi's token buckets; the Basic tier refills 200 read and 100 write a second). */
export const KALSHI_REQUEST_COST = 10;

export const PREFLIGHT_CHECKS = ['credentials', 'clock_skew', 'exchange_status', 'balance', 'rate_limit_tier', 'positions_and_orders'] as const;
export type PreflightCheckName = (typeof PREFLIGHT_CHECKS)[number];

export interface PreflightCheck {
  check: PreflightCheckName;
  ok: boolean;
  detail: string;
}

export interface PreflightReport {
  environment: 'demo' | 'production';
  baseUrl: string;
  ok: boolean;
  checks: PreflightCheck[];
}

/** Some check failed (the report was printed already). */
export class PreflightFailed extends Error {
  override name = 'PreflightFailed';
}

export interface PreflightOptions {
  environment: 'demo' | 'production';
  /** The Trade API root instead of the environment's (a local simulator). */
  baseUrl?: string;
  /** Where the key comes from (KALSHI_API_KEY_ID + KALSHI_PRIVATE_KEY_FILE, or KALSHI_CREDENTIALS_SECRET_ARN). */
  env: NodeJS.ProcessEnv;
  secrets?: Pick<SecretsManagerClient, 'send'>;
  /** The local clock (tests move it). */
  now?: () => number;
  maxClockSkewMs?: number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function runPreflight(pool: pg.Pool, options: PreflightOptions): Promise<PreflightReport> {
  const baseUrl = options.baseUrl ?? KALSHI_BASE_URLS[options.environment];
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS;
  const results = new Map<PreflightCheckName, PreflightCheck>();
  const pass = (check: PreflightCheckName, detail: string) => results.set(check, { check, ok: true, detail });
  const fail = (check: PreflightCheckName, detail: string) => results.set(check, { check, ok: false, detail });

  // Credentials: loaded, able to sign, and the venue accepts a signed request.
  let credentials: KalshiCredentials | undefined;
  try {
    credentials = await loadKalshiCredentialsFromEnv(options.env, options.secrets);
    signKalshiRequest(createPrivateKey(credentials.privateKeyPem), String(now()), 'GET', '/trade-api/v2/portfolio/balance');
  } catch (error) {
    fail('credentials', credentials ? `the private key cannot sign (Kalshi needs an RSA key for RSA-PSS): ${message(error)}` : message(error));
    credentials = undefined;
  }
  let exchange: KalshiExchange | undefined;
  let balance: Decimal | undefined;
  let balanceUnreadable: string | undefined;
  if (credentials) {
    exchange = new KalshiExchange({ baseUrl, environment: options.environment, credentials, retry: { maxAttempts: 1 } });
    const accepted = `key ${credentials.keyId} signs, and Kalshi accepted its signed request (GET /portfolio/balance)`;
    try {
      balance = await exchange.getBalance();
      pass('credentials', accepted);
    } catch (error) {
      if (error instanceof PayloadError) {
        // Answered, so the signature was good: the body is the balance check's problem.
        pass('credentials', accepted);
        balanceUnreadable = message(error);
      } else {
        const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
        fail('credentials', refused
          ? `Kalshi refused the signed request (${message(error)}): a wrong key id or key file, a key of the other environment (demo and production keys differ), or a skewed clock`
          : `could not be verified: ${message(error)}`);
        exchange = undefined;
      }
    }
  }
  const credentialsOk = results.get('credentials')?.ok === true;

  // Clock skew and exchange status: one public request.
  const probe = new KalshiAccountProbe({ baseUrl, credentials, now });
  try {
    const status = await probe.exchangeStatus();
    if (!status.serverDate) {
      fail('clock_skew', 'Kalshi sent no Date header: the skew cannot be measured');
    } else {
      // The Date header has whole seconds: compare with the middle of its second, and with the
      // middle of the round trip on this side.
      const skewMs = (status.sentAtMs + status.receivedAtMs) / 2 - (status.serverDate.getTime() + 500);
      const uncertaintyMs = 500 + (status.receivedAtMs - status.sentAtMs) / 2;
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      const detail = `local clock ${Math.abs(skewMs) < 50 ? 'agrees with' : `${seconds(Math.abs(skewMs))} s ${skewMs > 0 ? 'ahead of' : 'behind'}`} Kalshi's `
        + `(Date header, ±${seconds(uncertaintyMs)} s; limit ${seconds(maxSkewMs)} s)`;
      if (Math.abs(skewMs) > maxSkewMs) fail('clock_skew', `${detail}: Kalshi judges signature timestamps by its clock; sync this machine's clock (NTP)`);
      else pass('clock_skew', detail);
    }
    const { exchangeActive, tradingActive, estimatedResumeTime } = status.value;
    const resume = estimatedResumeTime ? `; Kalshi expects to resume at ${estimatedResumeTime.toISOString()}` : '';
    if (!exchangeActive) fail('exchange_status', `the exchange is inactive (maintenance)${resume}`);
    else if (!tradingActive) fail('exchange_status', `the exchange is up but trading is paused (outside trading hours, or halted)${resume}`);
    else pass('exchange_status', 'exchange active, trading active (GET /exchange/status)');
  } catch (error) {
    fail('clock_skew', `not measured: ${message(error)}`);
    fail('exchange_status', `not read: ${message(error)}`);
  }

  // Balance (read with the credentials check).
  if (balance === undefined) fail('balance', credentialsOk ? `not readable: ${balanceUnreadable}` : 'not read: the credentials check failed');
  else if (balance.lte(0)) fail('balance', `cash $${balance.toFixed(4)}: nothing to trade with`);
  else pass('balance', `cash $${balance.toFixed(4)} (GET /portfolio/balance)`);

  // The API tier against the budget Precog's client spends.
  if (!credentials || !credentialsOk) {
    fail('rate_limit_tier', 'not read: the credentials check failed');
  } else {
    try {
      const limits = await probe.apiLimits();
      const problem = budgetProblem(limits);
      const detail = `tier ${limits.usageTier}: read ${limits.read.refillRate} tokens/s (burst ${limits.read.bucketCapacity}), `
        + `write ${limits.write.refillRate} tokens/s (burst ${limits.write.bucketCapacity}); Precog spends at most `
        + `${PRECOG_READS_PER_SECOND} reads/s (${KALSHI_TRADING_READS_PER_SECOND} trading + ${DEFAULT_KALSHI_INGEST_READS_PER_SECOND} market data) `
        + `and ${KALSHI_TRADING_WRITES_PER_SECOND} writes/s at ${KALSHI_REQUEST_COST} tokens a request`;
      if (problem) fail('rate_limit_tier', `${detail}: ${problem}`);
      else pass('rate_limit_tier', detail);
    } catch (error) {
      fail('rate_limit_tier', `not read: ${message(error)}`);
    }
  }

  // Positions and resting orders against the books (live), read-only.
  if (!exchange) {
    fail('positions_and_orders', 'not checked: the credentials check failed');
  } else {
    try {
      const comparison = await compareBooksWithVenue({ pool, exchange, mode: 'live' });
      const counts = `venue: ${comparison.venuePositions} positions, ${comparison.venueRestingOrders} resting orders; `
        + `books (live): ${comparison.localPositions} positions, ${comparison.localOpenOrders} open orders`;
      if (comparison.desyncs.length === 0) {
        pass('positions_and_orders', `${counts}; they agree`);
      } else {
        const listed = comparison.desyncs.map((d) => `${d.kind} ${d.ticker}: books ${JSON.stringify(d.local)} venue ${JSON.stringify(d.venue)}`).join('; ');
        fail('positions_and_orders', `${counts}; ${comparison.desyncs.length} disagreement${comparison.desyncs.length === 1 ? '' : 's'}: ${listed} `
          + '(nothing recorded: `precog reconcile` with EXECUTION_MODE=live records them as desyncs)');
      }
    } catch (error) {
      fail('positions_and_orders', `not checked: ${message(error)}`);
    }
  }

  const checks = PREFLIGHT_CHECKS.map((name) => results.get(name)!);
  return { environment: options.environment, baseUrl, ok: checks.every((c) => c.ok), checks };
}

/** Every read budget spending the key's tier: the trading client's and ingestion's (default) market data. */
const PRECOG_READS_PER_SECOND = KALSHI_TRADING_READS_PER_SECOND + DEFAULT_KALSHI_INGEST_READS_PER_SECOND;

/** Why the tier cannot carry Precog's request budget, if it cannot. */
function budgetProblem(limits: KalshiApiLimits): string | undefined {
  const reads = PRECOG_READS_PER_SECOND * KALSHI_REQUEST_COST;
  const writes = KALSHI_TRADING_WRITES_PER_SECOND * KALSHI_REQUEST_COST;
  const short = [
    reads > limits.read.refillRate ? `reads need ${reads} tokens/s` : undefined,
    writes > limits.write.refillRate ? `writes need ${writes} tokens/s` : undefined,
  ].filter(Boolean);
  return short.length > 0 ? `the tier is too small (${short.join(', ')}): requests would be refused with 429` : undefined;
}

/** The command: prints each check (or the report as JSON) and fails when any check failed. */
export async function preflight(ctx: CommandContext, options: PreflightOptions & { json?: boolean }): Promise<void> {
  const report = await runPreflight(ctx.pool, options);
  if (options.json) {
    ctx.out(JSON.stringify(report));
  } else {
    ctx.out(`preflight: Kalshi ${report.environment} at ${report.baseUrl} (read-only: no order is placed, nothing is written)`);
    for (const c of report.checks) ctx.out(`${c.ok ? 'PASS' : 'FAIL'} ${c.check}: ${c.detail}`);
    if (report.ok) ctx.out(`all ${report.checks.length} checks passed`);
  }
  const failed = report.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new PreflightFailed(`preflight: ${failed.length} of ${report.checks.length} checks failed (${failed.map((c) => c.check).join(', ')})`);
  }
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runPreflight } from '../../cli/commands/preflight';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../../cli/precog';
import { generateKalshiKeyPair, startKalshiPortfolioSim, type KalshiPortfolioSim, type KalshiPortfolioSimOptions } from '../../local/sim/kalshiPortfolioSim';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';

/**
 * `precog preflight` against the local Kalshi simulator over HTTP, through the CLI: a healthy
 * account passes every check (exit 0), and each failure it checks for is reported on its own
 * FAIL line with exit 1: a key Kalshi refuses, a skewed clock, an inactive exchange, a tier too
 * small for Precog's request budget, and a venue position the books do not have. It reads only:
 * the simulator sees GETs alone and no table of the database changes.
 */

const KEY_ID = 'preflight-key';
// Key generation is the slow part: one pair for the account, one stranger.
const account = generateKalshiKeyPair();
const stranger = generateKalshiKeyPair();
const folder = mkdtempSync(path.join(tmpdir(), 'precog-preflight-'));
const keyFile = path.join(folder, 'account.pem');
const wrongKeyFile = path.join(folder, 'stranger.pem');
writeFileSync(keyFile, account.privateKeyPem);
writeFileSync(wrongKeyFile, stranger.privateKeyPem);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const db = useTestDatabase();
const sims: KalshiPortfolioSim[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function startSim(options: Partial<KalshiPortfolioSimOptions> = {}): Promise<KalshiPortfolioSim> {
  const sim = await startKalshiPortfolioSim({ keyId: KEY_ID, publicKey: account.publicKey, balanceDollars: '1000.0000', ...options });
  sims.push(sim);
  return sim;
}

const keyEnv = { KALSHI_API_KEY_ID: KEY_ID, KALSHI_PRIVATE_KEY_FILE: keyFile };

async function preflight(sim: KalshiPortfolioSim, env: NodeJS.ProcessEnv = keyEnv, ...extra: string[]) {
  const result = await runPrecog(db().url, ['preflight', '--env', 'demo', '--base-url', sim.baseUrl, ...extra], env);
  const lines = result.out.split('\n');
  const line = (check: string) => lines.find((l) => l.startsWith(`PASS ${check}:`) || l.startsWith(`FAIL ${check}:`)) ?? `(no line for ${check})`;
  return { ...result, lines, line };
}

/** Row counts of every table: preflight must leave all of them as they were. */
async function tableCounts(): Promise<Record<string, number>> {
  const { rows } = await db().pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`);
  const counts: Record<string, number> = {};
  for (const { table_name: table } of rows) {
    counts[table] = Number((await db().pool.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n);
  }
  return counts;
}

const CHECKS = ['credentials', 'clock_skew', 'exchange_status', 'balance', 'rate_limit_tier', 'positions_and_orders'];

describe('precog preflight', () => {
  it('a healthy account: every check PASSes, exit 0; only GETs reach the venue and nothing is written', async () => {
    const sim = await startSim();
    const before = await tableCounts();
    const r = await preflight(sim);
    expect(r.err).toBe('');
    expect(r.code).toBe(EXIT_OK);
    expect(r.lines[0]).toBe(`preflight: Kalshi demo at ${sim.baseUrl} (read-only: no order is placed, nothing is written)`);
    expect(r.lines.slice(1, 7).map((l) => l.split(':')[0])).toEqual(CHECKS.map((c) => `PASS ${c}`));
    expect(r.line('credentials')).toBe(`PASS credentials: key ${KEY_ID} signs, and Kalshi accepted its signed request (GET /portfolio/balance)`);
    expect(r.line('clock_skew')).toMatch(/^PASS clock_skew: local clock (agrees with|\d+\.\d s (ahead of|behind)) Kalshi's \(Date header, ±\d+\.\d s; limit 5\.0 s\)$/);
    expect(r.line('exchange_status')).toBe('PASS exchange_status: exchange active, trading active (GET /exchange/status)');
    expect(r.line('balance')).toBe('PASS balance: cash $1000.0000 (GET /portfolio/balance)');
    expect(r.line('rate_limit_tier')).toBe('PASS rate_limit_tier: tier basic: read 200 tokens/s (burst 200), write 100 tokens/s (burst 100); '
      + 'Precog spends at most 18 reads/s (10 trading + 8 market data) and 8 writes/s at 10 tokens a request');
    expect(r.line('positions_and_orders')).toBe('PASS positions_and_orders: venue: 0 positions, 0 resting orders; books (live): 0 positions, 0 open orders; they agree');
    expect(r.lines[7]).toBe('all 6 checks passed');

    expect(new Set(sim.requests.map((q) => q.method))).toEqual(new Set(['GET']));
    expect(sim.requests.map((q) => q.path.replace('/trade-api/v2', '')).sort()).toEqual(
      ['/account/limits', '/exchange/status', '/portfolio/balance', '/portfolio/orders', '/portfolio/positions'],
    );
    expect(await tableCounts()).toEqual(before);
  });

  it('--json: one document with every check, ok true', async () => {
    const sim = await startSim();
    const r = await preflight(sim, keyEnv, '--json');
    expect(r.code).toBe(EXIT_OK);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ environment: 'demo', baseUrl: sim.baseUrl, ok: true });
    expect(report.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual(CHECKS.map((c) => [c, true]));
  });

  it('a key Kalshi refuses: FAIL credentials with the venue\'s answer; what needs the key is not read; exit 1', async () => {
    const sim = await startSim();
    const r = await preflight(sim, { ...keyEnv, KALSHI_PRIVATE_KEY_FILE: wrongKeyFile });
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.line('credentials')).toMatch(/^FAIL credentials: Kalshi refused the signed request \(.*HTTP 401.*authentication_error.*invalid signature.*\): a wrong key id or key file, a key of the other environment/);
    expect(r.line('balance')).toBe('FAIL balance: not read: the credentials check failed');
    expect(r.line('rate_limit_tier')).toBe('FAIL rate_limit_tier: not read: the credentials check failed');
    expect(r.line('positions_and_orders')).toBe('FAIL positions_and_orders: not checked: the credentials check failed');
    // The public checks still run.
    expect(r.line('exchange_status')).toMatch(/^PASS /);
    expect(r.line('clock_skew')).toMatch(/^PASS /);
    expect(r.out).not.toContain('all 6 checks passed');
    expect(r.err).toBe('precog: preflight: 4 of 6 checks failed (credentials, balance, rate_limit_tier, positions_and_orders)');
  });

  it('the key from Secrets Manager (KALSHI_CREDENTIALS_SECRET_ARN), as in AWS: every check passes', async () => {
    const sim = await startSim();
    const arn = 'arn:aws:secretsmanager:us-east-1:1:secret:kalshi';
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: JSON.stringify({ keyId: KEY_ID, privateKeyPem: account.privateKeyPem }) });
    try {
      const report = await runPreflight(db().pool, {
        environment: 'demo', baseUrl: sim.baseUrl, env: { KALSHI_CREDENTIALS_SECRET_ARN: arn }, secrets: new SecretsManagerClient({ region: 'us-east-1' }),
      });
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.checks[0]!.detail).toBe(`key ${KEY_ID} signs, and Kalshi accepted its signed request (GET /portfolio/balance)`);
    } finally {
      secrets.restore();
    }
  });

  it('no key configured: FAIL credentials naming the variables to set', async () => {
    const sim = await startSim();
    const r = await preflight(sim, {});
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.line('credentials')).toBe('FAIL credentials: invalid exchange configuration: no Kalshi API key: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE, or KALSHI_CREDENTIALS_SECRET_ARN');
    const half = await preflight(sim, { KALSHI_API_KEY_ID: KEY_ID });
    expect(half.line('credentials')).toMatch(/^FAIL credentials: .*needs both KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_FILE \(KALSHI_PRIVATE_KEY_FILE is missing\)$/);
  });

  it('a skewed clock: FAIL clock_skew with the measured skew (Kalshi a minute ahead of this machine); exit 1', async () => {
    // The venue's clock runs 60 s ahead (within its own 5-minute signature window, so the key works).
    const sim = await startSim({ clock: { nowMs: () => Date.now() + 60_000 } });
    const r = await preflight(sim);
    expect(r.code).toBe(EXIT_FAILURE);
    const skew = /^FAIL clock_skew: local clock (\d+\.\d) s behind Kalshi's \(Date header, ±\d+\.\d s; limit 5\.0 s\): Kalshi judges signature timestamps by its clock; sync this machine's clock \(NTP\)$/.exec(r.line('clock_skew'));
    expect(skew, r.line('clock_skew')).not.toBeNull();
    expect(Math.abs(Number(skew![1]) - 60)).toBeLessThan(2);
    expect(r.lines.filter((l) => l.startsWith('FAIL'))).toHaveLength(1);
    expect(r.err).toBe('precog: preflight: 1 of 6 checks failed (clock_skew)');
  });

  it('the exchange inactive, or trading paused: FAIL exchange_status saying which; exit 1', async () => {
    const sim = await startSim();
    sim.exchangeStatus = { exchange_active: false, trading_active: false, exchange_estimated_resume_time: '2026-12-08T10:00:00Z' };
    const down = await preflight(sim);
    expect(down.code).toBe(EXIT_FAILURE);
    expect(down.line('exchange_status')).toBe('FAIL exchange_status: the exchange is inactive (maintenance); Kalshi expects to resume at 2026-12-08T10:00:00.000Z');
    sim.exchangeStatus = { exchange_active: true, trading_active: false };
    const paused = await preflight(sim);
    expect(paused.code).toBe(EXIT_FAILURE);
    expect(paused.line('exchange_status')).toBe('FAIL exchange_status: the exchange is up but trading is paused (outside trading hours, or halted)');
  });

  it("a tier whose buckets cannot carry Precog's request budget: FAIL rate_limit_tier; exit 1", async () => {
    const sim = await startSim();
    sim.apiLimits = { ...sim.apiLimits, usage_tier: 'tiny', read: { refill_rate: 50, bucket_capacity: 50 } };
    const r = await preflight(sim);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.line('rate_limit_tier')).toMatch(/^FAIL rate_limit_tier: tier tiny: read 50 tokens\/s .*: the tier is too small \(reads need 180 tokens\/s\): requests would be refused with 429$/);
  });

  it('a venue position and a resting order the books do not have: FAIL positions_and_orders naming both; nothing is recorded; exit 1', async () => {
    const sim = await startSim();
    const state = sim.exportState();
    const now = Date.now();
    state.positions.push(['KXNFLGAME-26NOV29BUFKC-KC', { position: 3, exposure: '1.5000', realized: '0', fees: '0.0300', traded: '1.5000', updatedMs: now }]);
    state.orders.push({
      id: 'ord-outside', clientOrderId: 'placed-on-the-website', ticker: 'KXNFLGAME-26NOV29BUFKC-BUF', side: 'yes', action: 'buy',
      price: '0.4000', timeInForce: 'good_till_canceled', initial: 2, filled: 0, remaining: 2,
      takerFees: '0', makerFees: '0', takerCost: '0', makerCost: '0', status: 'resting', createdMs: now, updatedMs: now, expirationMs: null, hiddenForReads: 0,
    });
    sim.importState(state);
    const before = await tableCounts();
    const r = await preflight(sim);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.line('positions_and_orders')).toBe(
      'FAIL positions_and_orders: venue: 1 positions, 1 resting orders; books (live): 0 positions, 0 open orders; 2 disagreements: '
      + 'position KXNFLGAME-26NOV29BUFKC-KC: books {"net":"0"} venue {"net":"3"}; '
      + 'order KXNFLGAME-26NOV29BUFKC-BUF: books {"openNotAtVenue":[]} venue {"restingNotInBooks":["placed-on-the-website"]} '
      + '(nothing recorded: `precog reconcile` with EXECUTION_MODE=live records them as desyncs)',
    );
    expect(r.lines.filter((l) => l.startsWith('FAIL'))).toHaveLength(1);
    expect(await tableCounts()).toEqual(before);
    expect(sim.requests.every((q) => q.method === 'GET')).toBe(true);
  });

  it('usage errors exit 2: a missing or unknown --env, a --base-url that is not a URL', async () => {
    const sim = await startSim();
    const missing = await runPrecog(db().url, ['preflight'], keyEnv);
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toMatch(/required option '--env <environment>' not specified/);
    const unknown = await runPrecog(db().url, ['preflight', '--env', 'staging', '--json'], keyEnv);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(JSON.parse(unknown.err)).toMatchObject({ code: 'commander.invalidArgument', error: expect.stringMatching(/'staging' is invalid. Allowed choices are demo, production/) });
    const badUrl = await runPrecog(db().url, ['preflight', '--env', 'demo', '--base-url', 'sim:8080'], keyEnv);
    expect(badUrl.code).toBe(EXIT_USAGE);
    expect(badUrl.err).toMatch(/--base-url <url>' argument 'sim:8080' is invalid\. expected an http\(s\) URL/);
    expect(sim.requests).toEqual([]);
  });
});

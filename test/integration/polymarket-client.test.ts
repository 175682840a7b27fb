import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, PayloadError } from '../../shared/http/errors';
import type { FailedAttempt } from '../../shared/http/httpClient';
import { GammaClient, NOT_BINARY, toHierarchy } from '../../shared/venues/polymarket/gamma';
import { startTestServer, type Route, type TestServer } from '../helpers/httpServer';

const fixture = (n: number): unknown[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/polymarket/markets-page-${n}.json`, import.meta.url), 'utf8')) as unknown[];

const RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(route: Route): Promise<TestServer> {
  server = await startTestServer(route);
  return server;
}

/** Serves the three fixture pages by offset, for page size 2. */
const pagesByOffset: Route = (request) => {
  if (request.path !== '/markets') return undefined;
  const page = { '0': 1, '2': 2, '4': 3 }[request.query.get('offset') ?? ''];
  return page ? { json: fixture(page) } : { json: [] };
};

describe('GammaClient.listMarkets', () => {
  it('paginates with offset/limit until a short page, rejecting the bad record and keeping the others', async () => {
    const s = await start(pagesByOffset);
    const client = new GammaClient({ baseUrl: s.url, retry: RETRY });
    const { markets, rejected } = await client.listMarkets({ active: true, closed: false, limit: 2 });

    expect(s.requests.map((r) => [r.method, r.path, Object.fromEntries(r.query)])).toEqual([
      ['GET', '/markets', { active: 'true', closed: 'false', limit: '2', offset: '0' }],
      ['GET', '/markets', { active: 'true', closed: 'false', limit: '2', offset: '2' }],
      ['GET', '/markets', { active: 'true', closed: 'false', limit: '2', offset: '4' }],
    ]);
    expect(markets.map((m) => m.id)).toEqual(['501001', '501002', '501003', '501005']);
    expect(rejected).toEqual([
      {
        at: 'markets[3]',
        id: '501004',
        path: 'markets[3].outcomePrices',
        reason: expect.stringMatching(/^polymarket-gamma: not a JSON-encoded array \(invalid JSON/),
      },
    ]);
    expect(markets[0]!.outcomePrices.map((p) => p.toFixed())).toEqual(['0.61', '0.39']);

    const hierarchy = toHierarchy(markets);
    expect(hierarchy.markets.map((m) => m.marketId)).toEqual(['polymarket:501001', 'polymarket:501002', 'polymarket:501005']);
    expect(hierarchy.rejected).toEqual([{ at: 'markets[2]', id: '501003', path: 'markets[2].outcomes', reason: NOT_BINARY }]);
  });

  it('omits unset filters, uses page size 500 by default and stops at maxPages', async () => {
    const full = Array.from({ length: 500 }, (_, i) => ({ ...(fixture(1)[0] as object), id: String(i) }));
    const s = await start((request) => (request.path === '/markets' ? { json: full } : undefined));
    const client = new GammaClient({ baseUrl: s.url, retry: RETRY });
    const { markets, rejected } = await client.listMarkets({ maxPages: 2 });
    expect(s.requests.map((r) => Object.fromEntries(r.query))).toEqual([
      { limit: '500', offset: '0' },
      { limit: '500', offset: '500' },
    ]);
    expect(markets).toHaveLength(1000);
    expect(rejected).toEqual([]);
  });

  it('retries a 429 and then succeeds, reporting the failed attempt', async () => {
    const s = await start((request, count) => {
      if (request.path !== '/markets') return undefined;
      if (count === 0) return { status: 429, json: { error: 'Too Many Requests' } };
      return { json: fixture(3) };
    });
    const failures: FailedAttempt[] = [];
    const client = new GammaClient({ baseUrl: s.url, retry: RETRY, onFailedAttempt: (f) => failures.push(f) });
    const { markets, rejected } = await client.listMarkets({ closed: true, limit: 2 });

    expect(markets.map((m) => m.id)).toEqual(['501005']);
    expect(rejected).toEqual([]);
    expect(s.requests).toHaveLength(2);
    expect(s.requests.every((r) => r.query.get('offset') === '0' && r.query.get('closed') === 'true')).toBe(true);
    expect(failures).toEqual([expect.objectContaining({ kind: 'http', status: 429, attempt: 1, final: false })]);
  });

  it('fails with ApiError once retries are exhausted', async () => {
    const s = await start(() => ({ status: 503, json: { error: 'unavailable' } }));
    const client = new GammaClient({ baseUrl: s.url, retry: { ...RETRY, maxAttempts: 3 } });
    const error = await client.listMarkets({ limit: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toMatch(/polymarket-gamma GET \/markets: HTTP 503.*after 3 attempts/);
    expect(s.requests).toHaveLength(3);
  });

  it('refuses a page that is not a JSON array', async () => {
    const s = await start(() => ({ json: { data: [] } }));
    const client = new GammaClient({ baseUrl: s.url, retry: RETRY });
    const error = await client.listMarkets({ limit: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).path).toBe('markets(offset=0)');
  });
});

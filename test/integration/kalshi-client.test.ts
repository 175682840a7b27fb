import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, PayloadError } from '../../shared/http/errors';
import type { FailedAttempt } from '../../shared/http/httpClient';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { kalshiEventPayload, kalshiMarketPayload, kalshiSeriesPayload } from '../fixtures/kalshi';
import { startTestServer, type Route, type TestServer } from '../helpers/httpServer';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

async function clientFor(route: Route, options: Partial<ConstructorParameters<typeof KalshiClient>[0]> = {}) {
  server = await startTestServer(route);
  return new KalshiClient({ baseUrl: `${server.url}/trade-api/v2`, retry: FAST_RETRY, readsPerSecond: 1000, ...options });
}

describe('KalshiClient against a local Kalshi v2 server', () => {
  it('follows the cursor across 3 pages to the end', async () => {
    const pages: Record<string, { markets: unknown[]; cursor: string }> = {
      '': { markets: [kalshiMarketPayload({ ticker: 'M-1' }), kalshiMarketPayload({ ticker: 'M-2' })], cursor: 'c2' },
      c2: { markets: [kalshiMarketPayload({ ticker: 'M-3' })], cursor: 'c3' },
      c3: { markets: [kalshiMarketPayload({ ticker: 'M-4' })], cursor: '' },
    };
    const client = await clientFor((req) =>
      req.path === '/trade-api/v2/markets' ? { json: pages[req.query.get('cursor') ?? ''] } : undefined,
    );
    const { markets, rejected } = await client.listMarkets({ seriesTicker: 'KXNFLGAME', status: 'open' });
    expect(markets.map((m) => m.ticker)).toEqual(['M-1', 'M-2', 'M-3', 'M-4']);
    expect(rejected).toEqual([]);
    expect(server!.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'c2', 'c3']);
    expect(server!.requests[0]!.query.get('series_ticker')).toBe('KXNFLGAME');
    expect(server!.requests[0]!.query.get('status')).toBe('open');
    // Prices and counts become exact Decimals / integers.
    expect(markets[0]!.yesAsk!.toFixed(4)).toBe('0.5700');
    expect(markets[0]!.yesBid!.toFixed(4)).toBe('0.5500');
    expect(markets[0]!.volume).toBe(152340);
  });

  it('retries a 429 and succeeds, reporting the failed attempt', async () => {
    const failures: FailedAttempt[] = [];
    const client = await clientFor(
      (req, n) => (n === 0 ? { status: 429, json: { error: 'too many requests' }, headers: { 'retry-after': '0' } } : { json: { series: kalshiSeriesPayload() } }),
      { onFailedAttempt: (f) => failures.push(f) },
    );
    const series = await client.getSeries('KXNFLGAME');
    expect(series.ticker).toBe('KXNFLGAME');
    expect(server!.requests).toHaveLength(2);
    expect(failures).toMatchObject([{ kind: 'http', status: 429, attempt: 1, final: false }]);
  });

  it('gives up after the retries on 500 with a clear error', async () => {
    const failures: FailedAttempt[] = [];
    const client = await clientFor(() => ({ status: 500, json: { error: 'internal' } }), { onFailedAttempt: (f) => failures.push(f) });
    const error = await client.getSeries('KXNFLGAME').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/^kalshi GET \/trade-api\/v2\/series\/KXNFLGAME: HTTP 500.*\(after 4 attempts\)$/);
    expect((error as ApiError).status).toBe(500);
    expect(server!.requests).toHaveLength(4);
    expect(failures.map((f) => f.final)).toEqual([false, false, false, true]);
  });

  it('does not retry a 404', async () => {
    const client = await clientFor(() => ({ status: 404, json: { error: 'not found' } }));
    await expect(client.getSeries('NOPE')).rejects.toThrow(/HTTP 404/);
    expect(server!.requests).toHaveLength(1);
  });

  it('times out a hanging request and retries it', async () => {
    const client = await clientFor(
      (_req, n) => (n < 1 ? { delayMs: 500, json: { series: kalshiSeriesPayload() } } : { json: { series: kalshiSeriesPayload() } }),
      { timeoutMs: 100 },
    );
    const series = await client.getSeries('KXNFLGAME');
    expect(series.title).toBe('Professional Football Game');
    const failing = await clientFor(() => ({ delayMs: 400, json: {} }), { timeoutMs: 50, retry: { maxAttempts: 2, ...FAST_RETRY } });
    await expect(failing.getSeries('KXNFLGAME')).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/timed out after 50 ms/) });
  });

  it('rejects a record with a missing ticker or a price of "1.2" by field path, keeps the rest, accepts unknown fields', async () => {
    const noTicker = kalshiMarketPayload();
    delete (noTicker as unknown as Record<string, unknown>).ticker;
    const client = await clientFor(() => ({
      json: {
        cursor: '',
        markets: [
          kalshiMarketPayload({ ticker: 'GOOD-1', brand_new_field: { nested: true } }),
          noTicker,
          kalshiMarketPayload({ ticker: 'BAD-PRICE', yes_ask_dollars: '1.2' }),
          kalshiMarketPayload({ ticker: 'GOOD-2' }),
        ],
      },
    }));
    const { markets, rejected } = await client.listMarkets();
    expect(markets.map((m) => m.ticker)).toEqual(['GOOD-1', 'GOOD-2']);
    expect(rejected).toEqual([
      { at: 'markets@page0[1]', id: undefined, path: 'markets@page0[1].ticker', reason: expect.stringMatching(/kalshi market: .*expected string/) },
      { at: 'markets@page0[2]', id: 'BAD-PRICE', path: 'markets@page0[2].yes_ask_dollars', reason: 'kalshi market: price is outside 0..1' },
    ]);
  });

  it('reads integer-cent payloads exactly when the dollar strings are absent', async () => {
    const legacy = kalshiMarketPayload({ ticker: 'OLD' }) as unknown as Record<string, unknown>;
    for (const key of ['yes_bid_dollars', 'yes_ask_dollars', 'no_bid_dollars', 'no_ask_dollars', 'last_price_dollars']) delete legacy[key];
    Object.assign(legacy, { yes_bid: 45, yes_ask: 47, no_bid: 53, no_ask: 55, last_price: 46 });
    const client = await clientFor(() => ({ json: { cursor: '', markets: [legacy] } }));
    const [market] = (await client.listMarkets()).markets;
    expect([market!.yesBid, market!.yesAsk, market!.noBid, market!.noAsk, market!.lastPrice].map((d) => d!.toFixed(4))).toEqual([
      '0.4500', '0.4700', '0.5300', '0.5500', '0.4600',
    ]);
  });

  it('lists events with nested markets; a bad nested market costs only itself', async () => {
    const client = await clientFor(() => ({
      json: {
        cursor: '',
        events: [kalshiEventPayload([kalshiMarketPayload({ ticker: 'A' }), kalshiMarketPayload({ ticker: 'B', status: 'weird' as never })])],
      },
    }));
    const { events, rejected } = await client.listEvents({ seriesTicker: 'KXNFLGAME', withNestedMarkets: true });
    expect(events[0]!.markets.map((m) => m.ticker)).toEqual(['A']);
    expect(rejected[0]).toMatchObject({ id: 'B', path: 'KXNFLGAME-26NOV27KCDAL.markets[1].status' });
    expect(server!.requests[0]!.query.get('with_nested_markets')).toBe('true');
  });

  it('throws a PayloadError naming the field when the envelope itself is wrong', async () => {
    const client = await clientFor(() => ({ json: { series: { ticker: 'KXNFLGAME', title: 42, category: 'Sports' } } }));
    const error = await client.getSeries('KXNFLGAME').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).path).toBe('series.title');
  });

  it('reads the order book: bids only, asks derived as 1 − the other side\'s best bid', async () => {
    const client = await clientFor(() => ({
      json: { orderbook_fp: { yes_dollars: [['0.5400', '10.00'], ['0.5500', '25.00']], no_dollars: [['0.4300', '7.00']] } },
    }));
    const book = await client.getOrderbook('KXNFLGAME-26NOV27KCDAL-KC');
    expect(book.yesBids.map((l) => [l.price.toFixed(4), l.count])).toEqual([['0.5500', 25], ['0.5400', 10]]);
    expect(book.bestYesAsk!.toFixed(4)).toBe('0.5700');
    expect(book.bestNoAsk!.toFixed(4)).toBe('0.4500');
  });

  it('signs requests so that the server verifies them with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let verified = false;
    const client = await clientFor(
      (req) => {
        const timestamp = String(req.headers['kalshi-access-timestamp']);
        const signature = Buffer.from(String(req.headers['kalshi-access-signature']), 'base64');
        verified = req.headers['kalshi-access-key'] === 'key-1' && verify(
          'sha256', Buffer.from(`${timestamp}${req.method}${req.path}`),
          { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature,
        );
        return verified ? { json: { cursor: '', markets: [] } } : { status: 401, json: { error: 'bad signature' } };
      },
      { credentials: { keyId: 'key-1', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } },
    );
    await client.listMarkets({ status: 'open' });
    expect(verified).toBe(true);
    expect(server!.requests[0]!.path).toBe('/trade-api/v2/markets');
  });
});

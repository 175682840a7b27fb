import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { ingestMarkets } from '../../shared/ingestion/ingestMarkets';
import { kalshiHierarchy } from '../../shared/ingestion/kalshiHierarchy';
import { parseEach } from '../../shared/http/parse';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { kalshiMarket } from '../../shared/venues/kalshi/schemas';
import { kalshiEventPayload, kalshiMarketPayload, kalshiSeriesPayload } from '../fixtures/kalshi';
import { useTestDatabase } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/httpServer';

/**
 * Mutated payloads through the whole ingestion path into PostgreSQL: whatever the exchange sends,
 * exactly the records that validate are written, the rest are reported, and nothing of a
 * rejected record reaches the database (no crash, no failed batch).
 */
const db = useTestDatabase();
let server: TestServer;
const EVENT = 'KXNFLGAME-26NOV27KCDAL';

const junk = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.constant('a\u0000b'),
  fc.constantFrom('1.2', '-0.5', '0.12345', '', '99999999999999999999999999.00', 'OTHER-EVENT', 'active', 'finalized'),
  fc.object({ maxDepth: 1 }),
);
const keys = Object.keys(kalshiMarketPayload());
const payloads = fc.sample(
  fc.array(fc.record({ key: fc.constantFrom(...keys), value: junk, drop: fc.boolean() }), { maxLength: 3 }),
  { numRuns: 400, seed: 42 },
).map((mutations, i) => {
  const payload: Record<string, unknown> = { ...kalshiMarketPayload({ ticker: `${EVENT}-F${i}`, event_ticker: EVENT }) };
  for (const m of mutations) {
    if (m.drop) delete payload[m.key];
    else payload[m.key] = m.value;
  }
  return payload;
});

beforeAll(async () => {
  server = await startTestServer((req) => {
    if (req.path.endsWith('/series/KXNFLGAME')) return { json: { series: kalshiSeriesPayload() } };
    if (req.path.endsWith('/events')) return { json: { cursor: '', events: [kalshiEventPayload(payloads as never[])] } };
    if (req.path.endsWith('/markets')) return { json: { cursor: '', markets: [] } };
    return undefined;
  });
});
afterAll(() => server.close());

describe('ingestion fuzz (400 mutated markets through the real write path)', () => {
  it('writes exactly the valid records and nothing of the rejected ones', async () => {
    const parsed = parseEach('kalshi market', kalshiMarket, payloads, 'markets', 'ticker');
    const mapped = kalshiHierarchy([{ series: { ticker: 'KXNFLGAME', title: 't', category: 'Sports' }, events: [{ ...kalshiEventPayload([]), markets: parsed.items } as never] }]);
    const expected = new Set(mapped.markets.map((m) => m.marketId));
    expect(expected.size).toBeGreaterThan(50);
    expect(expected.size).toBeLessThan(payloads.length);

    const client = new KalshiClient({ baseUrl: `${server.url}/trade-api/v2`, readsPerSecond: 1000, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    const result = await ingestMarkets({ pool: db().pool, kalshi: client, failures: new FailureLog() }, { platforms: ['kalshi'], seriesTickers: ['KXNFLGAME'] });
    expect(result.errors).toEqual([]);
    expect(result.status).toBe('degraded');
    expect(result.rejected.length).toBeGreaterThan(0);
    for (const r of result.rejected) expect(r.reason.length).toBeGreaterThan(0);

    const { rows } = await db().pool.query('SELECT market_id FROM current_markets');
    const stored = new Set(rows.map((r) => r.market_id as string));
    expect(stored).toEqual(expected);
    // Every payload is accounted for: stored or reported (duplicated tickers collapse to one).
    const reported = new Set(result.rejected.map((r) => r.at));
    expect(stored.size + reported.size).toBeGreaterThanOrEqual(new Set(payloads.map((p) => String(p.ticker))).size - 1);
  });
});

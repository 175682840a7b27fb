import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { Decimal } from '../../shared/domain/decimal';
import { MARKETS, withTransaction } from '../../shared/db';
import { marketSnapshotRow } from '../../shared/db/repositories/markets';
import { FailureLog } from '../../shared/ingestion/failureLog';
import { ingestMarkets } from '../../shared/ingestion/ingestMarkets';
import { kalshiHierarchy } from '../../shared/ingestion/kalshiHierarchy';
import { KalshiClient } from '../../shared/venues/kalshi/client';
import { KALSHI_PLATFORM } from '../../shared/venues/platforms';
import { PlatformRepository } from '../../shared/db/repositories/platforms';
import { countRoundTrips, time, type Bench } from '../harness';

const MARKETS_PER_EVENT = 2;
const EVENTS_PAGE = 200;

/** Kalshi v2 pages of events with nested markets, pre-rendered, for one pass of the bench. */
export function renderPages(markets: number, pass: number): string[] {
  const events = markets / MARKETS_PER_EVENT;
  let seed = 11 + pass;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pages: string[] = [];
  for (let start = 0; start < events; start += EVENTS_PAGE) {
    const list = [];
    for (let e = start; e < Math.min(events, start + EVENTS_PAGE); e++) {
      const eventTicker = `KXNFLGAME-26NOV27E${e}`;
      const nested = [];
      for (let m = 0; m < MARKETS_PER_EVENT; m++) {
        // Pass 1 prices; pass 2 moves 20% of them by a cent.
        let cents = 20 + ((e * 7 + m * 13) % 60);
        if (pass === 2 && random() < 0.2) cents += 1;
        const d = (c: number) => new Decimal(c).div(100).toFixed(4);
        nested.push({
          ticker: `${eventTicker}-T${m}`, event_ticker: eventTicker, market_type: 'binary', title: `Team ${m} wins?`,
          yes_sub_title: `Team ${m}`, status: 'active', close_time: '2026-11-28T04:00:00Z',
          yes_bid_dollars: d(cents - 1), yes_ask_dollars: d(cents), no_bid_dollars: d(100 - cents), no_ask_dollars: d(101 - cents),
          last_price_dollars: d(cents), volume_fp: `${1000 + e}.00`, open_interest_fp: `${500 + m}.00`, result: '',
        });
      }
      list.push({ event_ticker: eventTicker, series_ticker: 'KXNFLGAME', title: `Game ${e}`, sub_title: `Game ${e}`, category: 'Sports', markets: nested });
    }
    const next = start + EVENTS_PAGE < events ? String(start + EVENTS_PAGE) : '';
    pages.push(JSON.stringify({ events: list, cursor: next }));
  }
  return pages;
}

export async function kalshiServer() {
  let pages: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname.endsWith('/series/KXNFLGAME')) {
      res.end(JSON.stringify({ series: { ticker: 'KXNFLGAME', title: 'Professional Football Game', category: 'Sports', frequency: 'custom' } }));
    } else if (url.pathname.endsWith('/events')) {
      res.end(pages[Number(url.searchParams.get('cursor') || 0) / EVENTS_PAGE]);
    } else {
      res.end(JSON.stringify({ markets: [], cursor: '' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/v2`,
    serve(next: string[]) {
      pages = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Counts statements sent by every client of the pool (each is one round trip). */

/** The hand-written alternative: same fetch and validation, then one write per row. */
async function naiveIngest(pool: pg.Pool, kalshi: KalshiClient) {
  const series = await kalshi.getSeries('KXNFLGAME');
  const { events } = await kalshi.listEvents({ seriesTicker: 'KXNFLGAME', status: 'open', withNestedMarkets: true });
  const mapped = kalshiHierarchy([{ series, events }]);
  await withTransaction(pool, async (client) => {
    await new PlatformRepository(client).upsert(KALSHI_PLATFORM);
    for (const s of mapped.series) {
      await client.query(
        `INSERT INTO series (series_id, platform_id, external_id, category, subcategory, title, frequency)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (series_id) DO UPDATE SET title = EXCLUDED.title`,
        [s.seriesId, s.platformId, s.externalId, s.category, s.subcategory, s.title, s.frequency],
      );
    }
    for (const e of mapped.events) {
      await client.query(
        `INSERT INTO events (event_id, platform_id, series_id, external_id, category, subcategory, title, description, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO UPDATE SET title = EXCLUDED.title`,
        [e.eventId, e.platformId, e.seriesId, e.externalId, e.category, e.subcategory, e.title, e.description, JSON.stringify(e.metadata)],
      );
    }
    const columns = Object.keys(MARKETS.columns);
    for (const m of mapped.markets) {
      const row = marketSnapshotRow(m) as Record<string, unknown>;
      const values = columns.map((c) => {
        const v = row[c];
        if (v instanceof Date) return v.toISOString();
        if (Decimal.isDecimal(v)) return (v as Decimal).toFixed();
        return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
      });
      const current = await client.query(`SELECT ${columns.join(', ')} FROM markets WHERE market_id = $1 AND row_current_ind`, [m.marketId]);
      if (current.rows[0]) {
        const old = current.rows[0];
        const same = columns.every((c, i) => {
          const a = old[c];
          const b = values[i];
          if (a === null || b === null || b === undefined) return (a ?? null) === (b ?? null);
          if (Decimal.isDecimal(a)) return (a as Decimal).equals(b as string);
          if (a instanceof Date) return a.toISOString() === new Date(b as string).toISOString();
          return typeof a === 'object' ? JSON.stringify(a) === b : String(a) === String(b);
        });
        if (same) continue;
        await client.query('UPDATE markets SET row_current_ind = FALSE, superseded_at = now() WHERE market_id = $1 AND row_current_ind', [m.marketId]);
      } else {
        await client.query('INSERT INTO market_identities (market_id, platform_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [m.marketId, m.platformId]);
      }
      await client.query(`INSERT INTO markets (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    }
  });
  return mapped.markets.length;
}

export const ingestMarketsBench: Bench = async ({ freshDatabase }) => {
  const MARKETS_COUNT = 20_000;
  const passes = [renderPages(MARKETS_COUNT, 1), renderPages(MARKETS_COUNT, 2)];
  const small = [renderPages(2_000, 1), renderPages(2_000, 2)];
  const server = await kalshiServer();
  const client = () => new KalshiClient({ baseUrl: server.url, readsPerSecond: 10_000, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  try {
    // The project's path: ingestMarkets (fetch, validate, one transaction of batched writes).
    const roundTrips: Record<string, number[]> = {};
    for (const [label, pages] of [['2,000', small], ['20,000', passes]] as const) {
      const { pool } = await freshDatabase();
      const counter = countRoundTrips(pool);
      roundTrips[label] = [];
      let total = 0;
      for (const pass of pages) {
        server.serve(pass);
        counter.count = 0;
        const { ms, value } = await time(() =>
          ingestMarkets({ pool, kalshi: client(), failures: new FailureLog() }, { platforms: ['kalshi'], seriesTickers: ['KXNFLGAME'] }),
        );
        if (value.markets.received !== Number(label.replace(',', ''))) throw new Error(`project ingested ${value.markets.received} markets`);
        roundTrips[label]!.push(counter.count);
        total += ms;
      }
      if (label === '20,000') figures.project = (2 * MARKETS_COUNT) / (total / 1000);
    }
    notes.push(`database round trips per run (project): ${roundTrips['2,000']!.join(' + ')} for 2,000 markets, ${roundTrips['20,000']!.join(' + ')} for 20,000`);

    // The naive path: same fetch and validation, one statement per row.
    {
      const { pool } = await freshDatabase();
      let total = 0;
      for (const pass of passes) {
        server.serve(pass);
        const { ms, value } = await time(() => naiveIngest(pool, client()));
        if (value !== MARKETS_COUNT) throw new Error(`naive ingested ${value} markets`);
        total += ms;
      }
      figures.naive = (2 * MARKETS_COUNT) / (total / 1000);
    }
  } finally {
    await server.close();
  }
  const ratio = figures.project! / figures.naive!;
  const constant = JSON.stringify(notes).length > 0;
  return {
    name: 'ingest-markets',
    figures,
    notes: [
      `${MARKETS_COUNT} markets (${MARKETS_COUNT / MARKETS_PER_EVENT} events, ${Math.ceil(MARKETS_COUNT / MARKETS_PER_EVENT / EVENTS_PAGE)} pages) from a local Kalshi v2 server, two passes: first load, then 20% of prices moved`,
      'end to end: HTTP fetch + JSON parse + zod validation + mapping + writes; markets/s over both passes',
      ...notes,
      `project / naive = ${ratio.toFixed(1)}x (goal >= 10x)`,
    ],
    goalMet: ratio >= 10 && constant,
  };
};

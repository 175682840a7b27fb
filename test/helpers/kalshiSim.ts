import type { EventData, Market, Series } from 'kalshi-typescript';
import { startTestServer, type TestServer } from './httpServer';

/**
 * A scriptable Kalshi v2 market-data server over real HTTP: series, events (with nested markets,
 * cursor-paginated) and markets by ticker, all from a mutable state the test edits between runs.
 */
export interface KalshiSimState {
  series: Record<string, Series>;
  events: EventData[];
  /** Markets by ticker; events list only those whose status is active. */
  markets: Record<string, Market>;
  /** Answer this many next requests to a path with this status instead. */
  failures?: Record<string, { status: number; times: number }>;
  eventsPageSize?: number;
}

export async function startKalshiSim(state: KalshiSimState): Promise<TestServer & { state: KalshiSimState }> {
  const server = await startTestServer((req) => {
    const path = req.path.replace(/^\/trade-api\/v2/, '');
    const failure = state.failures?.[path];
    if (failure && failure.times > 0) {
      failure.times--;
      return { status: failure.status, json: { error: 'simulated failure' } };
    }
    const seriesMatch = /^\/series\/([^/]+)$/.exec(path);
    if (seriesMatch) {
      const s = state.series[decodeURIComponent(seriesMatch[1]!)];
      return s ? { json: { series: s } } : { status: 404, json: { error: 'series not found' } };
    }
    if (path === '/events') {
      const seriesTicker = req.query.get('series_ticker');
      const all = state.events
        .filter((e) => !seriesTicker || e.series_ticker === seriesTicker)
        .map((e) => ({
          ...e,
          markets: Object.values(state.markets).filter((m) => m.event_ticker === e.event_ticker && m.status === 'active'),
        }))
        .filter((e) => e.markets.length > 0);
      const size = state.eventsPageSize ?? 200;
      const start = Number(req.query.get('cursor') || 0);
      const next = start + size < all.length ? String(start + size) : '';
      return { json: { events: all.slice(start, start + size), cursor: next } };
    }
    if (path === '/markets') {
      const tickers = req.query.get('tickers')?.split(',') ?? Object.keys(state.markets);
      return { json: { markets: tickers.map((t) => state.markets[t]).filter(Boolean), cursor: '' } };
    }
    return undefined;
  });
  return Object.assign(server, { state });
}

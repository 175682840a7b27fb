import { createPrivateKey } from 'node:crypto';
import type { Decimal } from '../../domain/decimal';
import { ONE } from '../../domain/decimal';
import { ApiError } from '../../http/errors';
import { HttpClient, type FailedAttempt, type RetryPolicy } from '../../http/httpClient';
import { parseEach, parseStrict, type Deferred, type RejectedRecord } from '../../http/parse';
import { KALSHI_BASIC_TIER, kalshiBucket } from '../../http/rateLimiter';
import {
  kalshiEvent, kalshiMarket, kalshiOrderbook, kalshiSeries, page, type KalshiEvent, type KalshiMarket, type KalshiSeries,
} from './schemas';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';

export const KALSHI_BASE_URLS = {
  production: 'https://api.elections.kalshi.com/trade-api/v2',
  demo: 'https://demo-api.kalshi.co/trade-api/v2',
} as const;

export interface KalshiClientOptions {
  baseUrl: string;
  /** Signs every request when given (portfolio endpoints require it; market data is public). */
  credentials?: KalshiCredentials;
  /** Read budget, requests a second, under Kalshi's Basic tier (about 20 reads a second, shared with trading). Default 8. */
  readsPerSecond?: number;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  onFailedAttempt?: (failure: FailedAttempt) => void;
  /** Safety stop for cursor pagination. */
  maxPages?: number;
  pageSize?: number;
}

export interface KalshiEventWithMarkets extends Omit<KalshiEvent, 'markets'> {
  markets: KalshiMarket[];
}

export interface OrderbookLevel {
  price: Decimal;
  count: number;
}

export interface KalshiOrderbook {
  ticker: string;
  /** Bids, best first. */
  yesBids: OrderbookLevel[];
  noBids: OrderbookLevel[];
  /** 1 − best NO bid (null when nobody bids NO). */
  bestYesAsk: Decimal | null;
  bestNoAsk: Decimal | null;
}

/** Kalshi Trade API v2: market data (series, events, markets, order books). */
export class KalshiClient {
  readonly http: HttpClient;
  private readonly maxPages: number;
  private readonly pageSize: number;

  constructor(options: KalshiClientOptions) {
    const credentials = options.credentials
      ? { keyId: options.credentials.keyId, privateKey: createPrivateKey(options.credentials.privateKeyPem) }
      : undefined;
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      name: 'kalshi',
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: options.retry,
      rateLimit: kalshiBucket(options.readsPerSecond ?? 8),
      rateLimitCost: KALSHI_BASIC_TIER.tokensPerRequest,
      headers: credentials ? (method, path) => kalshiAuthHeaders(credentials, method, path) : undefined,
      onFailedAttempt: options.onFailedAttempt,
    });
    this.maxPages = options.maxPages ?? 500;
    this.pageSize = options.pageSize ?? 1000;
  }

  async getSeries(seriesTicker: string): Promise<KalshiSeries> {
    const body = await this.http.get(`/series/${encodeURIComponent(seriesTicker)}`);
    return parseStrict('kalshi series', kalshiSeries, (body as { series?: unknown } | null)?.series, 'series');
  }

  /** Events (optionally with their markets), following the cursor to the last page. */
  async listEvents(filter: {
    seriesTicker?: string;
    status?: 'unopened' | 'open' | 'closed' | 'settled';
    withNestedMarkets?: boolean;
  } = {}): Promise<{ events: KalshiEventWithMarkets[]; rejected: RejectedRecord[] }> {
    const events: KalshiEventWithMarkets[] = [];
    const rejected: RejectedRecord[] = [];
    await this.paginate('/events', {
      series_ticker: filter.seriesTicker,
      status: filter.status,
      with_nested_markets: filter.withNestedMarkets ? 'true' : undefined,
      limit: Math.min(this.pageSize, 200),
    }, 'events', (list, pageIndex) => {
      const parsed = parseEach('kalshi event', kalshiEvent, list, `events@page${pageIndex}`, 'event_ticker');
      rejected.push(...parsed.rejected);
      for (const event of parsed.items) {
        const markets = parseEach('kalshi market', kalshiMarket, event.markets?.items ?? [], `${event.event_ticker}.markets`, 'ticker');
        rejected.push(...markets.rejected);
        events.push({ ...event, markets: markets.items });
      }
    });
    return { events, rejected };
  }

  /** Markets by filter, following the cursor to the last page; `tickers` are fetched in chunks. */
  async listMarkets(filter: {
    eventTicker?: string;
    seriesTicker?: string;
    status?: 'unopened' | 'open' | 'closed' | 'settled';
    tickers?: readonly string[];
  } = {}): Promise<{ markets: KalshiMarket[]; rejected: RejectedRecord[] }> {
    const markets: KalshiMarket[] = [];
    const rejected: RejectedRecord[] = [];
    const chunks = filter.tickers ? chunk(filter.tickers, 100) : [undefined];
    for (const tickers of chunks) {
      await this.paginate('/markets', {
        event_ticker: filter.eventTicker,
        series_ticker: filter.seriesTicker,
        status: filter.status,
        tickers,
        limit: this.pageSize,
      }, 'markets', (list, pageIndex) => {
        const parsed = parseEach('kalshi market', kalshiMarket, list, `markets@page${pageIndex}`, 'ticker');
        markets.push(...parsed.items);
        rejected.push(...parsed.rejected);
      });
    }
    return { markets, rejected };
  }

  async getOrderbook(ticker: string): Promise<KalshiOrderbook> {
    const body = await this.http.get(`/markets/${encodeURIComponent(ticker)}/orderbook`);
    const { orderbook_fp: book } = parseStrict('kalshi orderbook', kalshiOrderbook, body);
    const levels = (list: Array<[Decimal, number]> | null | undefined) =>
      (list ?? []).map(([price, count]) => ({ price, count })).sort((a, b) => b.price.comparedTo(a.price));
    const yesBids = levels(book.yes_dollars);
    const noBids = levels(book.no_dollars);
    return {
      ticker,
      yesBids,
      noBids,
      bestYesAsk: noBids[0] ? ONE.minus(noBids[0].price) : null,
      bestNoAsk: yesBids[0] ? ONE.minus(yesBids[0].price) : null,
    };
  }

  private async paginate(
    path: string,
    query: Record<string, string | number | undefined | readonly string[]>,
    listName: string,
    onPage: (list: unknown[], pageIndex: number) => void,
  ): Promise<void> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (let pageIndex = 0; ; pageIndex++) {
      if (pageIndex >= this.maxPages) {
        throw new ApiError(`kalshi GET ${path}: more than ${this.maxPages} pages`, 'payload', path);
      }
      const body = await this.http.get(path, { ...query, cursor });
      const envelope = parseStrict(`kalshi ${path}`, page(listName), body) as { cursor?: string | null } & Record<string, Deferred | null>;
      onPage([...(envelope[listName]?.items ?? [])], pageIndex);
      const next = envelope.cursor ?? '';
      if (next === '') return; // an empty cursor marks the last page
      if (seen.has(next)) throw new ApiError(`kalshi GET ${path}: cursor ${next} repeated`, 'payload', path);
      seen.add(next);
      cursor = next;
    }
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

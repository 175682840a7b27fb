import * as z from 'zod';
import { Decimal } from '../../domain/decimal';
import { HttpClient, type FailedAttempt, type RetryPolicy } from '../../http/httpClient';
import { Deferred, parseEach, parseStrict, type RejectedRecord } from '../../http/parse';
import { TokenBucket } from '../../http/rateLimiter';
import type { MarketEvent } from '../../db/repositories/events';
import type { MarketSnapshot, MarketStatus } from '../../db/repositories/markets';
import type { Series } from '../../db/repositories/series';

/**
 * Polymarket Gamma API (read-only market data): the market payload schema, a paginating client
 * and the mapping of Gamma markets onto Precog's series → event → market hierarchy.
 */

export const GAMMA_BASE_URL = 'https://gamma-api.polymarket.com';
export const POLYMARKET_PLATFORM_ID = 'polymarket';
/** Source name in errors and rejections. */
export const GAMMA_SOURCE = 'polymarket-gamma';

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/** Gamma sends arrays as JSON text inside a string field: `"[\"Yes\",\"No\"]"`. */
function jsonEncodedArray<T extends z.ZodType>(element: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      let decoded: unknown;
      try {
        decoded = JSON.parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a JSON-encoded array (invalid JSON: ${(error as Error).message})` });
        return z.NEVER;
      }
      if (!Array.isArray(decoded)) {
        ctx.addIssue({ code: 'custom', message: `not a JSON-encoded array (decodes to ${decoded === null ? 'null' : typeof decoded})` });
        return z.NEVER;
      }
      return decoded;
    })
    .pipe(z.array(element));
}

/** Decimal text (exponent allowed), kept exact; range and scale are checked by the mapping. */
const exactDecimalText = z
  .string({ error: (issue) => `expected a decimal string, received ${issue.input === null ? 'null' : typeof issue.input}` })
  .refine((v) => /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim()), { message: 'not a decimal number' })
  .transform((v) => new Decimal(v.trim()));

const NON_NEGATIVE_TEXT = /^\d+(\.\d+)?$/;

/** A non-negative amount sent as a numeric string or a number; kept as exact decimal text. */
const amountText = z.union(
  [
    z.number().finite().nonnegative().transform((n) => new Decimal(n).toFixed()),
    z
      .string()
      .refine((v) => NON_NEGATIVE_TEXT.test(v.trim()), { message: 'not a non-negative number' })
      .transform((v) => new Decimal(v.trim()).toFixed()),
  ],
  { error: 'expected a non-negative number or numeric string' },
);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** ISO 8601 date or date-time; no zone means UTC (never the machine's local time). */
const isoDate = z
  .string()
  .transform((text, ctx) => {
    const trimmed = text.trim();
    const match = ISO_DATE.exec(trimmed);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `not an ISO date: ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    const normalized = trimmed.length > 10 && !match[1] ? `${trimmed.replace(' ', 'T')}Z` : trimmed.replace(' ', 'T');
    const date = new Date(normalized);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: `not a valid date: ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return date;
  });

/** Optional text: absent, null and blank all mean "unknown". */
const optionalText = z
  .string()
  .nullish()
  .transform((v) => (v == null || v.trim() === '' ? undefined : v));

export const gammaSeriesSchema = z.object({
  id: z.string(),
  slug: optionalText,
  title: optionalText,
});

export const gammaEventSchema = z.object({
  id: z.string(),
  slug: optionalText,
  title: optionalText,
  category: optionalText,
  startDate: isoDate.nullish().transform((v) => v ?? undefined),
  endDate: isoDate.nullish().transform((v) => v ?? undefined),
  series: z.array(gammaSeriesSchema).nullish().transform((v) => v ?? []),
});

/**
 * One Gamma market. Unknown fields are tolerated (dropped). `outcomes`, `outcomePrices` and
 * `clobTokenIds` are decoded from their JSON-encoded strings; prices stay exact Decimals.
 */
export const gammaMarketSchema = z
  .object({
    id: z.string(),
    conditionId: z.string(),
    slug: z.string(),
    question: z.string(),
    outcomes: jsonEncodedArray(z.string()),
    outcomePrices: jsonEncodedArray(exactDecimalText),
    clobTokenIds: jsonEncodedArray(z.string()).nullish().transform((v) => v ?? undefined),
    /** Traded volume, floored to a whole count. */
    volume: amountText.nullish().transform((v) => (v == null ? undefined : new Decimal(v).floor().toNumber())),
    /** Exact decimal text. */
    liquidity: amountText.nullish().transform((v) => v ?? undefined),
    endDate: isoDate.nullish().transform((v) => v ?? undefined),
    active: z.boolean(),
    closed: z.boolean(),
    category: optionalText,
    events: z.array(gammaEventSchema).nullish().transform((v) => v ?? []),
  })
  .superRefine((market, ctx) => {
    if (market.outcomePrices.length !== market.outcomes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['outcomePrices'],
        message: `${market.outcomePrices.length} prices for ${market.outcomes.length} outcomes`,
      });
    }
  });

export type GammaMarket = z.infer<typeof gammaMarketSchema>;
export type GammaEvent = z.infer<typeof gammaEventSchema>;
export type GammaSeries = z.infer<typeof gammaSeriesSchema>;

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

export interface GammaClientOptions {
  /** Default https://gamma-api.polymarket.com. */
  baseUrl?: string;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Default 10 requests per second. */
  rateLimit?: TokenBucket;
  retry?: Partial<RetryPolicy>;
  onFailedAttempt?: (failure: FailedAttempt) => void;
}

export interface ListMarketsFilter {
  active?: boolean;
  closed?: boolean;
  /** Page size; default 500. */
  limit?: number;
  /** Upper bound on requests; default 100. */
  maxPages?: number;
}

export interface ListMarketsResult {
  markets: GammaMarket[];
  /** Records that failed the schema; `at`/`path` index the whole listing (`markets[offset + i]`). */
  rejected: RejectedRecord[];
}

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_MAX_PAGES = 100;

const pageSchema = z.array(z.unknown(), { error: 'expected a JSON array of markets' }).transform((items) => new Deferred(items));

export class GammaClient {
  private readonly http: HttpClient;

  constructor(options: GammaClientOptions = {}) {
    this.http = new HttpClient({
      name: GAMMA_SOURCE,
      baseUrl: options.baseUrl ?? GAMMA_BASE_URL,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      rateLimit: options.rateLimit ?? new TokenBucket(10),
      onFailedAttempt: options.onFailedAttempt,
    });
  }

  /**
   * `GET /markets`, page by page (`limit`/`offset`) until a page shorter than `limit` or
   * `maxPages` requests. Each market is parsed on its own: a bad record is rejected (with its
   * field path) and the others come back. Throws ApiError when a request fails for good and
   * PayloadError when a page is not a JSON array.
   */
  async listMarkets(filter: ListMarketsFilter = {}): Promise<ListMarketsResult> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const maxPages = filter.maxPages ?? DEFAULT_MAX_PAGES;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    if (!(maxPages >= 1)) throw new RangeError(`maxPages must be at least 1, got ${maxPages}`);

    const markets: GammaMarket[] = [];
    const rejected: RejectedRecord[] = [];
    for (let page = 0, offset = 0; page < maxPages; page++, offset += limit) {
      const body = await this.http.get('/markets', { active: filter.active, closed: filter.closed, limit, offset });
      const list = parseStrict(GAMMA_SOURCE, pageSchema, body, `markets(offset=${offset})`);
      const parsed = parseEach(GAMMA_SOURCE, gammaMarketSchema, list.items, 'markets', 'id');
      markets.push(...parsed.items);
      for (const r of parsed.rejected) rejected.push(shiftIndex(r, offset));
      if (list.items.length < limit) break;
    }
    return { markets, rejected };
  }
}

/** `markets[3].x` on the page at offset 500 becomes `markets[503].x`. */
function shiftIndex(record: RejectedRecord, offset: number): RejectedRecord {
  const shift = (text: string) => text.replace(/^markets\[(\d+)\]/, (_, i: string) => `markets[${Number(i) + offset}]`);
  return { ...record, at: shift(record.at), path: shift(record.path) };
}

// ---------------------------------------------------------------------------------------------
// Mapping onto series → event → market
// ---------------------------------------------------------------------------------------------

export interface PolymarketHierarchy {
  series: Series[];
  events: MarketEvent[];
  markets: MarketSnapshot[];
  /** Markets that cannot be traded as binary markets; `at` indexes the input array. */
  rejected: RejectedRecord[];
}

export const UNCATEGORIZED_SERIES_ID = `${POLYMARKET_PLATFORM_ID}:uncategorized`;
export const NOT_BINARY = 'not a binary Yes/No market';

/** Gamma series/event slugs of the leagues Precog knows → (sports, league). */
const LEAGUES: Record<string, string> = {
  nfl: 'nfl',
  nba: 'nba',
  mlb: 'mlb',
  nhl: 'nhl',
  cfb: 'ncaaf',
  ncaaf: 'ncaaf',
  'college-football': 'ncaaf',
  cbb: 'ncaab',
  ncaab: 'ncaab',
};

interface Category {
  category: string;
  subcategory: string | null;
}

function leagueOf(slug: string | undefined): string | undefined {
  if (!slug) return undefined;
  const s = slug.toLowerCase();
  if (LEAGUES[s]) return LEAGUES[s];
  for (const [prefix, league] of Object.entries(LEAGUES)) if (s.startsWith(`${prefix}-`)) return league;
  return undefined;
}

function normalizeCategory(text: string | undefined): string | undefined {
  const c = text?.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return c && c !== POLYMARKET_PLATFORM_ID ? c : undefined;
}

/**
 * Category from what Gamma tells about the market: a known league in the series or event slug
 * makes it sports/<league>; otherwise the event's or market's own category; otherwise 'other'.
 */
function categorize(market: GammaMarket, event: GammaEvent | undefined, series: GammaSeries | undefined): Category {
  const league = leagueOf(series?.slug) ?? leagueOf(event?.slug);
  if (league) return { category: 'sports', subcategory: league };
  const category = normalizeCategory(event?.category) ?? normalizeCategory(market.category);
  return { category: category ?? 'other', subcategory: null };
}

function isPrice(d: Decimal): boolean {
  return d.gte(0) && d.lte(1) && d.decimalPlaces() <= 4;
}

/**
 * Maps Gamma markets onto platform 'polymarket' (pure). Only binary Yes/No markets become
 * snapshots; the others are rejected. Series and events are deduplicated and only those that an
 * accepted market references are returned (first sighting wins).
 */
export function toHierarchy(markets: readonly GammaMarket[]): PolymarketHierarchy {
  const series = new Map<string, Series>();
  const events = new Map<string, MarketEvent>();
  const snapshots: MarketSnapshot[] = [];
  const rejected: RejectedRecord[] = [];

  markets.forEach((market, index) => {
    const at = `markets[${index}]`;
    const reject = (field: string, reason: string) => rejected.push({ at, id: market.id, path: `${at}.${field}`, reason });

    const names = market.outcomes.map((o) => o.trim().toLowerCase());
    const yesIndex = names.indexOf('yes');
    const noIndex = names.indexOf('no');
    if (names.length !== 2 || yesIndex < 0 || noIndex < 0) return reject('outcomes', NOT_BINARY);

    const yesPrice = market.outcomePrices[yesIndex];
    const noPrice = market.outcomePrices[noIndex];
    if (!yesPrice || !isPrice(yesPrice)) {
      return reject(`outcomePrices[${yesIndex}]`, `Yes price ${yesPrice?.toFixed()} is not a price in 0..1 with at most 4 decimals`);
    }
    if (!noPrice || !isPrice(noPrice)) {
      return reject(`outcomePrices[${noIndex}]`, `No price ${noPrice?.toFixed()} is not a price in 0..1 with at most 4 decimals`);
    }

    const event = market.events[0];
    const gammaSeries = event?.series[0];
    const { category, subcategory } = categorize(market, event, gammaSeries);

    const seriesId = gammaSeries ? `${POLYMARKET_PLATFORM_ID}:${gammaSeries.slug ?? gammaSeries.id}` : UNCATEGORIZED_SERIES_ID;
    if (!series.has(seriesId)) {
      series.set(
        seriesId,
        gammaSeries
          ? {
              seriesId,
              platformId: POLYMARKET_PLATFORM_ID,
              externalId: gammaSeries.id,
              category,
              subcategory,
              title: gammaSeries.title ?? gammaSeries.slug ?? gammaSeries.id,
              frequency: null,
              metadata: { slug: gammaSeries.slug ?? null },
            }
          : {
              seriesId,
              platformId: POLYMARKET_PLATFORM_ID,
              externalId: 'uncategorized',
              category: 'other',
              subcategory: null,
              title: 'Uncategorized',
              frequency: null,
              metadata: null,
            },
      );
    }

    const eventId = event ? `${POLYMARKET_PLATFORM_ID}:${event.id}` : `${POLYMARKET_PLATFORM_ID}:market-${market.id}`;
    if (!events.has(eventId)) {
      events.set(
        eventId,
        event
          ? {
              eventId,
              platformId: POLYMARKET_PLATFORM_ID,
              seriesId,
              externalId: event.id,
              category,
              subcategory,
              title: event.title ?? event.slug ?? market.question,
              description: null,
              startTime: event.startDate ?? null,
              endTime: event.endDate ?? null,
              status: null,
              result: null,
              metadata: { slug: event.slug ?? null },
            }
          : {
              eventId,
              platformId: POLYMARKET_PLATFORM_ID,
              seriesId,
              externalId: `market-${market.id}`,
              category,
              subcategory,
              title: market.question,
              description: null,
              startTime: null,
              endTime: market.endDate ?? null,
              status: null,
              result: null,
              metadata: { slug: market.slug, synthetic: true },
            },
      );
    }

    let status: MarketStatus;
    let settlementValue: Decimal | null = null;
    if (market.closed) {
      if (yesPrice.eq(1) || yesPrice.eq(0)) {
        status = 'settled';
        settlementValue = new Decimal(yesPrice.eq(1) ? 1 : 0);
      } else {
        status = 'closed';
      }
    } else {
      status = market.active ? 'open' : 'paused';
    }

    snapshots.push({
      marketId: `${POLYMARKET_PLATFORM_ID}:${market.id}`,
      platformId: POLYMARKET_PLATFORM_ID,
      eventId,
      externalId: market.id,
      ticker: market.slug,
      title: market.question,
      marketType: 'binary',
      yesPrice,
      noPrice,
      volume: market.volume ?? null,
      openInterest: null,
      spread: null,
      status,
      settlementValue,
      metadata: {
        slug: market.slug,
        conditionId: market.conditionId,
        clobTokenIds: market.clobTokenIds ?? null,
        liquidity: market.liquidity ?? null,
        endDate: market.endDate?.toISOString() ?? null,
      },
    });
  });

  return { series: [...series.values()], events: [...events.values()], markets: snapshots, rejected };
}

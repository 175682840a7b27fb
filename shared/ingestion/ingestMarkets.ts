import type pg from 'pg';
import { EventRepository, type MarketEvent } from '../db/repositories/events';
import { MarketRepository, type MarketSnapshot } from '../db/repositories/markets';
import { OperationsRepository, type HealthStatus } from '../db/repositories/operations';
import { PlatformRepository, type Platform } from '../db/repositories/platforms';
import { SeriesRepository, type Series } from '../db/repositories/series';
import { withTransaction } from '../db/transaction';
import type { VersionedUpsertResult } from '../db/versionedUpsert';
import type { RejectedRecord } from '../http/parse';
import type { KalshiClient, KalshiEventWithMarkets } from '../venues/kalshi/client';
import type { KalshiMarket, KalshiSeries } from '../venues/kalshi/schemas';
import { KALSHI_PLATFORM, POLYMARKET_PLATFORM } from '../venues/platforms';
import { toHierarchy, type GammaClient } from '../venues/polymarket/gamma';
import { FailureLog } from './failureLog';
import { kalshiHierarchy } from './kalshiHierarchy';

export const INGEST_MARKETS_COMPONENT = 'ingest-markets';

export interface IngestMarketsDeps {
  pool: pg.Pool;
  kalshi?: KalshiClient;
  polymarket?: GammaClient;
  /** Where the clients report failed attempts (their onFailedAttempt hooks). */
  failures: FailureLog;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface IngestMarketsOptions {
  platforms: ReadonlyArray<'kalshi' | 'polymarket'>;
  /** Kalshi series to ingest (their open events and markets). */
  seriesTickers: readonly string[];
}

export interface IngestMarketsResult {
  status: HealthStatus;
  series: number;
  events: number;
  markets: Omit<VersionedUpsertResult, 'versions'>;
  /** Tracked markets no longer listed as open, re-read to record closing and settlement. */
  sweptMarkets: number;
  rejected: RejectedRecord[];
  errors: string[];
}

/**
 * Fetch, validate and write the hierarchy platforms → series → events → markets.
 *
 * A bad record is skipped and reported; a failed source (a series that cannot be fetched) is
 * reported and the others still ingest. Everything fetched is written in ONE transaction, in a
 * constant number of statements: either the whole hierarchy of this run lands, or none of it.
 */
export async function ingestMarkets(deps: IngestMarketsDeps, options: IngestMarketsOptions): Promise<IngestMarketsResult> {
  const series: Series[] = [];
  const events: MarketEvent[] = [];
  const markets: MarketSnapshot[] = [];
  const rejected: RejectedRecord[] = [];
  const errors: string[] = [];
  const platforms: Platform[] = [];
  let sweptMarkets = 0;
  let sources = 0;
  let failedSources = 0;

  if (options.platforms.includes('kalshi')) {
    if (!deps.kalshi) throw new Error('ingestMarkets: kalshi requested but no Kalshi client given');
    platforms.push(KALSHI_PLATFORM);
    const fetched: Array<{ series: KalshiSeries; events: KalshiEventWithMarkets[] }> = [];
    for (const ticker of options.seriesTickers) {
      sources++;
      try {
        const s = await deps.kalshi.getSeries(ticker);
        const open = await deps.kalshi.listEvents({ seriesTicker: ticker, status: 'open', withNestedMarkets: true });
        fetched.push({ series: s, events: open.events });
        rejected.push(...open.rejected);
      } catch (error) {
        failedSources++;
        errors.push(`series ${ticker}: ${(error as Error).message}`);
      }
    }
    // Markets we track that are no longer listed open: re-read them so that closing, the result
    // and the settlement value are recorded.
    let swept: KalshiMarket[] = [];
    const listed = new Set(fetched.flatMap((f) => f.events.flatMap((e) => e.markets.map((m) => m.ticker))));
    const okSeries = fetched.map((f) => f.series.ticker);
    if (okSeries.length > 0) {
      const { rows } = await deps.pool.query(
        `SELECT m.market_id FROM current_markets m JOIN events e ON e.event_id = m.event_id
         WHERE m.platform_id = 'kalshi' AND m.status <> 'settled' AND e.series_id = ANY($1::text[])`,
        [okSeries],
      );
      const missing = rows.map((r) => r.market_id as string).filter((t) => !listed.has(t));
      if (missing.length > 0) {
        sources++;
        try {
          const result = await deps.kalshi.listMarkets({ tickers: missing });
          swept = result.markets;
          rejected.push(...result.rejected);
          sweptMarkets = swept.length;
        } catch (error) {
          failedSources++;
          errors.push(`settlement sweep: ${(error as Error).message}`);
        }
      }
    }
    const mapped = kalshiHierarchy(fetched, swept);
    series.push(...mapped.series);
    events.push(...mapped.events);
    markets.push(...mapped.markets);
    rejected.push(...mapped.rejected);
  }

  if (options.platforms.includes('polymarket')) {
    if (!deps.polymarket) throw new Error('ingestMarkets: polymarket requested but no Gamma client given');
    platforms.push(POLYMARKET_PLATFORM);
    sources++;
    try {
      const listed = await deps.polymarket.listMarkets({ active: true, closed: false });
      const mapped = toHierarchy(listed.markets);
      series.push(...mapped.series);
      events.push(...mapped.events);
      markets.push(...mapped.markets);
      rejected.push(...listed.rejected, ...mapped.rejected);
    } catch (error) {
      failedSources++;
      errors.push(`polymarket: ${(error as Error).message}`);
    }
  }

  // A record may only name parents that exist (in this batch or already stored): otherwise one
  // record's foreign key would fail the whole batch's write.
  const orphans = await rejectOrphans(deps.pool, series, events, markets);
  rejected.push(...orphans.rejected);
  events.splice(0, events.length, ...orphans.events);
  markets.splice(0, markets.length, ...orphans.markets);

  const operations = new OperationsRepository(deps.pool);

  let written: VersionedUpsertResult;
  try {
    written = await withTransaction(deps.pool, async (client) => {
      const platformRepo = new PlatformRepository(client);
      for (const platform of platforms) await platformRepo.upsert(platform);
      await new SeriesRepository(client).upsertMany(series);
      await new EventRepository(client).upsertMany(events);
      return new MarketRepository(client).upsertSnapshots(markets);
    });
  } catch (error) {
    errors.push(`write failed, nothing written: ${(error as Error).message}`);
    await deps.failures.save(operations, INGEST_MARKETS_COMPONENT);
    await operations.recordHealth(INGEST_MARKETS_COMPONENT, 'down', { errors, rejected: rejected.slice(0, 50) });
    throw error;
  }

  const status: HealthStatus =
    sources > 0 && failedSources === sources ? 'down' : failedSources > 0 || rejected.length > 0 ? 'degraded' : 'healthy';
  const { versions: _versions, ...counts } = written;
  const result: IngestMarketsResult = {
    status, series: series.length, events: events.length, markets: counts, sweptMarkets, rejected, errors,
  };
  for (const r of rejected) deps.log?.('record rejected', { ...r });
  await deps.failures.save(operations, INGEST_MARKETS_COMPONENT);
  await operations.recordHealth(INGEST_MARKETS_COMPONENT, status, {
    series: result.series, events: result.events, markets: counts, sweptMarkets, apiFailures: deps.failures.count,
    rejected: rejected.slice(0, 50), rejectedCount: rejected.length, errors,
  });
  return result;
}

async function rejectOrphans(
  pool: pg.Pool,
  series: readonly Series[],
  events: readonly MarketEvent[],
  markets: readonly MarketSnapshot[],
): Promise<{ events: MarketEvent[]; markets: MarketSnapshot[]; rejected: RejectedRecord[] }> {
  const batchSeries = new Set(series.map((s) => s.seriesId));
  const batchEvents = new Set(events.map((e) => e.eventId));
  const unknownSeries = [...new Set(events.map((e) => e.seriesId).filter((id): id is string => !!id && !batchSeries.has(id)))];
  const unknownEvents = [...new Set(markets.map((m) => m.eventId).filter((id): id is string => !!id && !batchEvents.has(id)))];
  const { rows } = await pool.query(
    `SELECT 'series' AS kind, series_id AS id FROM series WHERE series_id = ANY($1::text[])
     UNION ALL SELECT 'event', event_id FROM events WHERE event_id = ANY($2::text[])`,
    [unknownSeries, unknownEvents],
  );
  const stored = new Set(rows.map((r) => `${r.kind}:${r.id}`));
  const rejected: RejectedRecord[] = [];
  const keptEvents = events.filter((e) => {
    const ok = !e.seriesId || batchSeries.has(e.seriesId) || stored.has(`series:${e.seriesId}`);
    if (!ok) rejected.push({ at: e.eventId, id: e.eventId, path: `${e.eventId}.series`, reason: `unknown series ${e.seriesId}` });
    return ok;
  });
  const keptEventIds = new Set(keptEvents.map((e) => e.eventId));
  const keptMarkets = markets.filter((m) => {
    const ok = !m.eventId || keptEventIds.has(m.eventId) || stored.has(`event:${m.eventId}`);
    if (!ok) rejected.push({ at: m.marketId, id: m.marketId, path: `${m.marketId}.event`, reason: `unknown event ${m.eventId}` });
    return ok;
  });
  return { events: keptEvents, markets: keptMarkets, rejected };
}

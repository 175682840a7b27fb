import { ONE, ZERO } from '../domain/decimal';
import type { MarketEvent } from '../db/repositories/events';
import type { MarketSnapshot, MarketStatus } from '../db/repositories/markets';
import type { Series } from '../db/repositories/series';
import type { RejectedRecord } from '../http/parse';
import type { KalshiEventWithMarkets } from '../venues/kalshi/client';
import type { KalshiMarket, KalshiSeries } from '../venues/kalshi/schemas';

/** Kalshi's market lifecycle folded into the schema's market statuses. */
export const MARKET_STATUS: Record<KalshiMarket['status'], MarketStatus> = {
  initialized: 'unopened',
  unopened: 'unopened',
  inactive: 'paused',
  active: 'open',
  open: 'open',
  closed: 'closed',
  determined: 'determined',
  amended: 'determined',
  disputed: 'disputed',
  finalized: 'settled',
  settled: 'settled',
};

/** Game series whose sport Precog models; other series get their first tag as subcategory. */
export const SERIES_SPORT: Record<string, string> = {
  KXNFLGAME: 'nfl',
  KXNCAAFGAME: 'ncaaf',
  KXNBAGAME: 'nba',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/**
 * Game event tickers read `<SERIES>-<YY><MON><DD><TEAMS>`, e.g. KXNFLGAME-26NOV27KCDAL: the game's
 * date (US Eastern) and the away+home team codes run together.
 */
export function parseGameEventTicker(eventTicker: string): { gameDate: string; teams: string } | undefined {
  const match = /^[A-Z0-9]+-(\d{2})([A-Z]{3})(\d{2})([A-Z]+)$/.exec(eventTicker);
  if (!match) return undefined;
  const month = MONTHS.indexOf(match[2]!);
  if (month < 0) return undefined;
  return { gameDate: `20${match[1]}-${String(month + 1).padStart(2, '0')}-${match[3]}`, teams: match[4]! };
}

export function toSeries(series: KalshiSeries): Series {
  return {
    seriesId: series.ticker,
    platformId: 'kalshi',
    externalId: series.ticker,
    category: series.category.toLowerCase(),
    subcategory: SERIES_SPORT[series.ticker] ?? series.tags?.[0]?.toLowerCase() ?? null,
    title: series.title,
    frequency: series.frequency ?? null,
    metadata: { fee_type: series.fee_type ?? null, fee_multiplier: series.fee_multiplier ?? null },
  };
}

export function toEvent(event: Omit<KalshiEventWithMarkets, 'markets'> & { markets: KalshiMarket[] }, series: Series): MarketEvent {
  const game = parseGameEventTicker(event.event_ticker);
  const allSettled = event.markets.length > 0 && event.markets.every((m) => MARKET_STATUS[m.status] === 'settled');
  return {
    eventId: event.event_ticker,
    platformId: 'kalshi',
    seriesId: event.series_ticker,
    externalId: event.event_ticker,
    category: series.category,
    subcategory: series.subcategory ?? null,
    title: event.title,
    description: event.sub_title ?? null,
    // The exchange knows when every market settled; live/halftime come from the scoreboard.
    status: allSettled ? 'final' : null,
    // mutually_exclusive: whether the game's winner markets are legs of one outcome (edges/outcomes.ts).
    metadata: game
      ? { game_date: game.gameDate, teams: game.teams, ...(event.mutually_exclusive === undefined ? {} : { mutually_exclusive: event.mutually_exclusive }) }
      : null,
  };
}

/** A market snapshot, or the reason it cannot be stored. */
export function toMarketSnapshot(market: KalshiMarket): MarketSnapshot | { reject: string; path: string } {
  const status = MARKET_STATUS[market.status];
  if (market.yesAsk && market.yesBid && market.yesAsk.lt(market.yesBid)) {
    return { reject: `crossed book: yes ask ${market.yesAsk.toFixed(4)} < yes bid ${market.yesBid.toFixed(4)}`, path: 'yes_ask_dollars' };
  }
  let settlementValue = null;
  if (status === 'settled' || status === 'determined') {
    settlementValue = market.settlementValue ?? (market.result === 'yes' ? ONE : market.result === 'no' ? ZERO : null);
  }
  return {
    marketId: market.ticker,
    platformId: 'kalshi',
    eventId: market.eventTicker,
    externalId: market.ticker,
    ticker: market.ticker,
    title: market.title,
    marketType: market.marketType,
    yesPrice: market.yesAsk,
    noPrice: market.noAsk,
    yesBid: market.yesBid,
    noBid: market.noBid,
    yesBidSize: market.yesBidSize,
    yesAskSize: market.yesAskSize,
    lastPrice: market.lastPrice,
    volume: market.volume,
    openInterest: market.openInterest,
    spread: market.yesAsk && market.yesBid ? market.yesAsk.minus(market.yesBid) : null,
    status,
    settlementValue,
    closeTime: market.closeTime,
    metadata: { yes_sub_title: market.yesSubTitle, result: market.result },
    priceLevelStructure: market.priceLevelStructure,
    priceLevels: market.priceLevels,
  };
}

export interface KalshiHierarchy {
  series: Series[];
  events: MarketEvent[];
  markets: MarketSnapshot[];
  rejected: RejectedRecord[];
}

/** Maps what one ingestion run fetched; markets rejected by the mapping are reported, not stored. */
export function kalshiHierarchy(
  fetched: Array<{ series: KalshiSeries; events: KalshiEventWithMarkets[] }>,
  extraMarkets: KalshiMarket[] = [],
): KalshiHierarchy {
  const out: KalshiHierarchy = { series: [], events: [], markets: [], rejected: [] };
  const addMarket = (market: KalshiMarket) => {
    const snapshot = toMarketSnapshot(market);
    if ('reject' in snapshot) {
      out.rejected.push({ at: market.ticker, id: market.ticker, path: `${market.ticker}.${snapshot.path}`, reason: snapshot.reject });
    } else {
      out.markets.push(snapshot);
    }
  };
  for (const { series, events } of fetched) {
    const s = toSeries(series);
    out.series.push(s);
    for (const event of events) {
      if (event.series_ticker !== series.ticker) {
        out.rejected.push({
          at: event.event_ticker, id: event.event_ticker, path: `${event.event_ticker}.series_ticker`,
          reason: `kalshi event: listed under series ${series.ticker} but names ${event.series_ticker}`,
        });
        continue;
      }
      out.events.push(toEvent(event, s));
      for (const market of event.markets) {
        if (market.eventTicker !== event.event_ticker) {
          out.rejected.push({
            at: market.ticker, id: market.ticker, path: `${market.ticker}.event_ticker`,
            reason: `kalshi market: nested in event ${event.event_ticker} but names ${market.eventTicker}`,
          });
          continue;
        }
        addMarket(market);
      }
    }
  }
  extraMarkets.forEach(addMarket);
  return out;
}

import pg from 'pg';
import type { Decimal } from '../../domain/decimal';
import { priceLevelsFromJson, priceLevelsToJson, type PriceLevels } from '../../domain/priceLevels';
import { decimalOrNull } from '../rows';
import type { Queryable } from '../transaction';
import { MARKETS } from '../versionedTables';
import { versionedUpsert, type VersionedUpsertResult } from '../versionedUpsert';

export type MarketStatus = 'unopened' | 'open' | 'paused' | 'closed' | 'determined' | 'disputed' | 'settled';
export type MarketType = 'binary' | 'categorical' | 'scalar';

/** What an ingestion run observed about a market: one snapshot, written as a version if it changed. */
export interface MarketSnapshot {
  marketId: string;
  platformId: string;
  eventId?: string | null;
  externalId: string;
  ticker?: string | null;
  title: string;
  marketType?: MarketType | null;
  /** Price to buy YES (best YES ask). */
  yesPrice?: Decimal | null;
  /** Price to buy NO (best NO ask). */
  noPrice?: Decimal | null;
  /** Best YES bid: what selling YES fetches. */
  yesBid?: Decimal | null;
  /** Best NO bid. */
  noBid?: Decimal | null;
  /** Contracts offered at the best YES bid / ask (the NO side's ask / bid); null: not known. */
  yesBidSize?: Decimal | null;
  yesAskSize?: Decimal | null;
  lastPrice?: Decimal | null;
  closeTime?: Date | null;
  volume?: number | null;
  openInterest?: number | null;
  spread?: Decimal | null;
  status?: MarketStatus | null;
  settlementValue?: Decimal | null;
  metadata?: Record<string, unknown> | null;
  /** The venue's name of its price level structure. */
  priceLevelStructure?: string | null;
  /** The order prices the market takes; null: not known (read as 0.01 ticks). */
  priceLevels?: PriceLevels | null;
}

export interface MarketVersion extends MarketSnapshot {
  marketVersionId: number;
  createdAt: Date;
  supersededAt: Date | null;
  current: boolean;
}

function toMarketVersion(r: Record<string, any>): MarketVersion {
  return {
    marketVersionId: r.market_version_id,
    marketId: r.market_id,
    platformId: r.platform_id,
    eventId: r.event_id,
    externalId: r.external_id,
    ticker: r.ticker,
    title: r.title,
    marketType: r.market_type,
    yesPrice: decimalOrNull(r.yes_price),
    noPrice: decimalOrNull(r.no_price),
    yesBid: decimalOrNull(r.yes_bid),
    yesBidSize: decimalOrNull(r.yes_bid_size),
    yesAskSize: decimalOrNull(r.yes_ask_size),
    noBid: decimalOrNull(r.no_bid),
    lastPrice: decimalOrNull(r.last_price),
    closeTime: r.close_time,
    volume: r.volume,
    openInterest: r.open_interest,
    spread: decimalOrNull(r.spread),
    status: r.status,
    settlementValue: decimalOrNull(r.settlement_value),
    metadata: r.metadata,
    priceLevelStructure: r.price_level_structure ?? null,
    priceLevels: r.price_levels === null || r.price_levels === undefined ? null : priceLevelsFromJson(r.price_levels),
    createdAt: r.created_at,
    supersededAt: r.superseded_at,
    current: r.row_current_ind,
  };
}

export function marketSnapshotRow(s: MarketSnapshot) {
  return {
    market_id: s.marketId,
    platform_id: s.platformId,
    event_id: s.eventId ?? null,
    external_id: s.externalId,
    ticker: s.ticker ?? null,
    title: s.title,
    market_type: s.marketType ?? null,
    yes_price: s.yesPrice ?? null,
    no_price: s.noPrice ?? null,
    volume: s.volume ?? null,
    open_interest: s.openInterest ?? null,
    spread: s.spread ?? null,
    status: s.status ?? null,
    settlement_value: s.settlementValue ?? null,
    metadata: s.metadata ?? null,
    yes_bid: s.yesBid ?? null,
    no_bid: s.noBid ?? null,
    yes_bid_size: s.yesBidSize ?? null,
    yes_ask_size: s.yesAskSize ?? null,
    last_price: s.lastPrice ?? null,
    close_time: s.closeTime ?? null,
    price_level_structure: s.priceLevelStructure ?? null,
    price_levels: s.priceLevels ? priceLevelsToJson(s.priceLevels) : null,
  };
}

export class MarketRepository {
  constructor(private readonly db: pg.Pool | Queryable) {}

  /** Versioned write of a batch of snapshots (see versionedUpsert for the transaction rule). */
  upsertSnapshots(snapshots: readonly MarketSnapshot[]): Promise<VersionedUpsertResult> {
    return versionedUpsert(this.db, MARKETS, snapshots.map(marketSnapshotRow));
  }

  async getCurrent(marketId: string): Promise<MarketVersion | undefined> {
    const { rows } = await this.db.query('SELECT * FROM current_markets WHERE market_id = $1', [marketId]);
    return rows[0] ? toMarketVersion(rows[0]) : undefined;
  }

  async listCurrent(filter: { eventId?: string; status?: MarketStatus; platformId?: string } = {}): Promise<MarketVersion[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM current_markets
       WHERE ($1::text IS NULL OR event_id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR platform_id = $3)
       ORDER BY market_id`,
      [filter.eventId ?? null, filter.status ?? null, filter.platformId ?? null],
    );
    return rows.map(toMarketVersion);
  }

  /** Every version of a market, oldest first. */
  async history(marketId: string): Promise<MarketVersion[]> {
    const { rows } = await this.db.query('SELECT * FROM markets WHERE market_id = $1 ORDER BY market_version_id', [marketId]);
    return rows.map(toMarketVersion);
  }
}

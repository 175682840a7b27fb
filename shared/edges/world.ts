import { Decimal } from '../domain/decimal';
import { priceLevelsFromJson, type PriceLevels } from '../domain/priceLevels';
import { decimalOrNull } from '../db/rows';
import type { Queryable } from '../db/transaction';
import type { GameView, MatrixCell } from '../models/types';
import { mutuallyExclusiveOf, type OutcomeMarket } from './outcomes';

/** One open market with the current state of its game, as the scan sees it. */
export interface WorldMarket {
  marketId: string;
  marketVersionId: number;
  platformId: string;
  eventId: string | null;
  seriesId: string | null;
  /** The series' sport (subcategory): which strategies may trade the market. */
  sport: string | null;
  ticker: string | null;
  /** The event's `mutually_exclusive` (Kalshi), when ingested: see edges/outcomes.ts. */
  mutuallyExclusive: boolean | null;
  status: string | null;
  yesAsk: Decimal | null;
  noAsk: Decimal | null;
  yesBid: Decimal | null;
  noBid: Decimal | null;
  spread: Decimal | null;
  closeTime: Date | null;
  /** The order prices the market takes (absent: cent ticks). */
  priceLevels?: PriceLevels;
  /** The game's current version (its id is recorded on the edges it feeds). */
  game: (GameView & { gameStateId: number }) | null;
}

export interface WorldStrategy {
  strategyId: number;
  name: string;
  version: string;
  sport: string | null;
  config: unknown;
  modelName: string | null;
  modelVersion: string | null;
}

export interface WorldModel {
  modelId: number;
  name: string;
  version: string;
  type: string;
  status: string;
  config: unknown;
}

/** A contract a strategy holds (open position) or is buying (entry order not finished). */
export interface HeldLeg {
  strategyId: number;
  side: 'yes' | 'no';
  market: OutcomeMarket;
}

export interface World {
  markets: WorldMarket[];
  strategies: WorldStrategy[];
  models: WorldModel[];
  matrices: MatrixCell[];
  /** `${marketId}|${strategyId}` with an open position or an order in flight. */
  busy: Set<string>;
  /** The contracts each strategy holds or has an entry in flight on (one bet per game: edges/outcomes.ts). */
  held: HeldLeg[];
  /** Markets reconciliation found out of step with the venue: no new entries until resolved. */
  desynced: Set<string>;
  /** Unresolved circuit breakers: edges are still written, but no entry order is made. */
  entriesBlockedBy: string[];
  openPositions: number;
  totalExposure: Decimal;
  exposureByEvent: Map<string, { exposure: Decimal; positions: number }>;
  bankroll: Decimal | null;
  /** When ingestion last delivered prices / game states (null: never). */
  pricesAt: Date | null;
  gameStatesAt: Date | null;
  now: Date;
}

// Ordered (markets, and the strategies, models and matrices below): the scan's order decides the
// order of its entries, and a heap's physical order changes with vacuum timing: a replayed local
// run must produce them in the same order.
const MARKETS_SQL = `
SELECT m.market_id, m.market_version_id, m.platform_id, m.event_id, e.series_id, s.subcategory AS sport,
       m.ticker, e.metadata->'mutually_exclusive' AS mutually_exclusive, m.status, m.yes_price, m.no_price, m.yes_bid, m.no_bid, m.spread, m.close_time, m.price_levels,
       gs.game_state_id, gs.sport AS game_sport, gs.home_team, gs.away_team, gs.home_score, gs.away_score,
       gs.period, gs.time_remaining, gs.possession, gs.status AS game_status, gs.sport_metadata
FROM current_markets m
LEFT JOIN events e ON e.event_id = m.event_id
LEFT JOIN series s ON s.series_id = e.series_id
LEFT JOIN game_identities gi ON gi.event_id = m.event_id
LEFT JOIN current_game_states gs ON gs.sport = gi.sport AND gs.external_game_id = gi.external_game_id
WHERE m.platform_id = 'kalshi' AND m.status = 'open'
  AND ($1::text[] IS NULL OR m.market_id = ANY($1::text[]))
  AND ($2::text[] IS NULL OR e.series_id = ANY($2::text[]))
ORDER BY m.market_id`;

/**
 * Everything else the scan needs, in one statement (one round trip) as JSON. NUMERIC values are
 * rendered as text inside the JSON so they reach Decimal without passing through a float.
 */
const CONTEXT_SQL = `
WITH strategies_json AS (
  SELECT coalesce(json_agg(json_build_object(
    'strategyId', s.strategy_id, 'name', s.strategy_name, 'version', s.strategy_version, 'sport', s.sport,
    'config', s.config, 'modelName', s.config->'model'->>'name', 'modelVersion', s.config->'model'->>'version') ORDER BY s.strategy_id), '[]') AS j
  FROM strategies s WHERE s.status = 'active' AND s.strategy_type = 'entry'
),
models_json AS (
  SELECT coalesce(json_agg(json_build_object(
    'modelId', pm.model_id, 'name', pm.model_name, 'version', pm.model_version, 'type', pm.model_type,
    'status', pm.status, 'config', pm.config) ORDER BY pm.model_id), '[]') AS j
  FROM probability_models pm
  WHERE (pm.model_name, pm.model_version) IN (
    SELECT s.config->'model'->>'name', s.config->'model'->>'version' FROM strategies s
    WHERE s.status = 'active' AND s.strategy_type = 'entry')
),
matrices_json AS (
  SELECT coalesce(json_agg(json_build_object(
    'probabilityId', c.probability_id, 'category', c.category, 'subcategory', c.subcategory, 'version', c.version,
    'stateDescriptor', c.state_descriptor, 'valueBucket', c.value_bucket, 'situationalFactors', c.situational_factors,
    'winProbability', c.win_probability::text, 'ciLower', c.confidence_interval_lower::text,
    'ciUpper', c.confidence_interval_upper::text, 'sampleSize', c.sample_size) ORDER BY c.probability_id), '[]') AS j
  FROM probability_matrices c
  WHERE (c.category, c.subcategory, c.version) IN (
    SELECT pm.config->>'category', pm.config->>'subcategory', pm.config->>'version'
    FROM probability_models pm WHERE pm.model_type = 'matrix')
),
busy_json AS (
  SELECT coalesce(json_agg(DISTINCT k), '[]') AS j FROM (
    SELECT o.market_id || '|' || o.strategy_id AS k FROM orders o
    WHERE o.purpose = 'entry' AND o.status IN ('pending', 'resting', 'partially_filled')
    UNION
    SELECT p.market_id || '|' || p.strategy_id FROM open_positions p WHERE p.strategy_id IS NOT NULL
  ) x
),
held_json AS (
  SELECT coalesce(json_agg(json_build_object(
    'strategyId', h.strategy_id, 'side', h.side, 'marketId', h.market_id, 'ticker', cm.ticker, 'eventId', cm.event_id,
    'seriesId', ev.series_id, 'mutuallyExclusive', ev.metadata->'mutually_exclusive') ORDER BY h.strategy_id, h.market_id, h.side), '[]') AS j
  FROM (
    SELECT o.strategy_id, o.market_id, o.side FROM orders o
    WHERE o.purpose = 'entry' AND o.status IN ('pending', 'resting', 'partially_filled') AND o.strategy_id IS NOT NULL
    UNION
    SELECT p.strategy_id, p.market_id, p.side FROM open_positions p WHERE p.strategy_id IS NOT NULL
  ) h
  LEFT JOIN current_markets cm ON cm.market_id = h.market_id
  LEFT JOIN events ev ON ev.event_id = cm.event_id
),
exposure_json AS (
  SELECT coalesce(json_agg(json_build_object('eventId', m.event_id, 'exposure', sum_cost::text, 'positions', n)), '[]') AS j
  FROM (
    SELECT m.event_id, sum(coalesce(p.cost_basis, p.quantity * p.entry_price)) AS sum_cost, count(*) AS n
    FROM open_positions p JOIN current_markets m ON m.market_id = p.market_id
    GROUP BY m.event_id
  ) m
)
SELECT (SELECT j FROM strategies_json) AS strategies,
       (SELECT coalesce(json_agg(DISTINCT breaker_type), '[]') FROM circuit_breaker_events WHERE resolved_at IS NULL) AS breakers,
       (SELECT coalesce(json_agg(DISTINCT market_id), '[]') FROM venue_desyncs
         WHERE resolved_at IS NULL AND execution_mode = $1 AND market_id IS NOT NULL) AS desynced,
       (SELECT j FROM models_json) AS models,
       (SELECT j FROM matrices_json) AS matrices,
       (SELECT j FROM busy_json) AS busy,
       (SELECT j FROM held_json) AS held,
       (SELECT j FROM exposure_json) AS exposure,
       (SELECT count(*)::int FROM open_positions WHERE execution_mode = $1) AS open_positions,
       (SELECT coalesce(sum(coalesce(cost_basis, quantity * entry_price)), 0) FROM open_positions WHERE execution_mode = $1) AS total_exposure,
       (SELECT balance FROM current_balances WHERE platform_id = 'kalshi' AND execution_mode = $1 AND currency = 'USD') AS bankroll,
       (SELECT max(last_check) FROM system_health WHERE component = 'ingest-markets' AND status <> 'down') AS prices_at,
       (SELECT max(last_check) FROM system_health WHERE component = 'ingest-game-states' AND status <> 'down') AS game_states_at,
       precog_now() AS now`;

/** NUMERIC rendered as text inside the JSON context row (never a JSON number). */
const fromNumericText = (v: unknown) => (v === null || v === undefined ? null : new Decimal(String(v)));

/** Loads the scan's world in two statements, whatever the number of markets. */
export async function loadWorld(
  db: Queryable,
  filter: { marketIds?: readonly string[]; seriesTickers?: readonly string[]; executionMode?: 'paper' | 'live' } = {},
): Promise<World> {
  const [marketRows, context] = await Promise.all([
    db.query(MARKETS_SQL, [filter.marketIds ?? null, filter.seriesTickers ?? null]),
    db.query(CONTEXT_SQL, [filter.executionMode ?? 'paper']),
  ]);
  const c = context.rows[0];
  return {
    markets: marketRows.rows.map((r) => ({
      marketId: r.market_id,
      marketVersionId: r.market_version_id,
      platformId: r.platform_id,
      eventId: r.event_id,
      seriesId: r.series_id,
      sport: r.sport,
      ticker: r.ticker,
      mutuallyExclusive: mutuallyExclusiveOf(r.mutually_exclusive),
      status: r.status,
      yesAsk: decimalOrNull(r.yes_price),
      noAsk: decimalOrNull(r.no_price),
      yesBid: decimalOrNull(r.yes_bid),
      noBid: decimalOrNull(r.no_bid),
      spread: decimalOrNull(r.spread),
      closeTime: r.close_time,
      priceLevels: priceLevelsFromJson(r.price_levels),
      game: r.game_state_id === null
        ? null
        : {
            gameStateId: r.game_state_id, sport: r.game_sport, homeTeam: r.home_team, awayTeam: r.away_team,
            homeScore: r.home_score, awayScore: r.away_score, period: r.period, timeRemaining: r.time_remaining,
            possession: r.possession, status: r.game_status, sportMetadata: r.sport_metadata,
          },
    })),
    strategies: c.strategies,
    models: c.models,
    matrices: (c.matrices as Array<Record<string, unknown>>).map((m) => ({
      probabilityId: m.probabilityId as number,
      category: m.category as string,
      subcategory: m.subcategory as string,
      version: m.version as string,
      stateDescriptor: m.stateDescriptor as string,
      valueBucket: m.valueBucket as string,
      situationalFactors: (m.situationalFactors as Record<string, unknown> | null) ?? null,
      winProbability: fromNumericText(m.winProbability)!,
      ciLower: fromNumericText(m.ciLower),
      ciUpper: fromNumericText(m.ciUpper),
      sampleSize: (m.sampleSize as number | null) ?? null,
    })),
    busy: new Set(c.busy as string[]),
    held: (c.held as Array<Record<string, unknown>>).map((h) => ({
      strategyId: h.strategyId as number,
      side: h.side as 'yes' | 'no',
      market: {
        marketId: h.marketId as string, ticker: (h.ticker as string | null) ?? null, eventId: (h.eventId as string | null) ?? null,
        seriesId: (h.seriesId as string | null) ?? null, mutuallyExclusive: mutuallyExclusiveOf(h.mutuallyExclusive),
      },
    })),
    desynced: new Set(c.desynced as string[]),
    entriesBlockedBy: c.breakers as string[],
    openPositions: c.open_positions,
    totalExposure: decimalOrNull(c.total_exposure) ?? new Decimal(0),
    exposureByEvent: new Map(
      (c.exposure as Array<{ eventId: string; exposure: string; positions: number }>).map((e) => [
        e.eventId, { exposure: new Decimal(e.exposure), positions: e.positions },
      ]),
    ),
    bankroll: decimalOrNull(c.bankroll),
    pricesAt: c.prices_at,
    gameStatesAt: c.game_states_at,
    now: c.now,
  };
}

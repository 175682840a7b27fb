import { breakerBlocksEntries, type CircuitBreakerType, type TradingRules } from '../config/tradingRules';
import { Decimal } from '../domain/decimal';
import { dataAgeSeconds, describeAge } from '../domain/freshness';
import { minimumEdge } from '../domain/recommendation';
import { decimal, decimalOrNull } from '../db/rows';
import type { Queryable } from '../db/transaction';
import { EntryStrategyConfig } from '../strategies/config';
import type { LocalOrder } from './ledger';

/**
 * The last look before an entry order goes to the venue. The scan decided on a snapshot that may
 * be minutes old by now; this re-reads the world (one statement) and re-applies every rule that
 * can have changed since: circuit breakers, venue desyncs, the edge still current and still above
 * its threshold at the current price, the market still open, the position limits and the daily
 * entry count (counting other entries in flight), and data freshness.
 */

export interface EntryCheckSnapshot {
  /** Unresolved circuit breakers. */
  breakers: CircuitBreakerType[];
  /** An unresolved venue desync on this market. */
  desynced: boolean;
  market: { status: string | null; yesAsk: Decimal | null; noAsk: Decimal | null; eventId: string | null } | null;
  edge: { current: boolean; trueWinProbability: Decimal; confidenceLevel: string | null } | null;
  strategy: { name: string; version: string; status: string; config: unknown } | null;
  /** Open positions of this execution mode, and their cost. */
  openPositions: number;
  totalExposure: Decimal;
  eventPositions: number;
  eventExposure: Decimal;
  /** This strategy's open position on this market (an entry increases it): the per-position cap. */
  marketExposure: Decimal;
  /** Other entry orders at the venue and not finished (their remaining cost counts as exposure). */
  inFlightOrders: number;
  inFlightExposure: Decimal;
  inFlightEventOrders: number;
  inFlightEventExposure: Decimal;
  /** Entry fills (buy trades) since the start of the UTC day. */
  entriesToday: number;
  pricesAt: Date | null;
  gameStatesAt: Date | null;
  /** The market's game is live or at halftime. */
  gameLive: boolean;
  now: Date;
}

const SNAPSHOT_SQL = `
WITH o AS (SELECT $1::bigint AS order_id, $2::text AS market_id, $3::bigint AS strategy_id, $4::bigint AS edge_id, $5::text AS mode),
m AS (SELECT cm.* FROM current_markets cm, o WHERE cm.market_id = o.market_id),
-- Open positions of this mode straight from the current versions (no per-row joins: the totals
-- scan every open position, so this stays cheap when limits are raised to hundreds).
pos AS (
  SELECT p.market_id, coalesce(p.cost_basis, p.quantity * p.entry_price) AS cost
  FROM positions p, o
  WHERE p.row_current_ind AND p.status = 'open' AND p.execution_mode = o.mode
),
event_markets AS (SELECT cm.market_id FROM current_markets cm WHERE cm.event_id = (SELECT event_id FROM m)),
flight AS (
  SELECT x.market_id, cm.event_id, (x.quantity - x.filled_quantity) * coalesce(x.limit_price, 1) AS cost
  FROM orders x LEFT JOIN current_markets cm ON cm.market_id = x.market_id, o
  WHERE x.purpose = 'entry' AND x.execution_mode = o.mode AND x.order_id <> o.order_id
    AND x.status IN ('resting', 'partially_filled')
)
SELECT
  (SELECT coalesce(json_agg(DISTINCT breaker_type), '[]') FROM circuit_breaker_events WHERE resolved_at IS NULL) AS breakers,
  EXISTS (SELECT 1 FROM venue_desyncs d, o WHERE d.resolved_at IS NULL AND d.execution_mode = o.mode AND d.market_id = o.market_id) AS desynced,
  (SELECT row_to_json(x) FROM (SELECT status, yes_price::text AS yes_ask, no_price::text AS no_ask, event_id FROM m) x) AS market,
  (SELECT row_to_json(x) FROM (SELECT e.row_current_ind AS current, e.true_win_probability::text AS p, e.confidence_level
                                FROM edges e, o WHERE e.edge_id = o.edge_id) x) AS edge,
  (SELECT row_to_json(x) FROM (SELECT s.strategy_name AS name, s.strategy_version AS version, s.status, s.config
                                FROM strategies s, o WHERE s.strategy_id = o.strategy_id) x) AS strategy,
  (SELECT count(*)::int FROM pos) AS open_positions,
  (SELECT coalesce(sum(cost), 0) FROM pos) AS total_exposure,
  (SELECT count(*)::int FROM pos WHERE market_id IN (SELECT market_id FROM event_markets)) AS event_positions,
  (SELECT coalesce(sum(cost), 0) FROM pos WHERE market_id IN (SELECT market_id FROM event_markets)) AS event_exposure,
  (SELECT coalesce(sum(coalesce(p.cost_basis, p.quantity * p.entry_price)), 0) FROM open_positions p, o
    WHERE p.execution_mode = o.mode AND p.market_id = o.market_id AND p.strategy_id = o.strategy_id) AS market_exposure,
  (SELECT count(*)::int FROM flight) AS in_flight_orders,
  (SELECT coalesce(sum(cost), 0) FROM flight) AS in_flight_exposure,
  (SELECT count(*)::int FROM flight WHERE event_id = (SELECT event_id FROM m)) AS in_flight_event_orders,
  (SELECT coalesce(sum(cost), 0) FROM flight WHERE event_id = (SELECT event_id FROM m)) AS in_flight_event_exposure,
  (SELECT count(DISTINCT t.client_order_id)::int FROM trades t, o
    WHERE t.execution_mode = o.mode AND t.side = 'buy' AND t.created_at >= date_trunc('day', precog_now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS entries_today,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-markets' AND status <> 'down') AS prices_at,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-game-states' AND status <> 'down') AS game_states_at,
  EXISTS (SELECT 1 FROM m JOIN game_identities gi ON gi.event_id = m.event_id
          JOIN current_game_states gs ON gs.sport = gi.sport AND gs.external_game_id = gi.external_game_id
          WHERE gs.status IN ('live', 'halftime')) AS game_live,
  precog_now() AS now`;

const fromText = (v: unknown) => (v === null || v === undefined ? null : new Decimal(String(v)));

/** Everything the checks read, in one statement. */
export async function loadEntryCheckSnapshot(db: Queryable, order: LocalOrder): Promise<EntryCheckSnapshot> {
  const { rows } = await db.query(SNAPSHOT_SQL, [order.orderId, order.marketId, order.strategyId, order.edgeId, order.executionMode]);
  const r = rows[0];
  const market = r.market as { status: string | null; yes_ask: string | null; no_ask: string | null; event_id: string | null } | null;
  const edge = r.edge as { current: boolean; p: string; confidence_level: string | null } | null;
  return {
    breakers: r.breakers,
    desynced: r.desynced,
    market: market && { status: market.status, yesAsk: fromText(market.yes_ask), noAsk: fromText(market.no_ask), eventId: market.event_id },
    edge: edge && { current: edge.current, trueWinProbability: new Decimal(edge.p), confidenceLevel: edge.confidence_level },
    strategy: r.strategy,
    openPositions: r.open_positions,
    totalExposure: decimal(r.total_exposure),
    eventPositions: r.event_positions,
    eventExposure: decimal(r.event_exposure),
    marketExposure: decimal(r.market_exposure),
    inFlightOrders: r.in_flight_orders,
    inFlightExposure: decimal(r.in_flight_exposure),
    inFlightEventOrders: r.in_flight_event_orders,
    inFlightEventExposure: decimalOrNull(r.in_flight_event_exposure) ?? new Decimal(0),
    entriesToday: r.entries_today,
    pricesAt: r.prices_at,
    gameStatesAt: r.game_states_at,
    gameLive: r.game_live,
    now: r.now,
  };
}

export type EntryCheck = { ok: true } | { ok: false; reason: string };


/** Pure: the first rule the entry breaks, or ok. */
export function evaluateEntryChecks(
  s: EntryCheckSnapshot,
  order: Pick<LocalOrder, 'side' | 'quantity' | 'limitPrice'>,
  rules: TradingRules,
): EntryCheck {
  const no = (reason: string): EntryCheck => ({ ok: false, reason });
  const blocking = s.breakers.filter((b) => breakerBlocksEntries(rules, b));
  if (blocking.length > 0) return no(`circuit breaker tripped: ${blocking.join(', ')}`);
  if (s.desynced) return no('market is desynced from the venue (reconciliation found a disagreement)');

  if (!s.strategy) return no('strategy not found');
  if (s.strategy.status !== 'active') return no(`strategy ${s.strategy.name} ${s.strategy.version} is ${s.strategy.status}, not active`);
  const config = EntryStrategyConfig.safeParse(s.strategy.config);
  if (!config.success) return no(`strategy config invalid: ${config.error.issues[0]!.message}`);

  if (!s.market) return no('market not found');
  if (s.market.status !== 'open') return no(`market is ${s.market.status ?? 'of unknown status'}, not open`);

  const priceAge = dataAgeSeconds(s.now, s.pricesAt);
  if (priceAge > rules.freshness.maxPriceAgeSeconds) {
    return no(`market prices stale: last ingested ${describeAge(priceAge)} (limit ${rules.freshness.maxPriceAgeSeconds} s)`);
  }
  if (s.gameLive || config.data.kind === 'live' || config.data.kind === 'halftime') {
    const gameAge = dataAgeSeconds(s.now, s.gameStatesAt);
    if (gameAge > rules.freshness.maxGameStateAgeSeconds) {
      return no(`game state stale: last ingested ${describeAge(gameAge)} (limit ${rules.freshness.maxGameStateAgeSeconds} s)`);
    }
  }

  if (!s.edge) return no('edge not found');
  if (!s.edge.current) return no('edge superseded: a newer edge version exists for this market and strategy');
  const ask = order.side === 'yes' ? s.market.yesAsk : s.market.noAsk;
  if (ask === null) return no(`no ${order.side.toUpperCase()} ask to buy at`);
  const probability = order.side === 'yes' ? s.edge.trueWinProbability : new Decimal(1).minus(s.edge.trueWinProbability);
  const edgeNow = probability.minus(ask);
  const threshold = config.data.min_edge ?? minimumEdge(config.data.kind, rules);
  if (edgeNow.lt(threshold)) {
    return no(`edge at the current ask ${ask.toFixed(4)} is ${edgeNow.toFixed(4)}, below the threshold ${threshold.toFixed(4)}`);
  }

  const limits = rules.sizing;
  const cost = (order.limitPrice ?? ask).times(order.quantity);
  if (s.openPositions + s.inFlightOrders + 1 > limits.maxOpenPositions) {
    return no(`open positions limit: ${s.openPositions} open + ${s.inFlightOrders} in flight (limit ${limits.maxOpenPositions})`);
  }
  const total = s.totalExposure.plus(s.inFlightExposure).plus(cost);
  if (total.gt(limits.maxTotalExposureUsd)) {
    return no(`total exposure would be ${total.toFixed(2)} (limit ${limits.maxTotalExposureUsd.toFixed(2)})`);
  }
  if (s.eventPositions + s.inFlightEventOrders + 1 > limits.maxPositionsPerEvent) {
    return no(`positions per game limit: ${s.eventPositions} open + ${s.inFlightEventOrders} in flight (limit ${limits.maxPositionsPerEvent})`);
  }
  const event = s.eventExposure.plus(s.inFlightEventExposure).plus(cost);
  if (event.gt(limits.maxExposurePerEventUsd)) {
    return no(`exposure on this game would be ${event.toFixed(2)} (limit ${limits.maxExposurePerEventUsd.toFixed(2)})`);
  }
  const market = s.marketExposure.plus(cost);
  if (market.gt(limits.maxPositionUsd)) {
    return no(`this strategy's position on this market would cost ${market.toFixed(2)} (limit ${limits.maxPositionUsd.toFixed(2)} per position)`);
  }
  if (s.entriesToday >= limits.maxEntriesPerDay) {
    return no(`daily entry limit reached: ${s.entriesToday} entries today (limit ${limits.maxEntriesPerDay})`);
  }
  return { ok: true };
}

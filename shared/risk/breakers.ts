import type pg from 'pg';
import {
  CIRCUIT_BREAKER_KEYS, DEFAULT_TRADING_RULES, type BreakerEffect, type CircuitBreakerType, type TradingRules,
} from '../config/tradingRules';
import { Decimal } from '../domain/decimal';
import { decimal } from '../db/rows';
import { withTransaction, type Queryable } from '../db/transaction';

/**
 * Circuit breakers (trading-rules.md "Circuit breakers"), evaluated from the facts in the
 * database: by check-health every minute, and right where a fact arises (a venue rejection, an
 * API error). A trip is a `circuit_breaker_events` row with the figures that tripped it; at most
 * one is open per type (a unique index). Effects are enforced where decisions are made: entries
 * are refused by the scan and execute-entry's last look, liquidation is a CRITICAL
 * `circuit_breaker` exit decided by the monitor, exits always continue.
 *
 *   daily_loss_limit  P&L change today (realized incl. fees + change in the monitor's unrealized
 *                     marks, since 00:00 UTC) below −min($500, 10% of capital); capital = cash +
 *                     cost of open positions. Liquidate, block entries, resolved next UTC day.
 *   api_failures      5 venue API errors within 5 minutes (failed requests recorded in
 *                     api_errors for the venue, 429 throttling excluded), or the last 3 orders the
 *                     venue answered all rejected. Block entries; resolved by an operator.
 *   data_stale        the last successful market ingestion older than 120 s, or, while a game is
 *                     live, the last game-state ingestion older than 60 s. Block entries; clears.
 *   rapid_loss        P&L change over the last 15 minutes below −$200. Liquidate; operator.
 *   trade_rate        more than 20 trades within 5 minutes. Block entries; clears.
 *   manual            tripped by an operator (`precog breaker trip manual`), liquidating when asked.
 */

export type BreakerFacts = {
  now: Date;
  dayStart: Date;
  dailyPnl: Decimal;
  capital: Decimal;
  rapidPnl: Decimal;
  apiErrors: number;
  lastVenueAnswers: boolean[]; // newest first: true = rejected
  pricesAt: Date | null;
  gameStatesAt: Date | null;
  liveGames: number;
  recentTrades: number;
  open: Array<{ eventId: number; type: CircuitBreakerType; triggeredAt: Date }>;
};

export interface BreakerTrip {
  type: Exclude<CircuitBreakerType, 'manual'>;
  triggerValue: Record<string, unknown>;
}

export interface BreakerResolution {
  eventId: number;
  type: CircuitBreakerType;
  action: string;
}

/** P&L change since `since` per position: (realized + unrealized) now minus then, in one query. */
const PNL_SINCE = (mode: string, since: string) => `
  (SELECT coalesce(sum(coalesce(c.realized_pnl, 0) + coalesce(c.unrealized_pnl, 0) - coalesce(s.total, 0)), 0)
   FROM positions c
   LEFT JOIN LATERAL (
     SELECT coalesce(o.realized_pnl, 0) + coalesce(o.unrealized_pnl, 0) AS total FROM positions o
     WHERE o.position_id = c.position_id AND o.created_at <= ${since}
     ORDER BY o.created_at DESC, o.position_version_id DESC LIMIT 1
   ) s ON TRUE
   WHERE c.row_current_ind AND c.execution_mode = ${mode}
     AND (c.created_at > ${since} OR c.status = 'open'))`;

const FACTS_SQL = `
WITH t AS (SELECT precog_now() AS now, date_trunc('day', precog_now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day_start)
SELECT t.now, t.day_start,
  ${PNL_SINCE('$1', 't.day_start')} AS daily_pnl,
  ${PNL_SINCE('$1', "t.now - make_interval(secs => $2)")} AS rapid_pnl,
  coalesce((SELECT balance FROM current_balances WHERE platform_id = $5 AND execution_mode = $1 AND currency = 'USD'), 0)
    + (SELECT coalesce(sum(coalesce(cost_basis, quantity * entry_price)), 0) FROM positions
        WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS capital,
  (SELECT count(*)::int FROM api_errors WHERE api = $5 AND occurred_at > t.now - make_interval(secs => $3)
     AND coalesce(http_status, 0) <> 429) AS api_errors,
  (SELECT coalesce(json_agg(rejected), '[]') FROM (
     SELECT status = 'rejected' AS rejected FROM orders
     WHERE execution_mode = $1 AND (submitted_at IS NOT NULL OR (status = 'rejected' AND status_reason LIKE 'venue rejected%'))
     ORDER BY updated_at DESC, order_id DESC LIMIT 10) r) AS last_answers,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-markets' AND status <> 'down') AS prices_at,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-game-states' AND status <> 'down') AS game_states_at,
  (SELECT count(*)::int FROM current_game_states WHERE status IN ('live', 'halftime')) AS live_games,
  (SELECT count(*)::int FROM trades WHERE execution_mode = $1 AND created_at > t.now - make_interval(secs => $4)) AS recent_trades,
  (SELECT coalesce(json_agg(json_build_object('eventId', event_id, 'type', breaker_type, 'triggeredAt', triggered_at)), '[]')
     FROM circuit_breaker_events WHERE resolved_at IS NULL) AS open
FROM t`;

export async function loadBreakerFacts(db: Queryable, rules: TradingRules, mode: 'paper' | 'live', platformId = 'kalshi'): Promise<BreakerFacts> {
  const b = rules.circuitBreakers;
  const { rows: [r] } = await db.query(FACTS_SQL, [mode, b.rapidLoss.windowSeconds, b.apiFailures.windowSeconds, b.tradeRate.windowSeconds, platformId]);
  return {
    now: r.now, dayStart: r.day_start, dailyPnl: decimal(r.daily_pnl), rapidPnl: decimal(r.rapid_pnl), capital: decimal(r.capital),
    apiErrors: r.api_errors, lastVenueAnswers: r.last_answers, pricesAt: r.prices_at, gameStatesAt: r.game_states_at,
    liveGames: r.live_games, recentTrades: r.recent_trades,
    open: (r.open as Array<{ eventId: number; type: CircuitBreakerType; triggeredAt: string }>).map((o) => ({ ...o, triggeredAt: new Date(o.triggeredAt) })),
  };
}

const ageSeconds = (now: Date, at: Date | null) => (at === null ? null : (now.getTime() - at.getTime()) / 1000);

/** Which conditions hold now (pure): the figures each trip would record. */
export function breakerConditions(f: BreakerFacts, rules: TradingRules = DEFAULT_TRADING_RULES): Map<Exclude<CircuitBreakerType, 'manual'>, Record<string, unknown>> {
  const b = rules.circuitBreakers;
  const holds = new Map<Exclude<CircuitBreakerType, 'manual'>, Record<string, unknown>>();

  const lossLimit = Decimal.min(b.dailyLoss.maxLossUsd, f.capital.times(b.dailyLoss.maxLossFractionOfCapital));
  if (f.dailyPnl.negated().gt(lossLimit)) {
    holds.set('daily_loss_limit', {
      daily_pnl: f.dailyPnl.toFixed(4), limit: lossLimit.toFixed(4), capital: f.capital.toFixed(4), since: f.dayStart.toISOString(),
    });
  }
  const rejections = f.lastVenueAnswers.slice(0, b.apiFailures.maxConsecutiveRejections);
  const consecutive = rejections.length === b.apiFailures.maxConsecutiveRejections && rejections.every(Boolean);
  if (f.apiErrors >= b.apiFailures.maxErrors || consecutive) {
    holds.set('api_failures', {
      api_errors: f.apiErrors, window_s: b.apiFailures.windowSeconds, max_errors: b.apiFailures.maxErrors,
      consecutive_rejections: consecutive ? b.apiFailures.maxConsecutiveRejections : leadingTrue(f.lastVenueAnswers),
    });
  }
  const priceAge = ageSeconds(f.now, f.pricesAt);
  const gameAge = ageSeconds(f.now, f.gameStatesAt);
  const pricesStale = priceAge === null || priceAge > b.dataStale.maxPriceAgeSeconds;
  const gamesStale = f.liveGames > 0 && (gameAge === null || gameAge > b.dataStale.maxGameStateAgeSeconds);
  if (pricesStale || gamesStale) {
    holds.set('data_stale', {
      price_age_s: priceAge === null ? null : Math.round(priceAge), max_price_age_s: b.dataStale.maxPriceAgeSeconds,
      game_state_age_s: gameAge === null ? null : Math.round(gameAge), max_game_state_age_s: b.dataStale.maxGameStateAgeSeconds,
      live_games: f.liveGames,
    });
  }
  if (f.rapidPnl.negated().gt(b.rapidLoss.maxLossUsd)) {
    holds.set('rapid_loss', { pnl: f.rapidPnl.toFixed(4), limit: b.rapidLoss.maxLossUsd.toFixed(4), window_s: b.rapidLoss.windowSeconds });
  }
  if (f.recentTrades > b.tradeRate.maxTrades) {
    holds.set('trade_rate', { trades: f.recentTrades, max_trades: b.tradeRate.maxTrades, window_s: b.tradeRate.windowSeconds });
  }
  return holds;
}

function leadingTrue(list: boolean[]): number {
  let n = 0;
  while (n < list.length && list[n]) n++;
  return n;
}

export function breakerEffect(rules: TradingRules, type: CircuitBreakerType): BreakerEffect | null {
  return type === 'manual' ? null : rules.circuitBreakers[CIRCUIT_BREAKER_KEYS[type]];
}

/** Pure: the trips (conditions holding with no open event of that type) and automatic resolutions. */
export function evaluateBreakers(
  f: BreakerFacts,
  rules: TradingRules = DEFAULT_TRADING_RULES,
  only?: ReadonlyArray<CircuitBreakerType>,
): { trips: BreakerTrip[]; resolutions: BreakerResolution[] } {
  const holds = breakerConditions(f, rules);
  const openTypes = new Set(f.open.map((o) => o.type));
  const trips: BreakerTrip[] = [];
  for (const [type, triggerValue] of holds) {
    if (only && !only.includes(type)) continue;
    if (!openTypes.has(type)) trips.push({ type, triggerValue });
  }
  const resolutions: BreakerResolution[] = [];
  for (const o of f.open) {
    if (only && !only.includes(o.type)) continue;
    const effect = breakerEffect(rules, o.type);
    if (!effect) continue;
    if (effect.reset === 'next_trading_day' && o.triggeredAt < f.dayStart) {
      resolutions.push({ eventId: o.eventId, type: o.type, action: 'auto: next trading day' });
    } else if (effect.reset === 'when_clear' && !holds.has(o.type as Exclude<CircuitBreakerType, 'manual'>)) {
      resolutions.push({ eventId: o.eventId, type: o.type, action: 'auto: condition cleared' });
    }
  }
  return { trips, resolutions };
}

export interface BreakerCheckResult {
  trips: Array<BreakerTrip & { eventId: number }>;
  resolutions: BreakerResolution[];
  open: Array<{ eventId: number; type: CircuitBreakerType }>;
  facts: BreakerFacts;
}

/** Loads the facts, writes trips and automatic resolutions (one transaction), returns what changed. */
export async function checkBreakers(
  deps: { pool: pg.Pool; rules?: TradingRules; executionMode?: 'paper' | 'live' },
  options: { only?: ReadonlyArray<CircuitBreakerType> } = {},
): Promise<BreakerCheckResult> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  return withTransaction(deps.pool, async (client) => {
    // Concurrent checks (check-health and an execution reacting to a rejection) take turns.
    await client.query('SELECT pg_advisory_xact_lock($1)', [BREAKER_LOCK_KEY]);
    const facts = await loadBreakerFacts(client, rules, deps.executionMode ?? 'paper');
    const { trips, resolutions } = evaluateBreakers(facts, rules, options.only);
    const tripped: BreakerCheckResult['trips'] = [];
    for (const trip of trips) {
      const { rows } = await client.query(
        `INSERT INTO circuit_breaker_events (breaker_type, trigger_value, notes) VALUES ($1, $2::jsonb, $3)
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [trip.type, JSON.stringify(trip.triggerValue), describeEffect(breakerEffect(rules, trip.type)!)],
      );
      if (rows[0]) tripped.push({ ...trip, eventId: rows[0].event_id });
    }
    for (const r of resolutions) {
      await client.query(
        'UPDATE circuit_breaker_events SET resolved_at = precog_now(), resolution_action = $2 WHERE event_id = $1 AND resolved_at IS NULL',
        [r.eventId, r.action],
      );
    }
    const resolved = new Set(resolutions.map((r) => r.eventId));
    const open = [
      ...facts.open.filter((o) => !resolved.has(o.eventId)).map((o) => ({ eventId: o.eventId, type: o.type })),
      ...tripped.map((t) => ({ eventId: t.eventId, type: t.type as CircuitBreakerType })),
    ];
    return { trips: tripped, resolutions, open, facts };
  });
}

export const BREAKER_LOCK_KEY = 0x6272656b; // "brek"

function describeEffect(effect: BreakerEffect): string {
  const parts = [effect.liquidate ? 'liquidate all positions' : null, effect.blockEntries ? 'block new entries' : null].filter(Boolean);
  const reset = { next_trading_day: 'resolves at the next trading day', when_clear: 'resolves when the condition clears', manual: 'resolve by hand: precog breaker resolve' }[effect.reset];
  return `${parts.join(', ')}; ${reset}`;
}

/** An operator's trip (`precog breaker trip manual`). */
export async function tripManualBreaker(db: Queryable, args: { reason: string; liquidate: boolean; by?: string }): Promise<number> {
  const { rows } = await db.query(
    `INSERT INTO circuit_breaker_events (breaker_type, trigger_value, notes) VALUES ('manual', $1::jsonb, $2) RETURNING event_id`,
    [JSON.stringify({ reason: args.reason, liquidate: args.liquidate, by: args.by ?? null }), args.reason],
  );
  return rows[0].event_id;
}

/** An operator's resolution (`precog breaker resolve ID --action …`). */
export async function resolveBreaker(db: Queryable, args: { eventId: number; action: string }): Promise<{ type: CircuitBreakerType; triggeredAt: Date; resolvedAt: Date }> {
  const { rows } = await db.query(
    `UPDATE circuit_breaker_events SET resolved_at = precog_now(), resolution_action = $2 WHERE event_id = $1 AND resolved_at IS NULL
     RETURNING breaker_type, triggered_at, resolved_at`,
    [args.eventId, args.action],
  );
  if (!rows[0]) throw new Error(`no open circuit breaker #${args.eventId} (see precog breaker list)`);
  return { type: rows[0].breaker_type, triggeredAt: rows[0].triggered_at, resolvedAt: rows[0].resolved_at };
}

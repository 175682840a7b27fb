import type pg from 'pg';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import type { Decimal } from '../domain/decimal';
import { decimal } from '../db/rows';
import { checkBreakers, type BreakerCheckResult } from './breakers';

/**
 * The minute's health check: circuit breakers tripped and resolved, and each component's state
 * judged from when it last reported (ingestion, the monitor's sweeps), written to system_health.
 */

export interface ComponentHealth {
  component: string;
  status: 'healthy' | 'degraded' | 'down';
  ageSeconds: number | null;
  detail: string;
}

export interface HealthCheckResult {
  breakers: BreakerCheckResult;
  components: ComponentHealth[];
  /** For the metrics: today's P&L, open exposure, the oldest open position's monitoring age. */
  dailyPnl: Decimal;
  openExposure: Decimal;
  openPositions: number;
  monitorAgeSeconds: number | null;
}

const STATUS_SQL = `
SELECT precog_now() AS now,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-markets' AND status <> 'down') AS markets_at,
  (SELECT max(last_check) FROM system_health WHERE component = 'ingest-game-states' AND status <> 'down') AS games_at,
  (SELECT min(coalesce(last_update, created_at)) FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS oldest_mark,
  (SELECT count(*)::int FROM positions WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS open_positions,
  (SELECT coalesce(sum(coalesce(cost_basis, quantity * entry_price)), 0) FROM positions
     WHERE row_current_ind AND status = 'open' AND execution_mode = $1) AS exposure`;

export async function checkHealth(
  deps: { pool: pg.Pool; rules?: TradingRules; executionMode?: 'paper' | 'live' },
): Promise<HealthCheckResult> {
  const rules = deps.rules ?? DEFAULT_TRADING_RULES;
  const mode = deps.executionMode ?? 'paper';
  const breakers = await checkBreakers({ pool: deps.pool, rules, executionMode: mode });
  const { rows: [s] } = await deps.pool.query(STATUS_SQL, [mode]);
  const now: Date = s.now;
  const age = (at: Date | null) => (at ? Math.round((now.getTime() - at.getTime()) / 1000) : null);
  const judge = (component: string, at: Date | null, limit: number, what: string): ComponentHealth => {
    const a = age(at);
    if (a === null) return { component, status: 'down', ageSeconds: null, detail: `${what}: never` };
    if (a > 2 * limit) return { component, status: 'down', ageSeconds: a, detail: `${what} ${a} s ago (limit ${limit} s)` };
    if (a > limit) return { component, status: 'degraded', ageSeconds: a, detail: `${what} ${a} s ago (limit ${limit} s)` };
    return { component, status: 'healthy', ageSeconds: a, detail: `${what} ${a} s ago` };
  };
  const monitorLimit = rules.monitor.intervalSeconds * rules.monitor.staleAfterIntervals;
  const monitorAge = s.open_positions > 0 ? age(s.oldest_mark) : null;
  const components: ComponentHealth[] = [
    judge('prices', s.markets_at, rules.freshness.maxPriceAgeSeconds, 'markets last ingested'),
    judge('game-states', s.games_at, rules.freshness.maxGameStateAgeSeconds, 'game states last ingested'),
    s.open_positions === 0
      ? { component: 'monitoring', status: 'healthy', ageSeconds: null, detail: 'no open positions' }
      // Stale monitoring (an open position not re-priced for 2 intervals) is itself an alarm.
      : judge('monitoring', s.oldest_mark, monitorLimit, `oldest open position last monitored`),
    {
      component: 'circuit-breakers',
      status: breakers.open.length > 0 ? 'degraded' : 'healthy',
      ageSeconds: null,
      detail: breakers.open.length > 0 ? `open: ${breakers.open.map((b) => `${b.type} #${b.eventId}`).join(', ')}` : 'none open',
    },
  ];
  await deps.pool.query(
    `INSERT INTO system_health (component, status, details)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
    [components.map((c) => c.component), components.map((c) => c.status), components.map((c) => JSON.stringify({ age_s: c.ageSeconds, detail: c.detail }))],
  );
  return {
    breakers, components, dailyPnl: breakers.facts.dailyPnl, openExposure: decimal(s.exposure), openPositions: s.open_positions,
    monitorAgeSeconds: monitorAge,
  };
}

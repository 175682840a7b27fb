import type { Queryable } from '../shared/db/transaction';
import { DEFAULT_TRADING_RULES, breakerBlocksEntries, type CircuitBreakerType } from '../shared/config/tradingRules';
import { Decimal } from '../shared/domain/decimal';
import { formatCount } from '../shared/domain/quantity';
/** A NUMERIC from the database, typed (Decimal) or as text (the ::text casts below), as an exact Decimal. */
const decimal = (value: unknown): Decimal => new Decimal(String(value));

/**
 * What the console says as it happens during `npm start` (and the report lists afterwards): each
 * entry and exit fill (market, side, price, the model's probability, the edge, the trigger), each
 * refused entry, circuit breakers tripped or resolved (and those already open when the run
 * starts, which block every entry), venue desyncs and components turning degraded or down.
 *
 * Read from the database once per game minute after watermarks kept in the run's saved state,
 * so a resumed run neither repeats nor skips a line, and two runs print the same lines.
 */

export interface RunEventsState {
  lastTradeId: number;
  lastBreakerId: number;
  lastDesyncId: number;
  lastHealthId: number;
  /** Breakers seen open, to say when they are resolved. */
  openBreakers: number[];
  /** Entry orders already reported as refused. */
  refusedOrders: number[];
  /** Last status said per component (only changes are printed). */
  componentStatus: Record<string, string>;
  /** Every warning line printed, for the report. */
  warnings: string[];
}

export const emptyRunEventsState = (): RunEventsState => ({
  lastTradeId: 0, lastBreakerId: 0, lastDesyncId: 0, lastHealthId: 0, openBreakers: [], refusedOrders: [], componentStatus: {}, warnings: [],
});

const dollars = (v: unknown) => `$${decimal(v).toFixed(2)}`;
const percent = (v: unknown) => `${decimal(v).times(100).toFixed(1)}%`;
const signed = (v: Decimal) => `${v.isNeg() ? '-' : '+'}${v.abs().toFixed(2)}`;
/** The team of a game market's ticker (KXNFLGAME-26SEP13DALPHI-PHI → PHI). */
const shortTicker = (ticker: string) => ticker.slice(ticker.lastIndexOf('-') + 1);

interface BreakerRow { event_id: string; breaker_type: string; reason: string; resolved_at: Date | null; resolution_action: string | null }

const breakerLine = (b: BreakerRow, how: string) => {
  const blocks = breakerBlocksEntries(DEFAULT_TRADING_RULES, b.breaker_type as CircuitBreakerType);
  return `! circuit breaker ${b.breaker_type} #${b.event_id} ${how}${b.reason ? ` (${b.reason})` : ''}${blocks ? ': new entries are blocked until it is resolved' : ''}`;
};

/** Breakers open before the run starts: each is said at once (they block entries from the first minute). */
export async function openBreakersAtStart(pool: Queryable, state: RunEventsState): Promise<string[]> {
  const { rows } = await pool.query<BreakerRow>(
    `SELECT event_id, breaker_type, coalesce(notes, trigger_value::text, '') AS reason, resolved_at, resolution_action
     FROM circuit_breaker_events WHERE resolved_at IS NULL ORDER BY event_id`,
  );
  const lines: string[] = [];
  for (const b of rows) {
    const line = `${breakerLine(b, 'is open at start')} (npx precog breaker resolve ${b.event_id} --action "…")`;
    lines.push(line);
    state.warnings.push(line);
    state.openBreakers.push(Number(b.event_id));
    state.lastBreakerId = Math.max(state.lastBreakerId, Number(b.event_id));
  }
  return lines;
}

/** The breaker types open now that block entries (for the minute line). */
export async function blockingBreakers(pool: Queryable): Promise<string[]> {
  const { rows } = await pool.query(`SELECT DISTINCT breaker_type FROM circuit_breaker_events WHERE resolved_at IS NULL ORDER BY breaker_type`);
  return rows.map((r) => r.breaker_type as string).filter((t) => breakerBlocksEntries(DEFAULT_TRADING_RULES, t as CircuitBreakerType));
}

/** The lines of what happened since the last call (entries, exits, refusals, warnings), in the order it happened. */
export async function newRunEvents(pool: Queryable, state: RunEventsState, tickers: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  const warn = (line: string) => {
    lines.push(line);
    state.warnings.push(line);
  };

  const { rows: fills } = await pool.query(
    `SELECT t.trade_id, t.position_id, t.market_id, t.contract_side, t.side, t.quantity, t.price::text, o.purpose,
            s.strategy_name, s.strategy_version, s.config->>'kind' AS kind, er.exit_condition, er.exit_priority,
            e.true_win_probability::text AS yes_probability, coalesce(e.edge, t.edge_at_execution)::text AS edge,
            p.realized_pnl::text AS realized_pnl, p.status AS position_status
     FROM trades t
     LEFT JOIN orders o ON o.client_order_id = t.client_order_id
     LEFT JOIN exit_requests er ON er.exit_request_id = o.exit_request_id
     LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
     LEFT JOIN edges e ON e.edge_id = t.edge_id
     LEFT JOIN positions p ON p.position_id = t.position_id AND p.row_current_ind
     WHERE t.trade_id > $1 AND t.market_id = ANY($2::text[])
     ORDER BY t.trade_id`,
    [state.lastTradeId, tickers],
  );
  // A closed position's P&L is said once, on its last fill of the batch.
  const lastFillOf = new Map<string, string>();
  for (const f of fills) if (f.position_id !== null) lastFillOf.set(String(f.position_id), String(f.trade_id));
  for (const f of fills) {
    state.lastTradeId = Math.max(state.lastTradeId, Number(f.trade_id));
    const what = `${shortTicker(f.market_id)} ${String(f.contract_side).toUpperCase()} ×${formatCount(decimal(f.quantity))} @ ${dollars(f.price)}`;
    const strategy = f.strategy_name ? `${f.strategy_name} ${f.strategy_version}` : '(no strategy)';
    if (f.side === 'buy') {
      // The model's probability of the side bought.
      const p = f.yes_probability === null ? null : f.contract_side === 'yes' ? decimal(f.yes_probability) : new Decimal(1).minus(decimal(f.yes_probability));
      const model = p === null ? '' : `  model ${percent(p)}`;
      const edge = f.edge === null ? '' : `  edge ${signed(decimal(f.edge))}`;
      lines.push(`  + BUY  ${what}${model}${edge}  ${strategy}${f.kind ? ` (${f.kind} entry)` : ''}`);
    } else {
      const trigger = f.exit_condition ? `${f.exit_condition} (${String(f.exit_priority).toLowerCase()})` : f.purpose === 'exit' ? 'exit' : 'sell';
      const last = f.position_id === null || lastFillOf.get(String(f.position_id)) === String(f.trade_id);
      const closed = last && f.position_status !== 'open' && f.realized_pnl !== null ? `  position P&L after fees ${signed(decimal(f.realized_pnl))}` : '';
      lines.push(`  - SELL ${what}  ${trigger}  ${strategy}${closed}`);
    }
  }

  const { rows: refused } = await pool.query(
    `SELECT o.order_id, o.market_id, o.side, o.status, o.status_reason, s.strategy_name, s.strategy_version
     FROM orders o LEFT JOIN strategies s ON s.strategy_id = o.strategy_id
     WHERE o.purpose = 'entry' AND o.status IN ('cancelled', 'rejected') AND o.filled_quantity = 0 AND o.market_id = ANY($1::text[])
       AND NOT (o.order_id = ANY($2::bigint[]))
     ORDER BY o.order_id`,
    [tickers, state.refusedOrders],
  );
  for (const o of refused) {
    state.refusedOrders.push(Number(o.order_id));
    lines.push(`  x entry ${o.status}: ${shortTicker(o.market_id)} ${String(o.side).toUpperCase()} ${o.strategy_name ?? ''} ${o.strategy_version ?? ''}: ${o.status_reason ?? 'no reason recorded'}`.replace(/ {2,}/g, ' '));
  }

  const { rows: breakers } = await pool.query<BreakerRow>(
    `SELECT event_id, breaker_type, coalesce(notes, trigger_value::text, '') AS reason, resolved_at, resolution_action
     FROM circuit_breaker_events WHERE event_id > $1 OR event_id = ANY($2::bigint[]) ORDER BY event_id`,
    [state.lastBreakerId, state.openBreakers],
  );
  for (const b of breakers) {
    const id = Number(b.event_id);
    if (id > state.lastBreakerId) {
      state.lastBreakerId = id;
      warn(breakerLine(b, 'tripped'));
      if (b.resolved_at === null) state.openBreakers.push(id);
      else warn(`! circuit breaker ${b.breaker_type} #${id} resolved${b.resolution_action ? `: ${b.resolution_action}` : ''}`);
    } else if (b.resolved_at !== null) {
      state.openBreakers = state.openBreakers.filter((x) => x !== id);
      warn(`! circuit breaker ${b.breaker_type} #${id} resolved${b.resolution_action ? `: ${b.resolution_action}` : ''}`);
    }
  }

  const { rows: desyncs } = await pool.query(
    `SELECT desync_id, ticker, kind, local_value::text AS books, venue_value::text AS venue FROM venue_desyncs WHERE desync_id > $1 ORDER BY desync_id`,
    [state.lastDesyncId],
  );
  for (const d of desyncs) {
    state.lastDesyncId = Math.max(state.lastDesyncId, Number(d.desync_id));
    warn(`! venue desync ${d.ticker} (${d.kind}): books ${d.books}, venue ${d.venue}: no new entries on it until they agree`);
  }

  const { rows: health } = await pool.query(
    `SELECT health_id, component, status, details FROM system_health WHERE health_id > $1 ORDER BY health_id`,
    [state.lastHealthId],
  );
  for (const h of health) {
    state.lastHealthId = Math.max(state.lastHealthId, Number(h.health_id));
    const before = state.componentStatus[h.component] ?? 'healthy';
    state.componentStatus[h.component] = h.status;
    if (h.status === before) continue;
    if (h.status === 'healthy') {
      warn(`! ${h.component} healthy again`);
      continue;
    }
    const d = (h.details ?? {}) as Record<string, unknown>;
    const why = d.error ?? d.reason ?? d.rejected ?? d.errors;
    warn(`! ${h.component} ${h.status}${why === undefined ? '' : `: ${typeof why === 'string' ? why : JSON.stringify(why).slice(0, 300)}`}`);
  }
  return lines;
}

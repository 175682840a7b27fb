import type { Decimal } from '../shared/domain/decimal';
import type { Queryable } from '../shared/db/transaction';
import type { Exchange } from '../shared/exchange/types';

/**
 * What a replay did, read from the replay database after the run: the seam between the engine and
 * the report (branch metrics' `buildBacktestReport(db, run)` reads the same database with the
 * same run info). Money and counts are exact decimal strings as PostgreSQL returns them; times
 * are virtual (ISO).
 */

/** The run, as decision 4's BacktestRunInfo has it, plus what this engine adds. */
export interface BacktestRunInfo {
  /**
   * What was replayed: a tape's tapeId (sha256 over its manifest's file entries), or for a
   * database source `rows-sha256:` and the sha256 of the rows replayed, in replay order.
   */
  tapeId: string;
  /** The source as named in messages (`database host/precog`, `tape ./tapes/x`). */
  source: string;
  window: { from: Date; to: Date };
  strategies: Array<{ name: string; version: string }>;
  /** The one model the strategies use (null: several, see `models`). */
  model: { name: string; version: string } | null;
  models: Array<{ name: string; version: string }>;
  fillModel: Record<string, string>;
  seed: number;
  balance: Decimal;
  /** Virtual times: the window's start and where the loop stopped. */
  startedAt: Date;
  finishedAt: Date;
}

export interface OutcomeTrade {
  at: string;
  market: string;
  /** The contract side bought or sold. */
  side: string;
  action: string;
  count: string;
  price: string;
  fee: string;
  strategy: string;
  model: string | null;
  positionId: string | null;
  purpose: string | null;
}

export interface OutcomeDecision {
  at: string;
  market: string;
  side: string;
  action: string;
  count: string;
  limitPrice: string | null;
  strategy: string;
  model: string | null;
  purpose: string;
  status: string;
}

export interface OutcomePosition {
  positionId: string;
  market: string;
  side: string;
  status: string;
  strategy: string;
  openedAt: string;
  entryPrice: string;
  originalCount: string | null;
  count: string;
  realizedPnl: string | null;
  fees: string | null;
  exitReason: string | null;
}

export interface OutcomeExit {
  at: string;
  positionId: string;
  condition: string;
  priority: string;
  count: string;
  price: string;
}

export interface BacktestOutcome {
  info: BacktestRunInfo;
  trades: OutcomeTrade[];
  /** Orders the handlers decided (entries from scan-edges, exits from the monitor), in decision order. */
  decisions: OutcomeDecision[];
  positions: OutcomePosition[];
  exits: OutcomeExit[];
  balances: { starting: string; ending: string };
  /** Handler errors seen during the replay, each once with its count. */
  warnings: string[];
  /** Machine figures (never compared: they differ from run to run). */
  stats?: {
    wallSeconds: number;
    simulatedSeconds: number;
    queries: number;
    events: number;
    processes: number;
    tapeRows: Record<string, number>;
    /** Machine ms by what the loop's events started or woke (where the wall time goes). */
    wallMsBy?: Record<string, number>;
  };
  /** Set with `keep`: the replay database, left in place. */
  replayDatabaseUrl?: string;
}

export async function readOutcome(db: Queryable, info: BacktestRunInfo, venue: Exchange): Promise<BacktestOutcome> {
  const trades = await db.query(
    `SELECT t.created_at, t.market_id, t.contract_side::text AS side, t.side AS action, t.quantity::text AS count, t.price::text AS price,
            COALESCE(t.fees, 0)::text AS fee, s.strategy_name || '@' || s.strategy_version AS strategy,
            m.model_name || '@' || m.model_version AS model, t.position_id::text AS position_id, o.purpose
       FROM trades t
       LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
       LEFT JOIN probability_models m ON m.model_id = t.model_id
       LEFT JOIN orders o ON o.client_order_id = t.client_order_id
      ORDER BY t.created_at, t.trade_id`,
  );
  const decisions = await db.query(
    `SELECT o.created_at, o.market_id, o.side::text AS side, o.action, o.quantity::text AS count, o.limit_price::text AS limit_price,
            s.strategy_name || '@' || s.strategy_version AS strategy, m.model_name || '@' || m.model_version AS model, o.purpose, o.status
       FROM orders o
       LEFT JOIN strategies s ON s.strategy_id = o.strategy_id
       LEFT JOIN probability_models m ON m.model_id = o.model_id
      ORDER BY o.created_at, o.order_id`,
  );
  const positions = await db.query(
    `SELECT p.position_id::text AS position_id, p.market_id, p.side::text AS side, p.status, s.strategy_name || '@' || s.strategy_version AS strategy,
            first.created_at AS opened_at, p.entry_price::text AS entry_price, p.original_quantity::text AS original_count,
            p.quantity::text AS count, p.realized_pnl::text AS realized_pnl, p.fees::text AS fees, p.exit_reason::text AS exit_reason
       FROM positions p
       JOIN position_identities pi ON pi.position_id = p.position_id
       LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
       JOIN LATERAL (SELECT min(created_at) AS created_at FROM positions f WHERE f.position_id = p.position_id) first ON true
      WHERE p.row_current_ind
      ORDER BY first.created_at, p.position_id`,
  );
  const exits = await db.query(
    `SELECT created_at, position_id::text AS position_id, exit_condition::text AS condition, exit_priority::text AS priority,
            quantity_exited::text AS count, exit_price::text AS price
       FROM position_exits ORDER BY created_at, exit_id`,
  );
  const iso = (d: unknown) => (d as Date).toISOString();
  return {
    info,
    trades: trades.rows.map((r) => ({
      at: iso(r.created_at), market: r.market_id, side: r.side, action: r.action, count: r.count, price: r.price, fee: r.fee,
      strategy: r.strategy, model: r.model, positionId: r.position_id, purpose: r.purpose,
    })),
    decisions: decisions.rows.map((r) => ({
      at: iso(r.created_at), market: r.market_id, side: r.side, action: r.action, count: r.count, limitPrice: r.limit_price,
      strategy: r.strategy, model: r.model, purpose: r.purpose, status: r.status,
    })),
    positions: positions.rows.map((r) => ({
      positionId: r.position_id, market: r.market_id, side: r.side, status: r.status, strategy: r.strategy, openedAt: iso(r.opened_at),
      entryPrice: r.entry_price, originalCount: r.original_count, count: r.count, realizedPnl: r.realized_pnl, fees: r.fees, exitReason: r.exit_reason,
    })),
    exits: exits.rows.map((r) => ({ at: iso(r.created_at), positionId: r.position_id, condition: r.condition, priority: r.priority, count: r.count, price: r.price })),
    balances: { starting: info.balance.toFixed(4), ending: (await venue.getBalance()).toFixed(4) },
    warnings: [],
  };
}

/** The outcome as written to outcome.json: everything but the machine figures (so two runs compare byte for byte). */
export function outcomeJson(outcome: BacktestOutcome): string {
  const { stats: _stats, replayDatabaseUrl: _url, ...kept } = outcome;
  return `${JSON.stringify(kept, null, 2)}\n`;
}

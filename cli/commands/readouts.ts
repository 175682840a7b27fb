import { count, pct, price, table, time, usd } from '../format';
import type { CommandContext } from './context';

/**
 * `precog edges`, `precog trades`, `precog exits`: what the scan found, what was traded and how
 * positions are being exited. Numerics are read as text and printed exactly with --json; tables
 * round money to cents.
 */

const version = (name: unknown, v: unknown) => (name ? `${name} ${v}` : '-');

// ---------------------------------------------------------------------------------------------
// edges

export const EDGE_ACTIONS = ['auto_execute', 'alert', 'ignore'] as const;

/** The current edge of every (market, strategy version, model version, side), best expected value first. */
export const EDGES_SQL = `
SELECT e.edge_id, e.market_id, e.side, e.true_win_probability::text AS model_probability, e.market_price::text AS market_price,
       e.edge::text AS edge, e.expected_value::text AS expected_value, e.confidence_level, e.recommended_action,
       e.strategy_id, s.strategy_name, s.strategy_version, e.model_id, pm.model_name, pm.model_version, e.created_at
FROM edges e
LEFT JOIN strategies s ON s.strategy_id = e.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = e.model_id
WHERE e.row_current_ind
  AND ($1::text IS NULL OR e.recommended_action = $1)
  AND ($2::boolean OR e.recommended_action IS DISTINCT FROM 'ignore' OR $1::text = 'ignore')
  AND ($3::text IS NULL OR s.strategy_name = $3)
ORDER BY e.expected_value DESC, e.edge_id DESC
LIMIT $4`;

export async function listEdges(
  ctx: CommandContext,
  options: { action?: string; all?: boolean; strategy?: string; limit?: number; json?: boolean },
): Promise<Record<string, unknown>[]> {
  const { rows } = await ctx.pool.query(EDGES_SQL, [options.action ?? null, options.all === true, options.strategy ?? null, options.limit ?? 50]);
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return rows;
  }
  if (rows.length === 0) {
    ctx.out(options.all || options.action ? 'no edges' : 'no actionable edges (auto_execute or alert); --all shows the ignored ones too');
    return rows;
  }
  for (const line of table(rows, [
    { header: 'ID', cell: (r) => `#${r.edge_id}`, align: 'right' },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'SIDE', cell: (r) => r.side },
    { header: 'MODEL P', cell: (r) => price(r.model_probability), align: 'right' },
    { header: 'PRICE', cell: (r) => price(r.market_price), align: 'right' },
    { header: 'EDGE', cell: (r) => price(r.edge), align: 'right' },
    { header: 'EV', cell: (r) => pct(r.expected_value), align: 'right' },
    { header: 'CONFIDENCE', cell: (r) => r.confidence_level ?? '-' },
    { header: 'ACTION', cell: (r) => r.recommended_action ?? '-' },
    { header: 'STRATEGY', cell: (r) => version(r.strategy_name, r.strategy_version) },
    { header: 'MODEL', cell: (r) => version(r.model_name, r.model_version) },
    { header: 'FOUND', cell: (r) => time(r.created_at) },
  ])) ctx.out(line);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// trades

/** Fills, newest first, with the exact strategy and model versions (trade_attribution). */
export const TRADES_SQL = `
SELECT trade_id, created_at, market_id, side AS action, contract_side AS side, execution_mode, quantity, price::text AS price,
       (quantity * price)::text AS amount, coalesce(fees, 0)::text AS fees, position_id, client_order_id,
       strategy_name, strategy_version, model_name, model_version, edge_at_execution::text AS edge_at_execution
FROM trade_attribution
WHERE ($1::text IS NULL OR strategy_name = $1) AND ($2::text IS NULL OR market_id = $2) AND ($3::bigint IS NULL OR position_id = $3)
ORDER BY created_at DESC, trade_id DESC
LIMIT $4`;

export async function listTrades(
  ctx: CommandContext,
  options: { strategy?: string; market?: string; position?: number; limit?: number; json?: boolean },
): Promise<Record<string, unknown>[]> {
  const { rows } = await ctx.pool.query(TRADES_SQL, [options.strategy ?? null, options.market ?? null, options.position ?? null, options.limit ?? 50]);
  const out = rows.map((r) => ({ ...r, quantity: count(r.quantity) }));
  if (options.json) {
    ctx.out(JSON.stringify(out));
    return out;
  }
  if (out.length === 0) {
    ctx.out('no trades');
    return out;
  }
  for (const line of table(out, [
    { header: 'TIME', cell: (r) => time(r.created_at) },
    { header: 'TRADE', cell: (r) => `#${r.trade_id}`, align: 'right' },
    { header: 'ACTION', cell: (r) => r.action },
    { header: 'QTY', cell: (r) => r.quantity, align: 'right' },
    { header: 'SIDE', cell: (r) => r.side ?? '-' },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'PRICE', cell: (r) => price(r.price), align: 'right' },
    { header: 'AMOUNT', cell: (r) => usd(r.amount), align: 'right' },
    { header: 'FEES', cell: (r) => usd(r.fees), align: 'right' },
    { header: 'MODE', cell: (r) => r.execution_mode },
    { header: 'POSITION', cell: (r) => (r.position_id === null ? '-' : `#${r.position_id}`), align: 'right' },
    { header: 'STRATEGY', cell: (r) => version(r.strategy_name, r.strategy_version) },
    { header: 'MODEL', cell: (r) => version(r.model_name, r.model_version) },
  ])) ctx.out(line);
  return out;
}

// ---------------------------------------------------------------------------------------------
// exits

export const EXIT_STATUSES = ['active', 'filled', 'stopped', 'superseded', 'cancelled'] as const;

/**
 * Exit requests (what the monitor decided to sell, and why), newest first, with what their orders
 * sold: contracts, average price and proceeds before fees.
 */
export const EXITS_SQL = `
SELECT er.exit_request_id, er.position_id, pi.market_id, pi.side, pi.execution_mode, er.exit_condition, er.exit_priority,
       er.quantity, er.filled_quantity, er.partial_stage, er.status, er.status_reason, er.triggers,
       s.strategy_name, s.strategy_version, er.created_at, er.updated_at,
       sold.avg_price::text AS avg_price, sold.proceeds::text AS proceeds, coalesce(sold.fees, 0)::text AS fees
FROM exit_requests er
JOIN position_identities pi ON pi.position_id = er.position_id
LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
LEFT JOIN LATERAL (
  SELECT round(sum(t.quantity * t.price) / nullif(sum(t.quantity), 0), 4) AS avg_price, sum(t.quantity * t.price) AS proceeds, sum(t.fees) AS fees
  FROM orders o JOIN trades t ON t.client_order_id = o.client_order_id AND t.side = 'sell'
  WHERE o.exit_request_id = er.exit_request_id
) sold ON TRUE
WHERE ($1::text IS NULL OR er.status = $1) AND ($2::bigint IS NULL OR er.position_id = $2)
ORDER BY er.exit_request_id DESC
LIMIT $3`;

export async function listExits(
  ctx: CommandContext,
  options: { status?: string; position?: number; limit?: number; json?: boolean },
): Promise<Record<string, unknown>[]> {
  const { rows } = await ctx.pool.query(EXITS_SQL, [options.status ?? null, options.position ?? null, options.limit ?? 50]);
  const out = rows.map((r) => ({ ...r, quantity: count(r.quantity), filled_quantity: count(r.filled_quantity) }));
  if (options.json) {
    ctx.out(JSON.stringify(out));
    return out;
  }
  if (out.length === 0) {
    ctx.out(options.status ? `no ${options.status} exit requests` : 'no exit requests');
    return out;
  }
  for (const line of table(out, [
    { header: 'EXIT', cell: (r) => `#${r.exit_request_id}`, align: 'right' },
    { header: 'CREATED', cell: (r) => time(r.created_at) },
    { header: 'POSITION', cell: (r) => `#${r.position_id}`, align: 'right' },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'SIDE', cell: (r) => r.side },
    { header: 'CONDITION', cell: (r) => r.exit_condition },
    { header: 'PRIORITY', cell: (r) => r.exit_priority },
    { header: 'FILLED', cell: (r) => `${r.filled_quantity}/${r.quantity}`, align: 'right' },
    { header: 'AVG PRICE', cell: (r) => price(r.avg_price), align: 'right' },
    { header: 'PROCEEDS', cell: (r) => usd(r.proceeds), align: 'right' },
    { header: 'STATUS', cell: (r) => (r.status_reason ? `${r.status} (${r.status_reason})` : r.status) },
  ])) ctx.out(line);
  return out;
}

import { InvalidArgumentError } from 'commander';
import { migrate } from '../../shared/db/migrate';
import { QUERY_PATTERNS } from '../../shared/db/queryPatterns';
import { now } from '../../shared/clock/clock';
import { count, labelled, pct, price, table, time, usd } from '../format';
import type { CommandContext } from './context';

/**
 * Operator read-outs: `precog migrate`, `positions`, `pnl`, `attribution`, `ab`.
 * Numerics are read as text from PostgreSQL: --json prints them exactly, the tables in dollars
 * and cents and percentages (cli/format.ts).
 */

// ---------------------------------------------------------------------------------------------
// migrate

/** `precog migrate [--dry-run]`: applies (or lists) the pending migrations of DATABASE_URL. */
export async function migrateCommand(ctx: CommandContext, options: { dryRun?: boolean; json?: boolean }): Promise<string[]> {
  const client = await ctx.pool.connect();
  let migrations: string[];
  try {
    migrations = await migrate({ connection: client, dryRun: options.dryRun === true });
  } finally {
    client.release();
  }
  if (options.json) {
    ctx.out(JSON.stringify({ dryRun: options.dryRun === true, migrations }));
  } else if (migrations.length === 0) {
    ctx.out('the schema is up to date: no pending migrations');
  } else {
    ctx.out(options.dryRun ? `${migrations.length} pending migration(s) (dry run, nothing applied):` : `applied ${migrations.length} migration(s):`);
    for (const m of migrations) ctx.out(`  ${m}`);
  }
  return migrations;
}

// ---------------------------------------------------------------------------------------------
// positions

/** What an open position could be sold for now: its side's bid, else its ask (as the query pattern). */
const MARK = `coalesce(CASE p.side WHEN 'yes' THEN m.yes_bid ELSE m.no_bid END, CASE p.side WHEN 'yes' THEN m.yes_price ELSE m.no_price END)`;
const COST = `coalesce(p.cost_basis, p.quantity * p.entry_price)`;
/** Unrealized P&L of an open position: the monitor's figure, or marked at the market now when not yet monitored. */
const UNREALIZED = `CASE WHEN p.status <> 'open' THEN NULL WHEN p.unrealized_pnl IS NOT NULL THEN p.unrealized_pnl
  ELSE p.quantity * ${MARK} - ${COST} END`;

/** Current versions of positions with their market, strategy and model versions. */
export const POSITIONS_SQL = `
SELECT p.position_id, p.market_id, m.ticker, p.side, p.execution_mode, p.status, p.quantity, coalesce(p.original_quantity, p.quantity) AS original_quantity,
       p.entry_price::text AS entry_price, (coalesce(p.original_quantity, p.quantity) * p.entry_price)::text AS paid, ${COST}::text AS cost_basis, coalesce(p.fees, 0)::text AS fees,
       (CASE WHEN p.status = 'open' AND p.unrealized_pnl IS NULL THEN ${MARK} ELSE p.current_price END)::text AS current_price,
       (${UNREALIZED})::text AS unrealized_pnl,
       (CASE WHEN p.status <> 'open' THEN NULL WHEN p.unrealized_pnl IS NOT NULL THEN p.unrealized_pnl_pct
             ELSE round((${UNREALIZED}) / nullif(${COST}, 0), 4) END)::text AS unrealized_pnl_pct,
       coalesce(p.realized_pnl, 0)::text AS realized_pnl,
       pi.strategy_id, s.strategy_name, s.strategy_version, pi.model_id, pm.model_name, pm.model_version,
       p.exit_reason, p.last_update, p.updated_at
FROM positions p
JOIN position_identities pi ON pi.position_id = p.position_id
LEFT JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
LEFT JOIN probability_models pm ON pm.model_id = pi.model_id
WHERE p.row_current_ind AND ($1::boolean OR p.status = 'open')
ORDER BY p.status = 'open' DESC, p.position_id DESC
LIMIT 500`;

const version = (name: unknown, v: unknown) => (name ? `${name} ${v}` : '-');

/** `precog positions [--all]`: open positions (with --all, closed and settled ones too). */
export async function listPositions(ctx: CommandContext, options: { all?: boolean; json?: boolean }): Promise<Record<string, unknown>[]> {
  const { rows } = await ctx.pool.query(POSITIONS_SQL, [options.all === true]);
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return rows;
  }
  if (rows.length === 0) {
    ctx.out(options.all ? 'no positions' : 'no open positions');
    return rows;
  }
  // BOUGHT is the original quantity: a closed or settled position holds 0 but keeps what it bought.
  for (const line of table(rows, [
    { header: 'ID', cell: (r) => `#${r.position_id}`, align: 'right' },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'SIDE', cell: (r) => r.side },
    { header: 'MODE', cell: (r) => r.execution_mode },
    { header: 'STATUS', cell: (r) => (r.exit_reason ? `${r.status} (${r.exit_reason})` : r.status) },
    { header: 'BOUGHT', cell: (r) => count(r.original_quantity), align: 'right' },
    { header: 'HELD', cell: (r) => count(r.quantity), align: 'right' },
    { header: 'ENTRY', cell: (r) => price(r.entry_price), align: 'right' },
    { header: 'PAID', cell: (r) => usd(r.paid), align: 'right' },
    { header: 'COST', cell: (r) => usd(r.cost_basis), align: 'right' },
    { header: 'NOW', cell: (r) => price(r.current_price), align: 'right' },
    { header: 'UNREALIZED', cell: (r) => usd(r.unrealized_pnl, { signed: true }), align: 'right' },
    { header: 'UNREAL %', cell: (r) => pct(r.unrealized_pnl_pct), align: 'right' },
    { header: 'REALIZED', cell: (r) => usd(r.realized_pnl, { signed: true }), align: 'right' },
    { header: 'STRATEGY', cell: (r) => version(r.strategy_name, r.strategy_version) },
    { header: 'MODEL', cell: (r) => version(r.model_name, r.model_version) },
    { header: 'UPDATED', cell: (r) => time(r.last_update ?? r.updated_at) },
  ])) ctx.out(line);
  ctx.out('(PAID: BOUGHT × ENTRY; COST: cost basis of what is HELD, fees included; REALIZED includes fees; UNREAL %: unrealized P&L / COST)');
  return rows;
}

// ---------------------------------------------------------------------------------------------
// pnl

const DURATION = /^(\d+[smhdw])+$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** `--since`: a duration back from now (24h, 7d, 1h30m) or an ISO 8601 time with a zone (or a date: midnight UTC). */
export function parseSince(value: string, at: Date = now()): Date {
  const v = value.trim();
  if (DURATION.test(v.toLowerCase())) {
    let ms = 0;
    for (const [, amount, unit] of v.toLowerCase().matchAll(/(\d+)([smhdw])/g)) ms += Number(amount) * UNIT_MS[unit!]!;
    return new Date(at.getTime() - ms);
  }
  const parsed = new Date(v);
  if (!ISO.test(v) || Number.isNaN(parsed.getTime())) {
    throw new InvalidArgumentError('expected an ISO 8601 time with a zone (2026-11-27T00:00:00Z), a date (midnight UTC) or a duration back from now (24h, 7d).');
  }
  return parsed;
}

/** Midnight UTC of today. */
export function startOfTodayUtc(at: Date = now()): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/**
 * Realized P&L since $1 per position: its current realized P&L (fees included) minus the realized
 * P&L of its version as of $1 (0 for positions opened since); with the open positions' unrealized
 * P&L, grouped by strategy version and execution mode.
 */
export const PNL_SQL = `
WITH pos AS (
  SELECT p.position_id, p.execution_mode, pi.strategy_id, p.status,
         CASE WHEN p.created_at > $1 THEN coalesce(p.realized_pnl, 0) - coalesce(b.realized_pnl, 0) ELSE 0 END AS realized,
         ${UNREALIZED} AS unrealized
  FROM positions p
  JOIN position_identities pi ON pi.position_id = p.position_id
  LEFT JOIN markets m ON m.market_id = p.market_id AND m.row_current_ind
  LEFT JOIN LATERAL (
    SELECT o.realized_pnl FROM positions o WHERE o.position_id = p.position_id AND o.created_at <= $1
    ORDER BY o.created_at DESC, o.position_version_id DESC LIMIT 1
  ) b ON TRUE
  WHERE p.row_current_ind AND (p.created_at > $1 OR p.status = 'open')
),
tr AS (
  SELECT strategy_id, execution_mode, count(*)::int AS trades, sum(coalesce(fees, 0)) AS fees
  FROM trades WHERE created_at > $1 GROUP BY strategy_id, execution_mode
),
groups AS (
  SELECT strategy_id, execution_mode FROM pos UNION SELECT strategy_id, execution_mode FROM tr
)
SELECT g.strategy_id, s.strategy_name, s.strategy_version, g.execution_mode,
       coalesce(tr.trades, 0) AS trades, round(coalesce(tr.fees, 0), 4)::text AS fees,
       round(coalesce((SELECT sum(realized) FROM pos WHERE pos.strategy_id IS NOT DISTINCT FROM g.strategy_id AND pos.execution_mode = g.execution_mode), 0), 4)::text AS realized_pnl,
       round(coalesce((SELECT sum(unrealized) FROM pos WHERE pos.strategy_id IS NOT DISTINCT FROM g.strategy_id AND pos.execution_mode = g.execution_mode AND pos.status = 'open'), 0), 4)::text AS unrealized_pnl,
       (SELECT count(*)::int FROM pos WHERE pos.strategy_id IS NOT DISTINCT FROM g.strategy_id AND pos.execution_mode = g.execution_mode AND pos.status = 'open') AS open_positions
FROM groups g
LEFT JOIN tr ON tr.strategy_id IS NOT DISTINCT FROM g.strategy_id AND tr.execution_mode = g.execution_mode
LEFT JOIN strategies s ON s.strategy_id = g.strategy_id
ORDER BY g.execution_mode, s.strategy_name NULLS LAST, version_sort_key(s.strategy_version) DESC`;

/** `precog pnl [--since …]`: realized P&L since a time by strategy version and mode, unrealized now, totals. */
export async function pnlReport(ctx: CommandContext, options: { since?: Date; json?: boolean }): Promise<unknown> {
  const since = options.since ?? startOfTodayUtc();
  const { rows } = await ctx.pool.query(PNL_SQL, [since]);
  const { rows: [totals] } = await ctx.pool.query(
    `SELECT round(coalesce(sum(realized_pnl::numeric), 0), 4)::text AS realized_pnl, round(coalesce(sum(unrealized_pnl::numeric), 0), 4)::text AS unrealized_pnl,
            round(coalesce(sum(realized_pnl::numeric), 0) + coalesce(sum(unrealized_pnl::numeric), 0), 4)::text AS total_pnl,
            round(coalesce(sum(fees::numeric), 0), 4)::text AS fees, coalesce(sum(trades), 0)::int AS trades
     FROM jsonb_to_recordset($1::jsonb) AS r(realized_pnl text, unrealized_pnl text, fees text, trades int)`,
    [JSON.stringify(rows)],
  );
  const report = { since: since.toISOString(), byStrategy: rows, totals };
  if (options.json) {
    ctx.out(JSON.stringify(report));
    return report;
  }
  ctx.out(`P&L since ${time(since)} (realized includes fees; unrealized: open positions marked now)`);
  if (rows.length === 0) ctx.out('  no trades or open positions');
  else {
    for (const line of table(rows, [
      { header: 'STRATEGY', cell: (r) => version(r.strategy_name, r.strategy_version) },
      { header: 'MODE', cell: (r) => r.execution_mode },
      { header: 'TRADES', cell: (r) => String(r.trades), align: 'right' },
      { header: 'FEES', cell: (r) => usd(r.fees), align: 'right' },
      { header: 'REALIZED', cell: (r) => usd(r.realized_pnl, { signed: true }), align: 'right' },
      { header: 'UNREALIZED', cell: (r) => usd(r.unrealized_pnl, { signed: true }), align: 'right' },
      { header: 'OPEN', cell: (r) => String(r.open_positions), align: 'right' },
    ])) ctx.out(`  ${line}`);
  }
  ctx.out('total:');
  for (const line of labelled([
    ['realized P&L', usd(totals.realized_pnl, { signed: true })],
    ['unrealized P&L', usd(totals.unrealized_pnl, { signed: true })],
    ['total P&L', usd(totals.total_pnl, { signed: true })],
    ['trades', String(totals.trades)],
    ['fees', usd(totals.fees)],
  ])) ctx.out(line);
  return report;
}

// ---------------------------------------------------------------------------------------------
// attribution

/** `precog attribution [--strategy NAME] [--limit N]`: trades with the exact strategy and model versions. */
export async function attribution(ctx: CommandContext, options: { strategy?: string; limit?: number; json?: boolean }): Promise<unknown[]> {
  const { rows } = await ctx.pool.query(
    `SELECT trade_id, created_at, market_id, market_ticker, side, contract_side, execution_mode, quantity, price::text AS price,
            coalesce(fees, 0)::text AS fees, position_id, client_order_id, strategy_id, strategy_name, strategy_version,
            model_id, model_name, model_version, edge_id, edge_at_execution::text AS edge_at_execution, confidence_at_execution
     FROM trade_attribution WHERE ($1::text IS NULL OR strategy_name = $1)
     ORDER BY created_at DESC, trade_id DESC LIMIT $2`,
    [options.strategy ?? null, options.limit ?? 50],
  );
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return rows;
  }
  if (rows.length === 0) {
    ctx.out(options.strategy ? `no trades of strategy ${options.strategy}` : 'no trades');
    return rows;
  }
  for (const line of table(rows, [
    { header: 'TIME', cell: (r) => time(r.created_at) },
    { header: 'TRADE', cell: (r) => `#${r.trade_id}`, align: 'right' },
    { header: 'ACTION', cell: (r) => r.side },
    { header: 'QTY', cell: (r) => count(r.quantity), align: 'right' },
    { header: 'SIDE', cell: (r) => r.contract_side ?? '-' },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'PRICE', cell: (r) => price(r.price), align: 'right' },
    { header: 'FEES', cell: (r) => usd(r.fees), align: 'right' },
    { header: 'MODE', cell: (r) => r.execution_mode },
    { header: 'STRATEGY', cell: (r) => version(r.strategy_name, r.strategy_version) },
    { header: 'MODEL', cell: (r) => version(r.model_name, r.model_version) },
    { header: 'EDGE', cell: (r) => price(r.edge_at_execution), align: 'right' },
  ])) ctx.out(line);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// ab

/** `precog ab STRATEGY`: the versions of a strategy side by side (trades, ROI, realized P&L). */
export async function abCompare(ctx: CommandContext, options: { strategy: string; json?: boolean }): Promise<unknown[]> {
  const { rows } = await ctx.pool.query(QUERY_PATTERNS.abTestStrategyVersionPerformance, [options.strategy]);
  if (rows.length === 0) throw new Error(`no strategy named ${options.strategy}`);
  const out = rows.map((r) => ({
    strategy_id: r.strategy_id, strategy_name: r.strategy_name, strategy_version: r.strategy_version, status: r.status,
    trades: r.trades, positions: r.positions, open_positions: r.open_positions, cost: r.cost.toFixed(4), fees: r.fees.toFixed(4),
    realized_pnl: r.realized_pnl.toFixed(4), roi: r.roi === null ? null : r.roi.toFixed(4), paper_roi: r.paper_roi === null ? null : r.paper_roi.toFixed(4),
  }));
  if (options.json) {
    ctx.out(JSON.stringify(out));
    return out;
  }
  ctx.out(`A/B of ${options.strategy} (ROI = realized P&L incl. fees / cost of buys incl. fees)`);
  for (const line of table(out, [
    { header: 'VERSION', cell: (r) => r.strategy_version },
    { header: 'STATUS', cell: (r) => r.status },
    { header: 'TRADES', cell: (r) => String(r.trades), align: 'right' },
    { header: 'POSITIONS', cell: (r) => `${r.positions} (${r.open_positions} open)`, align: 'right' },
    { header: 'COST', cell: (r) => usd(r.cost), align: 'right' },
    { header: 'REALIZED', cell: (r) => usd(r.realized_pnl, { signed: true }), align: 'right' },
    { header: 'ROI', cell: (r) => pct(r.roi), align: 'right' },
    { header: 'PAPER ROI', cell: (r) => pct(r.paper_roi), align: 'right' },
  ])) ctx.out(`  ${line}`);
  return out;
}

import { createExchangeFromEnv } from '../../shared/exchange/factory';
import type { Exchange } from '../../shared/exchange/types';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { count, price, table, time, usd } from '../format';
import type { CommandContext } from './context';

/** `precog reconcile`: sync open orders with the venue and compare positions (what the monitor runs each minute). */
export async function reconcile(
  ctx: CommandContext,
  options: { env: NodeJS.ProcessEnv; json?: boolean; exchange?: Exchange },
): Promise<void> {
  const exchange = options.exchange ?? (await createExchangeFromEnv({ pool: ctx.pool, env: options.env }));
  const result = await reconcileVenue({ pool: ctx.pool, exchange });
  if (options.json) {
    ctx.out(JSON.stringify(result));
    return;
  }
  ctx.out(`reconciled with ${result.venue}: ${result.ordersChecked} open orders checked, ${result.fillsRecorded} new fills recorded`);
  // Reconciling one mode while the database trades in the other checks an account nobody used
  // (after `npm start`, whose trading is live against its simulator, the default paper account is empty).
  const { rows: modes } = await ctx.pool.query(
    `SELECT execution_mode::text AS mode, count(*)::int AS orders FROM orders GROUP BY 1 ORDER BY 1`,
  );
  const mode = exchange.executionMode;
  const mine = modes.find((m) => m.mode === mode)?.orders ?? 0;
  const others = modes.filter((m) => m.mode !== mode && m.orders > 0);
  if (mine === 0 && others.length > 0) {
    ctx.out(`  note: this database has no ${mode} orders; its trading is ${others.map((m) => `${m.mode} (${m.orders} orders)`).join(', ')}:`
      + ` set EXECUTION_MODE (and the venue) to reconcile that account${others.some((m) => m.mode === 'live') ? '; a finished `npm start` run\'s simulator is no longer running' : ''}`);
  }
  for (const o of result.ordersClosed) ctx.out(`  order ${o.clientOrderId} → ${o.status}${o.reason ? ` (${o.reason})` : ''}`);
  for (const e of result.errors) ctx.out(`  error${e.clientOrderId ? ` on ${e.clientOrderId}` : ''}: ${e.error}`);
  if (result.desyncs.length === 0) ctx.out('positions and resting orders agree with the venue');
  for (const d of result.desyncs) {
    ctx.out(`  DESYNC ${d.kind} ${d.ticker}: books ${JSON.stringify(d.local)} venue ${JSON.stringify(d.venue)} (no new entries on this market)`);
  }
  for (const r of result.resolved) ctx.out(`  resolved ${r.kind} desync on ${r.ticker}`);
  ctx.out(`cash: books ${result.balance.local === null || result.balance.local === undefined ? '(none)' : usd(String(result.balance.local))} venue ${usd(String(result.balance.venue))}`
    + `${result.balance.difference ? ` difference ${usd(String(result.balance.difference), { signed: true })}` : ''}`);
}

/** `precog orders`: the order book of Precog itself, newest first. */
export async function listOrders(
  ctx: CommandContext,
  options: { status?: string; limit?: number; json?: boolean },
): Promise<void> {
  const { rows } = await ctx.pool.query(
    `SELECT o.client_order_id, o.purpose, o.market_id, o.side, o.action, o.quantity, o.filled_quantity, o.limit_price::text,
            o.status, o.status_reason, o.execution_mode, o.venue_order_id, o.fees::text, o.created_at, o.updated_at,
            s.strategy_name || ' ' || s.strategy_version AS strategy
     FROM orders o LEFT JOIN strategies s ON s.strategy_id = o.strategy_id
     WHERE ($1::text IS NULL OR o.status = $1)
     ORDER BY o.order_id DESC LIMIT $2`,
    [options.status ?? null, options.limit ?? 50],
  );
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    ctx.out('no orders');
    return;
  }
  for (const line of table(rows, [
    { header: 'CREATED', cell: (r) => time(r.created_at) },
    { header: 'ORDER', cell: (r) => r.client_order_id },
    { header: 'PURPOSE', cell: (r) => r.purpose },
    { header: 'ACTION', cell: (r) => r.action },
    { header: 'SIDE', cell: (r) => r.side },
    { header: 'MARKET', cell: (r) => r.market_id },
    { header: 'LIMIT', cell: (r) => (r.limit_price === null ? 'market' : price(r.limit_price)), align: 'right' },
    { header: 'FILLED', cell: (r) => `${count(r.filled_quantity)}/${count(r.quantity)}`, align: 'right' },
    { header: 'MODE', cell: (r) => r.execution_mode },
    { header: 'STATUS', cell: (r) => (r.status_reason ? `${r.status} (${r.status_reason})` : r.status) },
    { header: 'STRATEGY', cell: (r) => r.strategy ?? '-' },
  ])) ctx.out(line);
}

/** `precog desync list` / `precog desync resolve`: what reconciliation found, and the operator's override. */
export async function listDesyncs(ctx: CommandContext, options: { all?: boolean; json?: boolean }): Promise<void> {
  const { rows } = await ctx.pool.query(
    `SELECT desync_id, platform_id, execution_mode, ticker, market_id, kind, local_value, venue_value, detected_at, last_seen_at, resolved_at, resolution
     FROM venue_desyncs WHERE $1::boolean OR resolved_at IS NULL ORDER BY desync_id DESC LIMIT 200`,
    [options.all === true],
  );
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    ctx.out(options.all ? 'no desyncs recorded' : 'no open desyncs');
    return;
  }
  for (const line of table(rows, [
    { header: 'ID', cell: (r) => `#${r.desync_id}`, align: 'right' },
    { header: 'KIND', cell: (r) => r.kind },
    { header: 'MARKET', cell: (r) => r.ticker },
    { header: 'MODE', cell: (r) => r.execution_mode },
    { header: 'BOOKS', cell: (r) => JSON.stringify(r.local_value) },
    { header: 'VENUE', cell: (r) => JSON.stringify(r.venue_value) },
    { header: 'SINCE', cell: (r) => time(r.detected_at) },
    { header: 'STATE', cell: (r) => (r.resolved_at ? `resolved: ${r.resolution}` : 'OPEN') },
  ])) ctx.out(line);
}

export async function resolveDesync(ctx: CommandContext, options: { id: number; note: string; json?: boolean }): Promise<void> {
  const { rows } = await ctx.pool.query(
    `UPDATE venue_desyncs SET resolved_at = precog_now(), resolution = $2 WHERE desync_id = $1 AND resolved_at IS NULL RETURNING ticker, kind`,
    [options.id, `operator: ${options.note}`],
  );
  if (rows.length === 0) throw new Error(`no open desync #${options.id}`);
  ctx.out(options.json ? JSON.stringify({ resolved: options.id, ...rows[0] }) : `resolved desync #${options.id} (${rows[0].kind} ${rows[0].ticker})`);
}

import os from 'node:os';
import { resolveBreaker, tripManualBreaker } from '../../shared/risk/breakers';
import { table, time } from '../format';
import type { CommandContext } from './context';

/** `precog breaker list`: open breakers (with --all, the history too). */
export async function listBreakers(ctx: CommandContext, options: { all?: boolean; json?: boolean }): Promise<void> {
  const { rows } = await ctx.pool.query(
    `SELECT event_id, breaker_type, triggered_at, resolved_at, trigger_value, resolution_action, notes
     FROM circuit_breaker_events WHERE $1::boolean OR resolved_at IS NULL ORDER BY event_id DESC LIMIT 200`,
    [options.all === true],
  );
  if (options.json) {
    ctx.out(JSON.stringify(rows));
    return;
  }
  if (rows.length === 0) {
    ctx.out(options.all ? 'no circuit breaker has tripped' : 'no circuit breaker is tripped: entries are allowed');
    return;
  }
  for (const line of table(rows, [
    { header: 'ID', cell: (r) => `#${r.event_id}`, align: 'right' },
    { header: 'TYPE', cell: (r) => r.breaker_type },
    { header: 'TRIPPED', cell: (r) => time(r.triggered_at) },
    { header: 'STATE', cell: (r) => (r.resolved_at ? `resolved ${time(r.resolved_at)}: ${r.resolution_action}` : 'OPEN') },
    { header: 'TRIGGER', cell: (r) => `${JSON.stringify(r.trigger_value)}${r.notes && !r.resolved_at ? ` (${r.notes})` : ''}` },
  ])) ctx.out(line);
}

/** `precog breaker trip manual --reason … [--liquidate]`. */
export async function tripBreaker(ctx: CommandContext, options: { type: string; reason: string; liquidate?: boolean; by?: string; json?: boolean }): Promise<void> {
  if (options.type !== 'manual') {
    throw new Error(`only the manual breaker is tripped by hand (got ${options.type}); the others trip from their conditions`);
  }
  const eventId = await tripManualBreaker(ctx.pool, { reason: options.reason, liquidate: options.liquidate === true, by: options.by ?? os.userInfo().username });
  ctx.out(options.json
    ? JSON.stringify({ eventId, type: 'manual', liquidate: options.liquidate === true })
    : `tripped manual breaker #${eventId}: new entries are blocked${options.liquidate ? '; the monitor liquidates every open position' : ''}`);
}

/** `precog breaker resolve ID --action …`. */
export async function resolveBreakerCommand(ctx: CommandContext, options: { id: number; action: string; json?: boolean }): Promise<void> {
  const r = await resolveBreaker(ctx.pool, { eventId: options.id, action: options.action });
  ctx.out(options.json ? JSON.stringify({ eventId: options.id, ...r }) : `resolved ${r.type} breaker #${options.id} (tripped ${r.triggeredAt.toISOString()})`);
}

import { now } from '../../shared/clock/clock';
import { table, time } from '../format';
import type { CommandContext } from './context';

/**
 * `precog health`: the latest report of each component, judged now: a component whose last
 * report is older than its period × N (N = --stale-after, default 3) is STALE, whatever it said
 * then; a health read-out must not repeat "healthy" after everything stopped.
 *
 * Periods: the scheduled functions report once per run (their EventBridge rate, infra/functions.ts);
 * check-health also writes the judged components (prices, game-states, monitoring,
 * circuit-breakers) every run. The queue consumers and reconcile run on demand: never stale.
 */

const MINUTE = 60;

/** Seconds between two reports of a component, or null for an on-demand one. */
export const COMPONENT_PERIOD_SECONDS: Readonly<Record<string, number | null>> = Object.freeze({
  'ingest-markets': MINUTE,
  'ingest-game-states': MINUTE,
  'scan-edges': MINUTE,
  'monitor-positions': MINUTE,
  'check-health': MINUTE,
  'settle-markets': 5 * MINUTE,
  // Written by check-health each run.
  prices: MINUTE,
  'game-states': MINUTE,
  monitoring: MINUTE,
  'circuit-breakers': MINUTE,
  // Queue consumers and the console-only reconcile.
  'execute-entry': null,
  'execute-exit': null,
  reconcile: null,
});

export const DEFAULT_STALE_AFTER_PERIODS = 3;

export type OverallHealth = 'healthy' | 'degraded' | 'down' | 'stale' | 'unknown';

/** A health read-out that found a component down or stale, or no report at all (exit 1 after the report is printed). */
export class UnhealthyError extends Error {
  override name = 'UnhealthyError';
}

export interface JudgedComponent {
  component: string;
  /** What the component last reported. */
  status: string;
  last_check: Date;
  details: Record<string, unknown> | null;
  ageSeconds: number;
  periodSeconds: number | null;
  /** The last report is older than period × N. */
  stale: boolean;
}

/** Judges each latest report at `at`: stale when older than its period × `staleAfterPeriods`. */
export function judgeComponents(
  rows: ReadonlyArray<{ component: string; status: string; last_check: Date; details: Record<string, unknown> | null }>,
  at: Date,
  staleAfterPeriods: number,
): JudgedComponent[] {
  return rows.map((r) => {
    const ageSeconds = Math.max(0, Math.floor((at.getTime() - r.last_check.getTime()) / 1000));
    const periodSeconds = COMPONENT_PERIOD_SECONDS[r.component] ?? null;
    const stale = periodSeconds !== null && ageSeconds > periodSeconds * staleAfterPeriods;
    return { ...r, ageSeconds, periodSeconds, stale };
  });
}

/** The overall status: down and stale components first, then anything not healthy, open breakers and desyncs. */
export function overallHealth(components: readonly JudgedComponent[], openBreakers: number, openDesyncs: number): OverallHealth {
  if (components.length === 0) return 'unknown';
  if (components.some((c) => c.status === 'down')) return 'down';
  if (components.some((c) => c.stale)) return 'stale';
  if (components.some((c) => c.status !== 'healthy') || openBreakers > 0 || openDesyncs > 0) return 'degraded';
  return 'healthy';
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export async function healthReport(ctx: CommandContext, options: { staleAfter?: number; json?: boolean }): Promise<unknown> {
  const staleAfter = options.staleAfter ?? DEFAULT_STALE_AFTER_PERIODS;
  const at = now();
  const { rows } = await ctx.pool.query(
    `SELECT DISTINCT ON (component) component, status, last_check, details
     FROM system_health ORDER BY component, last_check DESC, health_id DESC`,
  );
  const { rows: breakers } = await ctx.pool.query(
    `SELECT event_id, breaker_type, triggered_at, trigger_value, notes FROM circuit_breaker_events WHERE resolved_at IS NULL ORDER BY event_id`,
  );
  const { rows: desyncs } = await ctx.pool.query(
    `SELECT desync_id, execution_mode, ticker, kind, local_value, venue_value, detected_at FROM venue_desyncs WHERE resolved_at IS NULL ORDER BY desync_id`,
  );
  const components = judgeComponents(rows, at, staleAfter);
  const status = overallHealth(components, breakers.length, desyncs.length);
  const report = { status, checkedAt: at.toISOString(), staleAfterPeriods: staleAfter, components, openBreakers: breakers, openDesyncs: desyncs };
  if (options.json) {
    ctx.out(JSON.stringify(report));
  } else {
    ctx.out(`overall: ${status} (at ${time(at)}; a component is stale after ${staleAfter} × its period without a report)`);
    if (components.length === 0) ctx.out('no component has reported: nothing has run against this database');
    else {
      for (const line of table(components, [
        { header: 'COMPONENT', cell: (c) => c.component },
        { header: 'STATUS', cell: (c) => (c.stale ? 'STALE' : c.status) },
        { header: 'REPORTED', cell: (c) => (c.stale ? `${c.status}, ${age(c.ageSeconds)}` : age(c.ageSeconds)) },
        { header: 'EVERY', cell: (c) => (c.periodSeconds === null ? 'on demand' : c.periodSeconds % 60 === 0 ? `${c.periodSeconds / 60} min` : `${c.periodSeconds} s`) },
        { header: 'DETAIL', cell: (c) => String(c.details?.detail ?? '') },
      ])) ctx.out(`  ${line}`);
    }
    ctx.out(breakers.length === 0 ? 'circuit breakers: none open' : `circuit breakers open: ${breakers.length}`);
    for (const b of breakers) ctx.out(`  #${b.event_id} ${b.breaker_type} since ${time(b.triggered_at)} ${JSON.stringify(b.trigger_value)}`);
    ctx.out(desyncs.length === 0 ? 'desyncs: none open' : `desyncs open: ${desyncs.length}`);
    for (const d of desyncs) ctx.out(`  #${d.desync_id} ${d.kind} ${d.ticker} [${d.execution_mode}] books ${JSON.stringify(d.local_value)} venue ${JSON.stringify(d.venue_value)}`);
  }
  const down = components.filter((c) => c.status === 'down').map((c) => c.component);
  const stale = components.filter((c) => c.stale && c.status !== 'down').map((c) => c.component);
  if (components.length === 0) throw new UnhealthyError('no component has reported');
  if (down.length > 0 || stale.length > 0) {
    throw new UnhealthyError([
      down.length > 0 ? `component${down.length === 1 ? '' : 's'} down: ${down.join(', ')}` : '',
      stale.length > 0 ? `stale (no report for ${staleAfter} periods): ${stale.join(', ')}` : '',
    ].filter(Boolean).join('; '));
  }
  return report;
}

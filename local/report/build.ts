import type pg from 'pg';
import { Decimal } from '../../shared/domain/decimal';
import { formatCount } from '../../shared/domain/quantity';
import { decimal } from '../../shared/db/rows';
import { exitFillPnl, exitOutcomes, maxDrawdown, positionExitDetails, strategyEquitySeries } from './series';
import type { ReportGame, ReportModelLine, ReportPosition, ReportSample, ReportSettlement, ReportStrategyPnl, ReportTrade, RunReport } from './types';

/**
 * The run's report, read from the database after the run (never from the runtime's counters), for
 * the run's markets only: the same database may hold earlier runs and other work.
 */
export interface ReportContext {
  scenario: string;
  description: string;
  speed: number;
  startedAt: Date;
  finishedAt: Date;
  venue: string;
  executionMode: 'paper' | 'live';
  resumed: boolean;
  games: ReportGame[];
  startingBalance: Decimal;
  endingBalance: Decimal;
  samples: ReportSample[];
  /** The warnings the run printed as they happened (breakers, desyncs, degraded components), in order. */
  warnings?: string[];
}

const money = (v: unknown) => new Decimal(String(v ?? 0)).toFixed(4);
const label = (name: unknown, version: unknown) => (name ? `${name} ${version}` : '(none)');
/** A count from the database (NUMERIC, Decimal) as the report shows it: "5", "2.97". */
const count = (value: unknown) => formatCount(decimal(value));

export async function buildRunReport(pool: pg.Pool, ctx: ReportContext): Promise<RunReport> {
  const tickers = ctx.games.flatMap((g) => g.tickers);
  const mode = ctx.executionMode;
  // A fill's model probability and edge come from one edge row: the one an entry was decided on;
  // for an exit (or an entry without one), the last row of its market, strategy, model and side at
  // or before the fill. edge_at_execution only when there is no row at all.
  const { rows: trades } = await pool.query(
    `SELECT t.trade_id, t.created_at, t.market_id, t.contract_side, t.side, t.quantity, t.price::text, coalesce(t.fees, 0)::text AS fees,
            o.purpose, s.strategy_name, s.strategy_version, s.config->>'kind' AS strategy_kind, m.model_name, m.model_version,
            t.position_id, er.exit_condition, er.exit_priority,
            coalesce(e.true_win_probability, later.true_win_probability)::text AS yes_probability,
            coalesce(e.edge, later.edge, t.edge_at_execution)::text AS edge
     FROM trades t
     LEFT JOIN orders o ON o.client_order_id = t.client_order_id
     LEFT JOIN exit_requests er ON er.exit_request_id = o.exit_request_id
     LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
     LEFT JOIN probability_models m ON m.model_id = t.model_id
     LEFT JOIN edges e ON e.edge_id = t.edge_id
     LEFT JOIN LATERAL (
       SELECT x.true_win_probability, x.edge FROM edges x
       WHERE t.edge_id IS NULL AND x.market_id = t.market_id AND x.strategy_id = t.strategy_id AND x.model_id = t.model_id
         AND x.side = t.contract_side AND x.created_at <= t.created_at
       ORDER BY x.created_at DESC, x.edge_id DESC LIMIT 1
     ) later ON true
     WHERE t.market_id = ANY($1::text[]) AND t.execution_mode = $2
     ORDER BY t.trade_id`,
    [tickers, mode],
  );
  const { rows: exits } = await pool.query(
    `SELECT er.exit_request_id, er.position_id, p.market_id, s.strategy_name, s.strategy_version, er.exit_condition, er.exit_priority,
            er.quantity, er.filled_quantity, er.status,
            (SELECT count(*)::int FROM orders o WHERE o.exit_request_id = er.exit_request_id) AS attempts
     FROM exit_requests er
     JOIN positions p ON p.position_id = er.position_id AND p.row_current_ind
     JOIN position_identities pi ON pi.position_id = er.position_id
     LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
     WHERE p.market_id = ANY($1::text[]) AND p.execution_mode = $2
     ORDER BY er.exit_request_id`,
    [tickers, mode],
  );
  const { rows: attempts } = await pool.query(
    `SELECT a.exit_request_id, a.position_id, p.market_id, a.attempt_number, a.order_type, a.limit_price::text, a.success,
            coalesce(o.filled_quantity, 0) AS filled_quantity, o.quantity AS order_quantity, o.status AS order_status
     FROM exit_attempts a
     JOIN positions p ON p.position_id = a.position_id AND p.row_current_ind
     LEFT JOIN orders o ON o.client_order_id = a.client_order_id
     WHERE p.market_id = ANY($1::text[]) AND p.execution_mode = $2
     ORDER BY a.exit_request_id, a.attempt_number, a.attempt_id`,
    [tickers, mode],
  );
  const { rows: positions } = await pool.query(
    `SELECT p.position_id, p.market_id, s.strategy_name, s.strategy_version, p.side, coalesce(p.original_quantity, p.quantity) AS entered,
            p.entry_price::text, p.quantity, p.status, coalesce(p.realized_pnl, 0)::text AS realized_pnl, coalesce(p.fees, 0)::text AS fees,
            coalesce((SELECT array_agg(DISTINCT x.exit_condition::text) FROM position_exits x WHERE x.position_id = p.position_id), '{}') AS exit_conditions,
            (SELECT array_agg(x.exit_condition::text ORDER BY x.exit_id) FROM position_exits x WHERE x.position_id = p.position_id) AS exits_in_order
     FROM positions p
     JOIN position_identities pi ON pi.position_id = p.position_id
     LEFT JOIN strategies s ON s.strategy_id = pi.strategy_id
     WHERE p.row_current_ind AND p.market_id = ANY($1::text[]) AND p.execution_mode = $2
     ORDER BY p.position_id`,
    [tickers, mode],
  );
  const { rows: breakers } = await pool.query(
    `SELECT event_id, breaker_type, triggered_at, resolved_at, coalesce(notes, trigger_value::text, '') AS reason
     FROM circuit_breaker_events
     -- tripped during the run, or open while it ran (a breaker open at start blocked its entries)
     WHERE (triggered_at >= $1 AND triggered_at <= $2) OR resolved_at IS NULL OR resolved_at >= $1 ORDER BY event_id`,
    [ctx.startedAt, ctx.finishedAt],
  );

  const { rows: settlementRows } = await pool.query(
    `SELECT market_id, outcome, payout::text, created_at FROM settlements WHERE market_id = ANY($1::text[]) ORDER BY market_id`,
    [tickers],
  );
  // The model's YES probability over the run, per market and model: every edge row (current or
  // superseded) is a reading at its time; both sides' rows carry the same probability.
  const { rows: modelRows } = await pool.query(
    `SELECT e.market_id, m.model_name, m.model_version, e.created_at, e.true_win_probability::text AS p
     FROM edges e JOIN probability_models m ON m.model_id = e.model_id
     WHERE e.market_id = ANY($1::text[]) AND e.created_at >= $2 AND e.created_at <= $3
     ORDER BY e.market_id, m.model_name, m.model_version, e.created_at, e.edge_id`,
    [tickers, ctx.startedAt, ctx.finishedAt],
  );

  const exitsByCondition = new Map<string, { condition: string; priority: string; count: number }>();
  for (const e of exits) {
    if (!decimal(e.filled_quantity).gt(0)) continue;
    const key = `${e.exit_condition}/${e.exit_priority}`;
    const entry = exitsByCondition.get(key) ?? { condition: e.exit_condition, priority: e.exit_priority, count: 0 };
    entry.count++;
    exitsByCondition.set(key, entry);
  }

  const byStrategy = new Map<string, { trades: number; positions: number; realized: Decimal; fees: Decimal; exposure: Decimal }>();
  const strategyOf = (row: { strategy_name: unknown; strategy_version: unknown }) => {
    const key = label(row.strategy_name, row.strategy_version);
    if (!byStrategy.has(key)) byStrategy.set(key, { trades: 0, positions: 0, realized: new Decimal(0), fees: new Decimal(0), exposure: new Decimal(0) });
    return byStrategy.get(key)!;
  };
  for (const t of trades) {
    const s = strategyOf(t);
    s.trades++;
    s.fees = s.fees.plus(t.fees);
    if (t.purpose === 'entry') s.exposure = s.exposure.plus(decimal(t.quantity).times(t.price));
  }
  for (const p of positions) {
    const s = strategyOf(p);
    s.positions++;
    s.realized = s.realized.plus(p.realized_pnl);
  }

  const realized = positions.reduce((sum, p) => sum.plus(p.realized_pnl), new Decimal(0));
  const fees = trades.reduce((sum, t) => sum.plus(t.fees), new Decimal(0));
  const iso = (value: unknown) => new Date(value as string).toISOString();

  const reportTrades: ReportTrade[] = trades.map((t) => {
    const yesProbability = t.yes_probability === null ? null : new Decimal(t.yes_probability);
    const purpose: string = t.purpose ?? 'unknown';
    return {
      tradeId: Number(t.trade_id), at: iso(t.created_at), ticker: t.market_id, side: t.contract_side, action: t.side,
      quantity: count(t.quantity), price: money(t.price), fees: money(t.fees), purpose,
      strategy: label(t.strategy_name, t.strategy_version), model: label(t.model_name, t.model_version),
      positionId: t.position_id === null ? null : Number(t.position_id), exitCondition: t.exit_condition ?? null,
      modelProbability: yesProbability === null ? null : (t.contract_side === 'no' ? new Decimal(1).minus(yesProbability) : yesProbability).toFixed(4),
      edge: t.edge === null ? null : money(t.edge),
      trigger: purpose === 'entry' ? `${t.strategy_kind ?? 'strategy'} entry`
        : t.exit_condition ? `${t.exit_condition}${t.exit_priority ? ` (${t.exit_priority})` : ''}` : purpose,
      realizedPnl: null,
    };
  });
  for (const [tradeId, pnl] of exitFillPnl(reportTrades)) {
    reportTrades.find((t) => t.tradeId === tradeId)!.realizedPnl = pnl.toFixed(4);
  }

  const settlements: ReportSettlement[] = settlementRows.map((r) => ({
    ticker: r.market_id, outcome: r.outcome, yesPayout: r.payout === null ? null : money(r.payout), at: iso(r.created_at),
  }));
  const settlementOf = new Map(settlements.map((s) => [s.ticker, s]));

  const reportPositions: ReportPosition[] = positions.map((p) => {
    const base = {
      positionId: Number(p.position_id), side: p.side as 'yes' | 'no', status: p.status as string,
      entered: count(p.entered), entryPrice: money(p.entry_price), realizedPnl: money(p.realized_pnl),
    };
    return {
      ...base, ticker: p.market_id, strategy: label(p.strategy_name, p.strategy_version), quantity: count(p.quantity),
      closedBy: [...new Set<string>(p.exits_in_order ?? [])].concat(p.status === 'settled' ? ['settled'] : []),
      ...positionExitDetails(base, reportTrades, settlementOf.get(p.market_id)),
      fees: money(p.fees),
    };
  });
  // Settlement paid the contracts still held when it closed the position.
  const settled = reportPositions.flatMap((p) => {
    const sold = reportTrades.filter((t) => t.positionId === p.positionId && t.purpose === 'exit').reduce((n, t) => n.plus(t.quantity), new Decimal(0));
    return p.settlementPayout === null ? [] : [{ positionId: p.positionId, contracts: new Decimal(p.entered).minus(sold), payout: new Decimal(p.settlementPayout) }];
  });

  const modelLines: ReportModelLine[] = [];
  for (const r of modelRows) {
    const model = label(r.model_name, r.model_version);
    let line = modelLines[modelLines.length - 1];
    if (!line || line.ticker !== r.market_id || line.model !== model) {
      line = { ticker: r.market_id, model, points: [] };
      modelLines.push(line);
    }
    line.points.push({ at: iso(r.created_at), yesProbability: money(r.p) });
  }
  // The scan writes the same probability many times: keep where it changed, and the last reading.
  for (const line of modelLines) {
    line.points = line.points.filter((point, i, all) => i === 0 || i === all.length - 1 || point.yesProbability !== all[i - 1]!.yesProbability);
  }

  return {
    scenario: ctx.scenario,
    description: ctx.description,
    speed: ctx.speed,
    startedAt: ctx.startedAt.toISOString(),
    finishedAt: ctx.finishedAt.toISOString(),
    wallSeconds: Math.round((ctx.finishedAt.getTime() - ctx.startedAt.getTime()) / 100) / 10,
    venue: ctx.venue,
    executionMode: mode,
    resumed: ctx.resumed,
    games: ctx.games,
    startingBalance: money(ctx.startingBalance),
    endingBalance: money(ctx.endingBalance),
    totals: {
      entries: trades.filter((t) => t.purpose === 'entry').length,
      exits: trades.filter((t) => t.purpose === 'exit').length,
      trades: trades.length,
      realizedPnl: money(realized),
      fees: money(fees),
      openPositions: positions.filter((p) => p.status === 'open').length,
      maxDrawdown: money(maxDrawdown(ctx.samples)),
    },
    trades: reportTrades,
    exits: exits.map((e) => ({
      exitRequestId: Number(e.exit_request_id), positionId: Number(e.position_id), ticker: e.market_id,
      strategy: label(e.strategy_name, e.strategy_version), condition: e.exit_condition, priority: e.exit_priority,
      quantity: count(e.quantity), filledQuantity: count(e.filled_quantity), status: e.status, attempts: e.attempts,
    })),
    exitsByCondition: [...exitsByCondition.values()].sort((a, b) => b.count - a.count || a.condition.localeCompare(b.condition)),
    exitAttempts: attempts.map((a) => ({
      exitRequestId: Number(a.exit_request_id), positionId: Number(a.position_id), ticker: a.market_id, attempt: a.attempt_number,
      orderType: a.order_type, limitPrice: a.limit_price === null ? null : money(a.limit_price), filledQuantity: count(a.filled_quantity),
      outcome: a.order_quantity !== null && decimal(a.filled_quantity).gte(decimal(a.order_quantity)) ? 'filled'
        : decimal(a.filled_quantity).gt(0) ? 'partial' : a.success === false ? 'unfilled' : (a.order_status ?? 'unknown'),
    })),
    positions: reportPositions,
    byStrategy: [...byStrategy.entries()].map(([strategy, s]) => ({
      strategy, trades: s.trades, positions: s.positions, realizedPnl: money(s.realized), fees: money(s.fees),
      exposure: money(s.exposure), roi: s.exposure.isZero() ? null : s.realized.div(s.exposure).toDecimalPlaces(4, Decimal.ROUND_HALF_UP).toFixed(4),
    })).sort((a, b) => a.strategy.localeCompare(b.strategy)),
    breakerEvents: breakers.map((b) => ({
      eventId: Number(b.event_id), type: b.breaker_type, trippedAt: iso(b.triggered_at),
      resolvedAt: b.resolved_at ? iso(b.resolved_at) : null, reason: String(b.reason),
    })),
    samples: ctx.samples,
    warnings: ctx.warnings ?? [],
    settlements,
    modelLines,
    strategyEquity: strategyEquitySeries(reportTrades, settlements, ctx.samples),
    exitOutcomes: exitOutcomes(reportTrades, settled),
  };
}

/** The report as terminal text. */
export function renderTextReport(r: RunReport): string {
  const lines: string[] = [];
  const usd = (v: string) => {
    const d = new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    return `${d.isNeg() ? '-' : '+'}$${d.abs().toFixed(2)}`;
  };
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  lines.push('', `=== Precog run report: ${r.scenario} (${r.venue}, ${r.executionMode}, ${(r.wallSeconds / 60).toFixed(0)} minutes of game time from ${r.startedAt}${r.resumed ? ', resumed' : ''}) ===`);
  for (const g of r.games) lines.push(`  ${g.away} ${g.awayScore} at ${g.home} ${g.homeScore} (final)`);
  lines.push(
    `  balance ${new Decimal(r.startingBalance).toFixed(2)} -> ${new Decimal(r.endingBalance).toFixed(2)}; realized P&L ${usd(r.totals.realizedPnl)} `
      + `(fees ${new Decimal(r.totals.fees).toFixed(2)}); ${r.totals.entries} entries, ${r.totals.exits} exit fills, ${r.totals.openPositions} positions open`
      + `; max drawdown ${new Decimal(r.totals.maxDrawdown ?? 0).toFixed(2)}`,
  );
  lines.push('', 'What happened (exit fills and settlement, P&L after fees)');
  if ((r.exitOutcomes ?? []).length === 0) lines.push('  no exit filled and nothing settled');
  for (const o of r.exitOutcomes ?? []) {
    lines.push(`  ${pad(o.condition, 22)}${pad(`${o.fills} fill${o.fills === 1 ? '' : 's'}`, 9)}${pad(`${o.gains} gain${o.gains === 1 ? '' : 's'}`, 9)}${pad(`${o.losses} loss${o.losses === 1 ? '' : 'es'}`, 10)}net ${usd(o.realizedPnl)}`);
  }
  lines.push('', 'Entries and exits (model p: the model\'s probability of the side traded)');
  lines.push(`  ${pad('#', 5)}${pad('ticker', 28)}${pad('side', 5)}${pad('action', 7)}${pad('qty', 6)}${pad('price', 8)}${pad('model p', 8)}${pad('edge', 7)}`
    + `${pad('fees', 7)}${pad('strategy', 20)}${pad('model', 18)}trigger`);
  const prob = (v: string | null | undefined) => (v ? new Decimal(v).toFixed(2) : '-');
  for (const t of r.trades) {
    lines.push(`  ${pad(t.tradeId, 5)}${pad(t.ticker, 28)}${pad(t.side, 5)}${pad(t.action, 7)}${pad(t.quantity, 6)}${pad(new Decimal(t.price).toFixed(2), 8)}`
      + `${pad(prob(t.modelProbability), 8)}${pad(prob(t.edge), 7)}${pad(new Decimal(t.fees).toFixed(2), 7)}${pad(t.strategy, 20)}${pad(t.model, 18)}`
      + `${t.trigger ?? t.purpose}${t.realizedPnl ? `, ${usd(t.realizedPnl)} after fees` : ''}`);
  }
  lines.push('', 'Exits by condition and priority');
  if (r.exitsByCondition.length === 0) lines.push('  none');
  for (const e of r.exitsByCondition) lines.push(`  ${pad(e.condition, 22)}${pad(e.priority, 10)}${e.count}`);
  lines.push('', 'Exit attempts');
  if (r.exitAttempts.length === 0) lines.push('  none');
  for (const a of r.exitAttempts) {
    lines.push(`  exit ${pad(a.exitRequestId, 5)}${pad(a.ticker, 28)}attempt ${pad(a.attempt, 3)}${pad(a.orderType, 7)}`
      + `${pad(a.limitPrice ? new Decimal(a.limitPrice).toFixed(2) : '-', 6)}filled ${pad(a.filledQuantity, 5)}${a.outcome}`);
  }
  lines.push('', 'Positions (exit price: average of the exit fills; ROI: realized P&L over the cost of the contracts bought)');
  for (const p of r.positions) {
    const roi = p.roi ? `${new Decimal(p.roi).times(100).toFixed(1)}%` : '-';
    const held = p.holdSeconds === null || p.holdSeconds === undefined ? '-' : `${(p.holdSeconds / 60).toFixed(1)} min`;
    lines.push(`  ${pad(p.positionId, 5)}${pad(p.ticker, 28)}${pad(p.strategy, 20)}${pad(p.side, 4)}${pad(`${p.entered} @ ${new Decimal(p.entryPrice).toFixed(2)}`, 13)}`
      + `${pad(`out ${p.exitPrice ? new Decimal(p.exitPrice).toFixed(2) : p.settlementPayout ? new Decimal(p.settlementPayout).toFixed(2) : '-'}`, 9)}`
      + `${pad(p.status, 8)}${pad(usd(p.realizedPnl), 10)}${pad(roi, 8)}${pad(held, 10)}${p.closedBy.join(' > ')}`);
  }
  lines.push('', 'Realized P&L by strategy version');
  for (const s of r.byStrategy) lines.push(`  ${pad(s.strategy, 20)}${pad(`${s.positions} positions`, 14)}${pad(`${s.trades} trades`, 11)}${usd(s.realizedPnl)}`);
  lines.push(...abComparison(r.byStrategy));
  lines.push('', 'Warnings (as the run printed them)');
  if ((r.warnings ?? []).length === 0) lines.push('  none');
  for (const w of r.warnings ?? []) lines.push(`  ${w}`);
  lines.push('', 'Circuit breaker events');
  if (r.breakerEvents.length === 0) lines.push('  none');
  for (const b of r.breakerEvents) lines.push(`  ${pad(b.type, 18)}tripped ${b.trippedAt}${b.resolvedAt ? `, resolved ${b.resolvedAt}` : ', unresolved'}  ${b.reason.slice(0, 80)}`);
  return lines.join('\n');
}

/**
 * The A/B lines: for each strategy run in several versions, whether they put the same capital at
 * risk. Equal exposure: their P&L compares directly. Unequal: P&L would reward the version that
 * bet more (a second contract on one game doubled it, issue 18), so they are compared on ROI.
 */
export function abComparison(byStrategy: readonly ReportStrategyPnl[]): string[] {
  const versions = new Map<string, ReportStrategyPnl[]>();
  for (const s of byStrategy) {
    const cut = s.strategy.lastIndexOf(' ');
    if (cut < 0 || s.exposure === undefined) continue;
    const name = s.strategy.slice(0, cut);
    versions.set(name, [...(versions.get(name) ?? []), s]);
  }
  const usd = (v: string) => `$${new Decimal(v).toFixed(2)}`;
  const signedUsd = (v: string) => {
    const d = new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    return `${d.isNeg() ? '-' : '+'}$${d.abs().toFixed(2)}`;
  };
  const pct = (roi: string | null | undefined) => {
    if (roi === null || roi === undefined) return 'n/a (nothing entered)';
    const d = new Decimal(roi).times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP);
    return `${d.isNeg() ? '' : '+'}${d.toFixed(1)}%`;
  };
  const lines: string[] = [];
  for (const [name, group] of versions) {
    if (group.length < 2) continue;
    const version = (s: ReportStrategyPnl) => s.strategy.slice(name.length + 1);
    const cents = (s: ReportStrategyPnl) => new Decimal(s.exposure!).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const equal = group.every((s) => cents(s).eq(cents(group[0]!)));
    if (equal) {
      lines.push(`  A/B ${name}: equal exposure (${usd(group[0]!.exposure!)} each): P&L compares directly (`
        + `${group.map((s) => `${version(s)} ${signedUsd(s.realizedPnl)}`).join(', ')})`);
    } else {
      lines.push(`  A/B ${name}: exposures differ (${group.map((s) => `${version(s)} ${usd(s.exposure!)}`).join(', ')}): `
        + `compare ROI, not P&L (${group.map((s) => `${version(s)} ${pct(s.roi)}`).join(', ')})`);
    }
  }
  return lines.length === 0 ? [] : ['', 'A/B comparison of versions', ...lines];
}

import { formatDuration } from '../../local/report/html';
import { Decimal } from '../../shared/domain/decimal';
import { METRIC_ROWS, formatRatio } from './html';
import type { BacktestReport } from './types';

const pad = (v: unknown, n: number) => String(v).padEnd(n);
const usd = (v: string) => {
  const d = new Decimal(v).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return `${d.isNeg() ? '-' : '+'}$${d.abs().toFixed(2)}`;
};

/** The report as console text: the run, the metrics side by side (the HTML's table), A/B, exits by condition, forecasts. */
export function formatBacktestText(r: BacktestReport): string {
  const lines: string[] = [];
  lines.push(`=== Precog backtest: ${r.tapeLabel} (tape ${r.tapeId.slice(0, 12)}…, ${r.window.from} → ${r.window.to}, seed ${r.seed}) ===`);
  lines.push(`Strategies ${r.strategies.map((s) => `${s.name} ${s.version}`).join(', ')}; model ${r.model ? `${r.model.name} ${r.model.version}` : "each strategy's own"}`);
  lines.push(`Fill model: ${Object.entries(r.fillModel).map(([k, v]) => `${k} ${v}`).join('; ') || '-'}`);
  lines.push(`Balance ${new Decimal(r.startingBalance).toFixed(2)} -> equity ${new Decimal(r.endingEquity).toFixed(2)}; realised P&L ${usd(r.totals.pnl)} (fees ${new Decimal(r.totals.fees).toFixed(2)}), ROI ${formatRatio(r.totals.roi)}, `
    + `max drawdown ${new Decimal(r.totals.maxDrawdown).toFixed(2)}, under water ${formatDuration(r.totals.timeUnderWaterSeconds)}`);
  const columns = [r.totals, ...r.byVersion];
  const cells = columns.flatMap((c) => [c.strategy, ...METRIC_ROWS.map((row) => row.show(c))]);
  const width = Math.max(18, ...cells.map((cell) => cell.length + 2));
  lines.push('', 'Metrics (Sharpe/Sortino: daily returns, risk-free 0, x sqrt(365))');
  lines.push(`  ${pad('', 34)}${columns.map((c) => pad(c.strategy === 'all' ? 'all versions' : c.strategy, width)).join('')}`);
  for (const row of METRIC_ROWS) lines.push(`  ${pad(row.label, 34)}${columns.map((c) => pad(row.show(c).replace(/\u2212/g, '-'), width)).join('')}`);
  lines.push('', 'A/B (mean P&L per closed position, B - A; 95 % bootstrap interval)');
  if (r.ab.length === 0) lines.push('  none (one version per strategy)');
  for (const ab of r.ab) {
    lines.push(`  ${ab.strategy} ${ab.b} vs ${ab.a}: ${usd(ab.meanDifference)} `
      + (ab.interval ? `[${usd(ab.interval.low)}, ${usd(ab.interval.high)}] (${ab.resamples} resamples, seed ${ab.seed})` : '(n/a: fewer than 2 closed positions a side)'));
  }
  lines.push('', 'P&L by exit condition');
  for (const m of columns) {
    for (const c of m.byCondition) lines.push(`  ${pad(m.strategy === 'all' ? 'all versions' : m.strategy, width)}${pad(c.condition, 22)}${pad(`${c.exits} fill${c.exits === 1 ? '' : 's'}`, 10)}${usd(c.pnl)}`);
  }
  lines.push('', 'Forecasts: Brier score and log loss, model against the market at the same moments');
  if (r.forecasts.length === 0) lines.push('  none (no edge row of a settled market)');
  for (const f of r.forecasts) {
    lines.push(`  ${pad(f.model, width)}${pad(`${f.modelScore.n} moments`, 14)}Brier ${f.modelScore.brier} (market ${f.marketScore.brier}), log loss ${f.modelScore.logLoss} (market ${f.marketScore.logLoss})`);
  }
  return lines.join('\n');
}

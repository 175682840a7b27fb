import { Decimal } from '../../shared/domain/decimal';
import {
  documentHead,
  STRATEGY_COLOURS,
  card,
  dollarChart,
  escapeHtml as esc,
  formatDollars,
  formatDuration,
  meta,
  signClass,
  table,
  type ChartAxis,
  type Series,
} from '../../local/report/html';
import type { BacktestMetrics, BacktestReport, MaybeMetric } from './types';

/**
 * The HTML report of a backtest: one self-contained file like the local run's (inline CSS and
 * SVG, no script, no request; the same Content-Security-Policy), built from the local report's
 * components. Every figure is report.json's, formatted: money rounded half-up to cents, ratios
 * as percentages with two decimals, Sharpe/Sortino/profit factor with two decimals; "n/a" and
 * "∞" as the report says them.
 */
export function renderBacktestHtml(report: BacktestReport): string {
  const versions = report.byVersion;
  const title = `Precog backtest: ${report.tapeLabel}`;
  return `${documentHead(title)}<header>
<h1>Precog backtest: <span data-testid="tape-label">${esc(report.tapeLabel)}</span></h1>
<dl class="meta">
${meta('Tape', `<span class="mono" data-testid="tape-id">${esc(report.tapeId)}</span>`)}
${meta('Window', `<span data-testid="window">${esc(isoMinute(report.window.from))} → ${esc(isoMinute(report.window.to))} UTC</span>`)}
${meta('Strategies', `<span data-testid="strategies">${esc(report.strategies.map((s) => `${s.name} ${s.version}`).join(', '))}</span>`)}
${meta('Model', esc(report.model ? `${report.model.name} ${report.model.version}` : "each strategy's own"))}
${meta('Seed', `<span data-testid="seed">${esc(report.seed)}</span>`)}
${meta('Fill model', esc(Object.entries(report.fillModel).map(([k, v]) => `${k}: ${v}`).join('; ') || '—'))}
</dl>
</header>
<main>
<section class="cards" aria-label="Headline numbers">
${card('Realised P&L', 'pnl', formatDollars(report.totals.pnl), signClass(report.totals.pnl))}
${card('Fees', 'fees', formatDollars(report.totals.fees, false))}
${card('ROI on the opening balance', 'roi', formatRatio(report.totals.roi), signClass(report.totals.roi))}
${card('Opening balance', 'starting-balance', formatDollars(report.startingBalance, false))}
${card('Ending equity', 'ending-equity', formatDollars(report.endingEquity, false))}
${card('Max drawdown', 'max-drawdown', formatDollars(new Decimal(report.totals.maxDrawdown).negated().toFixed()), signClass(`-${report.totals.maxDrawdown}`))}
${card('Sharpe (daily, annualised)', 'sharpe', report.totals.sharpe.value === null ? shortDisplay(report.totals.sharpe) : formatMaybe(report.totals.sharpe, 'number'))}
${card('Win rate', 'win-rate', formatMaybe(report.totals.winRate, 'ratio'))}
</section>

<section>
<h2>Equity</h2>
${equityCharts(report)}
</section>

<section>
<h2>Metrics by strategy version</h2>
<p class="note">Realised P&amp;L is after fees, settlement included. ROI on the opening balance; ROI on cost as paper_roi is defined (closed positions' P&amp;L over what their buys cost). Sharpe and Sortino: daily returns of the equity, risk-free 0, annualised by √365 (Sharpe: sample standard deviation; Sortino: downside deviation). Closing-line value: the last recorded price of the side bought before the market closed, minus the entry price.</p>
${metricsTable(report.totals, versions)}
</section>

<section>
<h2>A/B</h2>
${abTable(report)}
</section>

<section>
<h2>Forecasts: the model against the market</h2>
<p class="note">At every decision moment (an edge row) of a market that settled YES or NO: the model's probability of YES and the market's own (the mid of its quotes), scored against the outcome. Lower is better; a model with an edge scores below the market.</p>
${forecastTable(report)}
</section>

<section>
<h2>P&amp;L by exit condition</h2>
<p class="note">Per exit fill (and per settlement): its P&amp;L after fees, the entry's fees shared by contract.</p>
${conditionTable([report.totals, ...versions])}
</section>

<section>
<h2>Positions</h2>
${positionsTable(report)}
</section>
</main>
<footer>Read back from the replay database after the run. Money is exact decimal, shown rounded to cents. Times are the replay's (virtual) clock.</footer>
</body>
</html>
`;
}

/** A fraction as a percentage with two decimals, rounded half-up: "−0.40%". */
export function formatRatio(value: string | null): string {
  if (value === null) return '—';
  const pct = new Decimal(value).times(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return `${pct.isNegative() ? '\u2212' : ''}${pct.abs().toFixed(2)}%`;
}

/** A metric that may not exist: its display ("n/a …", "∞") when absent; else a ratio, a number (two decimals) or dollars. */
export function formatMaybe(m: MaybeMetric, as: 'ratio' | 'number' | 'dollars'): string {
  if (m.value === null) return m.display;
  if (as === 'ratio') return formatRatio(m.value);
  if (as === 'dollars') return formatDollars(m.value);
  const d = new Decimal(m.value).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return `${d.isNegative() ? '\u2212' : ''}${d.abs().toFixed(2)}`;
}

/** "n/a" of "n/a (fewer than 2 days)": a card has no room for the reason (the metrics table gives it). */
const shortDisplay = (m: MaybeMetric) => m.display.replace(/ \(.*\)$/, '');

/** ["a", "a", "a", "b"] → ["a ×3", "b"]. */
export function compressRuns(items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length;) {
    let j = i;
    while (j < items.length && items[j] === items[i]) j++;
    out.push(j - i > 1 ? `${items[i]} ×${j - i}` : items[i]!);
    i = j;
  }
  return out;
}

const isoMinute = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** The window in hours from its start, with ticks at UTC midnights (or every few hours within a day). */
function windowAxis(report: BacktestReport): { axis: ChartAxis; x: (iso: string) => number } {
  const from = Date.parse(report.window.from);
  const to = Date.parse(report.window.to);
  const hours = Math.max((to - from) / 3_600_000, 1 / 60);
  const x = (iso: string) => (Date.parse(iso) - from) / 3_600_000;
  const ticks: ChartAxis['ticks'] = [];
  if (hours > 48) {
    for (let t = Math.ceil(from / 86_400_000) * 86_400_000; t <= to; t += 86_400_000) {
      ticks.push({ at: (t - from) / 3_600_000, label: new Date(t).toISOString().slice(5, 10) });
    }
  } else {
    const step = hours > 12 ? 6 : hours > 3 ? 1 : 0.25;
    for (let h = 0; h <= hours + 1e-9; h += step) ticks.push({ at: h, label: new Date(from + h * 3_600_000).toISOString().slice(11, 16) });
  }
  return { axis: { max: hours, ticks, title: 'UTC (virtual time)' }, x };
}

function equityCharts(report: BacktestReport): string {
  if (report.equity.length === 0) return '<p class="empty" data-testid="equity-empty">no equity points</p>';
  const { axis, x } = windowAxis(report);
  const start = new Decimal(report.startingBalance);
  const series: Series[] = [
    { name: 'all', colour: '#1d2430', points: report.equity.map((p) => ({ minute: x(p.at), value: new Decimal(p.equity).minus(start) })) },
    ...report.byVersion.map((v, i) => ({
      name: v.strategy,
      colour: STRATEGY_COLOURS[i % STRATEGY_COLOURS.length]!,
      points: v.equity.map((p) => ({ minute: x(p.at), value: new Decimal(p.equity).minus(start) })),
    })),
  ];
  const deepest = report.equity.reduce((m, p) => Decimal.max(m, p.drawdown), new Decimal(0));
  return `${dollarChart({
    testId: 'equity-chart',
    lineTestId: 'equity-line',
    title: 'Equity − opening balance (cash + held at the bid): the run and each version alone',
    series,
    samples: [],
    axis,
  })}
${dollarChart({
    testId: 'drawdown-chart',
    lineTestId: 'drawdown-area',
    title: 'Drawdown: equity below its running peak',
    series: [{ name: 'drawdown', colour: '#b3261e', points: report.equity.map((p) => ({ minute: x(p.at), value: new Decimal(p.drawdown).negated() })) }],
    samples: [],
    area: true,
    note: deepest.gt(0) ? `deepest ${formatDollars(deepest.negated().toFixed())}` : 'no drawdown',
    axis,
  })}`;
}

/** The rows of the metrics table: label, key (data-metric) and how a version's value shows. */
export const METRIC_ROWS: Array<{ label: string; key: string; show: (m: BacktestMetrics) => string }> = [
  { label: 'Realised P&L', key: 'pnl', show: (m) => formatDollars(m.pnl) },
  { label: 'Fees', key: 'fees', show: (m) => formatDollars(m.fees, false) },
  { label: 'ROI (opening balance)', key: 'roi', show: (m) => formatRatio(m.roi) },
  { label: 'ROI on cost', key: 'roiOnCost', show: (m) => formatRatio(m.roiOnCost) },
  { label: 'Positions (closed)', key: 'positions', show: (m) => `${m.positions} (${m.closedPositions})` },
  { label: 'Trades', key: 'trades', show: (m) => String(m.trades) },
  { label: 'Win rate', key: 'winRate', show: (m) => formatMaybe(m.winRate, 'ratio') },
  { label: 'Expectancy (per closed position)', key: 'expectancy', show: (m) => formatMaybe(m.expectancy, 'dollars') },
  { label: 'Profit factor', key: 'profitFactor', show: (m) => formatMaybe(m.profitFactor, 'number') },
  { label: 'Max drawdown', key: 'maxDrawdown', show: (m) => `${formatDollars(m.maxDrawdown, false)} (${formatRatio(m.maxDrawdownPct)})` },
  { label: 'Time under water', key: 'timeUnderWater', show: (m) => formatDuration(m.timeUnderWaterSeconds) },
  { label: 'Sharpe', key: 'sharpe', show: (m) => formatMaybe(m.sharpe, 'number') },
  { label: 'Sortino', key: 'sortino', show: (m) => formatMaybe(m.sortino, 'number') },
  { label: 'Fill rate (contracts)', key: 'fillRateContracts', show: (m) => `${formatMaybe(m.fillRate.contracts, 'ratio')} (${m.fillRate.contractsFilled} of ${m.fillRate.contractsOrdered})` },
  { label: 'Fill rate (orders)', key: 'fillRateOrders', show: (m) => `${formatMaybe(m.fillRate.ordersRate, 'ratio')} (${m.fillRate.ordersWithFill} of ${m.fillRate.orders})` },
  { label: 'Closing-line value (mean)', key: 'clvMean', show: (m) => formatMaybe(m.closingLine.mean, 'dollars') },
  { label: 'Closing line beaten', key: 'clvPositive', show: (m) => `${formatMaybe(m.closingLine.sharePositive, 'ratio')} of ${m.closingLine.entries}` },
];

function metricsTable(totals: BacktestMetrics, versions: BacktestMetrics[]): string {
  const columns = [totals, ...versions];
  const head = `<th>Metric</th>${columns.map((c) => `<th class="num">${esc(c.strategy === 'all' ? 'all versions' : c.strategy)}</th>`).join('')}`;
  const body = METRIC_ROWS.map((row) => `<tr><td>${esc(row.label)}</td>${columns
    .map((c) => `<td class="num" data-metric="${esc(row.key)}" data-strategy="${esc(c.strategy)}">${esc(row.show(c))}</td>`)
    .join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table data-testid="metrics-table"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function abTable(report: BacktestReport): string {
  return table(
    'ab-table',
    [
      { head: 'Strategy', cell: (r) => esc(r.strategy) },
      { head: 'A', cell: (r) => esc(r.a) },
      { head: 'B', cell: (r) => esc(r.b) },
      { head: 'P&L per position, B − A', num: true, cell: (r) => esc(formatDollars(r.meanDifference)), cls: (r) => signClass(r.meanDifference) },
      {
        head: '95 % interval (bootstrap)',
        num: true,
        cell: (r) => esc(r.interval ? `${formatDollars(r.interval.low)} … ${formatDollars(r.interval.high)}` : 'n/a (fewer than 2 closed positions a side)'),
      },
      { head: 'Resamples (seed)', num: true, cell: (r) => esc(`${r.resamples} (${r.seed})`) },
    ],
    report.ab,
  );
}

function conditionTable(metrics: BacktestMetrics[]): string {
  const rows = metrics.flatMap((m) => m.byCondition.map((c) => ({ strategy: m.strategy, ...c })));
  return table(
    'exit-conditions-table',
    [
      { head: 'Strategy', cell: (r) => esc(r.strategy === 'all' ? 'all versions' : r.strategy) },
      { head: 'Condition', cell: (r) => esc(r.condition) },
      { head: 'Fills', num: true, cell: (r) => esc(r.exits) },
      { head: 'P&L', num: true, cell: (r) => esc(formatDollars(r.pnl)), cls: (r) => signClass(r.pnl) },
    ],
    rows,
  );
}

function forecastTable(report: BacktestReport): string {
  return table(
    'forecasts-table',
    [
      { head: 'Model', cell: (r) => esc(r.model) },
      { head: 'Moments', num: true, cell: (r) => esc(r.modelScore.n) },
      { head: 'Brier (model)', num: true, cell: (r) => esc(r.modelScore.brier) },
      { head: 'Brier (market)', num: true, cell: (r) => esc(r.marketScore.brier) },
      { head: 'Log loss (model)', num: true, cell: (r) => esc(r.modelScore.logLoss) },
      { head: 'Log loss (market)', num: true, cell: (r) => esc(r.marketScore.logLoss) },
    ],
    report.forecasts,
  );
}

function positionsTable(report: BacktestReport): string {
  return table(
    'positions-table',
    [
      { head: 'Position', num: true, cell: (p) => esc(p.positionId) },
      { head: 'Strategy', cell: (p) => esc(p.strategy) },
      { head: 'Ticker', cell: (p) => esc(p.ticker), cls: () => 'mono' },
      { head: 'Side', cell: (p) => esc(p.side.toUpperCase()) },
      { head: 'P&L', num: true, cell: (p) => esc(formatDollars(p.pnl)), cls: (p) => signClass(p.pnl) },
      { head: 'Fees', num: true, cell: (p) => esc(formatDollars(p.fees, false)) },
      { head: 'Closed by', cell: (p) => esc(p.closed ? compressRuns(p.closedBy).join(' > ') : 'open') },
    ],
    report.positions,
  );
}

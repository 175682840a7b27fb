import { Decimal } from 'decimal.js';
import { drawdownSeries, minuteAt } from './series';
import type {
  ReportBreakerEvent,
  ReportExitOutcome,
  ReportModelLine,
  ReportSettlement,
  ReportExit,
  ReportExitAttempt,
  ReportGame,
  ReportPosition,
  ReportSample,
  ReportStrategyPnl,
  ReportTrade,
  RunReport,
} from './types';

/**
 * The HTML report of a local run: one self-contained file (inline CSS, inline SVG, no script, no
 * font, no request of any kind; a Content-Security-Policy forbids them too), readable offline.
 *
 * Money and prices stay decimal strings and are formatted through decimal.js. The only place they
 * become JS numbers is the pixel coordinates of the charts, where a float is harmless.
 */
/**
 * The start of a self-contained report page up to <body>: no script, no request of any kind (the
 * Content-Security-Policy forbids them), the report stylesheet inline. The run and backtest reports share it.
 */
export function documentHead(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
`;
}

export function renderHtmlReport(report: RunReport): string {
  const samples = report.samples ?? [];
  const trades = report.trades ?? [];
  const title = `Precog run: ${report.scenario}`;

  return `${documentHead(title)}<header>
<h1>Precog local run: <span data-testid="scenario">${esc(report.scenario)}</span></h1>
<p class="description"><span class="label">Scenario, as scripted:</span> <span data-testid="description">${esc(report.description)}</span></p>
${outcomesSummary(report.exitOutcomes ?? [])}
<dl class="meta">
${meta('Venue', `${esc(report.venue)} (${esc(report.executionMode)})`)}
${meta('Game time', `${esc(formatSeconds(report.wallSeconds))}`)}
${meta('Started', esc(formatIsoTime(report.startedAt, true)))}
${meta('Finished', esc(formatIsoTime(report.finishedAt, true)))}
${meta('Resumed', report.resumed ? '<span class="badge warn" data-testid="resumed">yes: resumed an interrupted run</span>' : '<span data-testid="resumed">no</span>')}
</dl>
</header>
<main>
<section class="cards" aria-label="Headline numbers">
${card('Realized P&L', 'realized-pnl', formatDollars(report.totals.realizedPnl), signClass(report.totals.realizedPnl))}
${card('Fees', 'fees', formatDollars(report.totals.fees, false))}
${card('Entries', 'entries', formatCount(report.totals.entries))}
${card('Exits', 'exits', formatCount(report.totals.exits))}
${card('Trades', 'trades', formatCount(report.totals.trades))}
${card('Starting balance', 'starting-balance', formatDollars(report.startingBalance, false))}
${card('Ending balance', 'ending-balance', formatDollars(report.endingBalance, false))}
${card('Open positions', 'open-positions', formatCount(report.totals.openPositions))}
${card('Max drawdown', 'max-drawdown', report.totals.maxDrawdown === undefined ? '—' : formatDollars(new Decimal(report.totals.maxDrawdown).negated().toFixed()), signClass(`-${report.totals.maxDrawdown}`))}
</section>

<section>
<h2>Equity</h2>
${equityChart(samples, report.startingBalance)}
${drawdownChart(samples)}
${strategyEquityChart(report, samples)}
</section>

<section>
<h2>Markets</h2>
<p class="note">Every market chart is on the YES scale (left axis): the YES bid and ask, the model's probability of YES (dashed step line: the edge is its distance from the price), and each fill at the game minute it happened: ▲ entry, ▼ exit, ◆ the settlement (what a YES contract paid). A NO fill is drawn hollow at 1 − its price, the YES price it stands for (buying NO at 40¢ is selling YES at 60¢). Contracts held are the shaded steps (right axis; NO held below zero). Markers that would cover one another are moved apart, with a line to their point. A market nothing traded is listed without a chart.</p>
${marketSections(report, samples, trades)}
</section>

<section>
<h2>Games</h2>
${gamesTable(report.games ?? [])}
</section>

<section>
<h2>Trades</h2>
${tradesTable(trades, samples)}
</section>

<section class="two-col">
<div>
<h2>Exits by condition</h2>
${exitsByConditionTable(report.exitsByCondition ?? [])}
</div>
<div>
<h2>P&amp;L by strategy</h2>
${strategyTable(report.byStrategy ?? [])}
</div>
</section>

<section>
<h2>Exits</h2>
${exitsTable(report.exits ?? [])}
</section>

<section>
<h2>Exit attempts</h2>
${exitAttemptsTable(report.exitAttempts ?? [])}
</section>

<section>
<h2>Positions</h2>
${positionsTable(report.positions ?? [])}
</section>

<section>
<h2>Warnings</h2>
${(report.warnings ?? []).length === 0 ? '<p>none</p>' : `<ul class="warnings">${(report.warnings ?? []).map((w) => `<li>${esc(w.replace(/^! /, ''))}</li>`).join('')}</ul>`}
</section>

<section>
<h2>Breaker events</h2>
${breakersTable(report.breakerEvents ?? [])}
</section>
</main>
<footer>Read back from the run's database after it finished. Money is exact decimal, shown rounded to cents; prices are shown exactly.</footer>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const MINUS = '\u2212';

/** HTML-escapes any value (text and attribute safe). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
const esc = escapeHtml;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function parseDecimal(value: string | null | undefined): Decimal | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const d = new Decimal(value.trim());
    return d.isFinite() ? d : undefined;
  } catch {
    return undefined;
  }
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Dollars rounded half-up to cents by decimal.js: "+$12.34", "−$5.00", "$0.00" (signed), or
 * "$1,000.00" (unsigned; a negative amount still shows its minus). Unparseable input is returned
 * as it is (the caller escapes it).
 */
export function formatDollars(value: string, signed = true): string {
  const d = parseDecimal(value);
  if (!d) return String(value ?? '—');
  const cents = d.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const [whole = '0', fraction = '00'] = cents.abs().toFixed(2).split('.');
  const body = `$${groupThousands(whole)}.${fraction}`;
  if (cents.isZero()) return body;
  if (cents.isNegative()) return MINUS + body;
  return signed ? `+${body}` : body;
}

/** A price or fee exactly, with at least two decimals: "0.42", "0.4250". */
export function formatPrice(value: string | null): string {
  if (value === null || value === undefined) return '—';
  const d = parseDecimal(value);
  if (!d) return String(value);
  return d.decimalPlaces() <= 2 ? d.toFixed(2) : d.toFixed();
}

function formatMoneyExact(value: string): string {
  const d = parseDecimal(value);
  if (!d) return String(value);
  const text = formatPrice(value);
  return d.isNegative() ? `${MINUS}$${text.slice(1)}` : `$${text}`;
}

export function signClass(value: string): string {
  const d = parseDecimal(value)?.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  if (!d || d.isZero()) return '';
  return d.isNegative() ? 'neg' : 'pos';
}

function formatCount(n: number): string {
  return Number.isFinite(n) ? String(n) : '—';
}

/** A game minute with one decimal: "30.0", "44.4". */
export function formatMinute(minute: number): string {
  return Number.isFinite(minute) ? minute.toFixed(1) : '—';
}

/** A duration: "45 s", "14 min 05 s", "2 h 03 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A fraction as a signed percentage: "+12.5%", "−3.0%". */
function formatPercent(value: string | null): string {
  const d = parseDecimal(value);
  if (!d) return '—';
  const pct = d.times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP);
  if (pct.isZero()) return '0.0%';
  return `${pct.isNegative() ? MINUS : '+'}${pct.abs().toFixed(1)}%`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${(seconds - m * 60).toFixed(0)} s (${seconds.toFixed(1)} s)`;
}

/** "17:03:12" (UTC) or, with the date, "2025-09-07 17:03:12 UTC"; the raw text if unparseable. */
export function formatIsoTime(iso: string | null, withDate = false): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso);
  const full = new Date(t).toISOString();
  return withDate ? `${full.slice(0, 10)} ${full.slice(11, 19)} UTC` : full.slice(11, 19);
}

export function meta(label: string, valueHtml: string): string {
  return `<div><dt>${esc(label)}</dt><dd>${valueHtml}</dd></div>`;
}

export function card(label: string, testId: string, value: string, cls = ''): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value ${cls}" data-testid="${esc(testId)}">${esc(value)}</div></div>`;
}

// ---------------------------------------------------------------------------------------------
// Charts (inline SVG). Decimal strings become numbers here for pixel coordinates only.

/** Chart width in viewBox units: about the page's content width, so text is drawn near its nominal size. */
const W = 1200;

/** Pixel coordinate text; never NaN (a non-finite input would be a bug, drawn at 0). */
function px(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : '0';
}

function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  if (!Number.isFinite(span) || span === 0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function minuteDomain(samples: ReportSample[]): number {
  const max = samples.reduce((m, s) => (Number.isFinite(s.minute) ? Math.max(m, s.minute) : m), 0);
  return Math.max(60, Math.ceil(max));
}

function minuteAxis(x: (m: number) => number, maxMinute: number, yBase: number, top: number): string {
  const ticks = [0, 15, 30, 45, 60].filter((m) => m <= maxMinute);
  if (maxMinute > 60) ticks.push(maxMinute);
  const parts = ticks.map((m) => {
    const xm = px(x(m));
    return `<line class="grid" x1="${xm}" y1="${px(top)}" x2="${xm}" y2="${px(yBase)}"/><text class="tick" x="${xm}" y="${px(yBase + 14)}" text-anchor="middle">${m}</text>`;
  });
  const quarters = ['Q1', 'Q2', 'Q3', 'Q4']
    .map((q, i) => `<text class="quarter" x="${px(x(i * 15 + 7.5))}" y="${px(top + 11)}" text-anchor="middle">${q}</text>`)
    .join('');
  return `${parts.join('')}${quarters}<line class="axis" x1="${px(x(0))}" y1="${px(yBase)}" x2="${px(x(maxMinute))}" y2="${px(yBase)}"/><text class="axis-title" x="${px(x(maxMinute))}" y="${px(yBase + 28)}" text-anchor="end">game minute</text>`;
}

function timeAxis(x: (v: number) => number, axis: ChartAxis, yBase: number, top: number): string {
  const parts = axis.ticks.map((t) => {
    const xt = px(x(t.at));
    return `<line class="grid" x1="${xt}" y1="${px(top)}" x2="${xt}" y2="${px(yBase)}"/><text class="tick" x="${xt}" y="${px(yBase + 14)}" text-anchor="middle">${esc(t.label)}</text>`;
  });
  return `${parts.join('')}<line class="axis" x1="${px(x(0))}" y1="${px(yBase)}" x2="${px(x(axis.max))}" y2="${px(yBase)}"/><text class="axis-title" x="${px(x(axis.max))}" y="${px(yBase + 28)}" text-anchor="end">${esc(axis.title)}</text>`;
}

function equityChart(samples: ReportSample[], startingBalance: string): string {
  const points = samples
    .map((s) => ({ minute: s.minute, equity: parseDecimal(s.equity) }))
    .filter((p): p is { minute: number; equity: Decimal } => Number.isFinite(p.minute) && p.equity !== undefined);
  if (points.length === 0) return '<p class="empty" data-testid="equity-empty">no samples</p>';

  const H = 260;
  const left = 104, right = 20, top = 34, bottom = 36;
  const maxMinute = minuteDomain(samples);
  const start = parseDecimal(startingBalance);
  const equities = points.map((p) => p.equity);
  const min = Decimal.min(...equities);
  const max = Decimal.max(...equities);
  let lo = Decimal.min(min, start ?? min).toNumber();
  let hi = Decimal.max(max, start ?? max).toNumber();
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  } else {
    const pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
  }
  const x = linear(0, maxMinute, left, W - right);
  const y = linear(lo, hi, H - bottom, top);

  const polyline = points.map((p) => `${px(x(p.minute))},${px(y(p.equity.toNumber()))}`).join(' ');
  const last = points[points.length - 1]!;
  const labels: { v: number; text: string; cls: string }[] = [
    { v: max.toNumber(), text: `max ${formatDollars(max.toFixed(), false)}`, cls: 'tick' },
    { v: min.toNumber(), text: `min ${formatDollars(min.toFixed(), false)}`, cls: 'tick' },
  ];
  let startLine = '';
  if (start) {
    const ys = y(start.toNumber());
    startLine = `<line class="ref" x1="${px(left)}" y1="${px(ys)}" x2="${px(W - right)}" y2="${px(ys)}"/>`;
    if (labels.every((l) => Math.abs(y(l.v) - ys) > 12)) {
      labels.push({ v: start.toNumber(), text: `start ${formatDollars(start.toFixed(), false)}`, cls: 'tick ref-label' });
    }
  }
  if (Math.abs(y(labels[0]!.v) - y(labels[1]!.v)) < 12) labels.splice(1, 1);
  const yLabels = labels
    .map((l) => `<line class="grid" x1="${px(left)}" y1="${px(y(l.v))}" x2="${px(W - right)}" y2="${px(y(l.v))}"/><text class="${l.cls}" x="${px(left - 6)}" y="${px(y(l.v) + 4)}" text-anchor="end">${esc(l.text)}</text>`)
    .join('');

  return `<figure>
<svg data-testid="equity-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="equity-title" preserveAspectRatio="xMidYMid meet">
<title id="equity-title">Equity over the game (cash + open positions at the bid)</title>
<text class="chart-title" x="${px(left)}" y="16">Equity: cash + open positions at the bid</text>
<text class="legend-text" x="${px(W - right)}" y="16" text-anchor="end">final ${esc(formatDollars(last.equity.toFixed(), false))}</text>
${yLabels}
${startLine}
${minuteAxis(x, maxMinute, H - bottom, top)}
<line class="axis" x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(H - bottom)}"/>
<polyline class="equity" points="${polyline}"/>
<circle class="equity-dot" cx="${px(x(last.minute))}" cy="${px(y(last.equity.toNumber()))}" r="3"/>
</svg>
</figure>`;
}

interface TickerGroup {
  heading: string;
  game: ReportGame | null;
  tickers: string[];
}

function marketSections(report: RunReport, samples: ReportSample[], trades: ReportTrade[]): string {
  const games = report.games ?? [];
  const seen = new Set<string>();
  const groups: TickerGroup[] = games.map((g) => {
    const tickers = (g.tickers ?? []).filter((t) => !seen.has(t));
    tickers.forEach((t) => seen.add(t));
    return { heading: `${g.name}: ${g.away} ${g.awayScore} – ${g.homeScore} ${g.home}`, game: g, tickers };
  });
  const others: string[] = [];
  const addOther = (t: string) => {
    if (!seen.has(t)) {
      seen.add(t);
      others.push(t);
    }
  };
  samples.forEach((s) => Object.keys(s.markets ?? {}).forEach(addOther));
  trades.forEach((t) => addOther(t.ticker));
  if (others.length > 0) groups.push({ heading: 'Other markets', game: null, tickers: others });
  if (groups.every((g) => g.tickers.length === 0)) return '<p class="empty">no markets</p>';

  const settlements = new Map((report.settlements ?? []).map((s) => [s.ticker, s]));
  const modelLines = report.modelLines ?? [];
  return groups
    .filter((g) => g.tickers.length > 0)
    .map((g) => {
      const body = g.tickers.map((t) => {
        const own = trades.filter((tr) => tr.ticker === t);
        // A market nothing traded gets a line, not an empty chart.
        if (own.length === 0) {
          return `<p class="untraded" data-testid="${esc(`market-untraded-${t}`)}"><span class="mono">${esc(t)}</span>: not traded${settlements.has(t) ? `, settled ${esc(settlements.get(t)!.outcome.toUpperCase())}` : ''}</p>`;
        }
        return marketChart(t, samples, own, settlements.get(t), modelLines.filter((l) => l.ticker === t));
      });
      return `<div class="game"><h3>${esc(g.heading)}</h3>${body.join('\n')}</div>`;
    })
    .join('\n');
}

/** The YES-equivalent price of a fill: the price for YES, 1 − price for NO. */
function yesEquivalent(trade: ReportTrade): Decimal | undefined {
  const p = parseDecimal(trade.price);
  if (!p) return undefined;
  return trade.side === 'no' ? new Decimal(1).minus(p) : p;
}

function tradeKind(trade: ReportTrade): 'entry' | 'exit' | 'settlement' {
  if (trade.purpose === 'entry') return 'entry';
  if (trade.purpose === 'settlement') return 'settlement';
  return 'exit';
}

function linePath(points: { x: number; v: number | undefined }[], y: (v: number) => number): string {
  let d = '';
  let open = false;
  let runLength = 0;
  for (const p of points) {
    if (p.v === undefined) {
      if (open && runLength === 1) d += 'h0';
      open = false;
      continue;
    }
    d += `${open ? 'L' : 'M'}${px(p.x)} ${px(y(p.v))}`;
    runLength = open ? runLength + 1 : 1;
    open = true;
  }
  if (open && runLength === 1) d += 'h0';
  return d;
}

/** A step line through readings (the value holds until the next one). */
function stepPath(points: { x: number; y: number }[]): string {
  return points.map((p, i) => (i === 0 ? `M${px(p.x)} ${px(p.y)}` : `H${px(p.x)}V${px(p.y)}`)).join('');
}

/** The game minute of a time for the charts: interpolated between samples; after the last sample, the chart's end. */
function chartMinute(iso: string, samples: ReportSample[], maxMinute: number): number | null {
  const minute = minuteAt(iso, samples);
  if (minute === null) return null;
  const last = samples[samples.length - 1];
  return last && Date.parse(iso) > Date.parse(last.at) ? maxMinute : minute;
}

const MARKER_SIZE = 13;

/**
 * Moves markers that would cover one another apart vertically (alternating down and up, one
 * marker height at a time), in trade order: each stays legible, and a leader line joins a moved
 * marker to the point it belongs to.
 */
export function separateMarkers<T extends { cx: number; cy: number }>(markers: T[]): (T & { dy: number })[] {
  const placed: (T & { dy: number })[] = [];
  for (const m of markers) {
    let dy = 0;
    for (let step = 1; placed.some((o) => Math.abs(o.cx - m.cx) < MARKER_SIZE && Math.abs(o.cy + o.dy - (m.cy + dy)) < MARKER_SIZE); step++) {
      dy = (step % 2 === 1 ? 1 : -1) * Math.ceil(step / 2) * (MARKER_SIZE + 2);
    }
    placed.push({ ...m, dy });
  }
  return placed;
}

const MODEL_COLOURS = ['#7b1fa2', '#00897b', '#6d4c41'];

function marketChart(ticker: string, samples: ReportSample[], trades: ReportTrade[], settlement: ReportSettlement | undefined, modelLines: ReportModelLine[]): string {
  const testId = `market-chart-${ticker}`;
  if (samples.length === 0) {
    return `<p class="empty" data-testid="${esc(`market-empty-${ticker}`)}">${esc(ticker)}: no samples</p>`;
  }
  const H = 300;
  const left = 56, right = 64, top = 62, bottom = 36;
  const maxMinute = minuteDomain(samples);
  const x = linear(0, maxMinute, left, W - right);
  const y = linear(0, 1, H - bottom, top);

  const rows = samples.map((s) => {
    const m = s.markets?.[ticker];
    const held = m && Number.isFinite(m.held) ? m.held : 0;
    return {
      x: Number.isFinite(s.minute) ? x(s.minute) : NaN,
      bid: parseDecimal(m?.yesBid ?? null)?.toNumber(),
      ask: parseDecimal(m?.yesAsk ?? null)?.toNumber(),
      held,
    };
  }).filter((r) => Number.isFinite(r.x));

  // Contracts held: a step area on the right axis, always including zero.
  const maxHeld = Math.max(0, ...rows.map((r) => r.held));
  const minHeld = Math.min(0, ...rows.map((r) => r.held));
  const yHeld = maxHeld === minHeld ? linear(0, 1, H - bottom, top) : linear(minHeld, maxHeld, H - bottom, top + 8);
  // YES held above the zero line, NO held (negative) below it in its own shade.
  const stepArea = (value: (held: number) => number): string => {
    if (rows.length === 0 || rows.every((r) => value(r.held) === 0)) return '';
    const base = px(yHeld(0));
    let d = `M${px(rows[0]!.x)} ${base}`;
    rows.forEach((r, i) => {
      d += `L${px(r.x)} ${px(yHeld(value(r.held)))}`;
      const next = rows[i + 1];
      if (next) d += `L${px(next.x)} ${px(yHeld(value(r.held)))}`;
    });
    return `${d}L${px(rows[rows.length - 1]!.x)} ${base}Z`;
  };
  const yesHeldPath = stepArea((h) => Math.max(h, 0));
  const noHeldPath = stepArea((h) => Math.min(h, 0));
  const heldTicks = [...new Set([minHeld, 0, maxHeld])]
    .map((h) => `<text class="tick held-tick" x="${px(W - right + 6)}" y="${px(yHeld(h) + 4)}">${esc(h < 0 ? `${-h} NO` : h)}</text>`)
    .join('');

  const priceTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((p) => `<line class="grid" data-price="${p}" x1="${px(left)}" y1="${px(y(p))}" x2="${px(W - right)}" y2="${px(y(p))}"/><text class="tick" x="${px(left - 6)}" y="${px(y(p) + 4)}" text-anchor="end">${(p * 100).toFixed(0)}¢</text>`)
    .join('');

  // The model's YES probability, beside the YES price it is compared with.
  const models = modelLines
    .map((line, i) => {
      const points = line.points
        .map((p) => ({ minute: chartMinute(p.at, samples, maxMinute), v: parseDecimal(p.yesProbability) }))
        .filter((p): p is { minute: number; v: Decimal } => p.minute !== null && p.v !== undefined)
        .map((p) => ({ x: x(p.minute), y: y(p.v.toNumber()) }));
      if (points.length === 0) return '';
      const last = points[points.length - 1]!;
      if (points.length === 1) points.push({ x: x(maxMinute), y: last.y });
      return `<path class="model" data-testid="model-line" data-model="${esc(line.model)}" style="stroke:${MODEL_COLOURS[i % MODEL_COLOURS.length]}" d="${stepPath(points)}"><title>${esc(`${line.model}: probability of YES`)}</title></path>`;
    })
    .join('');

  // Every fill on the YES scale: a NO fill at 1 − its price (the YES price it stands for), drawn hollow.
  const placed = separateMarkers(
    trades.flatMap((t) => {
      const minute = chartMinute(t.at, samples, maxMinute);
      const price = yesEquivalent(t);
      if (minute === null || !price) return [];
      return [{ t, minute, cx: x(minute), cy: y(price.toNumber()) }];
    }),
  );
  const markers = placed
    .map(({ t, minute, cx, cy: anchorY, dy }) => {
      const cy = anchorY + dy;
      const kind = tradeKind(t);
      const shape =
        kind === 'entry'
          ? `M${px(cx)} ${px(cy - 7)}L${px(cx + 6)} ${px(cy + 4)}L${px(cx - 6)} ${px(cy + 4)}Z`
          : kind === 'exit'
            ? `M${px(cx)} ${px(cy + 7)}L${px(cx + 6)} ${px(cy - 4)}L${px(cx - 6)} ${px(cy - 4)}Z`
            : `M${px(cx)} ${px(cy - 6)}L${px(cx + 6)} ${px(cy)}L${px(cx)} ${px(cy + 6)}L${px(cx - 6)} ${px(cy)}Z`;
      const yesText = t.side === 'no' ? ` (= YES ${formatPrice(yesEquivalent(t)!.toFixed(4))})` : '';
      const label = `#${t.tradeId} ${kind} at minute ${formatMinute(minute)}: ${t.action} ${t.quantity} ${t.side.toUpperCase()} @ ${formatPrice(t.price)}${yesText}${t.exitCondition ? ` (${t.exitCondition})` : ''}, ${t.strategy}`;
      const leader = dy === 0 ? '' : `<line class="leader" x1="${px(cx)}" y1="${px(anchorY)}" x2="${px(cx)}" y2="${px(cy)}"/>`;
      return `${leader}<path class="marker ${kind}${t.side === 'no' ? ' no' : ''}" data-testid="trade-marker" data-kind="${kind}" data-side="${t.side}" data-trade-id="${esc(t.tradeId)}" d="${shape}"><title>${esc(label)}</title></path>`;
    })
    .join('');

  let settlementMark = '';
  if (settlement) {
    const minute = chartMinute(settlement.at, samples, maxMinute) ?? maxMinute;
    const payout = parseDecimal(settlement.yesPayout);
    const cx = x(minute), cy = y(payout ? payout.toNumber() : 0.5);
    const text = payout ? `settled ${settlement.outcome.toUpperCase()}: YES paid ${formatDollars(payout.toFixed(), false)}` : `settled ${settlement.outcome}`;
    settlementMark = `<line class="settle-line" x1="${px(cx)}" y1="${px(top)}" x2="${px(cx)}" y2="${px(H - bottom)}"/>`
      + `<path class="marker settlement" data-testid="settlement-marker" data-outcome="${esc(settlement.outcome)}" d="M${px(cx)} ${px(cy - 7)}L${px(cx + 7)} ${px(cy)}L${px(cx)} ${px(cy + 7)}L${px(cx - 7)} ${px(cy)}Z"><title>${esc(text)}</title></path>`
      + `<text class="legend-text" x="${px(cx - 10)}" y="${px(cy < top + 20 ? cy + 18 : cy - 10)}" text-anchor="end">${esc(text)}</text>`;
  }

  const hasNo = trades.some((t) => t.side === 'no');
  const legendItems: [string, string][] = [
    ['<line class="bid" x1="0" y1="-4" x2="18" y2="-4"/>', 'YES bid'],
    ['<line class="ask" x1="0" y1="-4" x2="18" y2="-4"/>', 'YES ask'],
    ...modelLines.map((l, i): [string, string] => [`<line class="model" style="stroke:${MODEL_COLOURS[i % MODEL_COLOURS.length]}" x1="0" y1="-4" x2="18" y2="-4"/>`, `${l.model} P(YES)`]),
    ['<rect class="held" x="0" y="-10" width="18" height="10"/>', minHeld < 0 ? 'YES held' : 'contracts held'],
    ['<path class="marker entry" d="M9 -11L15 0L3 0Z"/>', 'entry'],
    ['<path class="marker exit" d="M9 1L15 -10L3 -10Z"/>', 'exit'],
  ];
  if (minHeld < 0) legendItems.splice(legendItems.length - 2, 0, ['<rect class="held no" x="0" y="-10" width="18" height="10"/>', 'NO held']);
  if (hasNo) legendItems.push(['<path class="marker entry no" d="M9 -11L15 0L3 0Z"/>', 'NO fill, at 1 − price']);
  if (settlement) legendItems.push(['<path class="marker settlement" d="M9 -11L15 -5L9 1L3 -5Z"/>', 'settlement']);
  let lx = left;
  const legend = legendItems
    .map(([swatch, text]) => {
      const g = `<g transform="translate(${px(lx)} 36)">${swatch}<text class="legend-text" x="24" y="0">${esc(text)}</text></g>`;
      lx += 30 + text.length * 6.6;
      return g;
    })
    .join('');

  return `<figure>
<svg data-testid="${esc(testId)}" viewBox="0 0 ${W} ${H}" role="img" preserveAspectRatio="xMidYMid meet">
<title>${esc(`${ticker}: YES bid/ask, the model's probability, contracts held and trades (all on the YES scale)`)}</title>
<text class="chart-title" x="${px(left)}" y="16">${esc(ticker)}</text>
<text class="legend-text" x="${px(W - right)}" y="16" text-anchor="end">${esc(`${trades.length} trade${trades.length === 1 ? '' : 's'}`)}</text>
${legend}
${priceTicks}
${minuteAxis(x, maxMinute, H - bottom, top)}
${yesHeldPath ? `<path class="held" d="${yesHeldPath}"/>` : ''}
${noHeldPath ? `<path class="held no" d="${noHeldPath}"/>` : ''}
<line class="zero-held" x1="${px(left)}" y1="${px(yHeld(0))}" x2="${px(W - right)}" y2="${px(yHeld(0))}"/>
<line class="axis" x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(H - bottom)}"/>
<line class="axis" x1="${px(W - right)}" y1="${px(top)}" x2="${px(W - right)}" y2="${px(H - bottom)}"/>
<text class="axis-title" x="${px(left - 6)}" y="${px(top - 12)}" text-anchor="end">YES price</text>
<text class="axis-title" x="${px(W - right + 6)}" y="${px(top - 12)}">held</text>
${heldTicks}
<path class="bid" d="${linePath(rows.map((r) => ({ x: r.x, v: r.bid })), y)}"/>
<path class="ask" d="${linePath(rows.map((r) => ({ x: r.x, v: r.ask })), y)}"/>
${models}
${settlementMark}
${markers}
</svg>
</figure>`;
}

export interface Series {
  name: string;
  colour: string;
  points: { minute: number; value: Decimal }[];
}

/**
 * An x axis other than game minutes (the backtest report's: hours of its window). `points[].minute`
 * is then a position on it, from 0 to `max`.
 */
export interface ChartAxis {
  max: number;
  ticks: { at: number; label: string }[];
  title: string;
}

/**
 * Dollar lines over the game minutes (or `axis`) on one axis with its zero: per-strategy P&L,
 * drawdown (as an area below zero when `area`).
 */
export function dollarChart(args: { testId: string; lineTestId: string; title: string; series: Series[]; samples: ReportSample[]; area?: boolean; note?: string; axis?: ChartAxis }): string {
  const series = args.series.filter((s) => s.points.length > 0);
  if (series.length === 0) return `<p class="empty" data-testid="${esc(`${args.testId}-empty`)}">no samples</p>`;
  const H = 220;
  const left = 104, right = 20, top = 44, bottom = 36;
  const maxMinute = args.axis ? args.axis.max : minuteDomain(args.samples);
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  let lo = Decimal.min(0, ...values).toNumber();
  let hi = Decimal.max(0, ...values).toNumber();
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  } else {
    const pad = (hi - lo) * 0.08;
    lo -= lo < 0 ? pad : 0;
    hi += hi > 0 ? pad : 0;
  }
  const x = linear(0, maxMinute, left, W - right);
  const y = linear(lo, hi, H - bottom, top);
  const ticks = [...new Set([lo < 0 ? Decimal.min(...values) : undefined, new Decimal(0), hi > 0 ? Decimal.max(...values) : undefined].filter((v): v is Decimal => v !== undefined).map((v) => v.toFixed(2)))]
    .map((v) => new Decimal(v))
    .filter((v, i, all) => i === 0 || Math.abs(y(v.toNumber()) - y(all[i - 1]!.toNumber())) >= 12)
    .map((v) => `<line class="grid" x1="${px(left)}" y1="${px(y(v.toNumber()))}" x2="${px(W - right)}" y2="${px(y(v.toNumber()))}"/><text class="tick" x="${px(left - 6)}" y="${px(y(v.toNumber()) + 4)}" text-anchor="end">${esc(formatDollars(v.toFixed(), !v.isZero()))}</text>`)
    .join('');
  const lines = series
    .map((s) => {
      const pts = s.points.map((p) => `${px(x(p.minute))} ${px(y(p.value.toNumber()))}`);
      const d = args.area
        ? `M${px(x(s.points[0]!.minute))} ${px(y(0))}L${pts.join('L')}L${px(x(s.points[s.points.length - 1]!.minute))} ${px(y(0))}Z`
        : `M${pts.join('L')}`;
      return `<path class="${args.area ? 'area' : 'series'}" data-testid="${esc(args.lineTestId)}" data-name="${esc(s.name)}" style="${args.area ? 'fill' : 'stroke'}:${s.colour}" d="${d}"><title>${esc(s.name)}</title></path>`;
    })
    .join('');
  let lx = left;
  const legend = series
    .map((s) => {
      const last = s.points[s.points.length - 1]!.value;
      const text = `${s.name}: ${args.area ? formatDollars(last.toFixed(), false) : formatDollars(last.toFixed())} at the end`;
      const g = `<g transform="translate(${px(lx)} 34)"><line x1="0" y1="-4" x2="18" y2="-4" style="stroke:${s.colour};stroke-width:3"/><text class="legend-text" x="24" y="0">${esc(text)}</text></g>`;
      lx += 36 + text.length * 6.4;
      return g;
    })
    .join('');
  return `<figure>
<svg data-testid="${esc(args.testId)}" viewBox="0 0 ${W} ${H}" role="img" preserveAspectRatio="xMidYMid meet">
<title>${esc(args.title)}</title>
<text class="chart-title" x="${px(left)}" y="16">${esc(args.title)}</text>
${args.note ? `<text class="legend-text" x="${px(W - right)}" y="16" text-anchor="end">${esc(args.note)}</text>` : ''}
${legend}
${ticks}
${args.axis ? timeAxis(x, args.axis, H - bottom, top) : minuteAxis(x, maxMinute, H - bottom, top)}
<line class="axis" x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(H - bottom)}"/>
<line class="ref" x1="${px(left)}" y1="${px(y(0))}" x2="${px(W - right)}" y2="${px(y(0))}"/>
${lines}
</svg>
</figure>`;
}

export const STRATEGY_COLOURS = ['#1f6fd1', '#e07b00', '#188038', '#b3261e', '#7b1fa2', '#00897b'];

function drawdownChart(samples: ReportSample[]): string {
  const series = drawdownSeries(samples.filter((s) => Number.isFinite(s.minute) && parseDecimal(s.equity) !== undefined));
  const deepest = series.reduce<{ minute: number; drawdown: Decimal } | undefined>((m, p) => (!m || p.drawdown.gt(m.drawdown) ? p : m), undefined);
  return dollarChart({
    testId: 'drawdown-chart',
    lineTestId: 'drawdown-area',
    title: 'Drawdown: equity below its running peak',
    series: [{ name: 'drawdown', colour: '#b3261e', points: series.map((p) => ({ minute: p.minute, value: p.drawdown.negated() })) }],
    samples,
    area: true,
    note: deepest && deepest.drawdown.gt(0) ? `deepest ${formatDollars(deepest.drawdown.negated().toFixed())} at minute ${formatMinute(deepest.minute)}` : 'no drawdown',
  });
}

function strategyEquityChart(report: RunReport, samples: ReportSample[]): string {
  const curves = report.strategyEquity ?? [];
  if (curves.length === 0) return '<p class="empty" data-testid="strategy-equity-empty">no strategy traded</p>';
  return dollarChart({
    testId: 'strategy-equity-chart',
    lineTestId: 'strategy-equity-line',
    title: 'P&L by strategy version (fills, settlements, holdings at the bid)',
    series: curves.map((c, i) => ({
      name: c.strategy,
      colour: STRATEGY_COLOURS[i % STRATEGY_COLOURS.length]!,
      points: c.points
        .map((p) => ({ minute: p.minute, value: parseDecimal(p.pnl) }))
        .filter((p): p is { minute: number; value: Decimal } => Number.isFinite(p.minute) && p.value !== undefined),
    })),
    samples,
  });
}

// ---------------------------------------------------------------------------------------------
// Tables

export interface Column<T> {
  head: string;
  cell: (row: T) => string;
  num?: boolean;
  cls?: (row: T) => string;
}

export function table<T>(testId: string, columns: Column<T>[], rows: T[], rowClass?: (row: T) => string): string {
  const head = columns.map((c) => `<th${c.num ? ' class="num"' : ''}>${esc(c.head)}</th>`).join('');
  const body =
    rows.length === 0
      ? `<tr class="empty-row"><td colspan="${columns.length}">none</td></tr>`
      : rows
          .map((r) => {
            const rc = rowClass?.(r);
            const cells = columns
              .map((c) => {
                const cls = [c.num ? 'num' : '', c.cls?.(r) ?? ''].filter(Boolean).join(' ');
                return `<td${cls ? ` class="${cls}"` : ''}>${c.cell(r)}</td>`;
              })
              .join('');
            return `<tr${rc ? ` class="${rc}"` : ''}>${cells}</tr>`;
          })
          .join('\n');
  return `<div class="table-wrap"><table data-testid="${esc(testId)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function tradesTable(trades: ReportTrade[], samples: ReportSample[]): string {
  return table<ReportTrade>(
    'trades-table',
    [
      { head: 'Time (UTC)', cell: (t) => `<span title="${esc(t.at)}">${esc(formatIsoTime(t.at))}</span>` },
      {
        head: 'Game min',
        num: true,
        cell: (t) => {
          const minute = minuteAt(t.at, samples);
          return minute === null ? '—' : esc(formatMinute(minute));
        },
      },
      { head: 'Ticker', cell: (t) => esc(t.ticker), cls: () => 'mono' },
      { head: 'Side', cell: (t) => esc(t.side.toUpperCase()) },
      { head: 'Action', cell: (t) => esc(t.action) },
      { head: 'Qty', num: true, cell: (t) => esc(t.quantity) },
      { head: 'Price', num: true, cell: (t) => esc(formatPrice(t.price)) },
      { head: 'Model P(side)', num: true, cell: (t) => esc(formatPrice(t.modelProbability ?? null)) },
      { head: 'Edge', num: true, cell: (t) => esc(formatPrice(t.edge ?? null)) },
      { head: 'Fees', num: true, cell: (t) => esc(formatMoneyExact(t.fees)) },
      { head: 'P&L after fees', num: true, cell: (t) => (t.realizedPnl ? esc(formatDollars(t.realizedPnl)) : '—'), cls: (t) => (t.realizedPnl ? signClass(t.realizedPnl) : '') },
      { head: 'Strategy', cell: (t) => esc(t.strategy) },
      { head: 'Model', cell: (t) => esc(t.model) },
      { head: 'Purpose', cell: (t) => `<span class="badge ${esc(tradeKind(t))}">${esc(t.purpose)}</span>` },
      { head: 'Trigger', cell: (t) => esc(t.trigger ?? t.exitCondition ?? '—') },
    ],
    trades,
  );
}

/**
 * What the exits did, from the fills: the scenario text says what it was written to show, this
 * says what happened (a trailing stop that lost after fees reads as a loss here).
 */
function outcomesSummary(outcomes: ReportExitOutcome[]): string {
  if (outcomes.length === 0) return '<p class="description" data-testid="outcomes">What happened: no exit filled and nothing settled.</p>';
  const items = outcomes.map((o) => {
    const d = parseDecimal(o.realizedPnl);
    const verdict = o.gains === o.fills ? 'all with a gain' : o.losses === o.fills ? 'all at a loss' : `${o.gains} with a gain, ${o.losses} at a loss`;
    return `<li data-testid="outcome" data-condition="${esc(o.condition)}"><strong>${esc(o.condition)}</strong>: ${esc(o.fills)} fill${o.fills === 1 ? '' : 's'}, ${esc(verdict)} after fees, net <span class="${d ? signClass(o.realizedPnl) : ''}">${esc(formatDollars(o.realizedPnl))}</span></li>`;
  });
  return `<div class="description" data-testid="outcomes"><span class="label">What happened (from the fills):</span><ul>${items.join('')}</ul></div>`;
}

function exitsByConditionTable(rows: RunReport['exitsByCondition']): string {
  return table(
    'exits-by-condition',
    [
      { head: 'Condition', cell: (r) => esc(r.condition) },
      { head: 'Priority', cell: (r) => esc(r.priority) },
      { head: 'Exits', num: true, cell: (r) => esc(r.count) },
    ],
    rows,
  );
}

function exitsTable(exits: ReportExit[]): string {
  return table<ReportExit>(
    'exits-table',
    [
      { head: 'Exit', num: true, cell: (e) => esc(e.exitRequestId) },
      { head: 'Position', num: true, cell: (e) => esc(e.positionId) },
      { head: 'Ticker', cell: (e) => esc(e.ticker), cls: () => 'mono' },
      { head: 'Strategy', cell: (e) => esc(e.strategy) },
      { head: 'Condition', cell: (e) => esc(e.condition) },
      { head: 'Priority', cell: (e) => esc(e.priority) },
      { head: 'Qty', num: true, cell: (e) => esc(e.quantity) },
      { head: 'Filled', num: true, cell: (e) => esc(e.filledQuantity) },
      { head: 'Status', cell: (e) => esc(e.status) },
      {
        head: 'Attempts',
        num: true,
        cell: (e) => `${esc(e.attempts)}${e.attempts > 1 ? ' <span class="badge warn">walked</span>' : ''}`,
      },
    ],
    exits,
  );
}

function exitAttemptsTable(attempts: ReportExitAttempt[]): string {
  // Alternate shading per exit request, so an exit's walked attempts read as one block.
  const group = new Map<number, number>();
  attempts.forEach((a) => {
    if (!group.has(a.exitRequestId)) group.set(a.exitRequestId, group.size);
  });
  return table<ReportExitAttempt>(
    'exit-attempts-table',
    [
      { head: 'Exit', num: true, cell: (a) => esc(a.exitRequestId) },
      { head: 'Position', num: true, cell: (a) => esc(a.positionId) },
      { head: 'Ticker', cell: (a) => esc(a.ticker), cls: () => 'mono' },
      { head: 'Attempt', num: true, cell: (a) => esc(a.attempt) },
      { head: 'Order type', cell: (a) => esc(a.orderType) },
      { head: 'Limit price', num: true, cell: (a) => esc(formatPrice(a.limitPrice)) },
      { head: 'Filled', num: true, cell: (a) => esc(a.filledQuantity) },
      { head: 'Outcome', cell: (a) => esc(a.outcome) },
    ],
    attempts,
    (a) => `group-${(group.get(a.exitRequestId) ?? 0) % 2}`,
  );
}

function positionsTable(positions: ReportPosition[]): string {
  return table<ReportPosition>(
    'positions-table',
    [
      { head: 'Position', num: true, cell: (p) => esc(p.positionId) },
      { head: 'Ticker', cell: (p) => esc(p.ticker), cls: () => 'mono' },
      { head: 'Strategy', cell: (p) => esc(p.strategy) },
      { head: 'Side', cell: (p) => esc(p.side.toUpperCase()) },
      { head: 'Entered', num: true, cell: (p) => esc(p.entered) },
      { head: 'Entry price', num: true, cell: (p) => esc(formatPrice(p.entryPrice)) },
      { head: 'Held', num: true, cell: (p) => esc(p.quantity) },
      { head: 'Status', cell: (p) => esc(p.status) },
      { head: 'Exit price', num: true, cell: (p) => esc(formatPrice(p.exitPrice ?? null)) },
      { head: 'Settlement payout', num: true, cell: (p) => esc(formatPrice(p.settlementPayout ?? null)) },
      { head: 'Fees', num: true, cell: (p) => esc(p.fees === undefined ? '—' : formatMoneyExact(p.fees)) },
      { head: 'Realized P&L', num: true, cell: (p) => esc(formatDollars(p.realizedPnl)), cls: (p) => signClass(p.realizedPnl) },
      { head: 'ROI', num: true, cell: (p) => esc(formatPercent(p.roi ?? null)), cls: (p) => (p.roi ? signClass(p.roi) : '') },
      { head: 'Held for', num: true, cell: (p) => esc(formatDuration(p.holdSeconds ?? null)) },
      { head: 'Closed by', cell: (p) => esc((p.closedBy ?? []).length > 0 ? p.closedBy.join(' → ') : '—') },
    ],
    positions,
  );
}

function strategyTable(rows: ReportStrategyPnl[]): string {
  return table<ReportStrategyPnl>(
    'strategy-table',
    [
      { head: 'Strategy', cell: (s) => esc(s.strategy) },
      { head: 'Trades', num: true, cell: (s) => esc(s.trades) },
      { head: 'Positions', num: true, cell: (s) => esc(s.positions) },
      { head: 'Realized P&L', num: true, cell: (s) => esc(formatDollars(s.realizedPnl)), cls: (s) => signClass(s.realizedPnl) },
      { head: 'Fees', num: true, cell: (s) => esc(formatDollars(s.fees, false)) },
    ],
    rows,
  );
}

function breakersTable(events: ReportBreakerEvent[]): string {
  return table<ReportBreakerEvent>(
    'breakers-table',
    [
      { head: 'Event', num: true, cell: (b) => esc(b.eventId) },
      { head: 'Type', cell: (b) => esc(b.type) },
      { head: 'Tripped', cell: (b) => `<span title="${esc(b.trippedAt)}">${esc(formatIsoTime(b.trippedAt))}</span>` },
      { head: 'Resolved', cell: (b) => (b.resolvedAt ? `<span title="${esc(b.resolvedAt)}">${esc(formatIsoTime(b.resolvedAt))}</span>` : '<span class="badge warn">open</span>') },
      { head: 'Reason', cell: (b) => esc(b.reason) },
    ],
    events,
  );
}

function gamesTable(games: ReportGame[]): string {
  return table<ReportGame>(
    'games-table',
    [
      { head: 'Game', cell: (g) => esc(g.name) },
      { head: 'Away', cell: (g) => esc(g.away) },
      { head: 'Home', cell: (g) => esc(g.home) },
      { head: 'Final', cell: (g) => `<strong>${esc(`${g.away} ${g.awayScore} – ${g.homeScore} ${g.home}`)}</strong>` },
      { head: 'Markets', cell: (g) => (g.tickers ?? []).map((t) => `<span class="mono">${esc(t)}</span>`).join('<br>') || '—' },
    ],
    games,
  );
}

// ---------------------------------------------------------------------------------------------

export const STYLE = `
:root { --fg:#1d2430; --muted:#5d6778; --line:#d9dee7; --zebra:#f5f7fa; --bg:#ffffff; --pos:#137333; --neg:#b3261e; --bid:#1f6fd1; --ask:#e07b00; --held:#8a94a6; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.description { color: var(--muted); margin: 0 0 12px; max-width: 80ch; }
.note { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
dl.meta { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; }
dl.meta div { display: flex; gap: 6px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 10px; margin-top: 20px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fbfcfe; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 2px; }
.pos { color: var(--pos); }
.neg { color: var(--neg); }
figure { margin: 0 0 12px; }
svg { width: 100%; height: auto; display: block; font-family: inherit; }
svg .chart-title { font-size: 13px; font-weight: 650; fill: var(--fg); }
svg .tick, svg .legend-text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .axis-title, svg .quarter { font-size: 10px; fill: var(--muted); }
svg .quarter { fill: #a3acbb; }
svg .grid { stroke: #eceff4; stroke-width: 1; }
svg .axis { stroke: #9aa3b2; stroke-width: 1; }
svg .ref { stroke: #9aa3b2; stroke-dasharray: 4 3; }
svg .ref-label { fill: #7a8494; }
svg .equity { fill: none; stroke: #4b3fc4; stroke-width: 2; stroke-linejoin: round; }
svg .equity-dot { fill: #4b3fc4; }
svg .bid, svg .ask { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg .bid { stroke: var(--bid); }
svg .ask { stroke: var(--ask); }
svg .held { fill: var(--held); fill-opacity: .22; stroke: var(--held); stroke-width: 1; }
svg .held.no { fill: #b06ab3; stroke: #b06ab3; }
svg .zero-held { stroke: var(--held); stroke-width: .6; stroke-dasharray: 2 2; }
svg .marker { stroke: #fff; stroke-width: 1; }
svg .marker.entry { fill: #188038; }
svg .marker.exit { fill: #c5221f; }
svg .marker.settlement { fill: #5f6368; }
svg .marker.no { fill: #fff; stroke-width: 2; }
svg .marker.entry.no { stroke: #188038; }
svg .marker.exit.no { stroke: #c5221f; }
svg .leader { stroke: #9aa3b2; stroke-width: 1; }
svg .settle-line { stroke: #5f6368; stroke-width: 1; stroke-dasharray: 3 3; }
svg .model { fill: none; stroke-width: 2; stroke-dasharray: 6 3; }
svg .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg .area { fill-opacity: .25; stroke: none; }
.two-col { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 32px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 9px; text-align: left; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: #eef1f6; font-weight: 600; position: sticky; top: 0; }
tbody tr:nth-child(even) { background: var(--zebra); }
tbody tr.group-1 { background: var(--zebra); }
tbody tr.group-0 { background: var(--bg); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
tr.empty-row td { color: var(--muted); font-style: italic; text-align: center; }
p.empty { color: var(--muted); font-style: italic; border: 1px dashed var(--line); border-radius: 6px; padding: 16px; text-align: center; }
p.untraded { color: var(--muted); margin: 4px 0 10px; }
.description .label { font-weight: 600; color: var(--fg); }
.description ul { margin: 4px 0 0; padding-left: 20px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; background: #e8eaed; color: #3c4043; }
.badge.entry { background: #e6f4ea; color: #137333; }
.badge.exit { background: #fce8e6; color: #b3261e; }
.badge.warn { background: #fef7e0; color: #8a5a00; }
footer { color: var(--muted); font-size: 12px; padding-top: 24px; padding-bottom: 32px; }
`;

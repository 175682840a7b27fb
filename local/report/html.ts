import { Decimal } from 'decimal.js';
import type {
  ReportBreakerEvent,
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
export function renderHtmlReport(report: RunReport): string {
  const samples = report.samples ?? [];
  const trades = report.trades ?? [];
  const sampleTimes = samples.map((s) => Date.parse(s.at));
  const title = `Precog run: ${report.scenario}`;

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
<header>
<h1>Precog local run: <span data-testid="scenario">${esc(report.scenario)}</span></h1>
<p class="description" data-testid="description">${esc(report.description)}</p>
<dl class="meta">
${meta('Venue', `${esc(report.venue)} (${esc(report.executionMode)})`)}
${meta('Speed', `×${esc(report.speed)}`)}
${meta('Wall time', `${esc(formatSeconds(report.wallSeconds))}`)}
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
</section>

<section>
<h2>Equity</h2>
${equityChart(samples, report.startingBalance)}
</section>

<section>
<h2>Markets</h2>
<p class="note">YES bid and ask over the game (left axis), contracts held as the shaded steps (right axis; NO held is drawn below zero), trades marked at the nearest sample: ▲ entry, ▼ exit, ◆ settlement. A NO fill is drawn at its YES-equivalent price (1 − price).</p>
${marketSections(report.games ?? [], samples, trades, sampleTimes)}
</section>

<section>
<h2>Games</h2>
${gamesTable(report.games ?? [])}
</section>

<section>
<h2>Trades</h2>
${tradesTable(trades, samples, sampleTimes)}
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

function signClass(value: string): string {
  const d = parseDecimal(value)?.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  if (!d || d.isZero()) return '';
  return d.isNegative() ? 'neg' : 'pos';
}

function formatCount(n: number): string {
  return Number.isFinite(n) ? String(n) : '—';
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${(seconds - m * 60).toFixed(0)} s (${seconds.toFixed(1)} s)`;
}

/** "17:03:12" (UTC) or, with the date, "2025-09-07 17:03:12 UTC"; the raw text if unparseable. */
function formatIsoTime(iso: string | null, withDate = false): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso);
  const full = new Date(t).toISOString();
  return withDate ? `${full.slice(0, 10)} ${full.slice(11, 19)} UTC` : full.slice(11, 19);
}

function meta(label: string, valueHtml: string): string {
  return `<div><dt>${esc(label)}</dt><dd>${valueHtml}</dd></div>`;
}

function card(label: string, testId: string, value: string, cls = ''): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value ${cls}" data-testid="${esc(testId)}">${esc(value)}</div></div>`;
}

// ---------------------------------------------------------------------------------------------
// Charts (inline SVG). Decimal strings become numbers here for pixel coordinates only.

const W = 720;

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

function marketSections(games: ReportGame[], samples: ReportSample[], trades: ReportTrade[], sampleTimes: number[]): string {
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

  return groups
    .filter((g) => g.tickers.length > 0)
    .map(
      (g) =>
        `<div class="game"><h3>${esc(g.heading)}</h3>${g.tickers
          .map((t) => marketChart(t, samples, trades.filter((tr) => tr.ticker === t), sampleTimes))
          .join('\n')}</div>`,
    )
    .join('\n');
}

/** Index of the sample whose time is nearest to `iso`, or -1. */
function nearestSample(iso: string, sampleTimes: number[]): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return -1;
  let best = -1;
  let bestGap = Infinity;
  sampleTimes.forEach((st, i) => {
    const gap = Math.abs(st - t);
    if (Number.isFinite(gap) && gap < bestGap) {
      best = i;
      bestGap = gap;
    }
  });
  return best;
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

function marketChart(ticker: string, samples: ReportSample[], trades: ReportTrade[], sampleTimes: number[]): string {
  const testId = `market-chart-${ticker}`;
  if (samples.length === 0) {
    return `<p class="empty" data-testid="${esc(`market-empty-${ticker}`)}">${esc(ticker)}: no samples</p>`;
  }
  const H = 280;
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
    .map((p) => `<line class="grid" x1="${px(left)}" y1="${px(y(p))}" x2="${px(W - right)}" y2="${px(y(p))}"/><text class="tick" x="${px(left - 6)}" y="${px(y(p) + 4)}" text-anchor="end">${(p * 100).toFixed(0)}¢</text>`)
    .join('');

  const markers = trades
    .map((t) => {
      const i = nearestSample(t.at, sampleTimes);
      const s = samples[i];
      const price = yesEquivalent(t);
      if (!s || !Number.isFinite(s.minute) || !price) return '';
      const cx = x(s.minute);
      const cy = y(price.toNumber());
      const kind = tradeKind(t);
      const shape =
        kind === 'entry'
          ? `M${px(cx)} ${px(cy - 7)}L${px(cx + 6)} ${px(cy + 4)}L${px(cx - 6)} ${px(cy + 4)}Z`
          : kind === 'exit'
            ? `M${px(cx)} ${px(cy + 7)}L${px(cx + 6)} ${px(cy - 4)}L${px(cx - 6)} ${px(cy - 4)}Z`
            : `M${px(cx)} ${px(cy - 6)}L${px(cx + 6)} ${px(cy)}L${px(cx)} ${px(cy + 6)}L${px(cx - 6)} ${px(cy)}Z`;
      const label = `#${t.tradeId} ${kind} at minute ${s.minute}: ${t.action} ${t.quantity} ${t.side.toUpperCase()} @ ${formatPrice(t.price)}${t.exitCondition ? ` (${t.exitCondition})` : ''}, ${t.strategy}`;
      return `<path class="marker ${kind}" data-testid="trade-marker" data-kind="${kind}" data-trade-id="${esc(t.tradeId)}" d="${shape}"><title>${esc(label)}</title></path>`;
    })
    .join('');

  const hasSettlement = trades.some((t) => tradeKind(t) === 'settlement');
  const legendItems: [string, string][] = [
    ['<line class="bid" x1="0" y1="-4" x2="18" y2="-4"/>', 'YES bid'],
    ['<line class="ask" x1="0" y1="-4" x2="18" y2="-4"/>', 'YES ask'],
    ['<rect class="held" x="0" y="-10" width="18" height="10"/>', minHeld < 0 ? 'YES held' : 'contracts held'],
    ['<path class="marker entry" d="M9 -11L15 0L3 0Z"/>', 'entry'],
    ['<path class="marker exit" d="M9 1L15 -10L3 -10Z"/>', 'exit'],
  ];
  if (minHeld < 0) legendItems.splice(3, 0, ['<rect class="held no" x="0" y="-10" width="18" height="10"/>', 'NO held']);
  if (hasSettlement) legendItems.push(['<path class="marker settlement" d="M9 -11L15 -5L9 1L3 -5Z"/>', 'settlement']);
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
<title>${esc(`${ticker}: YES bid/ask, contracts held and trades`)}</title>
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
<text class="axis-title" x="${px(left - 6)}" y="${px(top - 12)}" text-anchor="end">YES</text>
<text class="axis-title" x="${px(W - right + 6)}" y="${px(top - 12)}">held</text>
${heldTicks}
<path class="bid" d="${linePath(rows.map((r) => ({ x: r.x, v: r.bid })), y)}"/>
<path class="ask" d="${linePath(rows.map((r) => ({ x: r.x, v: r.ask })), y)}"/>
${markers}
</svg>
</figure>`;
}

// ---------------------------------------------------------------------------------------------
// Tables

interface Column<T> {
  head: string;
  cell: (row: T) => string;
  num?: boolean;
  cls?: (row: T) => string;
}

function table<T>(testId: string, columns: Column<T>[], rows: T[], rowClass?: (row: T) => string): string {
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

function tradesTable(trades: ReportTrade[], samples: ReportSample[], sampleTimes: number[]): string {
  return table<ReportTrade>(
    'trades-table',
    [
      { head: 'Time (UTC)', cell: (t) => `<span title="${esc(t.at)}">${esc(formatIsoTime(t.at))}</span>` },
      {
        head: 'Min',
        num: true,
        cell: (t) => {
          const s = samples[nearestSample(t.at, sampleTimes)];
          return s ? esc(s.minute) : '—';
        },
      },
      { head: 'Ticker', cell: (t) => esc(t.ticker), cls: () => 'mono' },
      { head: 'Side', cell: (t) => esc(t.side.toUpperCase()) },
      { head: 'Action', cell: (t) => esc(t.action) },
      { head: 'Qty', num: true, cell: (t) => esc(t.quantity) },
      { head: 'Price', num: true, cell: (t) => esc(formatPrice(t.price)) },
      { head: 'Fees', num: true, cell: (t) => esc(formatMoneyExact(t.fees)) },
      { head: 'Strategy', cell: (t) => esc(t.strategy) },
      { head: 'Model', cell: (t) => esc(t.model) },
      { head: 'Purpose', cell: (t) => `<span class="badge ${esc(tradeKind(t))}">${esc(t.purpose)}</span>` },
      { head: 'Exit condition', cell: (t) => esc(t.exitCondition ?? '—') },
    ],
    trades,
  );
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
      { head: 'Realized P&L', num: true, cell: (p) => esc(formatDollars(p.realizedPnl)), cls: (p) => signClass(p.realizedPnl) },
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

const STYLE = `
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
svg { width: 100%; max-width: 900px; height: auto; display: block; font-family: inherit; }
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
p.empty { color: var(--muted); font-style: italic; border: 1px dashed var(--line); border-radius: 6px; padding: 16px; max-width: 900px; text-align: center; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11px; font-weight: 600; background: #e8eaed; color: #3c4043; }
.badge.entry { background: #e6f4ea; color: #137333; }
.badge.exit { background: #fce8e6; color: #b3261e; }
.badge.warn { background: #fef7e0; color: #8a5a00; }
footer { color: var(--muted); font-size: 12px; padding-top: 24px; padding-bottom: 32px; }
`;

import { Decimal } from '../domain/decimal';

/**
 * The metrics of a backtest, from its ledger (fills, settlements, orders, recorded quotes, edge
 * rows): pure and exact. Money, prices and probabilities are Decimal throughout; JS numbers are
 * used only for counts, times (ms) and the bootstrap's random indices.
 *
 * Conventions (docs/backtest-report.md states them for users):
 *  - Realised P&L after fees: each exit fill earns (price − the position's average entry price) ×
 *    contracts − its fee − the entry fees' share of those contracts; settlement earns (the side's
 *    payout − average entry price) × contracts still held − their entry fees' share. A closed
 *    position's P&L is the sum, which equals its cash flows (sells + payouts − buys − fees).
 *  - Equity = opening balance + cash flows + contracts held marked at their side's bid (none: 0),
 *    evaluated after every quote, fill and settlement and at every UTC midnight of the window.
 *  - Daily returns: equity at each UTC day's end (the window's end for the last day) over the
 *    previous day's (the opening balance for the first): r = E_d / E_{d−1} − 1.
 *  - Sharpe = mean(r) / sample sd(r) (n − 1) × √365, risk-free 0 (markets trade every day).
 *    Sortino = mean(r) / downside deviation × √365, downside deviation = √(Σ min(r, 0)² / n).
 *    Fewer than two days, or no variation: "n/a". No losing day with a positive mean: "∞".
 *  - Results are rounded half-up: money to 4 decimals, ratios and probabilities to 6.
 */

const ZERO = new Decimal(0);
const ONE = new Decimal(1);
const DAY_MS = 86_400_000;
const SQRT_365 = new Decimal(365).sqrt();
/** scikit-learn's log_loss clipping, as `precog model validate` uses it: a certain, wrong answer is finite. */
const LOG_LOSS_EPSILON = new Decimal('1e-15');

export type Side = 'yes' | 'no';

export interface LedgerFill {
  tradeId: number;
  positionId: number;
  /** "quarter_live v1.1" */
  strategy: string;
  ticker: string;
  side: Side;
  action: 'buy' | 'sell';
  at: Date;
  quantity: Decimal;
  price: Decimal;
  fee: Decimal;
  /** The exit condition a sell filled for (null for a buy). */
  exitCondition: string | null;
}

export interface LedgerSettlement {
  ticker: string;
  at: Date;
  /** What one YES contract paid (a NO contract: 1 − it). */
  yesPayout: Decimal;
}

/** One recorded market version: the quotes seen from `at` on. */
export interface LedgerQuote {
  ticker: string;
  at: Date;
  yesBid: Decimal | null;
  noBid: Decimal | null;
  yesAsk: Decimal | null;
  noAsk: Decimal | null;
}

export interface LedgerOrder {
  strategy: string;
  quantity: Decimal;
  filled: Decimal;
}

/** A decision moment: an edge row of a settled market, both probabilities on the YES scale. */
export interface ForecastMoment {
  /** "elo_nfl v1.1" */
  model: string;
  model_p: Decimal;
  market_p: Decimal;
  outcome: 0 | 1;
}

export interface Ledger {
  openingBalance: Decimal;
  window: { from: Date; to: Date };
  fills: LedgerFill[];
  settlements: LedgerSettlement[];
  quotes: LedgerQuote[];
  orders: LedgerOrder[];
  /** Per ticker, when the market closed (its close time, else its settlement); absent: the window's end. */
  closeAt: Map<string, Date>;
}

/** A value that may not exist, with what to show: "n/a", "∞". */
export interface Maybe {
  value: Decimal | null;
  display: string;
}

const money = (d: Decimal) => d.toDecimalPlaces(4, Decimal.ROUND_HALF_UP);
const ratio = (d: Decimal) => d.toDecimalPlaces(6, Decimal.ROUND_HALF_UP);
const some = (d: Decimal): Maybe => ({ value: ratio(d), display: ratio(d).toFixed(6) });
const none = (display = 'n/a'): Maybe => ({ value: null, display });

// ---------------------------------------------------------------------------------------------
// Positions and realised P&L

export interface PositionResult {
  positionId: number;
  strategy: string;
  ticker: string;
  side: Side;
  /** Realised P&L after fees (exit fills and settlement). */
  pnl: Decimal;
  fees: Decimal;
  /** Contracts still held after the last event. */
  held: Decimal;
  closed: boolean;
  /** The P&L of each exit fill by condition, and of settlement ('settlement'). */
  byCondition: Array<{ condition: string; pnl: Decimal }>;
}

/** Every position's realised P&L, by position id. */
export function positionResults(ledger: Pick<Ledger, 'fills' | 'settlements' | 'window'>): PositionResult[] {
  const byPosition = new Map<number, LedgerFill[]>();
  for (const f of sortFills(ledger.fills)) byPosition.set(f.positionId, [...(byPosition.get(f.positionId) ?? []), f]);
  const settlements = new Map(ledger.settlements.filter((s) => s.at <= ledger.window.to).map((s) => [s.ticker, s]));
  return [...byPosition.entries()].sort(([a], [b]) => a - b).map(([positionId, fills]) => {
    const first = fills[0]!;
    let bought = ZERO, cost = ZERO, entryFees = ZERO, held = ZERO, pnl = ZERO, fees = ZERO;
    const byCondition: PositionResult['byCondition'] = [];
    for (const f of fills) {
      fees = fees.plus(f.fee);
      if (f.action === 'buy') {
        bought = bought.plus(f.quantity);
        cost = cost.plus(f.quantity.times(f.price));
        entryFees = entryFees.plus(f.fee);
        held = held.plus(f.quantity);
        continue;
      }
      const fillPnl = bought.isZero()
        ? f.quantity.times(f.price).minus(f.fee)
        : f.price.minus(cost.div(bought)).times(f.quantity).minus(f.fee).minus(entryFees.times(f.quantity).div(bought));
      pnl = pnl.plus(fillPnl);
      held = held.minus(f.quantity);
      byCondition.push({ condition: f.exitCondition ?? 'unknown', pnl: fillPnl });
    }
    const settlement = settlements.get(first.ticker);
    if (settlement && held.gt(0) && !bought.isZero()) {
      const payout = first.side === 'yes' ? settlement.yesPayout : ONE.minus(settlement.yesPayout);
      const settled = payout.minus(cost.div(bought)).times(held).minus(entryFees.times(held).div(bought));
      pnl = pnl.plus(settled);
      byCondition.push({ condition: 'settlement', pnl: settled });
      held = ZERO;
    }
    return { positionId, strategy: first.strategy, ticker: first.ticker, side: first.side, pnl, fees, held, closed: held.isZero(), byCondition };
  });
}

function sortFills(fills: LedgerFill[]): LedgerFill[] {
  return [...fills].sort((a, b) => a.at.getTime() - b.at.getTime() || a.tradeId - b.tradeId);
}

// ---------------------------------------------------------------------------------------------
// Equity curve, drawdown, time under water

export interface EquityPoint {
  at: Date;
  equity: Decimal;
}

/**
 * Equity after every quote, fill and settlement and at every UTC midnight inside the window, from
 * the window's start (the opening balance) to its end. Only fills of `strategy` when given.
 */
export function equityCurve(ledger: Ledger, strategy?: string): EquityPoint[] {
  const { from, to } = ledger.window;
  const fills = sortFills(ledger.fills.filter((f) => strategy === undefined || f.strategy === strategy));
  const tickers = new Set(fills.map((f) => f.ticker));
  type Event = { at: number; order: number; apply: () => void };
  const events: Event[] = [];
  let cash = ledger.openingBalance;
  const held = new Map<string, { ticker: string; side: Side; count: Decimal }>();
  const bids = new Map<string, { yes: Decimal | null; no: Decimal | null }>();
  for (const q of ledger.quotes) {
    if (!tickers.has(q.ticker)) continue;
    events.push({ at: q.at.getTime(), order: 0, apply: () => bids.set(q.ticker, { yes: q.yesBid, no: q.noBid }) });
  }
  fills.forEach((f, i) => events.push({
    at: f.at.getTime(), order: 1 + i / (fills.length + 1), apply: () => {
      const notional = f.quantity.times(f.price);
      cash = (f.action === 'sell' ? cash.plus(notional) : cash.minus(notional)).minus(f.fee);
      const key = `${f.ticker}|${f.side}`;
      const h = held.get(key) ?? { ticker: f.ticker, side: f.side, count: ZERO };
      h.count = f.action === 'buy' ? h.count.plus(f.quantity) : h.count.minus(f.quantity);
      held.set(key, h);
    },
  }));
  for (const s of ledger.settlements) {
    if (!tickers.has(s.ticker)) continue;
    events.push({
      at: s.at.getTime(), order: 2, apply: () => {
        for (const h of held.values()) {
          if (h.ticker !== s.ticker || h.count.isZero()) continue;
          cash = cash.plus((h.side === 'yes' ? s.yesPayout : ONE.minus(s.yesPayout)).times(h.count));
          h.count = ZERO;
        }
      },
    });
  }
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  const times = new Set<number>([from.getTime(), to.getTime()]);
  for (const e of events) if (e.at > from.getTime() && e.at < to.getTime()) times.add(e.at);
  for (let day = Math.floor(from.getTime() / DAY_MS + 1) * DAY_MS; day < to.getTime(); day += DAY_MS) times.add(day);
  const equityNow = () => {
    let marked = cash;
    for (const h of held.values()) {
      if (h.count.isZero()) continue;
      const bid = bids.get(h.ticker)?.[h.side] ?? null;
      if (bid) marked = marked.plus(bid.times(h.count));
    }
    return marked;
  };
  const points: EquityPoint[] = [];
  let next = 0;
  for (const t of [...times].sort((a, b) => a - b)) {
    while (next < events.length && events[next]!.at <= t) events[next++]!.apply();
    points.push({ at: new Date(t), equity: equityNow() });
  }
  return points;
}

export interface Drawdown {
  /** The deepest fall below the running peak, dollars (≥ 0). */
  max: Decimal;
  /** The deepest fall as a fraction of its peak (≥ 0). */
  maxPct: Decimal;
  /** The longest span from falling below a peak to regaining it (or to the end), seconds. */
  timeUnderWaterSeconds: number;
  /** Per point, how far below the running peak. */
  series: Array<{ at: Date; drawdown: Decimal }>;
}

export function drawdown(points: EquityPoint[]): Drawdown {
  let peak: Decimal | null = null;
  let max = ZERO, maxPct = ZERO, longest = 0;
  let underSince: number | null = null;
  const series: Drawdown['series'] = [];
  for (const p of points) {
    if (peak === null || p.equity.gte(peak)) {
      if (underSince !== null) longest = Math.max(longest, p.at.getTime() - underSince);
      underSince = null;
      peak = peak === null || p.equity.gt(peak) ? p.equity : peak;
    } else if (underSince === null) {
      underSince = p.at.getTime();
    }
    const fall = peak.minus(p.equity);
    series.push({ at: p.at, drawdown: fall });
    max = Decimal.max(max, fall);
    if (peak.gt(0)) maxPct = Decimal.max(maxPct, fall.div(peak));
  }
  const last = points[points.length - 1];
  if (underSince !== null && last) longest = Math.max(longest, last.at.getTime() - underSince);
  return { max: money(max), maxPct: ratio(maxPct), timeUnderWaterSeconds: Math.round(longest / 1000), series };
}

// ---------------------------------------------------------------------------------------------
// Daily returns, Sharpe, Sortino

/** r_d = E_d / E_{d−1} − 1 for each UTC day the window covers; E_0 is the equity at the window's start. */
export function dailyReturns(points: EquityPoint[], window: { from: Date; to: Date }): Decimal[] {
  if (points.length === 0) return [];
  const ends: number[] = [];
  for (let day = Math.floor(window.from.getTime() / DAY_MS + 1) * DAY_MS; day < window.to.getTime(); day += DAY_MS) ends.push(day);
  ends.push(window.to.getTime());
  const equityAt = (t: number) => {
    let value = points[0]!.equity;
    for (const p of points) {
      if (p.at.getTime() > t) break;
      value = p.equity;
    }
    return value;
  };
  let previous = equityAt(window.from.getTime());
  return ends.map((t) => {
    const e = equityAt(t);
    const r = previous.isZero() ? ZERO : e.div(previous).minus(1);
    previous = e;
    return r;
  });
}

function mean(values: Decimal[]): Decimal {
  return values.reduce((s, v) => s.plus(v), ZERO).div(values.length);
}

/** Annualised Sharpe ratio of daily returns: mean / sample standard deviation × √365, risk-free 0. */
export function sharpe(returns: Decimal[]): Maybe {
  if (returns.length < 2) return none('n/a (fewer than 2 days)');
  const m = mean(returns);
  const variance = returns.reduce((s, r) => s.plus(r.minus(m).pow(2)), ZERO).div(returns.length - 1);
  if (variance.isZero()) return none('n/a (no variation)');
  return some(m.div(variance.sqrt()).times(SQRT_365));
}

/** Annualised Sortino ratio: mean / √(Σ min(r, 0)² / n) × √365; "∞" without a losing day and a positive mean. */
export function sortino(returns: Decimal[]): Maybe {
  if (returns.length < 2) return none('n/a (fewer than 2 days)');
  const m = mean(returns);
  const downside = returns.reduce((s, r) => (r.lt(0) ? s.plus(r.pow(2)) : s), ZERO).div(returns.length);
  if (downside.isZero()) return m.gt(0) ? none('∞') : none('n/a (no variation)');
  return some(m.div(downside.sqrt()).times(SQRT_365));
}

// ---------------------------------------------------------------------------------------------
// Per-position statistics, fills, closing line, forecasts

/** Gross wins / gross losses of closed positions; "∞" with wins and no loss. */
export function profitFactor(pnls: Decimal[]): Maybe {
  const wins = pnls.filter((p) => p.gt(0)).reduce((s, p) => s.plus(p), ZERO);
  const losses = pnls.filter((p) => p.lt(0)).reduce((s, p) => s.plus(p.abs()), ZERO);
  if (losses.isZero()) return wins.gt(0) ? none('∞') : none('n/a (no closed position)');
  return some(wins.div(losses));
}

/** Mean P&L per closed position. */
export function expectancy(pnls: Decimal[]): Maybe {
  if (pnls.length === 0) return none('n/a (no closed position)');
  const m = money(mean(pnls));
  return { value: m, display: m.toFixed(4) };
}

/** Closed positions with a P&L above zero / closed positions. */
export function winRate(pnls: Decimal[]): Maybe {
  if (pnls.length === 0) return none('n/a (no closed position)');
  return some(new Decimal(pnls.filter((p) => p.gt(0)).length).div(pnls.length));
}

export interface FillRate {
  contractsOrdered: Decimal;
  contractsFilled: Decimal;
  contracts: Maybe;
  orders: number;
  ordersWithFill: number;
  ordersRate: Maybe;
}

export function fillRate(orders: LedgerOrder[]): FillRate {
  const ordered = orders.reduce((s, o) => s.plus(o.quantity), ZERO);
  const filled = orders.reduce((s, o) => s.plus(o.filled), ZERO);
  const withFill = orders.filter((o) => o.filled.gt(0)).length;
  return {
    contractsOrdered: ordered,
    contractsFilled: filled,
    contracts: ordered.isZero() ? none('n/a (no order)') : some(filled.div(ordered)),
    orders: orders.length,
    ordersWithFill: withFill,
    ordersRate: orders.length === 0 ? none('n/a (no order)') : some(new Decimal(withFill).div(orders.length)),
  };
}

/**
 * The last recorded ask of `side` at or before `closeAt` (what buying that side cost at the
 * close); null when none. Only a real quote counts, strictly inside (0, 1): Kalshi's 0 and 1 mean
 * "no offer" (as shared/domain/edge.ts reads them), and a finished game's book shows them.
 */
export function closingPrice(quotes: LedgerQuote[], ticker: string, side: Side, closeAt: Date): Decimal | null {
  let last: LedgerQuote | null = null;
  for (const q of quotes) {
    if (q.ticker !== ticker || q.at > closeAt) continue;
    const price = side === 'yes' ? q.yesAsk : q.noAsk;
    if (price === null || price.lte(0) || price.gte(1)) continue;
    if (last === null || q.at >= last.at) last = q;
  }
  if (last === null) return null;
  return side === 'yes' ? last.yesAsk : last.noAsk;
}

export interface ClosingLine {
  /** Entry fills with a closing price. */
  entries: number;
  /** Mean of (closing price − entry price) per entry fill. */
  mean: Maybe;
  /** Entries whose closing price is above their entry price / entries. */
  sharePositive: Maybe;
}

/** Closing-line value of entry fills: the side's last recorded price before the market closed, minus the price paid. */
export function closingLine(ledger: Pick<Ledger, 'fills' | 'quotes' | 'closeAt' | 'window'>, strategy?: string): ClosingLine {
  const values: Decimal[] = [];
  for (const f of sortFills(ledger.fills)) {
    if (f.action !== 'buy' || (strategy !== undefined && f.strategy !== strategy)) continue;
    const close = closingPrice(ledger.quotes, f.ticker, f.side, ledger.closeAt.get(f.ticker) ?? ledger.window.to);
    if (close !== null) values.push(close.minus(f.price));
  }
  if (values.length === 0) return { entries: 0, mean: none('n/a (no entry)'), sharePositive: none('n/a (no entry)') };
  return {
    entries: values.length,
    mean: some(mean(values)),
    sharePositive: some(new Decimal(values.filter((v) => v.gt(0)).length).div(values.length)),
  };
}

export interface ForecastScore {
  n: number;
  brier: Decimal;
  logLoss: Decimal;
}

/** Brier score (mean (p − outcome)²) and log loss (−mean ln of the probability of what happened, p clipped to [1e-15, 1 − 1e-15]). */
export function forecastScore(forecasts: Array<{ p: Decimal; outcome: 0 | 1 }>): ForecastScore | null {
  if (forecasts.length === 0) return null;
  let squared = ZERO, logLikelihood = ZERO;
  for (const { p, outcome } of forecasts) {
    squared = squared.plus(p.minus(outcome).pow(2));
    const clipped = Decimal.min(Decimal.max(p, LOG_LOSS_EPSILON), ONE.minus(LOG_LOSS_EPSILON));
    logLikelihood = logLikelihood.plus(outcome === 1 ? clipped.ln() : ONE.minus(clipped).ln());
  }
  return { n: forecasts.length, brier: ratio(squared.div(forecasts.length)), logLoss: ratio(logLikelihood.neg().div(forecasts.length)) };
}

/** Per model, its Brier score and log loss against the outcomes next to the market's own at the same moments. */
export function forecastComparison<M extends ForecastMoment>(moments: M[]): Array<{ model: string; modelScore: ForecastScore; marketScore: ForecastScore; moments: M[] }> {
  const models = [...new Set(moments.map((m) => m.model))].sort();
  return models.map((model) => {
    const own = moments.filter((m) => m.model === model);
    return {
      model,
      modelScore: forecastScore(own.map((m) => ({ p: m.model_p, outcome: m.outcome })))!,
      marketScore: forecastScore(own.map((m) => ({ p: m.market_p, outcome: m.outcome })))!,
      moments: own,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// A/B: the difference of mean P&L per position, with a seeded bootstrap interval

/** mulberry32: a small seeded PRNG, so the same seed draws the same resamples on any machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BOOTSTRAP_RESAMPLES = 2000;

export interface BootstrapDifference {
  /** mean(b) − mean(a). */
  difference: Decimal;
  /** Percentile 95 % interval (the 2.5th and 97.5th of the sorted resampled differences); null with fewer than 2 positions on a side. */
  interval: { low: Decimal; high: Decimal } | null;
  resamples: number;
}

/**
 * The difference of mean P&L per closed position, b − a, and its bootstrap 95 % interval: each
 * resample draws |a| positions from a and |b| from b with replacement (indices from the seeded
 * PRNG), in that order; low and high are the sorted differences at ⌊0.025 R⌋ and ⌈0.975 R⌉ − 1.
 */
export function bootstrapDifference(a: Decimal[], b: Decimal[], seed: number, resamples = BOOTSTRAP_RESAMPLES): BootstrapDifference {
  const difference = a.length === 0 || b.length === 0 ? ZERO : mean(b).minus(mean(a));
  if (a.length < 2 || b.length < 2) return { difference: money(difference), interval: null, resamples: 0 };
  const random = seededRandom(seed);
  const draw = (values: Decimal[]) => {
    let sum = ZERO;
    for (let i = 0; i < values.length; i++) sum = sum.plus(values[Math.floor(random() * values.length)]!);
    return sum.div(values.length);
  };
  const diffs: Decimal[] = [];
  for (let r = 0; r < resamples; r++) {
    const ma = draw(a);
    diffs.push(draw(b).minus(ma));
  }
  diffs.sort((x, y) => x.comparedTo(y));
  return {
    difference: money(difference),
    interval: { low: money(diffs[Math.floor(0.025 * resamples)]!), high: money(diffs[Math.ceil(0.975 * resamples) - 1]!) },
    resamples,
  };
}

// ---------------------------------------------------------------------------------------------
// Everything for one strategy version (or the whole run)

export interface StrategyMetrics {
  strategy: string;
  positions: number;
  closedPositions: number;
  pnl: Decimal;
  fees: Decimal;
  /** pnl / opening balance. */
  roi: Decimal;
  /** pnl of closed positions / the cost of their buys (how paper_roi and live_roi are defined); null without buys. */
  roiOnCost: Decimal | null;
  winRate: Maybe;
  expectancy: Maybe;
  profitFactor: Maybe;
  drawdown: Drawdown;
  dailyReturns: Decimal[];
  sharpe: Maybe;
  sortino: Maybe;
  fillRate: FillRate;
  closingLine: ClosingLine;
  /** Closed positions' P&L by position id (the A/B bootstrap's sample). */
  closedPnls: Decimal[];
  equity: EquityPoint[];
  byCondition: Array<{ condition: string; exits: number; pnl: Decimal }>;
}

/** The metrics of the fills of `strategy` (every fill when undefined: the whole run). */
export function strategyMetrics(ledger: Ledger, strategy?: string): StrategyMetrics {
  const positions = positionResults(ledger).filter((p) => strategy === undefined || p.strategy === strategy);
  const closed = positions.filter((p) => p.closed);
  const closedPnls = closed.map((p) => p.pnl);
  const pnl = positions.reduce((s, p) => s.plus(p.pnl), ZERO);
  const closedIds = new Set(closed.map((p) => p.positionId));
  const closedCost = ledger.fills
    .filter((f) => f.action === 'buy' && closedIds.has(f.positionId))
    .reduce((s, f) => s.plus(f.quantity.times(f.price)), ZERO);
  const equity = equityCurve(ledger, strategy);
  const returns = dailyReturns(equity, ledger.window);
  const conditions = new Map<string, { exits: number; pnl: Decimal }>();
  for (const p of positions) {
    for (const c of p.byCondition) {
      const e = conditions.get(c.condition) ?? { exits: 0, pnl: ZERO };
      conditions.set(c.condition, { exits: e.exits + 1, pnl: e.pnl.plus(c.pnl) });
    }
  }
  return {
    strategy: strategy ?? 'all',
    positions: positions.length,
    closedPositions: closed.length,
    pnl: money(pnl),
    fees: money(positions.reduce((s, p) => s.plus(p.fees), ZERO)),
    roi: ledger.openingBalance.isZero() ? ZERO : ratio(pnl.div(ledger.openingBalance)),
    roiOnCost: closedCost.isZero() ? null : closed.reduce((s, p) => s.plus(p.pnl), ZERO).div(closedCost).toDecimalPlaces(4, Decimal.ROUND_HALF_UP),
    winRate: winRate(closedPnls),
    expectancy: expectancy(closedPnls),
    profitFactor: profitFactor(closedPnls),
    drawdown: drawdown(equity),
    dailyReturns: returns.map(ratio),
    sharpe: sharpe(returns),
    sortino: sortino(returns),
    fillRate: fillRate(ledger.orders.filter((o) => strategy === undefined || o.strategy === strategy)),
    closingLine: closingLine(ledger, strategy),
    closedPnls: closedPnls.map(money),
    equity,
    byCondition: [...conditions.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([condition, c]) => ({ condition, exits: c.exits, pnl: money(c.pnl) })),
  };
}

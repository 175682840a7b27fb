import { Decimal } from '../../shared/domain/decimal';
import type { ReportExitOutcome, ReportPosition, ReportSample, ReportSettlement, ReportStrategyEquity, ReportTrade } from './types';

/**
 * Figures the report derives from its own data (fills, settlements, samples): pure and exact, so
 * report.json and the HTML say the same thing and a test can recompute them independently.
 */

const ONE = new Decimal(1);
const ZERO = new Decimal(0);

/** The game minute at `iso`, interpolated between the samples around it (clamped to the first / last); null without samples. */
export function minuteAt(iso: string, samples: ReportSample[]): number | null {
  const t = Date.parse(iso);
  const points = samples
    .map((s) => ({ t: Date.parse(s.at), minute: s.minute }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.minute));
  if (!Number.isFinite(t) || points.length === 0) return null;
  if (t <= points[0]!.t) return points[0]!.minute;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!, b = points[i]!;
    if (t <= b.t) return b.t === a.t ? b.minute : a.minute + ((t - a.t) / (b.t - a.t)) * (b.minute - a.minute);
  }
  return points[points.length - 1]!.minute;
}

/** Per sample, how far the equity is below its running peak (dollars, ≥ 0). */
export function drawdownSeries(samples: ReportSample[]): { minute: number; at: string; drawdown: Decimal }[] {
  let peak: Decimal | undefined;
  return samples.map((s) => {
    const equity = new Decimal(s.equity);
    peak = peak === undefined || equity.gt(peak) ? equity : peak;
    return { minute: s.minute, at: s.at, drawdown: peak.minus(equity) };
  });
}

export function maxDrawdown(samples: ReportSample[]): Decimal {
  return drawdownSeries(samples).reduce((max, p) => Decimal.max(max, p.drawdown), ZERO);
}

/** What one contract of `side` pays at a settlement (null for a void market). */
export function sidePayout(settlement: ReportSettlement, side: 'yes' | 'no'): Decimal | null {
  if (settlement.yesPayout === null) return null;
  const yes = new Decimal(settlement.yesPayout);
  return side === 'yes' ? yes : ONE.minus(yes);
}

/**
 * Each strategy version's P&L at each sample: the cash its fills moved (sells − buys − fees), the
 * payouts of markets settled by then, and what it still holds marked at the bid (YES at the YES
 * bid, NO at 1 − the YES ask; no bid counts nothing), the way the runtime marks the run's equity.
 */
export function strategyEquitySeries(trades: ReportTrade[], settlements: ReportSettlement[], samples: ReportSample[]): ReportStrategyEquity[] {
  const strategies = [...new Set(trades.map((t) => t.strategy))].sort((a, b) => a.localeCompare(b));
  const settledAt = new Map(settlements.map((s) => [s.ticker, s]));
  return strategies.map((strategy) => {
    const own = trades.filter((t) => t.strategy === strategy);
    const points = samples.map((sample) => {
      const until = Date.parse(sample.at);
      let pnl = ZERO;
      const held = new Map<string, { ticker: string; side: 'yes' | 'no'; count: Decimal }>();
      for (const t of own) {
        if (!(Date.parse(t.at) <= until)) continue;
        const notional = new Decimal(t.price).times(t.quantity);
        pnl = (t.action === 'sell' ? pnl.plus(notional) : pnl.minus(notional)).minus(t.fees);
        const key = `${t.ticker}|${t.side}`;
        const h = held.get(key) ?? { ticker: t.ticker, side: t.side, count: ZERO };
        h.count = t.action === 'buy' ? h.count.plus(t.quantity) : h.count.minus(t.quantity);
        held.set(key, h);
      }
      for (const h of held.values()) {
        if (h.count.isZero()) continue;
        const settlement = settledAt.get(h.ticker);
        if (settlement && Date.parse(settlement.at) <= until) {
          pnl = pnl.plus((sidePayout(settlement, h.side) ?? ZERO).times(h.count));
          continue;
        }
        const quote = sample.markets?.[h.ticker];
        const bid = h.side === 'yes'
          ? (quote?.yesBid == null ? null : new Decimal(quote.yesBid))
          : (quote?.yesAsk == null ? null : ONE.minus(quote.yesAsk));
        if (bid) pnl = pnl.plus(bid.times(h.count));
      }
      return { minute: sample.minute, at: sample.at, pnl: pnl.toFixed(4) };
    });
    return { strategy, points };
  });
}

/**
 * Each exit fill's P&L after fees: (price − average entry price) × contracts − its fee − the entry
 * fees' share of these contracts. By trade id; entries get none.
 */
export function exitFillPnl(trades: ReportTrade[]): Map<number, Decimal> {
  const result = new Map<number, Decimal>();
  const entry = entryCosts(trades);
  for (const t of trades) {
    if (t.purpose !== 'exit' || t.positionId === null) continue;
    const e = entry.get(t.positionId);
    if (!e || e.contracts.isZero()) continue;
    const q = new Decimal(t.quantity);
    const pnl = new Decimal(t.price).minus(e.cost.div(e.contracts)).times(q).minus(t.fees).minus(e.fees.times(q).div(e.contracts));
    result.set(t.tradeId, pnl.toDecimalPlaces(4, Decimal.ROUND_HALF_UP));
  }
  return result;
}

/** Per position: contracts bought, their cost and entry fees. */
export function entryCosts(trades: ReportTrade[]): Map<number, { contracts: Decimal; cost: Decimal; fees: Decimal }> {
  const entry = new Map<number, { contracts: Decimal; cost: Decimal; fees: Decimal }>();
  for (const t of trades) {
    if (t.purpose !== 'entry' || t.positionId === null) continue;
    const e = entry.get(t.positionId) ?? { contracts: ZERO, cost: ZERO, fees: ZERO };
    entry.set(t.positionId, {
      contracts: e.contracts.plus(t.quantity),
      cost: e.cost.plus(new Decimal(t.price).times(t.quantity)),
      fees: e.fees.plus(t.fees),
    });
  }
  return entry;
}

/**
 * What each exit condition did, from the fills' P&L after fees, and what settlement paid for
 * the contracts still held (condition 'settlement'). Sorted by condition.
 */
export function exitOutcomes(
  trades: ReportTrade[],
  settled: { positionId: number; contracts: Decimal; payout: Decimal }[],
): ReportExitOutcome[] {
  const byCondition = new Map<string, { fills: number; gains: number; losses: number; pnl: Decimal }>();
  const add = (condition: string, pnl: Decimal) => {
    const o = byCondition.get(condition) ?? { fills: 0, gains: 0, losses: 0, pnl: ZERO };
    o.fills++;
    if (pnl.gt(0)) o.gains++;
    if (pnl.lt(0)) o.losses++;
    o.pnl = o.pnl.plus(pnl);
    byCondition.set(condition, o);
  };
  const fillPnl = exitFillPnl(trades);
  for (const t of trades) {
    const pnl = fillPnl.get(t.tradeId);
    if (pnl) add(t.exitCondition ?? 'unknown', pnl);
  }
  const entry = entryCosts(trades);
  for (const s of settled) {
    const e = entry.get(s.positionId);
    if (!e || e.contracts.isZero() || s.contracts.isZero()) continue;
    const pnl = s.payout.minus(e.cost.div(e.contracts)).times(s.contracts).minus(e.fees.times(s.contracts).div(e.contracts));
    add('settlement', pnl.toDecimalPlaces(4, Decimal.ROUND_HALF_UP));
  }
  return [...byCondition.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([condition, o]) => ({ condition, fills: o.fills, gains: o.gains, losses: o.losses, realizedPnl: o.pnl.toFixed(4) }));
}

/**
 * How a position went, from its fills and its market's settlement: when it was entered and
 * closed (last exit fill, or the settlement that closed it), the average exit price, what
 * settlement paid a contract of its side, its ROI (realized P&L over entered × entry price;
 * none while open) and how long it was held.
 */
export function positionExitDetails(
  position: Pick<ReportPosition, 'positionId' | 'side' | 'status' | 'entered' | 'entryPrice' | 'realizedPnl'>,
  trades: ReportTrade[],
  settlement: ReportSettlement | undefined,
): Pick<ReportPosition, 'enteredAt' | 'closedAt' | 'exitPrice' | 'settlementPayout' | 'roi' | 'holdSeconds'> {
  const own = trades.filter((t) => t.positionId === position.positionId);
  const sells = own.filter((t) => t.purpose === 'exit');
  const sold = sells.reduce((n, t) => n.plus(t.quantity), ZERO);
  const settledBy = position.status === 'settled' ? settlement : undefined;
  const payout = settledBy ? sidePayout(settledBy, position.side) : null;
  const enteredAt = own.find((t) => t.purpose === 'entry')?.at ?? null;
  const closedAt = position.status === 'open' ? null : settledBy?.at ?? sells[sells.length - 1]?.at ?? null;
  const cost = new Decimal(position.entered).times(position.entryPrice);
  return {
    enteredAt,
    closedAt,
    exitPrice: sold.isZero() ? null : sells.reduce((sum, t) => sum.plus(new Decimal(t.price).times(t.quantity)), ZERO).div(sold).toFixed(4),
    settlementPayout: payout === null ? null : payout.toFixed(4),
    roi: position.status === 'open' || cost.isZero() ? null : new Decimal(position.realizedPnl).div(cost).toFixed(4),
    holdSeconds: enteredAt && closedAt ? Math.round((Date.parse(closedAt) - Date.parse(enteredAt)) / 1000) : null,
  };
}

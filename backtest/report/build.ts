import { computeValidationMetrics } from '../../cli/commands/modelValidate';
import {
  bootstrapDifference,
  drawdown,
  forecastComparison,
  positionResults,
  strategyMetrics,
  type ForecastMoment,
  type Ledger,
  type LedgerFill,
  type Maybe,
  type StrategyMetrics,
} from '../../shared/backtest/metrics';
import type { Queryable } from '../../shared/db/transaction';
import { Decimal, dec } from '../../shared/domain/decimal';
import type { BacktestMetrics, BacktestReport, BacktestRunInfo, MaybeMetric } from './types';

/**
 * The report of a backtest, read back from the replay database after the run (as
 * local/report/build.ts reads a local run's): fills, orders, settlements, the recorded market
 * versions of the traded markets and the edge rows. The replay database holds only this run, so
 * nothing is filtered by execution mode. Only parent tables are read (markets and game_states may
 * be partitioned).
 */
export async function buildBacktestReport(db: Queryable, run: BacktestRunInfo): Promise<BacktestReport> {
  const ledger = await readLedger(db, run);
  const labels = [...new Set([
    ...run.strategies.map((s) => `${s.name} ${s.version}`),
    ...[...new Set(ledger.fills.map((f) => f.strategy))].sort(),
  ])];
  const totals = strategyMetrics(ledger);
  const byVersion = labels.map((label) => strategyMetrics(ledger, label));
  const dd = drawdown(totals.equity);
  const positions = positionResults(ledger);
  const endingCash = ledger.fills.reduce(
    (cash, f) => (f.action === 'sell' ? cash.plus(f.quantity.times(f.price)) : cash.minus(f.quantity.times(f.price))).minus(f.fee),
    ledger.openingBalance,
  ).plus(settledProceeds(ledger));

  return {
    kind: 'backtest',
    tapeId: run.tapeId,
    tapeLabel: run.tapeLabel,
    window: { from: run.window.from.toISOString(), to: run.window.to.toISOString() },
    strategies: run.strategies.map((s) => ({ name: s.name, version: s.version })),
    model: run.model ? { name: run.model.name, version: run.model.version } : null,
    fillModel: { ...run.fillModel },
    seed: run.seed,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    startingBalance: run.balance.toFixed(4),
    endingCash: endingCash.toFixed(4),
    endingEquity: (totals.equity[totals.equity.length - 1]?.equity ?? run.balance).toFixed(4),
    totals: toReport(totals, ledger),
    byVersion: byVersion.map((m) => toReport(m, ledger)),
    equity: totals.equity.map((p, i) => ({ at: p.at.toISOString(), equity: p.equity.toFixed(4), drawdown: dd.series[i]!.drawdown.toFixed(4) })),
    positions: positions.map((p) => ({
      positionId: p.positionId,
      strategy: p.strategy,
      ticker: p.ticker,
      side: p.side,
      pnl: p.pnl.toFixed(4),
      fees: p.fees.toFixed(4),
      closed: p.closed,
      closedBy: p.byCondition.map((c) => c.condition),
    })),
    forecasts: forecastComparison(await readForecastMoments(db, run)).map((f) => {
      const validation = computeValidationMetrics(f.moments.map((m) => ({ p: m.model_p, outcome: m.outcome })));
      return {
        model: f.model,
        modelScore: { n: f.modelScore.n, brier: f.modelScore.brier.toFixed(6), logLoss: f.modelScore.logLoss.toFixed(6) },
        marketScore: { n: f.marketScore.n, brier: f.marketScore.brier.toFixed(6), logLoss: f.marketScore.logLoss.toFixed(6) },
        accuracy: validation.accuracy.toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(6),
        calibration: validation.calibration.map((b) => ({
          lower: b.lower.toFixed(), upper: b.upper.toFixed(), count: b.count,
          mean_predicted: b.meanPredicted?.toFixed() ?? null, observed_frequency: b.observedFrequency?.toFixed() ?? null,
        })),
      };
    }),
    ab: abComparisons(run, byVersion),
  };
}

/** Each strategy run in several versions: every later version against the first named, on P&L per closed position. */
function abComparisons(run: BacktestRunInfo, byVersion: StrategyMetrics[]): BacktestReport['ab'] {
  const result: BacktestReport['ab'] = [];
  const names = [...new Set(run.strategies.map((s) => s.name))];
  for (const name of names) {
    const versions = run.strategies.filter((s) => s.name === name);
    if (versions.length < 2) continue;
    const of = (version: string) => byVersion.find((m) => m.strategy === `${name} ${version}`)!;
    const a = versions[0]!;
    for (const b of versions.slice(1)) {
      const diff = bootstrapDifference(of(a.version).closedPnls, of(b.version).closedPnls, run.seed);
      result.push({
        strategy: name,
        a: a.version,
        b: b.version,
        meanDifference: diff.difference.toFixed(4),
        interval: diff.interval ? { low: diff.interval.low.toFixed(4), high: diff.interval.high.toFixed(4) } : null,
        resamples: diff.resamples,
        seed: run.seed,
      });
    }
  }
  return result;
}

const maybe = (m: Maybe): MaybeMetric => ({ value: m.value === null ? null : m.value.toFixed(), display: m.display });

function toReport(m: StrategyMetrics, ledger: Ledger): BacktestMetrics {
  return {
    strategy: m.strategy,
    positions: m.positions,
    closedPositions: m.closedPositions,
    trades: ledger.fills.filter((f) => m.strategy === 'all' || f.strategy === m.strategy).length,
    pnl: m.pnl.toFixed(4),
    fees: m.fees.toFixed(4),
    roi: m.roi.toFixed(6),
    roiOnCost: m.roiOnCost === null ? null : m.roiOnCost.toFixed(4),
    winRate: maybe(m.winRate),
    expectancy: maybe(m.expectancy),
    profitFactor: maybe(m.profitFactor),
    maxDrawdown: m.drawdown.max.toFixed(4),
    maxDrawdownPct: m.drawdown.maxPct.toFixed(6),
    timeUnderWaterSeconds: m.drawdown.timeUnderWaterSeconds,
    dailyReturns: m.dailyReturns.map((r) => r.toFixed(6)),
    sharpe: maybe(m.sharpe),
    sortino: maybe(m.sortino),
    fillRate: {
      contractsOrdered: m.fillRate.contractsOrdered.toFixed(),
      contractsFilled: m.fillRate.contractsFilled.toFixed(),
      contracts: maybe(m.fillRate.contracts),
      orders: m.fillRate.orders,
      ordersWithFill: m.fillRate.ordersWithFill,
      ordersRate: maybe(m.fillRate.ordersRate),
    },
    closingLine: { entries: m.closingLine.entries, mean: maybe(m.closingLine.mean), sharePositive: maybe(m.closingLine.sharePositive) },
    byCondition: m.byCondition.map((c) => ({ condition: c.condition, exits: c.exits, pnl: c.pnl.toFixed(4) })),
    equity: m.equity.map((p) => ({ at: p.at.toISOString(), equity: p.equity.toFixed(4) })),
  };
}

function settledProceeds(ledger: Ledger): Decimal {
  let total = new Decimal(0);
  for (const p of positionResults(ledger)) {
    const settlement = ledger.settlements.find((s) => s.ticker === p.ticker && s.at <= ledger.window.to);
    if (!settlement) continue;
    const own = ledger.fills.filter((f) => f.positionId === p.positionId);
    const held = own.reduce((n, f) => (f.action === 'buy' ? n.plus(f.quantity) : n.minus(f.quantity)), new Decimal(0));
    total = total.plus((p.side === 'yes' ? settlement.yesPayout : new Decimal(1).minus(settlement.yesPayout)).times(held));
  }
  return total;
}

const num = (v: unknown): Decimal => dec(String(v));
const numOrNull = (v: unknown): Decimal | null => (v === null || v === undefined ? null : dec(String(v)));

/** The run's ledger from the replay database: everything up to the window's end. */
export async function readLedger(db: Queryable, run: BacktestRunInfo): Promise<Ledger> {
  const to = run.window.to;
  const { rows: trades } = await db.query(
    `SELECT t.trade_id, coalesce(t.position_id, o.position_id) AS position_id, s.strategy_name, s.strategy_version,
            t.market_id, coalesce(t.contract_side::text, o.side::text) AS contract_side, t.side AS action, t.created_at,
            t.quantity::text AS quantity, t.price::text AS price, coalesce(t.fees, 0)::text AS fees,
            er.exit_condition::text AS exit_condition
     FROM trades t
     LEFT JOIN orders o ON o.client_order_id = t.client_order_id
     LEFT JOIN exit_requests er ON er.exit_request_id = o.exit_request_id
     LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
     WHERE t.created_at <= $1
     ORDER BY t.created_at, t.trade_id`,
    [to],
  );
  const fills: LedgerFill[] = [];
  for (const t of trades) {
    if (t.position_id === null) throw new Error(`trade ${t.trade_id} of ${t.market_id} has no position: the replay's books are incomplete`);
    fills.push({
      tradeId: Number(t.trade_id),
      positionId: Number(t.position_id),
      strategy: t.strategy_name ? `${t.strategy_name} ${t.strategy_version}` : '(none)',
      ticker: t.market_id,
      side: t.contract_side,
      action: t.action,
      at: t.created_at,
      quantity: num(t.quantity),
      price: num(t.price),
      fee: num(t.fees),
      exitCondition: t.exit_condition ?? (t.action === 'sell' ? 'unknown' : null),
    });
  }
  const tickers = [...new Set(fills.map((f) => f.ticker))];
  const { rows: settlementRows } = await db.query(
    `SELECT market_id, created_at, payout::text AS payout FROM settlements
     WHERE payout IS NOT NULL AND created_at <= $1 ORDER BY market_id`,
    [to],
  );
  const { rows: quoteRows } = await db.query(
    `SELECT market_id, created_at, yes_bid::text, no_bid::text, yes_price::text AS yes_ask, no_price::text AS no_ask, close_time
     FROM markets WHERE market_id = ANY($1::text[]) AND created_at <= $2
     ORDER BY market_id, created_at, market_version_id`,
    [tickers, to],
  );
  const { rows: orderRows } = await db.query(
    `SELECT s.strategy_name, s.strategy_version, o.quantity::text AS quantity, o.filled_quantity::text AS filled
     FROM orders o LEFT JOIN strategies s ON s.strategy_id = o.strategy_id
     WHERE o.created_at <= $1 ORDER BY o.order_id`,
    [to],
  );
  const closeAt = new Map<string, Date>();
  for (const q of quoteRows) if (q.close_time) closeAt.set(q.market_id, q.close_time); // the latest version's close time
  for (const s of settlementRows) {
    const close = closeAt.get(s.market_id);
    if (!close || s.created_at < close) closeAt.set(s.market_id, s.created_at);
  }
  return {
    openingBalance: run.balance,
    window: run.window,
    fills,
    settlements: settlementRows.map((s) => ({ ticker: s.market_id, at: s.created_at, yesPayout: num(s.payout) })),
    quotes: quoteRows.map((q) => ({
      ticker: q.market_id, at: q.created_at,
      yesBid: numOrNull(q.yes_bid), noBid: numOrNull(q.no_bid), yesAsk: numOrNull(q.yes_ask), noAsk: numOrNull(q.no_ask),
    })),
    orders: orderRows.map((o) => ({
      strategy: o.strategy_name ? `${o.strategy_name} ${o.strategy_version}` : '(none)',
      quantity: num(o.quantity),
      filled: num(o.filled),
    })),
    closeAt,
  };
}

/**
 * The decision moments of markets settled YES or NO: one per model, market and time (a scan
 * writes a row per side and strategy; all carry the model's YES probability). The market's YES
 * probability comes from the YES row (its implied probability) or else the NO row (1 − its).
 */
export async function readForecastMoments(db: Queryable, run: BacktestRunInfo): Promise<Array<ForecastMoment & { market: string }>> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (e.market_id, e.model_id, e.created_at)
            e.market_id, m.model_name, m.model_version, e.true_win_probability::text AS model_p,
            CASE e.side WHEN 'yes' THEN e.market_implied_probability ELSE 1 - e.market_implied_probability END::text AS market_p,
            st.payout::text AS payout
     FROM edges e
     JOIN probability_models m ON m.model_id = e.model_id
     JOIN settlements st ON st.market_id = e.market_id AND st.payout IN (0, 1)
     WHERE e.created_at >= $1 AND e.created_at <= $2 AND e.created_at <= st.created_at
     ORDER BY e.market_id, e.model_id, e.created_at, (e.side = 'yes') DESC, e.edge_id`,
    [run.window.from, run.window.to],
  );
  return rows.map((r) => ({
    market: r.market_id,
    model: `${r.model_name} ${r.model_version}`,
    model_p: num(r.model_p),
    market_p: num(r.market_p),
    outcome: num(r.payout).eq(1) ? 1 : 0,
  }));
}

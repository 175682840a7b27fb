import type pg from 'pg';
import * as z from 'zod';
import { now } from '../../shared/clock/clock';
import { withTransaction } from '../../shared/db/transaction';
import type { BacktestReport } from './types';

const decimalText = z.string().regex(/^-?\d+(\.\d+)?$/, 'not a decimal string');
const maybe = z.object({ value: decimalText.nullable(), display: z.string() });
const isoTime = z.string().datetime({ offset: true });
const versionMetrics = z.object({
  strategy: z.string().min(1),
  positions: z.number().int().nonnegative(),
  closedPositions: z.number().int().nonnegative(),
  trades: z.number().int().nonnegative(),
  pnl: decimalText,
  fees: decimalText,
  roi: decimalText,
  roiOnCost: decimalText.nullable(),
  winRate: maybe,
  expectancy: maybe,
  profitFactor: maybe,
  maxDrawdown: decimalText,
  maxDrawdownPct: decimalText,
  timeUnderWaterSeconds: z.number().int().nonnegative(),
  sharpe: maybe,
  sortino: maybe,
  fillRate: z.object({ contracts: maybe, ordersRate: maybe }).passthrough(),
  closingLine: z.object({ entries: z.number().int().nonnegative(), mean: maybe, sharePositive: maybe }),
}).passthrough();

/** What storing reads from a report (a report may come back from report.json): checked before anything is written. */
const storedReport = z.object({
  kind: z.literal('backtest'),
  tapeId: z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256 (64 lowercase hex digits)'),
  tapeLabel: z.string().min(1),
  window: z.object({ from: isoTime, to: isoTime }),
  strategies: z.array(z.object({ name: z.string().min(1), version: z.string().min(1) })).min(1),
  model: z.object({ name: z.string(), version: z.string() }).nullable(),
  fillModel: z.record(z.string(), z.string()),
  seed: z.number().int(),
  startedAt: isoTime,
  finishedAt: isoTime,
  startingBalance: decimalText,
  endingEquity: decimalText,
  totals: versionMetrics,
  byVersion: z.array(versionMetrics),
  forecasts: z.array(z.object({
    model: z.string().min(1),
    modelScore: z.object({ n: z.number().int().positive(), brier: decimalText, logLoss: decimalText }),
    accuracy: decimalText,
    calibration: z.array(z.unknown()),
  }).passthrough()),
}).passthrough();

export class BacktestStoreError extends Error {
  override name = 'BacktestStoreError';
}

/**
 * Stores a backtest's results in the operational database (not the replay's), in one transaction:
 * a backtest_runs row, a backtest_results row per strategy version the run named, each version's
 * strategies.backtest_roi / backtest_trades_count / backtest_run_id (the latest run; ROI on cost,
 * as paper_roi), and per model a model_validations row (data_file = the tape label, data_sha256 =
 * the tape id). A version or model unknown to this database fails the whole store.
 */
export async function storeBacktestResults(db: pg.Pool, report: BacktestReport): Promise<{ runId: number }> {
  const parsed = storedReport.safeParse(report);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BacktestStoreError(`backtest report: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const r = parsed.data;
  const named = new Set(r.strategies.map((s) => `${s.name} ${s.version}`));
  return withTransaction(db, async (client) => {
    const strategyIds = new Map<string, number>();
    for (const [i, s] of r.strategies.entries()) {
      const { rows: [row] } = await client.query(
        'SELECT strategy_id FROM strategies WHERE strategy_name = $1 AND strategy_version = $2',
        [s.name, s.version],
      );
      if (!row) throw new BacktestStoreError(`backtest report: strategies.${i}: strategy ${s.name} ${s.version} is not in this database`);
      strategyIds.set(`${s.name} ${s.version}`, Number(row.strategy_id));
    }
    const { rows: [run] } = await client.query(
      `INSERT INTO backtest_runs (tape_id, tape_label, window_from, window_to, strategies, model_name, model_version, fill_model, seed,
                                  opening_balance, pnl, fees, ending_equity, started_at, finished_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15) RETURNING backtest_run_id`,
      [r.tapeId, r.tapeLabel, r.window.from, r.window.to, JSON.stringify(r.strategies), r.model?.name ?? null, r.model?.version ?? null,
        JSON.stringify(r.fillModel), r.seed, r.startingBalance, r.totals.pnl, r.totals.fees, r.endingEquity, r.startedAt, r.finishedAt],
    );
    const runId = Number(run.backtest_run_id);
    for (const [i, m] of r.byVersion.entries()) {
      if (!named.has(m.strategy)) continue; // fills of a version the run did not name (none in a clean replay)
      const strategyId = strategyIds.get(m.strategy)!;
      try {
        await client.query(
          `INSERT INTO backtest_results (backtest_run_id, strategy_id, positions, closed_positions, trades_count, pnl, fees, roi, roi_on_cost,
                                         win_rate, expectancy, profit_factor, max_drawdown, max_drawdown_pct, time_under_water_seconds,
                                         sharpe, sortino, contract_fill_rate, order_fill_rate, clv_mean, clv_share_positive, metrics)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22::jsonb)`,
          [runId, strategyId, m.positions, m.closedPositions, m.trades, m.pnl, m.fees, m.roi, m.roiOnCost,
            m.winRate.value, m.expectancy.value, m.profitFactor.value, m.maxDrawdown, m.maxDrawdownPct, m.timeUnderWaterSeconds,
            m.sharpe.value, m.sortino.value, m.fillRate.contracts.value, m.fillRate.ordersRate.value, m.closingLine.mean.value,
            m.closingLine.sharePositive.value, JSON.stringify(m)],
        );
      } catch (error) {
        throw new BacktestStoreError(`backtest report: byVersion.${i} (${m.strategy}): ${(error as Error).message}`);
      }
      await client.query(
        'UPDATE strategies SET backtest_roi = $2, backtest_trades_count = $3, backtest_run_id = $4 WHERE strategy_id = $1',
        [strategyId, m.roiOnCost, m.trades, runId],
      );
    }
    const validatedAt = now();
    for (const [i, f] of r.forecasts.entries()) {
      const cut = f.model.lastIndexOf(' ');
      const { rows: [model] } = await client.query(
        'SELECT model_id FROM probability_models WHERE model_name = $1 AND model_version = $2',
        [f.model.slice(0, cut), f.model.slice(cut + 1)],
      );
      if (!model) throw new BacktestStoreError(`backtest report: forecasts.${i}: model ${f.model} is not in this database`);
      await client.query(
        `INSERT INTO model_validations (model_id, data_file, data_sha256, sample_size, skipped, accuracy, brier_score, log_loss, calibration, validated_at, validated_by)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8::jsonb, $9, 'precog backtest')`,
        [model.model_id, r.tapeLabel, r.tapeId, f.modelScore.n, f.accuracy, f.modelScore.brier, f.modelScore.logLoss, JSON.stringify(f.calibration), validatedAt],
      );
    }
    return { runId };
  });
}

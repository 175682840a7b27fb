import type pg from 'pg';
import type { BacktestReport } from './types';

/** Stores a run's results (backtest_runs, backtest_results, model_validations) in one transaction. (metrics-api stub) */
export async function storeBacktestResults(_db: pg.Pool, _report: BacktestReport): Promise<{ runId: number }> {
  throw new Error('storeBacktestResults: not implemented yet');
}

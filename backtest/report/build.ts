import type { Queryable } from '../../shared/db/transaction';
import type { BacktestReport, BacktestRunInfo } from './types';

/** The report of a backtest, read from the replay database after the run. (metrics-api stub) */
export async function buildBacktestReport(_db: Queryable, _run: BacktestRunInfo): Promise<BacktestReport> {
  throw new Error('buildBacktestReport: not implemented yet');
}

import type { BacktestReport } from './types';

/** The report as console text. (metrics-api stub) */
export function formatBacktestText(_report: BacktestReport): string {
  throw new Error('formatBacktestText: not implemented yet');
}

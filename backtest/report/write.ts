import type { BacktestReport } from './types';

/** Writes report.json and report.html into dir; returns their paths. (metrics-api stub) */
export async function writeBacktestReport(_dir: string, _report: BacktestReport): Promise<{ json: string; html: string }> {
  throw new Error('writeBacktestReport: not implemented yet');
}

import type { Decimal } from '../../shared/domain/decimal';

/**
 * The contract between the backtest engine (branch `backtest`) and its report (branch `metrics`):
 * the engine runs a replay, then hands the replay database and this description of the run to
 * `buildBacktestReport`. Times are virtual (the replay's clock), never the machine's.
 */
export interface BacktestRunInfo {
  /** sha256 over the tape manifest's file entries (shared/tape tapeId). */
  tapeId: string;
  /** What the user called the tape: its directory or S3 prefix as given on the command line. */
  tapeLabel: string;
  /** The replayed window [from, to). */
  window: { from: Date; to: Date };
  /** The strategy versions replayed (several for an A/B). */
  strategies: Array<{ name: string; version: string }>;
  /** The model version the strategies were pinned to by the command line, or null (each strategy's own). */
  model: { name: string; version: string } | null;
  /** The fill model's settings as stated (latency, size cap, fee formula…), printed in the report as given. */
  fillModel: Record<string, string>;
  seed: number;
  /** Opening balance of the replay's account. */
  balance: Decimal;
  /** Virtual start and finish of the replay. */
  startedAt: Date;
  finishedAt: Date;
}

/**
 * A number that may not exist: Sharpe with fewer than two days, profit factor without losses.
 * `value` is a decimal string when it exists; otherwise `display` says why ("n/a", "∞").
 */
export interface MaybeMetric {
  value: string | null;
  display: string;
}

/** The metrics of one strategy version (or of the whole run). Money and ratios are decimal strings. */
export interface BacktestMetrics {
  /** "quarter_live v1.1", or "all" for the whole run. */
  strategy: string;
  positions: number;
  closedPositions: number;
  /** Realised P&L after fees, settlement included. */
  pnl: string;
  fees: string;
  /** pnl / opening balance. */
  roi: string;
  winRate: MaybeMetric;
  expectancy: MaybeMetric;
  profitFactor: MaybeMetric;
  maxDrawdown: string;
  maxDrawdownPct: string;
  /** Longest span below a previous equity peak, seconds of virtual time. */
  timeUnderWaterSeconds: number;
  sharpe: MaybeMetric;
  sortino: MaybeMetric;
  fillRate: { contractsOrdered: string; contractsFilled: string; contracts: MaybeMetric; orders: number; ordersWithFill: number; ordersRate: MaybeMetric };
  closingLine: { entries: number; mean: MaybeMetric; sharePositive: MaybeMetric };
}

export interface BacktestEquityPoint {
  at: string;
  equity: string;
  drawdown: string;
}

export interface BacktestExitCondition {
  strategy: string;
  condition: string;
  exits: number;
  pnl: string;
}

export interface ForecastScore {
  /** Decision moments scored (edge rows of settled markets). */
  n: number;
  brier: string;
  logLoss: string;
}

/** A model's forecasts against outcomes, next to the market's implied probability at the same decision moments. */
export interface BacktestForecasts {
  /** "elo_nfl v1.1" */
  model: string;
  modelScore: ForecastScore;
  marketScore: ForecastScore;
}

export interface BacktestAbComparison {
  strategy: string;
  a: string;
  b: string;
  /** Mean P&L per position of b minus that of a. */
  meanDifference: string;
  /** Seeded bootstrap 95 % interval of that difference. */
  interval: { low: string; high: string } | null;
  resamples: number;
  seed: number;
}

export interface BacktestReport {
  kind: 'backtest';
  tapeId: string;
  tapeLabel: string;
  window: { from: string; to: string };
  strategies: Array<{ name: string; version: string }>;
  model: { name: string; version: string } | null;
  fillModel: Record<string, string>;
  seed: number;
  startedAt: string;
  finishedAt: string;
  startingBalance: string;
  endingBalance: string;
  totals: BacktestMetrics;
  byVersion: BacktestMetrics[];
  equity: BacktestEquityPoint[];
  exitConditions: BacktestExitCondition[];
  forecasts: BacktestForecasts[];
  ab: BacktestAbComparison[];
}

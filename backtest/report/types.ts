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
 * `value` is a decimal string when it exists; `display` is what the report shows ("0.500000",
 * "n/a (fewer than 2 days)", "∞").
 */
export interface MaybeMetric {
  value: string | null;
  display: string;
}

/**
 * The metrics of one strategy version (or of the whole run: strategy "all"). Money is a decimal
 * string with 4 places, ratios with 6 (shared/backtest/metrics.ts states every convention).
 */
export interface BacktestMetrics {
  /** "quarter_live v1.1", or "all" for the whole run. */
  strategy: string;
  positions: number;
  closedPositions: number;
  trades: number;
  /** Realised P&L after fees, settlement included. */
  pnl: string;
  fees: string;
  /** pnl / opening balance. */
  roi: string;
  /** Closed positions' P&L / the cost of their buys (paper_roi's definition); null without one. */
  roiOnCost: string | null;
  winRate: MaybeMetric;
  expectancy: MaybeMetric;
  profitFactor: MaybeMetric;
  maxDrawdown: string;
  maxDrawdownPct: string;
  /** Longest span below a previous equity peak, seconds of virtual time. */
  timeUnderWaterSeconds: number;
  /** One per UTC day of the window. */
  dailyReturns: string[];
  sharpe: MaybeMetric;
  sortino: MaybeMetric;
  fillRate: { contractsOrdered: string; contractsFilled: string; contracts: MaybeMetric; orders: number; ordersWithFill: number; ordersRate: MaybeMetric };
  closingLine: { entries: number; mean: MaybeMetric; sharePositive: MaybeMetric };
  /** P&L after fees by exit condition, and 'settlement'. */
  byCondition: Array<{ condition: string; exits: number; pnl: string }>;
  /** Equity (this version alone on the opening balance) after every event, and at UTC midnights. */
  equity: Array<{ at: string; equity: string }>;
}

export interface BacktestEquityPoint {
  at: string;
  equity: string;
  /** How far below the running peak (≥ 0). */
  drawdown: string;
}

export interface ForecastScore {
  /** Decision moments scored (edge rows of settled markets, one per model, market and time). */
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
  /** What model_validations stores beside the Brier score: accuracy and calibration bins (as `precog model validate`). */
  accuracy: string;
  calibration: Array<{ lower: string; upper: string; count: number; mean_predicted: string | null; observed_frequency: string | null }>;
}

export interface BacktestAbComparison {
  /** The strategy name; a and b are versions ("v1.0"), b compared with a. */
  strategy: string;
  a: string;
  b: string;
  /** Mean P&L per closed position of b minus that of a. */
  meanDifference: string;
  /** Seeded bootstrap 95 % interval of that difference; null with fewer than 2 closed positions a side. */
  interval: { low: string; high: string } | null;
  resamples: number;
  seed: number;
}

export interface BacktestPosition {
  positionId: number;
  strategy: string;
  ticker: string;
  side: 'yes' | 'no';
  pnl: string;
  fees: string;
  closed: boolean;
  /** How it ended: exit conditions, then 'settlement'. */
  closedBy: string[];
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
  /** Opening balance + every cash flow (fills, fees, payouts). */
  endingCash: string;
  /** endingCash + contracts still held at their bid. */
  endingEquity: string;
  totals: BacktestMetrics;
  byVersion: BacktestMetrics[];
  /** The whole run's equity and drawdown. */
  equity: BacktestEquityPoint[];
  positions: BacktestPosition[];
  forecasts: BacktestForecasts[];
  ab: BacktestAbComparison[];
}

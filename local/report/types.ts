/**
 * The report of one local run (`npm start`): what the run did, read back from the database after
 * it finished (never from the runtime's own counters), plus the time series the runtime sampled
 * for the charts. Decimals are strings ("12.3400"): the report is JSON and money never passes
 * through a float. Contract counts are strings too, exact and without padding ("5", "2.97").
 */

export interface ReportTrade {
  tradeId: number;
  /** ISO time of the fill. */
  at: string;
  ticker: string;
  /** Contract side held. */
  side: 'yes' | 'no';
  action: 'buy' | 'sell';
  quantity: string;
  price: string;
  fees: string;
  /** 'entry' | 'exit' | 'settlement' */
  purpose: string;
  /** "halftime_entry v1.0" */
  strategy: string;
  model: string;
  positionId: number | null;
  /** The exit condition a sell filled for (null for entries). */
  exitCondition: string | null;
}

export interface ReportExit {
  exitRequestId: number;
  positionId: number;
  ticker: string;
  strategy: string;
  condition: string;
  priority: string;
  /** Contracts the request asked to sell / sold. */
  quantity: string;
  filledQuantity: string;
  status: string;
  /** Orders placed for it (1 = filled at the first price; more = the price walked). */
  attempts: number;
}

export interface ReportExitAttempt {
  exitRequestId: number;
  positionId: number;
  ticker: string;
  attempt: number;
  orderType: string;
  limitPrice: string | null;
  filledQuantity: string;
  /** 'filled' | 'partial' | 'unfilled' … as recorded in exit_attempts. */
  outcome: string;
}

export interface ReportPosition {
  positionId: number;
  ticker: string;
  strategy: string;
  side: 'yes' | 'no';
  /** Contracts bought in all. */
  entered: string;
  entryPrice: string;
  /** Contracts still held. */
  quantity: string;
  status: string;
  realizedPnl: string;
  /** How it ended: exit conditions in order, then 'settled' if settlement closed the rest. */
  closedBy: string[];
}

export interface ReportStrategyPnl {
  strategy: string;
  trades: number;
  positions: number;
  realizedPnl: string;
  fees: string;
  /** What its entries cost (Σ quantity × price of entry fills): the capital the P&L was made on. */
  exposure?: string;
  /** realizedPnl / exposure (a fraction; null without exposure): versions compare on it when exposures differ. */
  roi?: string | null;
}

export interface ReportBreakerEvent {
  eventId: number;
  type: string;
  trippedAt: string;
  resolvedAt: string | null;
  reason: string;
}

/** One sample of the run, taken by the runtime every game minute. */
export interface ReportSample {
  /** Game minute (0–60; fractions during breaks keep the last minute). */
  minute: number;
  /** ISO wall time of the sample. */
  at: string;
  /** Cash + open positions at the bid, dollars. */
  equity: string;
  realizedPnl: string;
  /** Per market ticker: the YES bid/ask quoted and the contracts held (all strategies, YES-equivalent sign: NO held counts negative). */
  markets: Record<string, { yesBid: string | null; yesAsk: string | null; held: number }>;
}

export interface ReportGame {
  name: string;
  home: string;
  away: string;
  homeScore: number;
  awayScore: number;
  /** Market tickers of the game. */
  tickers: string[];
}

export interface RunReport {
  scenario: string;
  description: string;
  speed: number;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  /** 'kalshi-sim' (the live Kalshi client against the simulator) or 'paper'. */
  venue: string;
  executionMode: 'paper' | 'live';
  /** Whether this run resumed an interrupted one. */
  resumed: boolean;
  games: ReportGame[];
  startingBalance: string;
  endingBalance: string;
  totals: {
    entries: number;
    exits: number;
    trades: number;
    realizedPnl: string;
    fees: string;
    openPositions: number;
  };
  trades: ReportTrade[];
  exits: ReportExit[];
  /** Exits counted by condition and priority. */
  exitsByCondition: { condition: string; priority: string; count: number }[];
  exitAttempts: ReportExitAttempt[];
  positions: ReportPosition[];
  byStrategy: ReportStrategyPnl[];
  breakerEvents: ReportBreakerEvent[];
  samples: ReportSample[];
}

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
  /**
   * The model's probability that the side traded wins (a NO fill: 1 − the YES probability), as
   * decided on: the entry's edge row; for an exit, the last edge row of the market, strategy and
   * model at or before the fill. Null when there was none.
   */
  modelProbability: string | null;
  /** The edge of the side traded, from the same edge row (null when there was none). */
  edge: string | null;
  /** What made it trade: "<strategy kind> entry" ("halftime entry"), or the exit condition and its priority ("trailing_stop (high)"). */
  trigger: string;
  /**
   * An exit fill's P&L after fees: (price − entry price) × quantity − its fee − the entry fee's
   * share of these contracts. Null for entries.
   */
  realizedPnl: string | null;
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
  /** ISO time of the first entry fill (null when the books hold no fill of it). */
  enteredAt: string | null;
  /** ISO time it closed: its last exit fill, or the market's settlement; null while open. */
  closedAt: string | null;
  /** Average price of its exit fills, weighted by contracts (null when none sold). */
  exitPrice: string | null;
  /** What one contract of its side paid at settlement (null when settlement did not close it). */
  settlementPayout: string | null;
  /** Fees of all its fills. */
  fees: string;
  /** Realized P&L over the cost of the contracts bought (entered × entry price), a fraction; null while open. */
  roi: string | null;
  /** Seconds from enteredAt to closedAt (null while open). */
  holdSeconds: number | null;
}

/** A market's settlement as the books recorded it. */
export interface ReportSettlement {
  ticker: string;
  outcome: string;
  /** What one YES contract paid (a NO contract pays 1 − it); null for a void market. */
  yesPayout: string | null;
  /** ISO time the books recorded it. */
  at: string;
}

/** The model's YES probability of one market over time, from the edge rows (one line per model). */
export interface ReportModelLine {
  ticker: string;
  /** "elo_live v2.1" */
  model: string;
  /** The probability as it changed: a point where it changed, and the last row. */
  points: { at: string; yesProbability: string }[];
}

/** One strategy version's P&L over the run, at the sample times. */
export interface ReportStrategyEquity {
  strategy: string;
  /**
   * Per sample: its fills' cash flow (sells − buys − fees) + settlement payouts + the contracts
   * it still holds marked at the bid (YES at the YES bid, NO at 1 − the YES ask). The strategies'
   * points sum to the sample's equity − the starting balance when every fill is attributed.
   */
  points: { minute: number; at: string; pnl: string }[];
}

/** What one exit condition did, from the fills (the scenario's text states intent; this is what happened). */
export interface ReportExitOutcome {
  condition: string;
  fills: number;
  /** Fills with a P&L after fees above / below zero. */
  gains: number;
  losses: number;
  realizedPnl: string;
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
  /** ISO time of the sample (the run's clock). */
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
  /** 1: the rules ran at game time (the discrete-event runtime has no speed-up; kept for readers of older reports). */
  speed: number;
  startedAt: string;
  finishedAt: string;
  /** The run's length on its own (virtual) clock, seconds: startedAt to finishedAt, not machine time. */
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
    /** The deepest fall of the sampled equity below its running peak, dollars (≥ 0). */
    maxDrawdown: string;
  };
  trades: ReportTrade[];
  exits: ReportExit[];
  /** Exits counted by condition and priority. */
  exitsByCondition: { condition: string; priority: string; count: number }[];
  exitAttempts: ReportExitAttempt[];
  positions: ReportPosition[];
  byStrategy: ReportStrategyPnl[];
  breakerEvents: ReportBreakerEvent[];
  /** Warnings printed during the run (breakers open or tripped, desyncs, degraded components): what blocked or endangered trading. */
  warnings?: string[];
  samples: ReportSample[];
  settlements: ReportSettlement[];
  modelLines: ReportModelLine[];
  strategyEquity: ReportStrategyEquity[];
  exitOutcomes: ReportExitOutcome[];
}

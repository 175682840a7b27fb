import { Decimal, dec } from '../domain/decimal';

/**
 * The code-defaults layer of the trading rules: every default of
 * `shared/spec/trading-rules.md`, in one typed, frozen object. Domain functions take a
 * `TradingRules` (defaulting to this object) instead of burying literals; the override layers
 * (environment, `config_overrides` rows, most specific wins) arrive later and produce another
 * object of the same type.
 *
 * Conventions:
 * - Prices, probabilities, edges, EVs, money and percentages are `Decimal`, built from strings.
 *   Percentages are fractions: -15% is `-0.15`, "2 P&L points" is `0.02`.
 * - Counts (samples, contracts, positions, trades, errors) and durations (seconds, minutes) are
 *   integers held as JS numbers.
 * - The object and everything in it is frozen (Decimals are immutable by API and left as they are).
 */

// ---------------------------------------------------------------------------------------------
// Enumerations the rules are keyed by (the schema's CHECK constraints spell the same values).

export const CONFIDENCE_LEVELS = ['high', 'medium', 'low'] as const;
export type ConfidenceLevel = (typeof CONFIDENCE_LEVELS)[number];

/** Strategy kinds with a minimum edge to act (trading-rules.md, "Edge and expected value"). */
export const STRATEGY_KINDS = ['pre_game', 'halftime', 'live', 'settlement'] as const;
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

export const RECOMMENDED_ACTIONS = ['auto_execute', 'alert', 'ignore'] as const;
export type RecommendedAction = (typeof RECOMMENDED_ACTIONS)[number];

export const EXIT_PRIORITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export type ExitPriority = (typeof EXIT_PRIORITIES)[number];

/** The ten exit conditions (the schema's `exit_condition` domain). */
export const EXIT_CONDITIONS = [
  'stop_loss',
  'circuit_breaker',
  'trailing_stop',
  'time_based_urgent',
  'liquidity_dried_up',
  'profit_target',
  'partial_exit_target',
  'early_exit',
  'edge_disappeared',
  'rebalance',
] as const;
export type ExitCondition = (typeof EXIT_CONDITIONS)[number];

/** The first order an exit places, by priority (trading-rules.md, "Exit execution"). */
export type ExitOrderStyle =
  /** Immediate-or-cancel at the far side of the book. */
  | 'market'
  /** Limit crossing the spread. */
  | 'limit_aggressive'
  /** Limit at the mid. */
  | 'limit_mid'
  /** Limit at the ask side (the seller's own side of the book). */
  | 'limit_conservative';

/** What an exit does once its walks are used up. */
export type ExitAfterWalks = 'repeat_until_filled' | 'market' | 'stop_and_alert';

export type CircuitBreakerType =
  | 'daily_loss_limit'
  | 'api_failures'
  | 'data_stale'
  | 'rapid_loss'
  | 'trade_rate'
  | 'manual';

/** What a tripped breaker does and how it is reset. */
export interface BreakerEffect {
  /** Close every open position (circuit_breaker exits, CRITICAL). */
  readonly liquidate: boolean;
  /** Refuse new entries while tripped (exits always continue). */
  readonly blockEntries: boolean;
  /**
   * `next_trading_day`: resolved automatically when the next trading day (UTC) starts;
   * `when_clear`: resolved automatically by the first health check that finds the condition gone;
   * `manual`: an operator resolves it (the spec: "automatically where the table says so, else by
   * an operator"). The spec's table gives data_stale and trade_rate no reset: they describe a
   * state that ends by itself (fresh data, a slower rate), so they clear when it does.
   */
  readonly reset: 'next_trading_day' | 'when_clear' | 'manual';
}

// ---------------------------------------------------------------------------------------------
// The type.

export interface FeeRules {
  /** Kalshi fee rate of a taker fill: fee = ceil_to_cent(rate × contracts × P × (1 − P)). */
  readonly takerRate: Decimal;
  /** Kalshi fee rate of a maker fill. */
  readonly makerRate: Decimal;
}

export interface ConfidenceRules {
  /** high = at least `minSampleSize` samples AND CI width strictly below `maxCiWidthExclusive`. */
  readonly high: { readonly minSampleSize: number; readonly maxCiWidthExclusive: Decimal };
  /**
   * medium (when not high) = at least `minSampleSize` samples OR CI width at most `maxCiWidth`;
   * low otherwise, when the sample size or CI is unknown, or when the data is older than the
   * game-state freshness limit (`freshness.maxGameStateAgeSeconds`).
   */
  readonly medium: { readonly minSampleSize: number; readonly maxCiWidth: Decimal };
}

export interface SizingRules {
  /** Fraction of full Kelly staked. */
  readonly kellyFraction: Decimal;
  /** Multiplier of the stake by the edge's confidence. */
  readonly confidenceMultipliers: Readonly<Record<ConfidenceLevel, Decimal>>;
  /** Per position: at most this fraction of the bankroll. */
  readonly maxPositionFractionOfBankroll: Decimal;
  /** Per position: a smaller position is not taken. */
  readonly minPositionUsd: Decimal;
  /** Per position: at most this much. */
  readonly maxPositionUsd: Decimal;
  readonly maxOpenPositions: number;
  readonly maxTotalExposureUsd: Decimal;
  /** Per game (event). */
  readonly maxPositionsPerEvent: number;
  /** Per game (event). */
  readonly maxExposurePerEventUsd: Decimal;
  /**
   * Entries (buy fills) per UTC day, across the account. The spec asks for a daily trade-count
   * limit without naming a number; 50 is a conservative default.
   */
  readonly maxEntriesPerDay: number;
}

export interface FreshnessRules {
  /** No new entry on a market price older than this. */
  readonly maxPriceAgeSeconds: number;
  /** No new entry on a game state older than this. */
  readonly maxGameStateAgeSeconds: number;
}

export interface PartialExitRule {
  /** Unrealized P&L % at which this tranche is sold. */
  readonly atGainPct: Decimal;
  /** Share of the ORIGINAL quantity sold. */
  readonly sellFractionOfOriginal: Decimal;
}

export interface TrailingStopRules {
  /** Activates at this gain over entry. */
  readonly activationGainPct: Decimal;
  /** Starting distance below the peak price (dollars). */
  readonly initialDistance: Decimal;
  /** The distance tightens by `tightenBy` for every further `tightenEveryGainPct` of gain… */
  readonly tightenBy: Decimal;
  readonly tightenEveryGainPct: Decimal;
  /** …never below this distance. The stop only moves up. */
  readonly minDistance: Decimal;
}

export interface ExitRules {
  /** stop_loss fires at unrealized P&L % ≤ this (a per-strategy override is allowed). */
  readonly stopLossPct: Decimal;
  /** profit_target fires at unrealized P&L % ≥ this, by the position's confidence. */
  readonly profitTargetPctByConfidence: Readonly<Record<ConfidenceLevel, Decimal>>;
  /** partial_exit_target tranches, in order; the rest rides the trailing stop. */
  readonly partialExits: readonly PartialExitRule[];
  readonly trailingStop: TrailingStopRules;
  /** liquidity_dried_up fires when the spread is above `maxSpread` or volume below `minVolume`. */
  readonly liquidity: { readonly maxSpread: Decimal; readonly minVolume: number };
  /** time_based_urgent fires under this many minutes to the market's close when losing. */
  readonly timeUrgentMinutesBeforeClose: number;
  /** early_exit fires when the recomputed edge is below this. */
  readonly earlyExitEdge: Decimal;
  /** edge_disappeared fires when the recomputed edge is below this. */
  readonly edgeDisappearedEdge: Decimal;
  /**
   * rebalance: the capital is fully committed (open-position or exposure limit) and an
   * auto-execute edge elsewhere beats this position's current EV by at least this much. The spec
   * names no margin; 0.05 keeps a marginally better idea from churning positions (and fees).
   */
  readonly rebalanceMinEvAdvantage: Decimal;
  /** Priority of each condition; the highest-priority trigger wins. */
  readonly priorities: Readonly<Record<ExitCondition, ExitPriority>>;
}

export interface MonitorRules {
  /** Every open position is re-priced and evaluated this often. */
  readonly intervalSeconds: number;
  /** …and an urgent one this often. */
  readonly urgentIntervalSeconds: number;
  /** Urgent when the unrealized P&L % is within this many points (fraction) of stop or target. */
  readonly urgentWithinPnlPoints: Decimal;
  /** Urgent when the price is within this fraction of the trailing stop price. */
  readonly urgentWithinTrailingStopPct: Decimal;
  /** Monitoring whose `last_update` is older than this many intervals is itself an alarm. */
  readonly staleAfterIntervals: number;
}

export interface ExitExecutionRule {
  readonly firstOrder: ExitOrderStyle;
  /** Wait before the next attempt. */
  readonly waitSeconds: number;
  /**
   * Limit prices tried before `then`, the first order included (null: no walking, the same
   * order is repeated). The spec's "walk up to 2 times, then market" for HIGH is read as two limit
   * prices, the first and one walk: that is the schema document's example (limit 0.75 unfilled,
   * 0.74 unfilled, market fill at 0.73: three attempts).
   */
  readonly limitAttempts: number | null;
  readonly then: ExitAfterWalks;
}

export interface ExecutionRules {
  /**
   * Entry orders are limits at the price the edge was computed on. good_till_canceled lets an
   * unfilled remainder rest (at most `entryOrderTtlSeconds`, then the venue cancels it);
   * immediate_or_cancel takes what is there and cancels the rest.
   */
  readonly entryTimeInForce: 'good_till_canceled' | 'immediate_or_cancel';
  readonly entryOrderTtlSeconds: number;
  /**
   * A pending entry order not executed this long after it was created is looked up at the venue
   * by reconciliation: recorded if it exists, cancelled if not (it frees the market for new scans).
   */
  readonly staleEntrySeconds: number;
  /** How long an entry waits for another entry holding the account's entry lock. */
  readonly entryLockTimeoutMs: number;
}

export interface PriceWalkRules {
  /** A walk re-places the order this much more aggressive… */
  readonly stepUsd: Decimal;
  /** …times a multiplier that starts here… */
  readonly initialMultiplier: Decimal;
  /** …and grows by this much per walk (1.0, 1.5, 2.0, …). */
  readonly multiplierIncrement: Decimal;
}

export interface CircuitBreakerRules {
  readonly dailyLoss: BreakerEffect & {
    /** Trips when realized + unrealized loss today exceeds this… */
    readonly maxLossUsd: Decimal;
    /** …or this fraction of capital. */
    readonly maxLossFractionOfCapital: Decimal;
  };
  readonly apiFailures: BreakerEffect & {
    /** Trips at this many exchange API errors within `windowSeconds`… */
    readonly maxErrors: number;
    readonly windowSeconds: number;
    /** …or this many consecutive order rejections. */
    readonly maxConsecutiveRejections: number;
  };
  readonly dataStale: BreakerEffect & {
    readonly maxPriceAgeSeconds: number;
    readonly maxGameStateAgeSeconds: number;
  };
  readonly rapidLoss: BreakerEffect & {
    /** Trips at a loss of this much within `windowSeconds`. */
    readonly maxLossUsd: Decimal;
    readonly windowSeconds: number;
  };
  readonly tradeRate: BreakerEffect & {
    /** Trips at MORE than this many trades within `windowSeconds`. */
    readonly maxTrades: number;
    readonly windowSeconds: number;
  };
}

export interface TradingRules {
  readonly fees: FeeRules;
  /** Minimum edge to act, by strategy kind. */
  readonly minEdgeByKind: Readonly<Record<StrategyKind, Decimal>>;
  /** EV at or above which an edge is auto-executed (with high or medium confidence), by sport. */
  readonly autoExecuteEvBySport: { readonly [sport: string]: Decimal };
  /** EV at or above which an edge is alerted. */
  readonly alertEv: Decimal;
  readonly confidence: ConfidenceRules;
  readonly sizing: SizingRules;
  readonly freshness: FreshnessRules;
  readonly exits: ExitRules;
  readonly monitor: MonitorRules;
  /** How an exit of each priority is placed and walked. */
  readonly exitExecution: Readonly<Record<ExitPriority, ExitExecutionRule>>;
  readonly priceWalk: PriceWalkRules;
  readonly execution: ExecutionRules;
  readonly circuitBreakers: CircuitBreakerRules;
  /** Paper trading is the default; live orders need an explicit switch. */
  readonly defaultExecutionMode: 'paper' | 'live';
}

// ---------------------------------------------------------------------------------------------
// The defaults.

/** Freezes plain objects and arrays recursively; Decimals are left alone (immutable by API). */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Decimal.isDecimal(value)) return value;
  for (const child of Object.values(value as object)) deepFreeze(child);
  return Object.freeze(value);
}

export const DEFAULT_TRADING_RULES: TradingRules = deepFreeze<TradingRules>({
  fees: {
    takerRate: dec('0.07'),
    makerRate: dec('0.0175'),
  },
  minEdgeByKind: {
    pre_game: dec('0.08'),
    halftime: dec('0.06'),
    live: dec('0.10'),
    settlement: dec('0.02'),
  },
  autoExecuteEvBySport: {
    nfl: dec('0.15'),
    // The spec names no NCAAF threshold: NCAAF reuses NFL's (same game structure and markets).
    ncaaf: dec('0.15'),
    nba: dec('0.17'),
    tennis: dec('0.25'),
  },
  alertEv: dec('0.08'),
  confidence: {
    high: { minSampleSize: 500, maxCiWidthExclusive: dec('0.10') },
    medium: { minSampleSize: 200, maxCiWidth: dec('0.15') },
  },
  sizing: {
    kellyFraction: dec('0.25'),
    confidenceMultipliers: { high: dec('1.0'), medium: dec('0.8'), low: dec('0.6') },
    maxPositionFractionOfBankroll: dec('0.05'),
    minPositionUsd: dec('10'),
    maxPositionUsd: dec('500'),
    maxOpenPositions: 10,
    maxTotalExposureUsd: dec('10000'),
    maxPositionsPerEvent: 3,
    maxExposurePerEventUsd: dec('1500'),
    maxEntriesPerDay: 50,
  },
  freshness: {
    maxPriceAgeSeconds: 120,
    maxGameStateAgeSeconds: 60,
  },
  exits: {
    stopLossPct: dec('-0.15'),
    profitTargetPctByConfidence: { high: dec('0.25'), medium: dec('0.20'), low: dec('0.15') },
    partialExits: [
      { atGainPct: dec('0.15'), sellFractionOfOriginal: dec('0.50') },
      { atGainPct: dec('0.25'), sellFractionOfOriginal: dec('0.25') },
    ],
    trailingStop: {
      activationGainPct: dec('0.10'),
      initialDistance: dec('0.05'),
      tightenBy: dec('0.01'),
      tightenEveryGainPct: dec('0.05'),
      minDistance: dec('0.02'),
    },
    liquidity: { maxSpread: dec('0.03'), minVolume: 50 },
    timeUrgentMinutesBeforeClose: 5,
    earlyExitEdge: dec('0.02'),
    edgeDisappearedEdge: dec('0'),
    rebalanceMinEvAdvantage: dec('0.05'),
    priorities: {
      stop_loss: 'CRITICAL',
      circuit_breaker: 'CRITICAL',
      trailing_stop: 'HIGH',
      time_based_urgent: 'HIGH',
      liquidity_dried_up: 'HIGH',
      profit_target: 'MEDIUM',
      partial_exit_target: 'MEDIUM',
      early_exit: 'LOW',
      edge_disappeared: 'LOW',
      rebalance: 'LOW',
    },
  },
  monitor: {
    intervalSeconds: 30,
    urgentIntervalSeconds: 5,
    urgentWithinPnlPoints: dec('0.02'),
    urgentWithinTrailingStopPct: dec('0.02'),
    staleAfterIntervals: 2,
  },
  exitExecution: {
    CRITICAL: { firstOrder: 'market', waitSeconds: 5, limitAttempts: null, then: 'repeat_until_filled' },
    HIGH: { firstOrder: 'limit_aggressive', waitSeconds: 10, limitAttempts: 2, then: 'market' },
    MEDIUM: { firstOrder: 'limit_mid', waitSeconds: 30, limitAttempts: 5, then: 'stop_and_alert' },
    LOW: { firstOrder: 'limit_conservative', waitSeconds: 60, limitAttempts: 10, then: 'stop_and_alert' },
  },
  priceWalk: {
    stepUsd: dec('0.01'),
    initialMultiplier: dec('1.0'),
    multiplierIncrement: dec('0.5'),
  },
  execution: {
    entryTimeInForce: 'good_till_canceled',
    entryOrderTtlSeconds: 300,
    staleEntrySeconds: 900,
    entryLockTimeoutMs: 20_000,
  },
  circuitBreakers: {
    dailyLoss: {
      maxLossUsd: dec('500'),
      maxLossFractionOfCapital: dec('0.10'),
      liquidate: true,
      blockEntries: true,
      reset: 'next_trading_day',
    },
    apiFailures: {
      maxErrors: 5,
      windowSeconds: 300,
      maxConsecutiveRejections: 3,
      liquidate: false,
      blockEntries: true,
      reset: 'manual',
    },
    dataStale: {
      maxPriceAgeSeconds: 120,
      maxGameStateAgeSeconds: 60,
      liquidate: false,
      blockEntries: true,
      reset: 'when_clear',
    },
    rapidLoss: {
      maxLossUsd: dec('200'),
      windowSeconds: 900,
      liquidate: true,
      blockEntries: true,
      reset: 'manual',
    },
    tradeRate: {
      maxTrades: 20,
      windowSeconds: 300,
      liquidate: false,
      blockEntries: true,
      reset: 'when_clear',
    },
  },
  defaultExecutionMode: 'paper',
});

/** Where each breaker type's rules live in `circuitBreakers` (manual has none: the operator decides). */
export const CIRCUIT_BREAKER_KEYS = Object.freeze({
  daily_loss_limit: 'dailyLoss', api_failures: 'apiFailures', data_stale: 'dataStale', rapid_loss: 'rapidLoss', trade_rate: 'tradeRate',
} as const satisfies Record<Exclude<CircuitBreakerType, 'manual'>, keyof CircuitBreakerRules>);

/** Whether an unresolved breaker of this type refuses new entries (manual: always). */
export function breakerBlocksEntries(rules: TradingRules, type: CircuitBreakerType): boolean {
  if (type === 'manual') return true;
  return rules.circuitBreakers[CIRCUIT_BREAKER_KEYS[type]]?.blockEntries ?? true;
}

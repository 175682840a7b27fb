import {
  DEFAULT_TRADING_RULES,
  EXIT_CONDITIONS,
  EXIT_PRIORITIES,
  type ConfidenceLevel,
  type ExitCondition,
  type ExitPriority,
  type TradingRules,
} from '../config/tradingRules';
import { Decimal } from '../domain/decimal';
import { COUNT_DECIMALS, formatCount } from '../domain/quantity';
import { trailingStopHit, type TrailingStopState } from './trailingStop';

/**
 * The ten exit conditions (trading-rules.md, "Exit conditions") as pure functions, and the
 * decision among them. Every condition is evaluated; every trigger is returned (the monitor logs
 * them all); the decision is the highest priority (CRITICAL > HIGH > MEDIUM > LOW), ties broken
 * by the fixed order of `TIE_ORDER` below.
 *
 * | condition           | fires when (P&L % = unrealizedPnlPct, a fraction)                    | sells |
 * |---------------------|----------------------------------------------------------------------|-------|
 * | stop_loss           | P&L % ≤ stop loss (per-strategy override, else −0.15)                 | all   |
 * | circuit_breaker     | a breaker demanding liquidation is tripped                            | all   |
 * | trailing_stop       | trailing stop active and bid ≤ current stop                           | all   |
 * | time_based_urgent   | 0 < closeTime − now < 5 min (strictly: exactly 5:00 left does not     | all   |
 * |                     | fire, "under 5 minutes") and P&L % < 0 (strictly losing)              |       |
 * | liquidity_dried_up  | spread > 0.03 or volume < 50 (strict; an unknown figure never fires) | all   |
 * | profit_target       | partial exits OFF (overrides.partialExits === false) and               | all   |
 * |                     | P&L % ≥ target by confidence (0.25 high / 0.20 medium / 0.15 low)    |       |
 * | partial_exit_target | partial exits ON (the default): staged take-profit, see below         | part  |
 * | early_exit          | recomputed edge < 0.02 (strict; unknown edge never fires)            | all   |
 * | edge_disappeared    | recomputed edge < 0 (strict)                                          | all   |
 * | rebalance           | the caller's rebalance candidate and P&L % > 0 (never a loser, never  | all   |
 * |                     | a flat position)                                                      |       |
 *
 * A P&L % of null (no bid) fires none of the P&L conditions.
 *
 * Staged take-profit (profit_target vs partial_exit_target): the spec lists both a full profit
 * target and partial exits at overlapping thresholds. They are exclusive per position: with
 * partial exits on (default) the take-profit is staged — sell floor(50% of the original) at +15%,
 * up to floor(75%) at +25% — and the rest rides the trailing stop; with partial exits off the
 * profit target sells everything. This reproduces the schema document's example (100 @ 0.60:
 * 50 at 0.69, 25 at 0.75, 25 by the trailing stop at 0.88).
 *
 * Partial stage rule: stage k's cumulative target is floor(original × (f1 + … + fk)). Among the
 * stages whose gain threshold is reached, those whose cumulative target exceeds the contracts
 * already sold by partial exits are pending; when any is pending the trigger sells up to the
 * HIGHEST reached stage's cumulative target (a jump straight to +25% sells 75 of 100 at once),
 * min(target − alreadySold, quantity). A stage covered by `partialExitedQuantity` never fires
 * again; a stage whose cumulative target is 0 (a 1-contract position) never fires.
 */

export interface ExitInput {
  /** Contracts held now (> 0; 0 gets no decision); fractional when the venue filled a fraction. */
  quantity: Decimal;
  /** Contracts bought in all. */
  originalQuantity: Decimal;
  /** Average entry price. */
  entryPrice: Decimal;
  /** The side's best bid: what a sell gets. */
  bid: Decimal | null;
  /** The side's best ask. */
  ask: Decimal | null;
  /** ask − bid of the market as ingested. */
  spread: Decimal | null;
  /** Market volume (contracts). */
  volume: number | null;
  closeTime: Date | null;
  now: Date;
  /** From valuePosition. */
  unrealizedPnlPct: Decimal | null;
  /** The entry's confidence. */
  confidence: ConfidenceLevel;
  /** ALREADY updated for this price. */
  trailingStop: TrailingStopState | null;
  /** The position side's current edge (probability − ask) from the latest scan; null unknown. */
  recomputedEdge: Decimal | null;
  /** Contracts already sold (or being sold) by partial_exit_target. */
  partialExitedQuantity: Decimal;
  /** The tripped breaker that demands liquidation (e.g. 'daily_loss_limit'), else null. */
  liquidationBreaker: string | null;
  /** A better opportunity needs the capital: set by the caller for at most one position per sweep. */
  rebalanceCandidate: boolean;
  /** Per-strategy overrides. */
  overrides?: { stopLossPct?: Decimal; partialExits?: boolean };
}

export interface ExitTrigger {
  condition: ExitCondition;
  priority: ExitPriority;
  /** Contracts to sell (> 0, at most quantity: everything held is the exact holding). */
  quantity: Decimal;
  /** A human sentence with the figures. */
  reason: string;
}

type ExitCheck = (input: ExitInput, rules: TradingRules) => ExitTrigger | null;

/** Tie-break within one priority: earlier wins. */
const TIE_ORDER: readonly ExitCondition[] = [
  'stop_loss',
  'circuit_breaker',
  'trailing_stop',
  'time_based_urgent',
  'liquidity_dried_up',
  'partial_exit_target',
  'profit_target',
  'edge_disappeared',
  'early_exit',
  'rebalance',
];

function trigger(condition: ExitCondition, rules: TradingRules, quantity: Decimal, reason: string): ExitTrigger {
  return { condition, priority: rules.exits.priorities[condition], quantity, reason };
}

function partialExitsOn(input: ExitInput): boolean {
  return input.overrides?.partialExits !== false;
}

function stopLossPct(input: ExitInput, rules: TradingRules): Decimal {
  return input.overrides?.stopLossPct ?? rules.exits.stopLossPct;
}

/** The partial stages with their cumulative targets, in order. */
function partialStages(input: ExitInput, rules: TradingRules): Array<{ stage: number; atGainPct: Decimal; target: Decimal }> {
  let cumulative = new Decimal(0);
  return rules.exits.partialExits.map((p, i) => {
    cumulative = cumulative.plus(p.sellFractionOfOriginal);
    // Whole contracts of the original size, even when the original is fractional.
    const target = cumulative.times(input.originalQuantity).floor();
    return { stage: i + 1, atGainPct: p.atGainPct, target };
  });
}

const checks: Record<ExitCondition, ExitCheck> = {
  stop_loss(input, rules) {
    const pct = input.unrealizedPnlPct;
    const limit = stopLossPct(input, rules);
    if (pct === null || pct.gt(limit)) return null;
    return trigger('stop_loss', rules, input.quantity, `unrealized P&L ${fmtPct(pct)} ≤ stop loss ${fmtPct(limit)}`);
  },

  circuit_breaker(input, rules) {
    if (!input.liquidationBreaker) return null;
    return trigger(
      'circuit_breaker',
      rules,
      input.quantity,
      `circuit breaker ${input.liquidationBreaker} is tripped and demands liquidation`,
    );
  },

  trailing_stop(input, rules) {
    const ts = input.trailingStop;
    if (!trailingStopHit(ts, input.bid) || ts === null || input.bid === null) return null;
    return trigger(
      'trailing_stop',
      rules,
      input.quantity,
      `bid ${input.bid.toFixed(4)} ≤ trailing stop ${ts.current_stop_price} (peak ${ts.peak_price})`,
    );
  },

  time_based_urgent(input, rules) {
    const pct = input.unrealizedPnlPct;
    if (input.closeTime === null || pct === null || !pct.lt(0)) return null;
    const left = input.closeTime.getTime() - input.now.getTime();
    const limitMs = rules.exits.timeUrgentMinutesBeforeClose * 60_000;
    if (!(left > 0 && left < limitMs)) return null;
    return trigger(
      'time_based_urgent',
      rules,
      input.quantity,
      `${fmtDuration(left)} to the market's close (under ${rules.exits.timeUrgentMinutesBeforeClose} minutes) with unrealized P&L ${fmtPct(pct)}`,
    );
  },

  liquidity_dried_up(input, rules) {
    const { maxSpread, minVolume } = rules.exits.liquidity;
    const why: string[] = [];
    if (input.spread !== null && input.spread.gt(maxSpread)) {
      why.push(`spread ${input.spread.toFixed()} > max ${maxSpread.toFixed()}`);
    }
    if (input.volume !== null && input.volume < minVolume) why.push(`volume ${input.volume} < min ${minVolume}`);
    if (why.length === 0) return null;
    return trigger('liquidity_dried_up', rules, input.quantity, `liquidity dried up: ${why.join(' and ')}`);
  },

  profit_target(input, rules) {
    const pct = input.unrealizedPnlPct;
    if (partialExitsOn(input) || pct === null) return null;
    const target = rules.exits.profitTargetPctByConfidence[input.confidence];
    if (pct.lt(target)) return null;
    return trigger(
      'profit_target',
      rules,
      input.quantity,
      `unrealized P&L ${fmtPct(pct)} ≥ profit target ${fmtPct(target)} (${input.confidence} confidence)`,
    );
  },

  partial_exit_target(input, rules) {
    const pct = input.unrealizedPnlPct;
    if (!partialExitsOn(input) || pct === null) return null;
    const done = input.partialExitedQuantity;
    const reached = partialStages(input, rules).filter((s) => pct.gte(s.atGainPct));
    if (!reached.some((s) => s.target.gt(done))) return null;
    const highest = reached.reduce((a, b) => (b.target.gt(a.target) ? b : a));
    // At least one contract, never more than is held (a holding under one contract sells all of it).
    const sell = Decimal.min(Decimal.max(1, highest.target.minus(done)), input.quantity);
    return trigger(
      'partial_exit_target',
      rules,
      sell,
      `unrealized P&L ${fmtPct(pct)} ≥ partial exit stage ${highest.stage} at ${fmtPct(highest.atGainPct)}: ` +
        `sell ${formatCount(sell)} (cumulative target ${formatCount(highest.target)} of ${formatCount(input.originalQuantity)} original, ${formatCount(done)} already sold)`,
    );
  },

  early_exit(input, rules) {
    const edge = input.recomputedEdge;
    const limit = rules.exits.earlyExitEdge;
    if (edge === null || edge.gte(limit)) return null;
    return trigger('early_exit', rules, input.quantity, `recomputed edge ${edge.toFixed()} < early exit edge ${limit.toFixed()}`);
  },

  edge_disappeared(input, rules) {
    const edge = input.recomputedEdge;
    const limit = rules.exits.edgeDisappearedEdge;
    if (edge === null || edge.gte(limit)) return null;
    return trigger('edge_disappeared', rules, input.quantity, `recomputed edge ${edge.toFixed()} < ${limit.toFixed()}: the edge is gone`);
  },

  rebalance(input, rules) {
    const pct = input.unrealizedPnlPct;
    if (!input.rebalanceCandidate || pct === null || !pct.gt(0)) return null;
    return trigger(
      'rebalance',
      rules,
      input.quantity,
      `a better opportunity needs the capital and the position is in profit (unrealized P&L ${fmtPct(pct)})`,
    );
  },
};

/** Each condition alone; a position holding nothing (quantity ≤ 0) triggers none. */
export const EXIT_CHECKS: Readonly<Record<ExitCondition, (input: ExitInput, rules: TradingRules) => ExitTrigger | null>> =
  Object.freeze(
    Object.fromEntries(
      EXIT_CONDITIONS.map((c) => [
        c,
        (input: ExitInput, rules: TradingRules) => (input.quantity.gt(0) ? checks[c](input, rules) : null),
      ]),
    ) as Record<ExitCondition, ExitCheck>,
  );

/**
 * Evaluates all ten conditions. `triggers` holds every condition that fired, sorted best first
 * (priority, then the fixed tie order); `decision` is the first of them, or null when none fired
 * or the position holds nothing.
 */
export function evaluateExits(
  input: ExitInput,
  rules: TradingRules = DEFAULT_TRADING_RULES,
): { triggers: ExitTrigger[]; decision: ExitTrigger | null } {
  validate(input);
  if (input.quantity.isZero()) return { triggers: [], decision: null };
  const triggers = EXIT_CONDITIONS.map((c) => EXIT_CHECKS[c](input, rules)).filter((t): t is ExitTrigger => t !== null);
  triggers.sort(
    (a, b) =>
      EXIT_PRIORITIES.indexOf(a.priority) - EXIT_PRIORITIES.indexOf(b.priority) ||
      TIE_ORDER.indexOf(a.condition) - TIE_ORDER.indexOf(b.condition),
  );
  return { triggers, decision: triggers[0] ?? null };
}

/**
 * Whether the position is monitored at the urgent cadence (trading-rules.md, "Monitoring
 * cadence"). All bounds are inclusive, and a position already past a threshold counts as near it:
 * - P&L % ≤ stop loss + urgentWithinPnlPoints (0.02);
 * - P&L % ≥ next take-profit − 0.02, the next take-profit being the profit target by confidence
 *   when partial exits are off, else the gain of the first partial stage still to sell (none
 *   when every stage is done: the rest rides the trailing stop);
 * - the trailing stop is active and bid ≤ current stop × (1 + urgentWithinTrailingStopPct 0.02).
 * Without a P&L % or a bid the corresponding tests are false. Nothing held: never urgent.
 */
export function isUrgent(input: ExitInput, rules: TradingRules = DEFAULT_TRADING_RULES): boolean {
  validate(input);
  if (input.quantity.isZero()) return false;
  const within = rules.monitor.urgentWithinPnlPoints;
  const pct = input.unrealizedPnlPct;
  if (pct !== null) {
    if (pct.lte(stopLossPct(input, rules).plus(within))) return true;
    const takeProfit = nextTakeProfit(input, rules);
    if (takeProfit !== null && pct.gte(takeProfit.minus(within))) return true;
  }
  const ts = input.trailingStop;
  if (ts !== null && ts.active && ts.current_stop_price !== null && input.bid !== null) {
    const near = new Decimal(ts.current_stop_price).times(new Decimal(1).plus(rules.monitor.urgentWithinTrailingStopPct));
    if (input.bid.lte(near)) return true;
  }
  return false;
}

function nextTakeProfit(input: ExitInput, rules: TradingRules): Decimal | null {
  if (!partialExitsOn(input)) return rules.exits.profitTargetPctByConfidence[input.confidence];
  const pending = partialStages(input, rules).find((s) => s.target.gt(input.partialExitedQuantity));
  return pending?.atGainPct ?? null;
}

// ---------------------------------------------------------------------------------------------

function validate(input: ExitInput): void {
  for (const name of ['quantity', 'originalQuantity', 'partialExitedQuantity'] as const) {
    const v = input[name];
    if (!Decimal.isDecimal(v) || !v.isFinite() || v.lt(0) || v.decimalPlaces() > COUNT_DECIMALS) {
      throw new RangeError(`${name} must be a non-negative count with at most ${COUNT_DECIMALS} decimals, got ${String(v)}`);
    }
  }
  if (input.volume !== null && (!Number.isSafeInteger(input.volume) || input.volume < 0)) {
    throw new RangeError(`volume must be a non-negative integer or null, got ${String(input.volume)}`);
  }
}

/** A fraction as a signed percentage: −0.152 → "-15.20%", 0.25 → "+25.00%" (at least 2 decimals, exact). */
function fmtPct(fraction: Decimal): string {
  const p = fraction.times(100);
  const text = p.toFixed(Math.max(2, p.decimalPlaces()));
  return `${p.gt(0) ? '+' : ''}${text}%`;
}

function fmtDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** Priority as a number, CRITICAL highest: a decision supersedes an exit in flight only when it ranks higher. */
export const PRIORITY_RANK: Readonly<Record<ExitPriority, number>> = Object.freeze(
  Object.fromEntries(EXIT_PRIORITIES.map((p, i) => [p, EXIT_PRIORITIES.length - i])) as Record<ExitPriority, number>,
);

/** Which partial-exit stage selling `quantity` more completes: the first whose cumulative target it reaches. */
export function partialExitStage(input: Pick<ExitInput, 'partialExitedQuantity' | 'originalQuantity'>, quantity: Decimal, rules: TradingRules = DEFAULT_TRADING_RULES): number {
  const after = input.partialExitedQuantity.plus(quantity);
  let cumulative = new Decimal(0);
  for (const [i, stage] of rules.exits.partialExits.entries()) {
    cumulative = cumulative.plus(stage.sellFractionOfOriginal);
    if (cumulative.times(input.originalQuantity).floor().gte(after)) return i + 1;
  }
  return rules.exits.partialExits.length;
}

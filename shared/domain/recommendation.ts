import {
  CONFIDENCE_LEVELS,
  DEFAULT_TRADING_RULES,
  STRATEGY_KINDS,
  type ConfidenceLevel,
  type RecommendedAction,
  type StrategyKind,
  type TradingRules,
} from '../config/tradingRules';
import { Decimal } from './decimal';

export type { RecommendedAction, StrategyKind } from '../config/tradingRules';

export interface RecommendationInput {
  /** Expected value per contract, net of fees (`SideEdge.ev`). */
  ev: Decimal;
  confidence: ConfidenceLevel;
  /** The market's sport ('nfl', 'ncaaf', 'nba', 'tennis', …; case-insensitive). */
  sport: string;
}

/**
 * recommended_action of an edge (trading-rules.md, "Edge and expected value"):
 * - `auto_execute` when ev ≥ the sport's auto threshold (NFL/NCAAF 0.15, NBA 0.17, tennis 0.25)
 *   and confidence is high or medium; a sport without a threshold is never auto-executed;
 * - else `alert` when ev ≥ `alertEv` (0.08);
 * - else `ignore`.
 * Boundaries are inclusive (ev exactly at a threshold qualifies).
 */
export function recommendedAction(
  input: RecommendationInput,
  rules: TradingRules = DEFAULT_TRADING_RULES,
): RecommendedAction {
  const { ev, confidence, sport } = input;
  if (!Decimal.isDecimal(ev)) throw new TypeError(`ev must be a Decimal, got ${typeof ev}`);
  if (!ev.isFinite()) throw new RangeError(`ev must be finite, got ${ev.toString()}`);
  if (!(CONFIDENCE_LEVELS as readonly string[]).includes(confidence)) {
    throw new RangeError(`unknown confidence level ${JSON.stringify(confidence)}`);
  }
  const autoThreshold = autoExecuteThreshold(sport, rules);
  if (autoThreshold && ev.gte(autoThreshold) && (confidence === 'high' || confidence === 'medium')) {
    return 'auto_execute';
  }
  if (ev.gte(rules.alertEv)) return 'alert';
  return 'ignore';
}

/** The sport's auto-execute EV threshold, or null when the sport has none (never auto). */
export function autoExecuteThreshold(sport: string, rules: TradingRules = DEFAULT_TRADING_RULES): Decimal | null {
  if (typeof sport !== 'string') return null;
  const key = sport.trim().toLowerCase();
  // Own properties only: 'constructor' or '__proto__' are not sports.
  return Object.hasOwn(rules.autoExecuteEvBySport, key) ? (rules.autoExecuteEvBySport[key] ?? null) : null;
}

/** Minimum edge to act for a strategy kind (pre_game 0.08, halftime 0.06, live 0.10, settlement 0.02). */
export function minimumEdge(kind: StrategyKind, rules: TradingRules = DEFAULT_TRADING_RULES): Decimal {
  if (!(STRATEGY_KINDS as readonly string[]).includes(kind)) {
    throw new RangeError(`unknown strategy kind ${JSON.stringify(kind)} (expected one of ${STRATEGY_KINDS.join(', ')})`);
  }
  return rules.minEdgeByKind[kind];
}

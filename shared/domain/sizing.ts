import {
  CONFIDENCE_LEVELS,
  DEFAULT_TRADING_RULES,
  type ConfidenceLevel,
  type TradingRules,
} from '../config/tradingRules';
import { Decimal } from './decimal';

/**
 * Position sizing by fractional Kelly under the position and exposure limits (trading-rules.md,
 * "Sizing and limits").
 *
 * For a binary contract bought at price c that wins with probability p (the probability of the
 * side bought: p for YES, 1 − p for NO) and pays $1:
 *
 *   f*         = (p − c) / (1 − c)                    full Kelly fraction (0 when p ≤ c)
 *   kellyStake = kellyFraction × confidenceMultiplier × f* × bankroll, rounded DOWN to the cent
 *                (kellyFraction: the strategy's own when it sets one, else the rules' 0.25)
 *   stake      = min(kellyStake, maxPositionFractionOfBankroll × bankroll, maxPositionUsd,
 *                    maxTotalExposureUsd − totalExposure, maxExposurePerEventUsd − eventExposure)
 *                every cap rounded down to the cent, so the stake never exceeds one
 *   contracts  = floor(stake / c)                     an integer
 *   cost       = contracts × c                        ≤ stake, exactly
 *
 * Exposure is measured in cost (dollars paid for open contracts); fees are not part of the stake
 * or the cost (they are recorded on the trade). The arithmetic is exact: the Kelly stake is
 * truncated, never rounded up, and floor(stake / c) is an exact integer division.
 *
 * Discriminate the result on `trade`. No trade (`{ trade: false, contracts: 0, cost: 0, reason }`)
 * is returned for the first of these that holds:
 *   no_edge                   p ≤ c
 *   no_bankroll               bankroll ≤ 0
 *   max_open_positions        openPositions ≥ maxOpenPositions (10)
 *   max_positions_per_event   eventPositions ≥ maxPositionsPerEvent (3)
 *   total_exposure_full       room under maxTotalExposureUsd ($10,000) < minPositionUsd
 *   event_exposure_full       room under maxExposurePerEventUsd ($1,500) < minPositionUsd
 *   below_minimum_position    the capped stake, or the cost of the whole contracts it buys, is
 *                             below minPositionUsd ($10): the minimum applies to the position
 *                             actually opened
 *   below_one_contract        the stake buys no whole contract (only with a minimum of $0)
 */

/** A cap that bound the stake below the Kelly stake. */
export type SizingCap = 'max_fraction_of_bankroll' | 'max_position_usd' | 'total_exposure' | 'event_exposure';

export type NoTradeReason =
  | 'no_edge'
  | 'no_bankroll'
  | 'max_open_positions'
  | 'max_positions_per_event'
  | 'total_exposure_full'
  | 'event_exposure_full'
  | 'below_minimum_position'
  | 'below_one_contract';

export interface SizingInput {
  /** Probability that the side bought wins (p for YES, 1 − p for NO), 0..1. */
  probability: Decimal;
  /** Price c of one contract of that side (the ask), strictly inside (0, 1). */
  price: Decimal;
  confidence: ConfidenceLevel;
  /** Capital available to trade, dollars. */
  bankroll: Decimal;
  /** Open positions across the account. */
  openPositions: number;
  /** Cost of all open positions, dollars. */
  totalExposure: Decimal;
  /** Open positions on this game (event). */
  eventPositions: number;
  /** Cost of the open positions on this game (event), dollars. */
  eventExposure: Decimal;
  /**
   * The strategy's own fraction of full Kelly (0..1), when it sets one; null/undefined: the
   * rules' `sizing.kellyFraction` (0.25).
   */
  kellyFraction?: Decimal | null;
}

export interface SizedTrade {
  trade: true;
  /** f* = (p − c) / (1 − c), the full Kelly fraction of the bankroll. */
  fullKelly: Decimal;
  /** kellyFraction × confidence multiplier × f* × bankroll, before the caps (cents, rounded down). */
  kellyStake: Decimal;
  /** The stake after the caps (cents): what may be spent. */
  stake: Decimal;
  /** Whole contracts bought: floor(stake / price), at least 1 (a Decimal with no fraction). */
  contracts: Decimal;
  /** contracts × price: what is spent, ≤ stake, ≥ minPositionUsd. */
  cost: Decimal;
  /** The caps that bound the stake below the Kelly stake (several when they tie); empty if none. */
  limitedBy: SizingCap[];
}

export interface NoTrade {
  trade: false;
  /** Always 0. */
  contracts: Decimal;
  /** Always 0: nothing is bought (present so that `contracts`/`cost` read alike on both shapes). */
  cost: Decimal;
  reason: NoTradeReason;
  /** Human-readable explanation with the figures. */
  message: string;
  fullKelly: Decimal;
}

export type SizingResult = SizedTrade | NoTrade;

/** Exact products, and quotients truncated (never rounded up) at far more digits than cents. */
const Down = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_DOWN });

/** f* = (p − c) / (1 − c) for a binary contract bought at c with win probability p; 0 when p ≤ c. */
export function fullKellyFraction(probability: Decimal, price: Decimal): Decimal {
  assertUnit(probability, 'probability');
  assertPrice(price);
  if (probability.lte(price)) return new Decimal(0);
  return probability.minus(price).dividedBy(new Decimal(1).minus(price));
}

/** Size an entry: see the module comment for the formula, the caps and the no-trade reasons. */
export function sizePosition(input: SizingInput, rules: TradingRules = DEFAULT_TRADING_RULES): SizingResult {
  const { probability: p, price: c, confidence, bankroll } = input;
  const s = rules.sizing;
  assertUnit(p, 'probability');
  assertPrice(c);
  if (!(CONFIDENCE_LEVELS as readonly string[]).includes(confidence)) {
    throw new RangeError(`unknown confidence level ${JSON.stringify(confidence)}`);
  }
  assertMoney(bankroll, 'bankroll');
  assertMoney(input.totalExposure, 'totalExposure');
  assertMoney(input.eventExposure, 'eventExposure');
  assertCount(input.openPositions, 'openPositions');
  assertCount(input.eventPositions, 'eventPositions');
  const kellyFraction = input.kellyFraction ?? s.kellyFraction;
  assertUnit(kellyFraction, 'kellyFraction');

  const fullKelly = fullKellyFraction(p, c);
  const none = (reason: NoTradeReason, message: string): NoTrade => ({
    trade: false,
    contracts: new Decimal(0),
    cost: new Decimal(0),
    reason,
    message,
    fullKelly,
  });

  if (fullKelly.lte(0)) {
    return none('no_edge', `no edge: probability ${p.toFixed()} ≤ price ${c.toFixed()}`);
  }
  if (bankroll.lte(0)) return none('no_bankroll', `bankroll is ${bankroll.toFixed()}`);
  if (input.openPositions >= s.maxOpenPositions) {
    return none('max_open_positions', `${input.openPositions} open positions, at most ${s.maxOpenPositions}`);
  }
  if (input.eventPositions >= s.maxPositionsPerEvent) {
    return none(
      'max_positions_per_event',
      `${input.eventPositions} positions on this event, at most ${s.maxPositionsPerEvent}`,
    );
  }
  const totalRoom = floorCent(s.maxTotalExposureUsd.minus(input.totalExposure));
  if (totalRoom.lt(s.minPositionUsd) || totalRoom.lte(0)) {
    return none(
      'total_exposure_full',
      `total exposure ${input.totalExposure.toFixed()} leaves ${totalRoom.toFixed()} under ${s.maxTotalExposureUsd.toFixed()}, below the minimum position ${s.minPositionUsd.toFixed()}`,
    );
  }
  const eventRoom = floorCent(s.maxExposurePerEventUsd.minus(input.eventExposure));
  if (eventRoom.lt(s.minPositionUsd) || eventRoom.lte(0)) {
    return none(
      'event_exposure_full',
      `event exposure ${input.eventExposure.toFixed()} leaves ${eventRoom.toFixed()} under ${s.maxExposurePerEventUsd.toFixed()}, below the minimum position ${s.minPositionUsd.toFixed()}`,
    );
  }

  // kellyFraction × multiplier × (p − c) × bankroll / (1 − c): exact product, truncated quotient.
  const multiplier = s.confidenceMultipliers[confidence];
  const numerator = new Down(kellyFraction).times(multiplier).times(new Down(p).minus(c)).times(bankroll);
  const kellyStake = floorCent(numerator.dividedBy(new Down(1).minus(c)));

  const caps: Array<[SizingCap, Decimal]> = [
    ['max_fraction_of_bankroll', floorCent(new Down(s.maxPositionFractionOfBankroll).times(bankroll))],
    ['max_position_usd', floorCent(s.maxPositionUsd)],
    ['total_exposure', totalRoom],
    ['event_exposure', eventRoom],
  ];
  let stake = kellyStake;
  for (const [, cap] of caps) if (cap.lt(stake)) stake = cap;
  const limitedBy = stake.lt(kellyStake) ? caps.filter(([, cap]) => cap.equals(stake)).map(([name]) => name) : [];

  if (stake.lt(s.minPositionUsd)) {
    return none(
      'below_minimum_position',
      `stake ${stake.toFixed()} is below the minimum position ${s.minPositionUsd.toFixed()}`,
    );
  }
  // Precog trades whole contracts, even where Kalshi allows fractions.
  const contracts = new Decimal(new Down(stake).dividedToIntegerBy(c));
  const cost = new Decimal(new Down(c).times(contracts));
  if (contracts.lt(1)) {
    return none('below_one_contract', `stake ${stake.toFixed()} buys no contract at ${c.toFixed()}`);
  }
  if (cost.lt(s.minPositionUsd)) {
    return none(
      'below_minimum_position',
      `${contracts.toFixed()} contracts at ${c.toFixed()} cost ${cost.toFixed()}, below the minimum position ${s.minPositionUsd.toFixed()}`,
    );
  }
  return { trade: true, fullKelly, kellyStake, stake, contracts, cost, limitedBy };
}

/** Rounds down (towards −∞) to a whole cent. */
function floorCent(x: Decimal): Decimal {
  return new Decimal(x.toDecimalPlaces(2, Decimal.ROUND_FLOOR));
}

function assertDecimal(value: unknown, name: string): asserts value is Decimal {
  if (!Decimal.isDecimal(value)) throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  if (!(value as Decimal).isFinite()) throw new RangeError(`${name} must be finite, got ${String(value)}`);
}

function assertUnit(value: Decimal, name: string): void {
  assertDecimal(value, name);
  if (value.lt(0) || value.gt(1)) throw new RangeError(`${name} must be within 0..1, got ${value.toString()}`);
}

function assertPrice(value: Decimal): void {
  assertDecimal(value, 'price');
  if (value.lte(0) || value.gte(1)) {
    throw new RangeError(`price must be strictly between 0 and 1, got ${value.toString()}`);
  }
}

function assertMoney(value: Decimal, name: string): void {
  assertDecimal(value, name);
  if (value.lt(0)) throw new RangeError(`${name} must not be negative, got ${value.toString()}`);
}

function assertCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
}

import { DEFAULT_TRADING_RULES, type TradingRules } from '../config/tradingRules';
import { Decimal, dec } from '../domain/decimal';

/**
 * The trailing stop (trading-rules.md, "Trailing stop"), as pure functions over the state stored in
 * `positions.trailing_stop_state`.
 *
 * With entry price E, the rules' activation gain g (0.10), initial distance D (0.05), tightening
 * t (0.01) every s (0.05) of gain, minimum distance m (0.02):
 *
 *   activation  price ≥ E × (1 + g)                    (inclusive: +10% exactly activates)
 *   peak        max(previous peak, price)              once active
 *   steps       floor((peakGain − g) / s), peakGain = (peak − E) / E, never below 0
 *   distance    max(m, D − t × steps)
 *   stop        max(previous stop, peak − distance)    the stop only ever moves up (never below 0)
 *   hit         active and price ≤ stop                (inclusive)
 *
 * `steps` is computed without a rounded quotient: peakGain − g ≥ k × s ⇔ peak − E × (1 + g) ≥ k × E × s,
 * so steps = (peak − E × (1 + g)) integer-divided by (E × s), both exact products of decimals. A
 * gain of exactly 25% on 0.60 (peak 0.75) therefore gives exactly 3 steps, never 2.999….
 *
 * Worked example, entry 0.60 (activation 0.6600):
 *   price 0.65  inactive
 *   price 0.66  active, peak 0.66, gain 10%: steps 0, distance 0.05, stop 0.61
 *   price 0.69  peak 0.69, gain 15%: steps 1, distance 0.04, stop 0.65
 *   price 0.75  peak 0.75, gain 25%: steps 3, distance 0.02, stop 0.73
 *   price 0.70  peak stays 0.75, stop stays 0.73 (a falling price never lowers the stop)
 *   price 0.90  peak 0.90, gain 50%: steps 8, distance 0.02 (the minimum), stop 0.88
 *   price 0.88  hit
 *
 * A null price (no bid) changes nothing. Stored decimals are 4-decimal strings; the activation
 * price is E × (1 + g) rounded UP to 4 decimals, so that for prices on the 4-decimal grid
 * `price ≥ activation_price` is exactly the activation test.
 */

/** Stored in positions.trailing_stop_state (JSONB): decimals as 4-decimal strings. */
export interface TrailingStopState {
  active: boolean;
  /** entry × (1 + activationGainPct), 4 decimals (rounded up). */
  activation_price: string;
  /** Highest price seen since activation. */
  peak_price: string | null;
  current_stop_price: string | null;
  /** The distance below the peak the current peak gain allows (max(min, initial − tightening)). */
  current_distance: string | null;
}

/** The state of a position that has just been opened at `entryPrice`: inactive. */
export function initialTrailingStop(entryPrice: Decimal, rules: TradingRules = DEFAULT_TRADING_RULES): TrailingStopState {
  assertPositive(entryPrice, 'entryPrice');
  return {
    active: false,
    activation_price: activationThreshold(entryPrice, rules).toFixed(4, Decimal.ROUND_CEIL),
    peak_price: null,
    current_stop_price: null,
    current_distance: null,
  };
}

/**
 * Reads a stored state: null for null/undefined, a value that is not an object (a JSON string is
 * parsed first), or an object whose fields do not have the expected types (decimal strings or
 * finite numbers, or null where allowed). Decimals come back normalized to 4-decimal strings.
 * An active state without a peak or a stop is garbage too.
 */
export function parseTrailingStop(json: unknown): TrailingStopState | null {
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.active !== 'boolean') return null;
  const activation = decimalField(o.activation_price);
  if (activation === undefined || activation === null) return null;
  const peak = decimalField(o.peak_price);
  const stop = decimalField(o.current_stop_price);
  const distance = decimalField(o.current_distance);
  if (peak === undefined || stop === undefined || distance === undefined) return null;
  if (o.active && (peak === null || stop === null)) return null;
  return {
    active: o.active,
    activation_price: activation,
    peak_price: peak,
    current_stop_price: stop,
    current_distance: distance,
  };
}

/**
 * The state after seeing `price` (the position side's best bid). `state` null: a fresh
 * `initialTrailingStop(entryPrice)`. While inactive the activation price follows the current
 * entry price (an average that a further buy can move).
 */
export function updateTrailingStop(
  state: TrailingStopState | null,
  input: { entryPrice: Decimal; price: Decimal | null },
  rules: TradingRules = DEFAULT_TRADING_RULES,
): TrailingStopState {
  const { entryPrice, price } = input;
  assertPositive(entryPrice, 'entryPrice');
  if (price !== null) assertFinite(price, 'price');
  const base = state ?? initialTrailingStop(entryPrice, rules);
  if (price === null) return { ...base };

  let peak: Decimal;
  let previousStop: Decimal | null;
  let activationPrice: string;
  if (!base.active) {
    if (price.lt(activationThreshold(entryPrice, rules))) return initialTrailingStop(entryPrice, rules);
    peak = price;
    previousStop = null;
    activationPrice = initialTrailingStop(entryPrice, rules).activation_price;
  } else {
    const storedPeak = base.peak_price === null ? null : dec(base.peak_price);
    peak = storedPeak === null ? price : Decimal.max(storedPeak, price);
    previousStop = base.current_stop_price === null ? null : dec(base.current_stop_price);
    activationPrice = base.activation_price;
  }

  const distance = trailingDistance(entryPrice, peak, rules);
  let stop = Decimal.max(peak.minus(distance), 0);
  if (previousStop !== null) stop = Decimal.max(previousStop, stop);
  return {
    active: true,
    activation_price: activationPrice,
    peak_price: peak.toFixed(4),
    current_stop_price: stop.toFixed(4),
    current_distance: distance.toFixed(4),
  };
}

/** Whether the stop is hit: active and price ≤ current stop (a null price never hits). */
export function trailingStopHit(state: TrailingStopState | null, price: Decimal | null): boolean {
  if (state === null || !state.active || price === null || state.current_stop_price === null) return false;
  return price.lte(dec(state.current_stop_price));
}

// ---------------------------------------------------------------------------------------------

/** E × (1 + g), exact. */
function activationThreshold(entryPrice: Decimal, rules: TradingRules): Decimal {
  return entryPrice.times(new Decimal(1).plus(rules.exits.trailingStop.activationGainPct));
}

/** max(m, D − t × floor((peakGain − g) / s)), with the floor computed exactly (see the module comment). */
function trailingDistance(entryPrice: Decimal, peak: Decimal, rules: TradingRules): Decimal {
  const ts = rules.exits.trailingStop;
  const excess = peak.minus(activationThreshold(entryPrice, rules));
  const unit = entryPrice.times(ts.tightenEveryGainPct);
  const steps = excess.lte(0) || unit.lte(0) ? new Decimal(0) : excess.dividedToIntegerBy(unit);
  return Decimal.max(ts.minDistance, ts.initialDistance.minus(ts.tightenBy.times(steps)));
}

/** A 4-decimal string, null, or undefined for garbage. */
function decimalField(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null;
  let d: Decimal;
  try {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return undefined;
      d = dec(String(value));
    } else if (typeof value === 'string') {
      d = dec(value);
    } else {
      return undefined;
    }
  } catch {
    return undefined;
  }
  return d.toFixed(4);
}

function assertFinite(value: Decimal, name: string): void {
  if (!Decimal.isDecimal(value)) throw new TypeError(`${name} must be a Decimal, got ${typeof value}`);
  if (!value.isFinite()) throw new RangeError(`${name} must be finite, got ${String(value)}`);
}

function assertPositive(value: Decimal, name: string): void {
  assertFinite(value, name);
  if (value.lte(0)) throw new RangeError(`${name} must be positive, got ${value.toString()}`);
}

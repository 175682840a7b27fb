import { Decimal, ONE, ZERO } from './decimal';

/**
 * A market's price levels (Kalshi's `price_level_structure` / `price_ranges`): the prices an order
 * may carry. Each range holds the levels start, start + step, …, end; a market may tick in 0.01
 * over most of its range and in 0.001 in the tails. Kalshi refuses an order whose price is not a
 * level, so every price Precog sends is put on one here. Levels are YES prices (Kalshi's book is
 * one YES book); `levelsForSide(levels, 'no')` mirrors them for prices of NO contracts.
 *
 * An order price is strictly between 0 and 1: the levels 0 and 1 that ranges name as their bounds
 * are never returned.
 *
 * Pure, Decimal only.
 */

export interface PriceRange {
  start: Decimal;
  end: Decimal;
  step: Decimal;
}

export type PriceLevels = readonly PriceRange[];

/** Which way an off-level price moves: a buy rounds down (never pays more), a sell up (never gets less). */
export type RoundDirection = 'down' | 'up';

/** Kalshi's `linear_cent` structure: what a market without `price_ranges` trades on. */
export const DEFAULT_PRICE_LEVELS: PriceLevels = Object.freeze([
  Object.freeze({ start: ZERO, end: ONE, step: new Decimal('0.01') }),
]);

/**
 * Checks ranges read from outside; the problems found, each with the index and field it concerns
 * (empty: usable). Prices are at most 4 decimals (Kalshi's order prices), so are steps and bounds.
 */
export function priceLevelProblems(ranges: readonly PriceRange[]): Array<{ path: Array<number | string>; message: string }> {
  const problems: Array<{ path: Array<number | string>; message: string }> = [];
  if (ranges.length === 0) problems.push({ path: [], message: 'no price range: no price could be ordered' });
  ranges.forEach((r, i) => {
    for (const field of ['start', 'end', 'step'] as const) {
      if (r[field].decimalPlaces() > 4) problems.push({ path: [i, field], message: `${r[field].toFixed()} has more than 4 decimals` });
    }
    if (r.start.lt(0) || r.start.gt(1)) problems.push({ path: [i, 'start'], message: `${r.start.toFixed()} is outside 0..1` });
    if (r.end.lt(0) || r.end.gt(1)) problems.push({ path: [i, 'end'], message: `${r.end.toFixed()} is outside 0..1` });
    if (!r.start.lt(r.end)) problems.push({ path: [i, 'end'], message: `end ${r.end.toFixed()} is not above start ${r.start.toFixed()}` });
    if (!r.step.gt(0)) {
      problems.push({ path: [i, 'step'], message: `step ${r.step.toFixed()} is not positive` });
    } else if (!r.end.minus(r.start).mod(r.step).isZero()) {
      problems.push({ path: [i, 'step'], message: `step ${r.step.toFixed()} does not divide ${r.start.toFixed()}..${r.end.toFixed()}` });
    }
  });
  if (problems.length === 0 && lowestLevel(ranges) === null) problems.push({ path: [], message: 'no level strictly between 0 and 1: no price could be ordered' });
  return problems;
}

/** The levels of prices of `side` contracts: a NO price p is the YES price 1 − p. */
export function levelsForSide(levels: PriceLevels, side: 'yes' | 'no'): PriceLevels {
  if (side === 'yes') return levels;
  return levels.map((r) => ({ start: ONE.minus(r.end), end: ONE.minus(r.start), step: r.step }));
}

/** Whether `price` is a level an order may carry. */
export function isOnLevel(price: Decimal, levels: PriceLevels): boolean {
  return quantise(price, levels, 'down')?.eq(price) ?? false;
}

/**
 * The level nearest `price` in `direction` (price itself when it is a level), or null when no
 * level lies that way (below the lowest level, above the highest).
 */
export function quantise(price: Decimal, levels: PriceLevels, direction: RoundDirection): Decimal | null {
  let best: Decimal | null = null;
  for (const range of levels) {
    let level = direction === 'down' ? atOrBelow(range, price) : atOrAbove(range, price);
    // A bound (0 or 1) is no price: the next level the same way is.
    if (level !== null && !isOrderPrice(level)) level = direction === 'down' ? strictlyBelow(range, level) : strictlyAbove(range, level);
    if (level === null || !isOrderPrice(level)) continue;
    if (best === null || (direction === 'down' ? level.gt(best) : level.lt(best))) best = level;
  }
  return best;
}

/**
 * The n-th level from `price` in `direction` (n ≥ 1: strictly beyond price; n = 0: quantise), or
 * null when the levels run out first. Across a range boundary each step is the tick of where it lands.
 */
export function step(price: Decimal, levels: PriceLevels, direction: RoundDirection, n: number): Decimal | null {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`step count must be a non-negative integer, got ${String(n)}`);
  if (n === 0) return quantise(price, levels, direction);
  let at = price;
  for (let i = 0; i < n; i++) {
    const next = beyond(at, levels, direction);
    if (next === null) return null;
    at = next;
  }
  return at;
}

/** The lowest and highest prices an order may carry (null bounds: no level at all). */
export function lowestLevel(levels: PriceLevels): Decimal | null {
  return step(ZERO, levels, 'up', 1);
}

export function highestLevel(levels: PriceLevels): Decimal | null {
  return step(ONE, levels, 'down', 1);
}

const isOrderPrice = (p: Decimal) => p.gt(0) && p.lt(1);

/** The nearest level strictly beyond `price` in `direction`, across all ranges. */
function beyond(price: Decimal, levels: PriceLevels, direction: RoundDirection): Decimal | null {
  let best: Decimal | null = null;
  for (const range of levels) {
    const level = direction === 'down' ? strictlyBelow(range, price) : strictlyAbove(range, price);
    if (level === null || !isOrderPrice(level)) continue;
    if (best === null || (direction === 'down' ? level.gt(best) : level.lt(best))) best = level;
  }
  return best;
}

function atOrBelow(r: PriceRange, p: Decimal): Decimal | null {
  if (p.lt(r.start)) return null;
  const q = Decimal.min(p, r.end);
  return r.start.plus(q.minus(r.start).div(r.step).floor().times(r.step));
}

function atOrAbove(r: PriceRange, p: Decimal): Decimal | null {
  if (p.gt(r.end)) return null;
  const q = Decimal.max(p, r.start);
  return r.start.plus(q.minus(r.start).div(r.step).ceil().times(r.step));
}

function strictlyBelow(r: PriceRange, p: Decimal): Decimal | null {
  if (p.lte(r.start)) return null;
  if (p.gt(r.end)) return r.end;
  return r.start.plus(p.minus(r.start).div(r.step).ceil().minus(1).times(r.step));
}

function strictlyAbove(r: PriceRange, p: Decimal): Decimal | null {
  if (p.gte(r.end)) return null;
  if (p.lt(r.start)) return r.start;
  return r.start.plus(p.minus(r.start).div(r.step).floor().plus(1).times(r.step));
}

/** Levels as stored (JSONB) and sent: exact decimal strings. */
export function priceLevelsToJson(levels: PriceLevels): Array<{ start: string; end: string; step: string }> {
  return levels.map((r) => ({ start: r.start.toFixed(4), end: r.end.toFixed(4), step: r.step.toFixed(4) }));
}

/** Levels from their stored form; null/undefined (not recorded): the default cent levels. */
export function priceLevelsFromJson(json: unknown): PriceLevels {
  if (json === null || json === undefined) return DEFAULT_PRICE_LEVELS;
  if (!Array.isArray(json)) throw new TypeError('price levels: expected an array of {start, end, step}');
  const ranges = json.map((r, i) => {
    const field = (name: 'start' | 'end' | 'step') => {
      const v = (r as Record<string, unknown> | null)?.[name];
      if (typeof v !== 'string' || !/^\d+(\.\d+)?$/.test(v)) throw new TypeError(`price levels[${i}].${name}: not a decimal string`);
      return new Decimal(v);
    };
    return { start: field('start'), end: field('end'), step: field('step') };
  });
  const problems = priceLevelProblems(ranges);
  if (problems.length > 0) {
    const [p] = problems;
    throw new TypeError(`price levels${p!.path.map((x) => (typeof x === 'number' ? `[${x}]` : `.${x}`)).join('')}: ${p!.message}`);
  }
  return ranges;
}

import { describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import {
  DEFAULT_PRICE_LEVELS, highestLevel, isOnLevel, levelsForSide, lowestLevel, priceLevelProblems, priceLevelsFromJson,
  priceLevelsToJson, quantise, step, type PriceLevels, type RoundDirection,
} from '../../shared/domain/priceLevels';

const levels = (...ranges: Array<[string, string, string]>): PriceLevels =>
  ranges.map(([start, end, s]) => ({ start: dec(start), end: dec(end), step: dec(s) }));

const CENT = DEFAULT_PRICE_LEVELS;
const DECI_CENT = levels(['0', '1', '0.001']);
/** Kalshi's tapered structure: 0.001 in the tails, 0.01 between 0.10 and 0.90. */
const TAPERED = levels(['0', '0.1', '0.001'], ['0.1', '0.9', '0.01'], ['0.9', '1', '0.001']);

const show = (d: ReturnType<typeof quantise>) => (d === null ? null : d.toFixed(4));

describe('quantise: a buy rounds down, a sell rounds up, a level stays put', () => {
  it.each<[string, PriceLevels, string, RoundDirection, string | null]>([
    ['cent, on a level', CENT, '0.55', 'down', '0.5500'],
    ['cent, on a level (up)', CENT, '0.55', 'up', '0.5500'],
    ['cent, between levels, down', CENT, '0.5555', 'down', '0.5500'],
    ['cent, between levels, up', CENT, '0.5501', 'up', '0.5600'],
    ['cent, below the lowest level, down: none', CENT, '0.005', 'down', null],
    ['cent, below the lowest level, up: 0.01', CENT, '0.005', 'up', '0.0100'],
    ['cent, above the highest level, up: none', CENT, '0.995', 'up', null],
    ['cent, above the highest level, down: 0.99', CENT, '0.995', 'down', '0.9900'],
    ['cent, 0 is a bound, never a price', CENT, '0', 'down', null],
    ['cent, 0 rounded up is the lowest level', CENT, '0', 'up', '0.0100'],
    ['cent, 1 is a bound, never a price', CENT, '1', 'up', null],
    ['cent, 1 rounded down is the highest level', CENT, '1', 'down', '0.9900'],
    ['0.001, on a level', DECI_CENT, '0.553', 'down', '0.5530'],
    ['0.001, between levels, down', DECI_CENT, '0.5535', 'down', '0.5530'],
    ['0.001, between levels, up', DECI_CENT, '0.5531', 'up', '0.5540'],
    ['tapered, the tail ticks in 0.001 (down)', TAPERED, '0.0555', 'down', '0.0550'],
    ['tapered, the tail ticks in 0.001 (up)', TAPERED, '0.0551', 'up', '0.0560'],
    ['tapered, the middle ticks in 0.01 (down)', TAPERED, '0.555', 'down', '0.5500'],
    ['tapered, the middle ticks in 0.01 (up)', TAPERED, '0.555', 'up', '0.5600'],
    ['tapered, the boundary 0.10 is a level', TAPERED, '0.1', 'up', '0.1000'],
    ['tapered, just above the boundary, down: 0.10', TAPERED, '0.1005', 'down', '0.1000'],
    ['tapered, just above the boundary, up: 0.11', TAPERED, '0.1005', 'up', '0.1100'],
    ['tapered, just below the upper boundary, up: 0.90', TAPERED, '0.8905', 'up', '0.9000'],
    ['tapered, in the upper tail, up', TAPERED, '0.9005', 'up', '0.9010'],
    ['tapered, highest level 0.999', TAPERED, '0.9999', 'down', '0.9990'],
    ['a gap between ranges: down to the lower range end', levels(['0', '0.3', '0.01'], ['0.7', '1', '0.01']), '0.5', 'down', '0.3000'],
    ['a gap between ranges: up to the upper range start', levels(['0', '0.3', '0.01'], ['0.7', '1', '0.01']), '0.5', 'up', '0.7000'],
  ])('%s: quantise(%s, …, %s %s) = %s', (_name, lv, price, direction, expected) => {
    expect(show(quantise(dec(price), lv, direction))).toBe(expected);
  });
});

describe('step: n levels strictly beyond a price, each by the tick where it lands', () => {
  it.each<[string, PriceLevels, string, RoundDirection, number, string | null]>([
    ['cent, one down', CENT, '0.80', 'down', 1, '0.7900'],
    ['cent, three down', CENT, '0.80', 'down', 3, '0.7700'],
    ['cent, one up', CENT, '0.80', 'up', 1, '0.8100'],
    ['cent, from an off-level price the first step is the level below', CENT, '0.805', 'down', 1, '0.8000'],
    ['cent, zero steps quantises', CENT, '0.805', 'down', 0, '0.8000'],
    ['cent, runs out below 0.01', CENT, '0.02', 'down', 2, null],
    ['cent, runs out above 0.99', CENT, '0.98', 'up', 2, null],
    ['0.001, one down is exactly one tick', DECI_CENT, '0.550', 'down', 1, '0.5490'],
    ['0.001, one up', DECI_CENT, '0.550', 'up', 1, '0.5510'],
    ['0.001, five down', DECI_CENT, '0.550', 'down', 5, '0.5450'],
    ['tapered, down across 0.10: 0.11 → 0.10 → 0.099', TAPERED, '0.11', 'down', 2, '0.0990'],
    ['tapered, up across 0.10: 0.099 → 0.100 → 0.11', TAPERED, '0.099', 'up', 2, '0.1100'],
    ['tapered, up across 0.90: 0.89 → 0.90 → 0.901', TAPERED, '0.89', 'up', 2, '0.9010'],
    ['tapered, down to the lowest level', TAPERED, '0.002', 'down', 1, '0.0010'],
    ['tapered, past the lowest level', TAPERED, '0.002', 'down', 2, null],
  ])('%s', (_name, lv, price, direction, n, expected) => {
    expect(show(step(dec(price), lv, direction, n))).toBe(expected);
  });

  it('refuses a negative or fractional count', () => {
    expect(() => step(dec('0.5'), CENT, 'down', -1)).toThrow(/non-negative integer/);
    expect(() => step(dec('0.5'), CENT, 'down', 1.5)).toThrow(/non-negative integer/);
  });
});

describe('levels of NO prices, bounds, membership', () => {
  it('mirrors the YES levels for NO prices (a NO price p is the YES price 1 − p)', () => {
    const asymmetric = levels(['0', '0.2', '0.001'], ['0.2', '1', '0.01']);
    const no = levelsForSide(asymmetric, 'no');
    // YES 0.195 is a level (fine tail), so NO 0.805 is one; YES 0.805 is not, so NO 0.195 is not.
    expect(isOnLevel(dec('0.805'), no)).toBe(true);
    expect(isOnLevel(dec('0.195'), no)).toBe(false);
    expect(show(quantise(dec('0.195'), no, 'down'))).toBe('0.1900');
    expect(levelsForSide(asymmetric, 'yes')).toBe(asymmetric);
  });

  it('lowest and highest order prices', () => {
    expect([show(lowestLevel(CENT)), show(highestLevel(CENT))]).toEqual(['0.0100', '0.9900']);
    expect([show(lowestLevel(TAPERED)), show(highestLevel(TAPERED))]).toEqual(['0.0010', '0.9990']);
  });
});

describe('ranges read from outside', () => {
  it.each<[string, Array<[string, string, string]>, string]>([
    ['no range', [], 'no price range'],
    ['a step that does not divide its range', [['0', '1', '0.03']], '[0].step: step 0.03 does not divide 0..1'],
    ['a zero step', [['0', '1', '0']], '[0].step: step 0 is not positive'],
    ['end not above start', [['0.5', '0.5', '0.01']], '[0].end: end 0.5 is not above start 0.5'],
    ['outside 0..1', [['0', '1.1', '0.1']], '[0].end: 1.1 is outside 0..1'],
    ['only the bounds 0 and 1', [['0', '1', '1']], 'no level strictly between 0 and 1'],
    ['more than 4 decimals', [['0', '1', '0.00001']], '[0].step: 0.00001 has more than 4 decimals'],
  ])('%s is refused, naming the range and field', (_name, ranges, message) => {
    const problems = priceLevelProblems(levels(...ranges)).map((p) => `${p.path.map((x) => (typeof x === 'number' ? `[${x}]` : `.${x}`)).join('').replace(/^\./, '')}: ${p.message}`);
    expect(problems.join(' | ')).toContain(message);
  });

  it('round-trips through the stored form; absent means the cent default', () => {
    expect(priceLevelsFromJson(priceLevelsToJson(TAPERED)).map((r) => [r.start.toFixed(4), r.end.toFixed(4), r.step.toFixed(4)]))
      .toEqual([['0.0000', '0.1000', '0.0010'], ['0.1000', '0.9000', '0.0100'], ['0.9000', '1.0000', '0.0010']]);
    expect(priceLevelsFromJson(null)).toBe(DEFAULT_PRICE_LEVELS);
    expect(() => priceLevelsFromJson([{ start: '0', end: '1', step: 'x' }])).toThrow('price levels[0].step: not a decimal string');
  });
});

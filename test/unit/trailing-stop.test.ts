import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { evaluateExits, type ExitInput } from '../../shared/exits/conditions';
import {
  initialTrailingStop,
  parseTrailingStop,
  trailingStopHit,
  updateTrailingStop,
  type TrailingStopState,
} from '../../shared/exits/trailingStop';
import { valuePosition } from '../../shared/exits/valuation';
import { qty } from '../../shared/domain/quantity';

const E = dec('0.60');

/** Feeds prices (strings; null = no bid) through updateTrailingStop from a fresh state. */
function run(entry: Decimal, prices: Array<string | null>, rules?: TradingRules): TrailingStopState[] {
  const states: TrailingStopState[] = [];
  let state: TrailingStopState | null = null;
  for (const p of prices) {
    state = updateTrailingStop(state, { entryPrice: entry, price: p === null ? null : dec(p) }, rules);
    states.push(state);
  }
  return states;
}
const last = (entry: Decimal, prices: Array<string | null>) => run(entry, prices).at(-1)!;

const activeAt = (stop: string, peak = '0.7500'): TrailingStopState => ({
  active: true,
  activation_price: '0.6600',
  peak_price: peak,
  current_stop_price: stop,
  current_distance: '0.0200',
});

describe('initialTrailingStop', () => {
  it.each([
    ['0.60', '0.6600'],
    ['0.50', '0.5500'],
    ['0.01', '0.0110'],
    // 0.6123 × 1.1 = 0.67353: rounded UP so that price ≥ activation_price is the activation test.
    ['0.6123', '0.6736'],
    ['0.3333', '0.3667'],
  ])('entry %s → inactive, activation price %s', (entry, activation) => {
    expect(initialTrailingStop(dec(entry))).toEqual({
      active: false,
      activation_price: activation,
      peak_price: null,
      current_stop_price: null,
      current_distance: null,
    });
  });

  it('refuses a non-positive or non-Decimal entry', () => {
    expect(() => initialTrailingStop(dec('0'))).toThrow(RangeError);
    expect(() => initialTrailingStop(0.6 as unknown as Decimal)).toThrow(TypeError);
  });
});

describe('activation at +10% over entry (inclusive)', () => {
  it.each<[string, string, boolean]>([
    ['0.60', '0.6599', false],
    ['0.60', '0.66', true],
    ['0.60', '0.6601', true],
    ['0.60', '0.50', false],
    ['0.6123', '0.6735', false], // below 0.67353
    ['0.6123', '0.6736', true],
    ['0.30', '0.33', true],
    ['0.30', '0.3299', false],
  ])('entry %s, price %s → active %s', (entry, price, active) => {
    const s = last(dec(entry), [price]);
    expect(s.active).toBe(active);
    if (!active) expect(s).toEqual(initialTrailingStop(dec(entry)));
  });

  it('activating at exactly 0.66 sets peak 0.66, distance 0.05, stop 0.61', () => {
    expect(last(E, ['0.66'])).toEqual({
      active: true,
      activation_price: '0.6600',
      peak_price: '0.6600',
      current_stop_price: '0.6100',
      current_distance: '0.0500',
    });
  });
});

describe('distance: 0.05, tightening 0.01 per further 5% of peak gain, never below 0.02', () => {
  it.each([
    // [entry, peak price, peak gain, distance, stop]
    ['0.60', '0.66', '10%', '0.0500', '0.6100'],
    ['0.60', '0.6899', '14.98%', '0.0500', '0.6399'],
    ['0.60', '0.69', '15%', '0.0400', '0.6500'],
    ['0.60', '0.7199', '19.98%', '0.0400', '0.6799'],
    ['0.60', '0.72', '20%', '0.0300', '0.6900'],
    ['0.60', '0.7499', '24.98%', '0.0300', '0.7199'],
    ['0.60', '0.75', '25%', '0.0200', '0.7300'],
    ['0.60', '0.78', '30%', '0.0200', '0.7600'], // 0.05 − 0.04 = 0.01 → the 0.02 minimum
    ['0.60', '0.90', '50%', '0.0200', '0.8800'],
    ['0.60', '0.99', '65%', '0.0200', '0.9700'],
    // Entries whose gains are repeating fractions: the floor is still exact at the boundary.
    ['0.33', '0.3795', '15% exactly', '0.0400', '0.3395'],
    ['0.33', '0.3794', '14.97%', '0.0500', '0.3294'],
    ['0.70', '0.805', '15% exactly', '0.0400', '0.7650'],
    ['0.70', '0.875', '25% exactly', '0.0200', '0.8550'],
    ['0.70', '0.8749', '24.99%', '0.0300', '0.8449'],
    ['0.0300', '0.0345', '15% exactly', '0.0400', '0.0000'], // stop clamped at 0
  ])('entry %s, peak %s (gain %s) → distance %s, stop %s', (entry, peak, _gain, distance, stop) => {
    const s = last(dec(entry), [peak]);
    expect(s.active).toBe(true);
    expect(s.peak_price).toBe(dec(peak).toFixed(4));
    expect(s.current_distance).toBe(distance);
    expect(s.current_stop_price).toBe(stop);
  });

  it('floats would not be exact here; the Decimal floor is (0.25 − 0.10) / 0.05 = 3)', () => {
    expect(Math.floor((0.25 - 0.1) / 0.05)).toBe(2); // the float trap
    expect(last(E, ['0.75']).current_distance).toBe('0.0200');
  });

  it('follows the rules object (a tighter custom trailing stop)', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      exits: {
        ...DEFAULT_TRADING_RULES.exits,
        trailingStop: {
          activationGainPct: dec('0.05'),
          initialDistance: dec('0.03'),
          tightenBy: dec('0.005'),
          tightenEveryGainPct: dec('0.10'),
          minDistance: dec('0.01'),
        },
      },
    };
    expect(initialTrailingStop(E, rules).activation_price).toBe('0.6300');
    const [a, b] = run(E, ['0.63', '0.69'], rules); // gain 5% → 0.03; gain 15% → 1 step → 0.025
    expect(a).toMatchObject({ active: true, current_distance: '0.0300', current_stop_price: '0.6000' });
    expect(b).toMatchObject({ current_distance: '0.0250', current_stop_price: '0.6650' });
  });
});

describe('the stop only moves up', () => {
  it('a falling price keeps the peak and the stop', () => {
    const states = run(E, ['0.66', '0.75', '0.74', '0.70', '0.6001', null, '0.76']);
    expect(states.map((s) => [s.peak_price, s.current_stop_price])).toEqual([
      ['0.6600', '0.6100'],
      ['0.7500', '0.7300'],
      ['0.7500', '0.7300'],
      ['0.7500', '0.7300'],
      ['0.7500', '0.7300'],
      ['0.7500', '0.7300'],
      ['0.7600', '0.7400'],
    ]);
    // Once active, a price back under the activation price does not deactivate it.
    expect(states.every((s) => s.active)).toBe(true);
  });

  it('never lowers the stop even when the formula would (entry averaged up after activation)', () => {
    const active = last(E, ['0.75']); // stop 0.73
    // With entry 0.70 the peak 0.75 is under the new activation price: formula distance 0.05 → 0.70.
    const next = updateTrailingStop(active, { entryPrice: dec('0.70'), price: dec('0.74') });
    expect(next.current_stop_price).toBe('0.7300');
    expect(next.peak_price).toBe('0.7500');
  });

  it('stop is monotonic over a random-ish walk', () => {
    const prices = ['0.61', '0.66', '0.70', '0.68', '0.73', '0.71', '0.80', '0.79', '0.95', '0.50', '0.96'];
    const stops = run(E, prices)
      .filter((s) => s.active)
      .map((s) => dec(s.current_stop_price!));
    for (let i = 1; i < stops.length; i++) expect(stops[i]!.gte(stops[i - 1]!)).toBe(true);
  });
});

describe('no bid', () => {
  it('a null price changes nothing', () => {
    expect(updateTrailingStop(null, { entryPrice: E, price: null })).toEqual(initialTrailingStop(E));
    const active = last(E, ['0.75']);
    expect(updateTrailingStop(active, { entryPrice: E, price: null })).toEqual(active);
    expect(trailingStopHit(active, null)).toBe(false);
  });

  it('an inactive state follows a new average entry price', () => {
    const s = updateTrailingStop(initialTrailingStop(E), { entryPrice: dec('0.50'), price: dec('0.52') });
    expect(s).toEqual(initialTrailingStop(dec('0.50')));
  });
});

describe('trailingStopHit: active and price ≤ stop', () => {
  it.each<[string, TrailingStopState | null, string | null, boolean]>([
    ['at the stop', activeAt('0.7300'), '0.73', true],
    ['below the stop', activeAt('0.7300'), '0.7299', true],
    ['just above the stop', activeAt('0.7300'), '0.7301', false],
    ['far above', activeAt('0.7300'), '0.80', false],
    ['no bid', activeAt('0.7300'), null, false],
    ['inactive', initialTrailingStop(E), '0.10', false],
    ['no state', null, '0.10', false],
  ])('%s → %s', (_name, state, price, hit) => {
    expect(trailingStopHit(state, price === null ? null : dec(price))).toBe(hit);
  });
});

describe('the worked example: entry 0.60', () => {
  it('0.6600 activation; 0.69 → stop 0.65; 0.75 → 0.73; 0.90 → 0.88; 0.88 hits', () => {
    expect(initialTrailingStop(E).activation_price).toBe('0.6600');
    const [a, b, c, d] = run(E, ['0.69', '0.75', '0.90', '0.88']);
    // Gain at 0.69 is exactly 15%: one further 5% over the 10% activation, so the distance has
    // already tightened once (0.04, stop 0.65). The rule's formula gives this; see the module comment.
    expect(a).toEqual({
      active: true,
      activation_price: '0.6600',
      peak_price: '0.6900',
      current_stop_price: '0.6500',
      current_distance: '0.0400',
    });
    expect(b).toMatchObject({ peak_price: '0.7500', current_distance: '0.0200', current_stop_price: '0.7300' });
    expect(c).toMatchObject({ peak_price: '0.9000', current_distance: '0.0200', current_stop_price: '0.8800' });
    expect(d).toMatchObject({ peak_price: '0.9000', current_stop_price: '0.8800' });
    expect(trailingStopHit(c!, dec('0.89'))).toBe(false);
    expect(trailingStopHit(d!, dec('0.88'))).toBe(true);
  });
});

describe('a hit is a HIGH trailing_stop exit of everything', () => {
  const input = (state: TrailingStopState, bid: string): ExitInput => ({
    quantity: qty(25),
    originalQuantity: qty(100),
    entryPrice: E,
    bid: dec(bid),
    ask: dec(bid).plus('0.01'),
    spread: dec('0.01'),
    volume: 1000,
    closeTime: new Date('2025-01-01T20:00:00Z'),
    now: new Date('2025-01-01T18:00:00Z'),
    unrealizedPnlPct: valuePosition({ quantity: qty(25), costBasis: dec('15'), bid: dec(bid) }).unrealizedPnlPct,
    confidence: 'high',
    trailingStop: state,
    recomputedEdge: dec('0.05'),
    partialExitedQuantity: qty(75),
    liquidationBreaker: null,
    rebalanceCandidate: false,
  });

  it('fires at the stop', () => {
    const state = updateTrailingStop(last(E, ['0.90']), { entryPrice: E, price: dec('0.88') });
    const { triggers, decision } = evaluateExits(input(state, '0.88'));
    expect(decision).toEqual({
      condition: 'trailing_stop',
      priority: 'HIGH',
      quantity: qty(25),
      reason: 'bid 0.8800 ≤ trailing stop 0.8800 (peak 0.9000)',
    });
    expect(triggers).toHaveLength(1);
  });

  it('does not fire a cent above', () => {
    const state = updateTrailingStop(last(E, ['0.90']), { entryPrice: E, price: dec('0.89') });
    expect(evaluateExits(input(state, '0.89')).decision).toBeNull();
  });
});

describe('parseTrailingStop', () => {
  const stored = last(E, ['0.75']);

  it('round-trips a stored state (object or JSON text)', () => {
    expect(parseTrailingStop(stored)).toEqual(stored);
    expect(parseTrailingStop(JSON.parse(JSON.stringify(stored)))).toEqual(stored);
    expect(parseTrailingStop(JSON.stringify(stored))).toEqual(stored);
    expect(parseTrailingStop(initialTrailingStop(E))).toEqual(initialTrailingStop(E));
  });

  it('normalizes decimals to 4-decimal strings (numbers included)', () => {
    expect(
      parseTrailingStop({ active: true, activation_price: 0.66, peak_price: '0.8', current_stop_price: 0.78, current_distance: '0.02' }),
    ).toEqual({ active: true, activation_price: '0.6600', peak_price: '0.8000', current_stop_price: '0.7800', current_distance: '0.0200' });
    expect(parseTrailingStop({ active: false, activation_price: '0.66' })).toEqual(initialTrailingStop(E));
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['an array', []],
    ['bad JSON text', '{not json'],
    ['an empty object', {}],
    ['active not a boolean', { ...stored, active: 'yes' }],
    ['no activation price', { ...stored, activation_price: null }],
    ['garbage decimal', { ...stored, peak_price: 'abc' }],
    ['object decimal', { ...stored, current_stop_price: { value: 1 } }],
    ['infinite number', { ...stored, current_distance: Number.POSITIVE_INFINITY }],
    ['active without a stop', { ...stored, current_stop_price: null }],
    ['active without a peak', { ...stored, peak_price: null }],
    ['garbage activation price', { ...stored, activation_price: 'abc' }],
    ['a boolean decimal', { ...stored, peak_price: true }],
    ['the old schema layout', { enabled: true, activation_price: 0.75, stop_distance: 0.05, current_stop: 0.7, highest_price: 0.75 }],
  ])('%s → null', (_name, json) => {
    expect(parseTrailingStop(json)).toBeNull();
  });
});

describe('updateTrailingStop input checks', () => {
  it.each<[string, unknown, unknown, RegExp]>([
    ['a price that is not a Decimal', dec('0.70'), 0.8, /price must be a Decimal/],
    ['an infinite price', dec('0.70'), new Decimal(Infinity), /price must be finite/],
    ['an entry price that is not a Decimal', '0.70', dec('0.8'), /entryPrice must be a Decimal/],
    ['a NaN entry price', new Decimal(NaN), dec('0.8'), /entryPrice must be finite/],
    ['a zero entry price', dec('0'), dec('0.8'), /entryPrice must be positive/],
  ])('refuses %s', (_, entryPrice, price, error) => {
    expect(() => updateTrailingStop(null, { entryPrice: entryPrice as Decimal, price: price as Decimal })).toThrow(error);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIDENCE_LEVELS, DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import {
  fullKellyFraction,
  sizePosition,
  type NoTradeReason,
  type SizedTrade,
  type SizingCap,
  type SizingInput,
  type SizingResult,
} from '../../shared/domain/sizing';

const base: SizingInput = {
  probability: dec('0.58'),
  price: dec('0.5'),
  confidence: 'high',
  bankroll: dec('1000'),
  openPositions: 0,
  totalExposure: dec('0'),
  eventPositions: 0,
  eventExposure: dec('0'),
};
const size = (overrides: Partial<SizingInput>, rules?: TradingRules) => sizePosition({ ...base, ...overrides }, rules);

function expectTrade(result: SizingResult): SizedTrade {
  if (!result.trade) throw new Error(`expected a trade, got ${result.reason}: ${result.message}`);
  return result;
}

describe('fullKellyFraction: f* = (p − c) / (1 − c)', () => {
  it.each([
    ['0.6', '0.5', '0.2'],
    ['0.58', '0.5', '0.16'],
    ['0.55', '0.5', '0.1'],
    ['1', '0.5', '1'],
    ['0.99', '0.98', '0.5'],
    ['0.02', '0.01', '0.01010101010101010101'],
    ['0.75', '0.25', '0.66666666666666666667'],
    ['0.5', '0.5', '0'],
    ['0.4', '0.5', '0'],
    ['0', '0.01', '0'],
  ])('p %s, c %s → %s', (p, c, expected) => {
    expect(fullKellyFraction(dec(p), dec(c)).toFixed()).toBe(expected);
  });
});

describe('sizePosition: fractional Kelly stake', () => {
  it.each([
    // [confidence, multiplier, stake = 0.25 × m × 0.16 × 1000, contracts at 0.5]
    ['high', '1.0', '40', 80],
    ['medium', '0.8', '32', 64],
    ['low', '0.6', '24', 48],
  ] as const)('%s confidence (× %s): stake %s, %i contracts', (confidence, _m, stake, contracts) => {
    const r = expectTrade(size({ confidence }));
    expect(r.fullKelly.toFixed()).toBe('0.16');
    expect(r.kellyStake.toFixed()).toBe(stake);
    expect(r.stake.toFixed()).toBe(stake);
    expect(r.contracts.toFixed()).toBe(String(contracts));
    expect(r.cost.toFixed()).toBe(stake);
    expect(r.limitedBy).toEqual([]);
  });

  it("uses the strategy's own Kelly fraction when it sets one", () => {
    expect(expectTrade(size({ kellyFraction: dec('0.125') })).stake.toFixed()).toBe('20');
    expect(expectTrade(size({ kellyFraction: null })).stake.toFixed()).toBe('40');
    expect(size({ kellyFraction: dec('0') })).toMatchObject({ trade: false, reason: 'below_minimum_position' });
    expect(() => size({ kellyFraction: dec('1.5') })).toThrow(/kellyFraction must be within 0..1/);
  });

  it('rounds the stake down to the cent and buys whole contracts', () => {
    // 0.04 × 1234.5678 = 49.382712 → 49.38; floor(49.38 / 0.5) = 98 → cost 49.00.
    const r = expectTrade(size({ bankroll: dec('1234.5678') }));
    expect(r.kellyStake.toFixed()).toBe('49.38');
    expect(r.stake.toFixed()).toBe('49.38');
    expect(r.contracts.toFixed()).toBe(String(98));
    expect(r.contracts.isInteger()).toBe(true);
    expect(r.cost.toFixed()).toBe('49');
  });

  it('computes a Kelly stake on a repeating fraction exactly (1/3 → 100.00, not 99.99)', () => {
    const roomy: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      sizing: { ...DEFAULT_TRADING_RULES.sizing, maxPositionFractionOfBankroll: dec('1'), maxPositionUsd: dec('1000000') },
    };
    // f* = 0.25 / 0.75 = 1/3; 0.25 × 1/3 × 1200 = 100 exactly.
    const r = expectTrade(size({ probability: dec('0.5'), price: dec('0.25'), bankroll: dec('1200') }, roomy));
    expect(r.kellyStake.toFixed()).toBe('100');
    expect(r.contracts.toFixed()).toBe(String(400));
    expect(r.cost.toFixed()).toBe('100');
  });

  it('divides exactly: 10.01 / 0.07 = 143 contracts (floats say 142)', () => {
    expect(Math.floor(10.01 / 0.07)).toBe(142);
    const r = expectTrade(
      size({ probability: dec('0.5'), price: dec('0.07'), bankroll: dec('100000'), eventExposure: dec('1489.99') }),
    );
    expect(r.stake.toFixed()).toBe('10.01');
    expect(r.contracts.toFixed()).toBe(String(143));
    expect(r.cost.toFixed()).toBe('10.01');
    expect(r.limitedBy).toEqual(['event_exposure']);
  });
});

describe('caps', () => {
  it.each<[string, Partial<SizingInput>, string, SizingCap[]]>([
    // p 0.9, c 0.5: f* 0.8, Kelly stake = 0.2 × bankroll
    ['5% of bankroll', { probability: dec('0.9'), bankroll: dec('1000') }, '50', ['max_fraction_of_bankroll']],
    ['5% of bankroll, rounded down to the cent', { probability: dec('0.9'), bankroll: dec('1000.199') }, '50', ['max_fraction_of_bankroll']],
    ['$500 per position', { bankroll: dec('100000') }, '500', ['max_position_usd']],
    ['5% and $500 tie', { probability: dec('0.9'), bankroll: dec('10000') }, '500', ['max_fraction_of_bankroll', 'max_position_usd']],
    ['room under $10,000 total exposure', { bankroll: dec('100000'), totalExposure: dec('9700') }, '300', ['total_exposure']],
    ['total room rounded down to the cent', { bankroll: dec('100000'), totalExposure: dec('9700.0001') }, '299.99', ['total_exposure']],
    ['room under $1,500 per event', { bankroll: dec('100000'), eventExposure: dec('1350') }, '150', ['event_exposure']],
    ['exactly the minimum room per event', { bankroll: dec('100000'), eventExposure: dec('1490') }, '10', ['event_exposure']],
    ['no cap binds', { bankroll: dec('1000') }, '40', []],
    ['Kelly stake equal to a cap: not limited', { probability: dec('0.6'), bankroll: dec('1000') }, '50', []],
  ])('%s', (_name, overrides, stake, limitedBy) => {
    const r = expectTrade(size(overrides));
    expect(r.stake.toFixed()).toBe(stake);
    expect(r.limitedBy).toEqual(limitedBy);
    expect(r.cost.lte(r.stake)).toBe(true);
  });
});

describe('no trade', () => {
  it.each<[string, Partial<SizingInput>, NoTradeReason, RegExp]>([
    ['p = c', { probability: dec('0.5') }, 'no_edge', /probability 0.5 ≤ price 0.5/],
    ['p < c', { probability: dec('0.3') }, 'no_edge', /no edge/],
    ['no bankroll', { bankroll: dec('0') }, 'no_bankroll', /bankroll is 0/],
    ['10 open positions', { openPositions: 10 }, 'max_open_positions', /10 open positions, at most 10/],
    ['3 positions on the event', { eventPositions: 3 }, 'max_positions_per_event', /3 positions on this event, at most 3/],
    ['total exposure at the limit', { totalExposure: dec('10000') }, 'total_exposure_full', /leaves 0 under 10000/],
    ['total exposure over the limit', { totalExposure: dec('12000') }, 'total_exposure_full', /leaves -2000/],
    ['total room below the minimum position', { totalExposure: dec('9990.01') }, 'total_exposure_full', /leaves 9.99/],
    ['event exposure at the limit', { eventExposure: dec('1500') }, 'event_exposure_full', /leaves 0 under 1500/],
    ['event room below the minimum position', { eventExposure: dec('1490.01') }, 'event_exposure_full', /leaves 9.99/],
    ['Kelly stake below $10', { bankroll: dec('249.99') }, 'below_minimum_position', /stake 9.99 is below the minimum position 10/],
    [
      'stake $10 but whole contracts cost $9.69',
      { probability: dec('0.9'), price: dec('0.51'), bankroll: dec('100000'), eventExposure: dec('1490') },
      'below_minimum_position',
      /19 contracts at 0.51 cost 9.69, below the minimum position 10/,
    ],
  ])('%s → %s', (_name, overrides, reason, message) => {
    const r = size(overrides);
    expect(r).toMatchObject({ trade: false, reason });
    expect(r.contracts.isZero()).toBe(true);
    if (r.trade) throw new Error('unreachable');
    expect(r.cost.isZero()).toBe(true);
    expect(r.message).toMatch(message);
  });

  it.each<[string, Partial<SizingInput>]>([
    ['Kelly stake exactly $10', { bankroll: dec('250') }],
    ['9 open positions', { openPositions: 9 }],
    ['2 positions on the event', { eventPositions: 2 }],
  ])('%s: still a trade', (_name, overrides) => {
    expect(expectTrade(size(overrides)).contracts.gt(0)).toBe(true);
  });

  it('checks the edge before the limits', () => {
    expect(size({ probability: dec('0.4'), openPositions: 10 })).toMatchObject({ reason: 'no_edge' });
  });

  it('with a minimum of $0, a stake that buys nothing is no trade', () => {
    const noMinimum: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      sizing: { ...DEFAULT_TRADING_RULES.sizing, minPositionUsd: dec('0') },
    };
    expect(size({ bankroll: dec('10') }, noMinimum)).toMatchObject({ trade: false, reason: 'below_one_contract' });
    expect(expectTrade(size({ bankroll: dec('20') }, noMinimum)).contracts.toFixed()).toBe('1'); // 0.80 → 1 contract at 0.5
  });
});

describe('input validation', () => {
  it.each<[string, Partial<SizingInput>, RegExp]>([
    ['price 0', { price: dec('0') }, /price must be strictly between 0 and 1, got 0/],
    ['price 1', { price: dec('1') }, /price must be strictly between 0 and 1, got 1/],
    ['probability above 1', { probability: dec('1.01') }, /probability must be within 0..1/],
    ['negative bankroll', { bankroll: dec('-1') }, /bankroll must not be negative/],
    ['negative exposure', { totalExposure: dec('-1') }, /totalExposure must not be negative/],
    ['fractional position count', { openPositions: 1.5 }, /openPositions must be a non-negative integer/],
    ['negative event count', { eventPositions: -1 }, /eventPositions must be a non-negative integer/],
    ['unknown confidence', { confidence: 'certain' as 'high' }, /unknown confidence level "certain"/],
    ['infinite bankroll', { bankroll: new Decimal(Infinity) }, /bankroll must be finite/],
  ])('%s → RangeError', (_name, overrides, message) => {
    expect(() => size(overrides)).toThrow(RangeError);
    expect(() => size(overrides)).toThrow(message);
  });

  it('refuses JS numbers for money', () => {
    expect(() => size({ bankroll: 1000 as unknown as Decimal })).toThrow(TypeError);
  });
});

describe('sizing properties', () => {
  const grid = fc.integer({ min: 1, max: 9999 }).map((n) => new Decimal(n).dividedBy(10_000));
  const cents = (max: number) => fc.integer({ min: 0, max }).map((n) => new Decimal(n).dividedBy(100));

  it('never exceeds a cap; contracts are whole and cost ≤ stake', () => {
    const s = DEFAULT_TRADING_RULES.sizing;
    fc.assert(
      fc.property(
        grid,
        grid,
        fc.constantFrom(...CONFIDENCE_LEVELS),
        cents(20_000_000),
        cents(1_200_000),
        cents(200_000),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 4 }),
        (p, c, confidence, bankroll, totalExposure, eventExposure, openPositions, eventPositions) => {
          const r = sizePosition({
            probability: p, price: c, confidence, bankroll, totalExposure, eventExposure, openPositions, eventPositions,
          });
          if (p.lte(c)) expect(r).toMatchObject({ trade: false, reason: 'no_edge' });
          if (!r.trade) {
            expect(r.contracts.toFixed()).toBe(String(0));
            expect(r.cost.isZero()).toBe(true);
            return;
          }
          // Every cap, checked without division.
          expect(r.stake.lte(s.maxPositionFractionOfBankroll.times(bankroll))).toBe(true);
          expect(r.stake.lte(s.maxPositionUsd)).toBe(true);
          expect(r.stake.lte(s.maxTotalExposureUsd.minus(totalExposure))).toBe(true);
          expect(r.stake.lte(s.maxExposurePerEventUsd.minus(eventExposure))).toBe(true);
          const kelly = s.kellyFraction.times(s.confidenceMultipliers[confidence]).times(p.minus(c)).times(bankroll);
          expect(r.stake.times(new Decimal(1).minus(c)).lte(kelly)).toBe(true);
          expect(r.stake.decimalPlaces()).toBeLessThanOrEqual(2);
          // Limits and the minimum.
          expect(openPositions).toBeLessThan(s.maxOpenPositions);
          expect(eventPositions).toBeLessThan(s.maxPositionsPerEvent);
          expect(r.cost.gte(s.minPositionUsd)).toBe(true);
          // Whole contracts, as many as the stake buys, costing exactly contracts × c.
          expect(r.contracts.isInteger() && r.contracts.gte(1)).toBe(true);
          expect(r.cost.equals(c.times(r.contracts))).toBe(true);
          expect(c.times(r.contracts).lte(r.stake)).toBe(true);
          expect(c.times(r.contracts.plus(1)).gt(r.stake)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

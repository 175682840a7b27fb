import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRADING_RULES,
  STRATEGY_KINDS,
  type ConfidenceLevel,
  type StrategyKind,
  type TradingRules,
} from '../../shared/config/tradingRules';
import { confidenceLevel, type ConfidenceInput } from '../../shared/domain/confidence';
import { Decimal, dec } from '../../shared/domain/decimal';
import { autoExecuteThreshold, minimumEdge, recommendedAction } from '../../shared/domain/recommendation';

/** A CI of the given width centred-ish on 0.5. */
const ci = (width: string) => ({ ciLower: dec('0.4'), ciUpper: dec('0.4').plus(dec(width)) });
const input = (sampleSize: number | null, width: string | null, dataAgeSeconds: number | null = 10): ConfidenceInput => ({
  sampleSize,
  ...(width === null ? { ciLower: null, ciUpper: null } : ci(width)),
  dataAgeSeconds,
});

describe('confidenceLevel', () => {
  it.each<[string, ConfidenceInput, ConfidenceLevel]>([
    // high = samples ≥ 500 AND width < 0.10
    ['500 samples, width 0.0999: high', input(500, '0.0999'), 'high'],
    ['10,000 samples, width 0.01: high', input(10_000, '0.01'), 'high'],
    ['499 samples, width 0.0999: medium', input(499, '0.0999'), 'medium'],
    ['500 samples, width exactly 0.10: medium (high needs < 0.10)', input(500, '0.10'), 'medium'],
    // medium = samples ≥ 200 OR width ≤ 0.15
    ['200 samples, width 0.30: medium', input(200, '0.30'), 'medium'],
    ['199 samples, width 0.30: low', input(199, '0.30'), 'low'],
    ['199 samples, width exactly 0.15: medium', input(199, '0.15'), 'medium'],
    ['199 samples, width 0.1501: low', input(199, '0.1501'), 'low'],
    ['100 samples, width 0.12: medium', input(100, '0.12'), 'medium'],
    ['350 samples, width 0.12: medium', input(350, '0.12'), 'medium'],
    ['0 samples, width 0.6: low', input(0, '0.6'), 'low'],
    // monotone: more samples or a narrower CI never lower the level
    ['600 samples, width 0.20: medium (as 400 would be)', input(600, '0.20'), 'medium'],
    ['100 samples, width 0.05: medium (as width 0.12 would be)', input(100, '0.05'), 'medium'],
    // unknown → low
    ['unknown sample size', input(null, '0.05'), 'low'],
    ['undefined sample size', { ...input(1000, '0.05'), sampleSize: undefined }, 'low'],
    ['unknown CI', input(1000, null), 'low'],
    ['unknown lower bound', { ...input(1000, '0.05'), ciLower: null }, 'low'],
    ['unknown upper bound', { ...input(1000, '0.05'), ciUpper: undefined }, 'low'],
    // freshness: the game-state limit, 60 s
    ['data exactly 60 s old: fresh', input(1000, '0.05', 60), 'high'],
    ['data 60.001 s old: stale → low', input(1000, '0.05', 60.001), 'low'],
    ['data 61 s old: stale → low', input(1000, '0.05', 61), 'low'],
    ['data never ingested (Infinity): low', input(1000, '0.05', Infinity), 'low'],
    ['no live data (null): freshness does not apply', input(1000, '0.05', null), 'high'],
    ['clock skew (−1 s): fresh', input(1000, '0.05', -1), 'high'],
  ])('%s', (_name, args, expected) => {
    expect(confidenceLevel(args)).toBe(expected);
  });

  it('follows the rules given (freshness limit and thresholds)', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      freshness: { ...DEFAULT_TRADING_RULES.freshness, maxGameStateAgeSeconds: 120 },
      confidence: {
        high: { minSampleSize: 1000, maxCiWidthExclusive: dec('0.05') },
        medium: { minSampleSize: 100, maxCiWidth: dec('0.10') },
      },
    };
    expect(confidenceLevel(input(1000, '0.04', 100), rules)).toBe('high');
    expect(confidenceLevel(input(999, '0.04', 100), rules)).toBe('medium');
    expect(confidenceLevel(input(99, '0.11', 100), rules)).toBe('low');
    expect(confidenceLevel(input(1000, '0.04', 121), rules)).toBe('low');
  });

  it.each<[string, ConfidenceInput, RegExp]>([
    ['negative sample size', input(-1, '0.05'), /sampleSize must be a non-negative integer, got -1/],
    ['fractional sample size', input(1.5, '0.05'), /sampleSize must be a non-negative integer/],
    ['lower above upper', { ...input(1000, '0.05'), ciLower: dec('0.6'), ciUpper: dec('0.5') }, /ciLower 0.6 is above ciUpper 0.5/],
    ['bound above 1', { ...input(1000, '0.05'), ciUpper: dec('1.2') }, /ciUpper must be within 0..1/],
    ['bound below 0', { ...input(1000, '0.05'), ciLower: dec('-0.1') }, /ciLower must be within 0..1/],
    ['NaN age', input(1000, '0.05', NaN), /dataAgeSeconds must be a number or null/],
  ])('%s → RangeError', (_name, args, message) => {
    expect(() => confidenceLevel(args)).toThrow(RangeError);
    expect(() => confidenceLevel(args)).toThrow(message);
  });
});

describe('recommendedAction', () => {
  const cases: Array<[string, string, ConfidenceLevel, string]> = [];
  // [sport, auto threshold, one basis point below]
  for (const [sport, threshold, below] of [
    ['nfl', '0.15', '0.1499'],
    ['ncaaf', '0.15', '0.1499'],
    ['nba', '0.17', '0.1699'],
    ['tennis', '0.25', '0.2499'],
  ] as const) {
    cases.push(
      [sport, threshold, 'high', 'auto_execute'],
      [sport, threshold, 'medium', 'auto_execute'],
      [sport, threshold, 'low', 'alert'],
      [sport, '0.9', 'high', 'auto_execute'],
      [sport, below, 'high', 'alert'],
      [sport, below, 'medium', 'alert'],
      [sport, '0.08', 'high', 'alert'],
      [sport, '0.08', 'low', 'alert'],
      [sport, '0.0799', 'high', 'ignore'],
      [sport, '0', 'high', 'ignore'],
      [sport, '-0.2', 'medium', 'ignore'],
    );
  }
  it.each(cases)('%s: ev %s, %s confidence → %s', (sport, ev, confidence, expected) => {
    expect(recommendedAction({ ev: dec(ev), confidence, sport })).toBe(expected);
  });

  it.each([
    ['mlb', 'alert'],
    ['', 'alert'],
    ['constructor', 'alert'],
    ['__proto__', 'alert'],
    ['toString', 'alert'],
    ['NFL', 'auto_execute'], // sports are matched case-insensitively
    [' nba ', 'auto_execute'],
  ])('sport %j, ev 0.9, high confidence → %s (a sport without a threshold is never auto)', (sport, expected) => {
    expect(recommendedAction({ ev: dec('0.9'), confidence: 'high', sport })).toBe(expected);
  });

  it('exposes the thresholds', () => {
    expect(autoExecuteThreshold('ncaaf')?.toFixed()).toBe('0.15');
    expect(autoExecuteThreshold('nba')?.toFixed()).toBe('0.17');
    expect(autoExecuteThreshold('mlb')).toBeNull();
    expect(autoExecuteThreshold('hasOwnProperty')).toBeNull();
  });

  it('follows the rules given', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      autoExecuteEvBySport: { ...DEFAULT_TRADING_RULES.autoExecuteEvBySport, mlb: dec('0.20') },
      alertEv: dec('0.05'),
    };
    expect(recommendedAction({ ev: dec('0.20'), confidence: 'medium', sport: 'mlb' }, rules)).toBe('auto_execute');
    expect(recommendedAction({ ev: dec('0.05'), confidence: 'high', sport: 'nfl' }, rules)).toBe('alert');
  });

  it('refuses bad input', () => {
    expect(() => recommendedAction({ ev: dec('0.2'), confidence: 'certain' as ConfidenceLevel, sport: 'nfl' })).toThrow(
      /unknown confidence level "certain"/,
    );
    expect(() => recommendedAction({ ev: 0.2 as unknown as Decimal, confidence: 'high', sport: 'nfl' })).toThrow(TypeError);
    expect(() => recommendedAction({ ev: new Decimal(NaN), confidence: 'high', sport: 'nfl' })).toThrow(RangeError);
  });
});

describe('minimumEdge', () => {
  it.each<[StrategyKind, string]>([
    ['pre_game', '0.08'],
    ['halftime', '0.06'],
    ['live', '0.1'],
    ['settlement', '0.02'],
  ])('%s → %s', (kind, expected) => {
    expect(minimumEdge(kind).toFixed()).toBe(expected);
  });

  it('covers every kind and refuses others', () => {
    for (const kind of STRATEGY_KINDS) expect(minimumEdge(kind)).toBeInstanceOf(Decimal);
    expect(() => minimumEdge('overtime' as StrategyKind)).toThrow(/unknown strategy kind "overtime"/);
  });
});

describe('DEFAULT_TRADING_RULES', () => {
  it('is deeply frozen', () => {
    const rules = DEFAULT_TRADING_RULES as unknown as Record<string, Record<string, unknown>>;
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules.sizing)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TRADING_RULES.exits.partialExits)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TRADING_RULES.exits.partialExits[0])).toBe(true);
    expect(Object.isFrozen(DEFAULT_TRADING_RULES.exitExecution.HIGH)).toBe(true);
    expect(() => {
      rules.sizing!.maxOpenPositions = 99;
    }).toThrow(TypeError);
    expect(DEFAULT_TRADING_RULES.sizing.maxOpenPositions).toBe(10);
  });

  it('holds every decimal as a Decimal', () => {
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'number') {
        expect(Number.isInteger(value), `${path} is a count or duration`).toBe(true);
      } else if (value !== null && typeof value === 'object' && !Decimal.isDecimal(value)) {
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      }
    };
    walk(DEFAULT_TRADING_RULES, 'rules');
    expect(DEFAULT_TRADING_RULES.exits.stopLossPct.toFixed()).toBe('-0.15');
    expect(DEFAULT_TRADING_RULES.alertEv.toFixed()).toBe('0.08');
    expect(DEFAULT_TRADING_RULES.circuitBreakers.dailyLoss.maxLossUsd.toFixed()).toBe('500');
    expect(DEFAULT_TRADING_RULES.exitExecution.HIGH).toEqual({
      firstOrder: 'limit_aggressive',
      waitSeconds: 10,
      limitAttempts: 2,
      then: 'market',
    });
  });
});

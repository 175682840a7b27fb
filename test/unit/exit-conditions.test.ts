import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRADING_RULES,
  EXIT_CONDITIONS,
  type ConfidenceLevel,
  type ExitCondition,
  type TradingRules,
} from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { EXIT_CHECKS, evaluateExits, isUrgent, partialExitStage, type ExitInput } from '../../shared/exits/conditions';
import { updateTrailingStop, type TrailingStopState } from '../../shared/exits/trailingStop';
import { valuePosition } from '../../shared/exits/valuation';
import { qty } from '../../shared/domain/quantity';

const NOW = new Date('2025-01-05T18:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const MIN = 60_000;

/** A healthy position that triggers nothing: 100 @ 0.60, flat, liquid, an hour to close. */
const base: ExitInput = {
  quantity: qty(100),
  originalQuantity: qty(100),
  entryPrice: dec('0.60'),
  bid: dec('0.60'),
  ask: dec('0.61'),
  spread: dec('0.01'),
  volume: 1000,
  closeTime: at(60 * MIN),
  now: NOW,
  unrealizedPnlPct: dec('0'),
  confidence: 'high',
  trailingStop: null,
  recomputedEdge: dec('0.05'),
  partialExitedQuantity: qty(0),
  liquidationBreaker: null,
  rebalanceCandidate: false,
};
const input = (o: Partial<ExitInput>): ExitInput => ({ ...base, ...o });
const pct = (s: string) => ({ unrealizedPnlPct: dec(s) });
const noPartials = { overrides: { partialExits: false } };

/** An active trailing stop at 0.73 (peak 0.75). */
const STOP_073: TrailingStopState = {
  active: true,
  activation_price: '0.6600',
  peak_price: '0.7500',
  current_stop_price: '0.7300',
  current_distance: '0.0200',
};

const conditionsOf = (i: ExitInput, rules?: TradingRules) => evaluateExits(i, rules).triggers.map((t) => t.condition);

describe('the base position triggers nothing', () => {
  it('no triggers, no decision', () => {
    expect(evaluateExits(base)).toEqual({ triggers: [], decision: null });
    for (const c of EXIT_CONDITIONS) expect(EXIT_CHECKS[c](base, DEFAULT_TRADING_RULES)).toBeNull();
    expect(Object.keys(EXIT_CHECKS).sort()).toEqual([...EXIT_CONDITIONS].sort());
  });
});

describe('each condition at, above and below its threshold', () => {
  it.each<[ExitCondition, string, Partial<ExitInput>, boolean]>([
    // stop_loss: P&L % ≤ −15%
    ['stop_loss', 'P&L −15.00% (at)', pct('-0.15'), true],
    ['stop_loss', 'P&L −14.99%', pct('-0.1499'), false],
    ['stop_loss', 'P&L −15.01%', pct('-0.1501'), true],
    ['stop_loss', 'P&L −60%', pct('-0.60'), true],
    ['stop_loss', 'no P&L (no bid)', { unrealizedPnlPct: null }, false],
    // stop_loss with a per-strategy override
    ['stop_loss', 'override −10%, P&L −10%', { ...pct('-0.10'), overrides: { stopLossPct: dec('-0.10') } }, true],
    ['stop_loss', 'override −10%, P&L −9.99%', { ...pct('-0.0999'), overrides: { stopLossPct: dec('-0.10') } }, false],
    ['stop_loss', 'override −20%, P&L −15%', { ...pct('-0.15'), overrides: { stopLossPct: dec('-0.20') } }, false],
    ['stop_loss', 'override −20%, P&L −20.01%', { ...pct('-0.2001'), overrides: { stopLossPct: dec('-0.20') } }, true],
    // circuit_breaker
    ['circuit_breaker', 'daily_loss_limit tripped', { liquidationBreaker: 'daily_loss_limit' }, true],
    ['circuit_breaker', 'rapid_loss tripped', { liquidationBreaker: 'rapid_loss' }, true],
    ['circuit_breaker', 'none', { liquidationBreaker: null }, false],
    ['circuit_breaker', 'empty name', { liquidationBreaker: '' }, false],
    // trailing_stop: active and bid ≤ stop (0.73)
    ['trailing_stop', 'bid at the stop', { trailingStop: STOP_073, bid: dec('0.73') }, true],
    ['trailing_stop', 'bid 0.7301', { trailingStop: STOP_073, bid: dec('0.7301') }, false],
    ['trailing_stop', 'bid 0.7299', { trailingStop: STOP_073, bid: dec('0.7299') }, true],
    ['trailing_stop', 'no bid', { trailingStop: STOP_073, bid: null }, false],
    ['trailing_stop', 'inactive', { trailingStop: { ...STOP_073, active: false }, bid: dec('0.50') }, false],
    ['trailing_stop', 'no state', { trailingStop: null, bid: dec('0.10') }, false],
    // time_based_urgent: 0 < close − now < 5:00 (strict) and losing (strict)
    ['time_based_urgent', '4:59.999 left, losing', { closeTime: at(5 * MIN - 1), ...pct('-0.01') }, true],
    ['time_based_urgent', '5:00 left exactly', { closeTime: at(5 * MIN), ...pct('-0.01') }, false],
    ['time_based_urgent', '5:00.001 left', { closeTime: at(5 * MIN + 1), ...pct('-0.01') }, false],
    ['time_based_urgent', '1 ms left', { closeTime: at(1), ...pct('-0.01') }, true],
    ['time_based_urgent', 'at the close', { closeTime: at(0), ...pct('-0.01') }, false],
    ['time_based_urgent', 'after the close', { closeTime: at(-MIN), ...pct('-0.01') }, false],
    ['time_based_urgent', '1:00 left, flat', { closeTime: at(MIN), ...pct('0') }, false],
    ['time_based_urgent', '1:00 left, −0.01%', { closeTime: at(MIN), ...pct('-0.0001') }, true],
    ['time_based_urgent', '1:00 left, winning', { closeTime: at(MIN), ...pct('0.05') }, false],
    ['time_based_urgent', '1:00 left, no P&L', { closeTime: at(MIN), unrealizedPnlPct: null }, false],
    ['time_based_urgent', 'no close time', { closeTime: null, ...pct('-0.01') }, false],
    // liquidity_dried_up: spread > 0.03 or volume < 50 (strict)
    ['liquidity_dried_up', 'spread 0.03 (at)', { spread: dec('0.03') }, false],
    ['liquidity_dried_up', 'spread 0.0301', { spread: dec('0.0301') }, true],
    ['liquidity_dried_up', 'spread 0.0299', { spread: dec('0.0299') }, false],
    ['liquidity_dried_up', 'volume 50 (at)', { volume: 50 }, false],
    ['liquidity_dried_up', 'volume 49', { volume: 49 }, true],
    ['liquidity_dried_up', 'volume 51', { volume: 51 }, false],
    ['liquidity_dried_up', 'volume 0', { volume: 0 }, true],
    ['liquidity_dried_up', 'both unknown', { spread: null, volume: null }, false],
    // profit_target (partial exits off): ≥ 25% / 20% / 15% by confidence
    ['profit_target', 'high, 25.00% (at)', { ...noPartials, ...pct('0.25') }, true],
    ['profit_target', 'high, 24.99%', { ...noPartials, ...pct('0.2499') }, false],
    ['profit_target', 'high, 25.01%', { ...noPartials, ...pct('0.2501') }, true],
    ['profit_target', 'medium, 20.00% (at)', { ...noPartials, confidence: 'medium', ...pct('0.20') }, true],
    ['profit_target', 'medium, 19.99%', { ...noPartials, confidence: 'medium', ...pct('0.1999') }, false],
    ['profit_target', 'medium, 20.01%', { ...noPartials, confidence: 'medium', ...pct('0.2001') }, true],
    ['profit_target', 'low, 15.00% (at)', { ...noPartials, confidence: 'low', ...pct('0.15') }, true],
    ['profit_target', 'low, 14.99%', { ...noPartials, confidence: 'low', ...pct('0.1499') }, false],
    ['profit_target', 'low, 15.01%', { ...noPartials, confidence: 'low', ...pct('0.1501') }, true],
    ['profit_target', 'partial exits on (default): never', pct('0.60'), false],
    ['profit_target', 'partial exits explicitly on: never', { overrides: { partialExits: true }, ...pct('0.60') }, false],
    // partial_exit_target (on by default): stage 1 at ≥ 15%
    ['partial_exit_target', '15.00% (at)', pct('0.15'), true],
    ['partial_exit_target', '14.99%', pct('0.1499'), false],
    ['partial_exit_target', '15.01%', pct('0.1501'), true],
    ['partial_exit_target', 'partial exits off', { ...noPartials, ...pct('0.30') }, false],
    // early_exit: recomputed edge < 0.02
    ['early_exit', 'edge 0.02 (at)', { recomputedEdge: dec('0.02') }, false],
    ['early_exit', 'edge 0.0199', { recomputedEdge: dec('0.0199') }, true],
    ['early_exit', 'edge 0.0201', { recomputedEdge: dec('0.0201') }, false],
    ['early_exit', 'edge unknown', { recomputedEdge: null }, false],
    // edge_disappeared: recomputed edge < 0
    ['edge_disappeared', 'edge 0 (at)', { recomputedEdge: dec('0') }, false],
    ['edge_disappeared', 'edge −0.0001', { recomputedEdge: dec('-0.0001') }, true],
    ['edge_disappeared', 'edge 0.0001', { recomputedEdge: dec('0.0001') }, false],
    ['edge_disappeared', 'edge unknown', { recomputedEdge: null }, false],
    // rebalance: candidate and in profit (> 0)
    ['rebalance', 'candidate, +0.01%', { rebalanceCandidate: true, ...pct('0.0001') }, true],
    ['rebalance', 'candidate, flat', { rebalanceCandidate: true, ...pct('0') }, false],
    ['rebalance', 'candidate, −0.01% (a loser)', { rebalanceCandidate: true, ...pct('-0.0001') }, false],
    ['rebalance', 'candidate, −10% (a loser)', { rebalanceCandidate: true, ...pct('-0.10') }, false],
    ['rebalance', 'candidate, no P&L', { rebalanceCandidate: true, unrealizedPnlPct: null }, false],
    ['rebalance', 'not a candidate, +30%', { rebalanceCandidate: false, ...pct('0.30') }, false],
  ])('%s: %s → fires %s', (condition, _name, overrides, fires) => {
    const i = input(overrides);
    const t = EXIT_CHECKS[condition](i, DEFAULT_TRADING_RULES);
    expect(t !== null).toBe(fires);
    expect(conditionsOf(i).includes(condition)).toBe(fires);
    if (t !== null) {
      expect(t.condition).toBe(condition);
      expect(t.priority).toBe(DEFAULT_TRADING_RULES.exits.priorities[condition]);
      if (condition !== 'partial_exit_target') expect(t.quantity.toFixed()).toBe('100');
      expect(t.reason.length).toBeGreaterThan(10);
    }
  });
});

describe('priorities and quantities', () => {
  it.each<[ExitCondition, string]>([
    ['stop_loss', 'CRITICAL'],
    ['circuit_breaker', 'CRITICAL'],
    ['trailing_stop', 'HIGH'],
    ['time_based_urgent', 'HIGH'],
    ['liquidity_dried_up', 'HIGH'],
    ['profit_target', 'MEDIUM'],
    ['partial_exit_target', 'MEDIUM'],
    ['early_exit', 'LOW'],
    ['edge_disappeared', 'LOW'],
    ['rebalance', 'LOW'],
  ])('%s is %s', (condition, priority) => {
    expect(DEFAULT_TRADING_RULES.exits.priorities[condition]).toBe(priority);
  });

  it('every full exit sells the whole current quantity', () => {
    const t = evaluateExits(input({ quantity: qty(37), liquidationBreaker: 'daily_loss_limit', ...pct('-0.20'), volume: 3 }));
    expect(t.triggers.map((x) => [x.condition, Number(x.quantity.toFixed())])).toEqual([
      ['stop_loss', 37],
      ['circuit_breaker', 37],
      ['liquidity_dried_up', 37],
    ]);
  });
});

describe('reasons carry the figures', () => {
  it.each<[ExitCondition, Partial<ExitInput>, string]>([
    ['stop_loss', pct('-0.152'), 'unrealized P&L -15.20% ≤ stop loss -15.00%'],
    ['stop_loss', { ...pct('-0.1234'), overrides: { stopLossPct: dec('-0.1') } }, 'unrealized P&L -12.34% ≤ stop loss -10.00%'],
    ['circuit_breaker', { liquidationBreaker: 'daily_loss_limit' }, 'circuit breaker daily_loss_limit is tripped and demands liquidation'],
    ['trailing_stop', { trailingStop: STOP_073, bid: dec('0.72') }, 'bid 0.7200 ≤ trailing stop 0.7300 (peak 0.7500)'],
    [
      'time_based_urgent',
      { closeTime: at(4 * MIN + 5_500), ...pct('-0.03') },
      "4m05s to the market's close (under 5 minutes) with unrealized P&L -3.00%",
    ],
    ['liquidity_dried_up', { spread: dec('0.05'), volume: 12 }, 'liquidity dried up: spread 0.05 > max 0.03 and volume 12 < min 50'],
    ['liquidity_dried_up', { volume: 49 }, 'liquidity dried up: volume 49 < min 50'],
    ['profit_target', { ...noPartials, confidence: 'medium', ...pct('0.2134') }, 'unrealized P&L +21.34% ≥ profit target +20.00% (medium confidence)'],
    [
      'partial_exit_target',
      pct('0.16'),
      'unrealized P&L +16.00% ≥ partial exit stage 1 at +15.00%: sell 50 (cumulative target 50 of 100 original, 0 already sold)',
    ],
    ['early_exit', { recomputedEdge: dec('0.015') }, 'recomputed edge 0.015 < early exit edge 0.02'],
    ['edge_disappeared', { recomputedEdge: dec('-0.03') }, 'recomputed edge -0.03 < 0: the edge is gone'],
    [
      'rebalance',
      { rebalanceCandidate: true, ...pct('0.0312') },
      'a better opportunity needs the capital and the position is in profit (unrealized P&L +3.12%)',
    ],
  ])('%s: %s', (condition, overrides, reason) => {
    expect(EXIT_CHECKS[condition](input(overrides), DEFAULT_TRADING_RULES)?.reason).toBe(reason);
  });
});

describe('partial_exit_target: staged, once per stage', () => {
  it.each<[string, { pnl: string; done: number; quantity: number; original?: number }, number | null]>([
    ['stage 1 at +15%', { pnl: '0.15', done: 0, quantity: 100 }, 50],
    ['stage 1 between stages', { pnl: '0.20', done: 0, quantity: 100 }, 50],
    ['below stage 1', { pnl: '0.1499', done: 0, quantity: 100 }, null],
    ['stage 1 done: never again at +15%', { pnl: '0.15', done: 50, quantity: 50 }, null],
    ['stage 1 done, +24.99%', { pnl: '0.2499', done: 50, quantity: 50 }, null],
    ['stage 2 at +25%', { pnl: '0.25', done: 50, quantity: 50 }, 25],
    ['stage 2 above +25%', { pnl: '0.40', done: 50, quantity: 50 }, 25],
    ['both stages at once (a jump to +25%)', { pnl: '0.25', done: 0, quantity: 100 }, 75],
    ['stages done: the rest rides the trailing stop', { pnl: '0.50', done: 75, quantity: 25 }, null],
    ['stage 1 partly sold: the remainder of stage 1', { pnl: '0.15', done: 30, quantity: 70 }, 20],
    ['capped at the quantity held', { pnl: '0.25', done: 0, quantity: 40 }, 40],
    ['odd original 101: floor(50.5) = 50', { pnl: '0.15', done: 0, quantity: 101, original: 101 }, 50],
    ['odd original 101: floor(75.75) = 75', { pnl: '0.25', done: 50, quantity: 51, original: 101 }, 25],
    ['original 3: stage 1 sells floor(1.5) = 1', { pnl: '0.15', done: 0, quantity: 3, original: 3 }, 1],
    ['original 3: stage 2 sells up to floor(2.25) = 2', { pnl: '0.25', done: 1, quantity: 2, original: 3 }, 1],
    ['original 1: no stage has a contract to sell', { pnl: '0.30', done: 0, quantity: 1, original: 1 }, null],
    ['no P&L', { pnl: 'null', done: 0, quantity: 100 }, null],
  ])('%s → %s', (_name, c, sell) => {
    const i = input({
      unrealizedPnlPct: c.pnl === 'null' ? null : dec(c.pnl),
      partialExitedQuantity: qty(c.done),
      quantity: qty(c.quantity),
      originalQuantity: qty(c.original ?? 100),
    });
    const t = EXIT_CHECKS.partial_exit_target(i, DEFAULT_TRADING_RULES);
    expect(t?.quantity.toFixed() ?? null).toBe(sell === null ? null : String(sell));
    if (t) expect(t.priority).toBe('MEDIUM');
    expect(evaluateExits(i).decision?.quantity.toFixed() ?? null).toBe(sell === null ? null : String(sell));
  });

  it('partial stages sell whole contracts of a fractional original; never more than a fractional holding', () => {
    const stage = (original: string, held: string, done: string, pnl: string) => EXIT_CHECKS.partial_exit_target(
      input({ unrealizedPnlPct: dec(pnl), originalQuantity: dec(original), quantity: dec(held), partialExitedQuantity: dec(done) }),
      DEFAULT_TRADING_RULES,
    )?.quantity.toFixed() ?? null;
    // floor(4.97 × 0.5) = 2 whole contracts; floor(4.97 × 0.75) = 3, so stage 2 sells 1 more.
    expect(stage('4.97', '4.97', '0', '0.15')).toBe('2');
    expect(stage('4.97', '2.97', '2', '0.25')).toBe('1');
    // A holding under one contract sells all of it, not a whole contract it does not have.
    expect(stage('4.97', '0.5', '2', '0.25')).toBe('0.5');
  });

  it("the schema document's example: 100 @ 0.60 → 50 at 0.69, 25 at 0.75, 25 by the trailing stop at 0.88", () => {
    let quantity = qty(100);
    let costBasis = dec('60');
    let done = qty(0);
    let trailing: TrailingStopState | null = null;
    const sold: Array<[string, ExitCondition, number]> = [];
    for (const price of ['0.64', '0.69', '0.72', '0.75', '0.90', '0.89', '0.88']) {
      const bid = dec(price);
      trailing = updateTrailingStop(trailing, { entryPrice: dec('0.60'), price: bid });
      const { unrealizedPnlPct } = valuePosition({ quantity, costBasis, bid });
      const { decision } = evaluateExits(
        input({ quantity, bid, ask: bid.plus('0.01'), unrealizedPnlPct, trailingStop: trailing, partialExitedQuantity: done }),
      );
      if (decision === null) continue;
      sold.push([price, decision.condition, Number(decision.quantity.toFixed())]);
      costBasis = costBasis.minus(dec('0.60').times(decision.quantity));
      quantity = quantity.minus(decision.quantity);
      if (decision.condition === 'partial_exit_target') done = done.plus(decision.quantity);
    }
    expect(sold).toEqual([
      ['0.69', 'partial_exit_target', 50],
      ['0.75', 'partial_exit_target', 25],
      ['0.88', 'trailing_stop', 25],
    ]);
    expect(quantity.isZero()).toBe(true);
  });
});

describe('simultaneous triggers: the highest priority wins, ties by the fixed order', () => {
  it.each<[string, Partial<ExitInput>, ExitCondition[]]>([
    [
      'stop loss + liquidity + early exit → stop_loss',
      { ...pct('-0.20'), spread: dec('0.10'), recomputedEdge: dec('0.01') },
      ['stop_loss', 'liquidity_dried_up', 'early_exit'],
    ],
    [
      'circuit breaker + stop loss (CRITICAL tie) → stop_loss',
      { ...pct('-0.15'), liquidationBreaker: 'rapid_loss' },
      ['stop_loss', 'circuit_breaker'],
    ],
    [
      'circuit breaker + trailing stop → circuit_breaker',
      { liquidationBreaker: 'daily_loss_limit', trailingStop: STOP_073, bid: dec('0.70') },
      ['circuit_breaker', 'trailing_stop'],
    ],
    [
      'liquidity + time + trailing (HIGH tie) → trailing_stop',
      { spread: dec('0.04'), closeTime: at(MIN), ...pct('-0.05'), trailingStop: STOP_073, bid: dec('0.70') },
      ['trailing_stop', 'time_based_urgent', 'liquidity_dried_up'],
    ],
    [
      'liquidity + time (HIGH tie) → time_based_urgent',
      { volume: 10, closeTime: at(MIN), ...pct('-0.05') },
      ['time_based_urgent', 'liquidity_dried_up'],
    ],
    [
      'liquidity beats partial exit and rebalance → liquidity_dried_up',
      { volume: 10, ...pct('0.20'), rebalanceCandidate: true },
      ['liquidity_dried_up', 'partial_exit_target', 'rebalance'],
    ],
    [
      'partial exit + edge gone + early + rebalance → partial_exit_target',
      { ...pct('0.16'), recomputedEdge: dec('-0.01'), rebalanceCandidate: true },
      ['partial_exit_target', 'edge_disappeared', 'early_exit', 'rebalance'],
    ],
    [
      'profit target (partials off) + early + rebalance → profit_target',
      { ...noPartials, ...pct('0.30'), recomputedEdge: dec('0.01'), rebalanceCandidate: true },
      ['profit_target', 'early_exit', 'rebalance'],
    ],
    [
      'edge gone + early + rebalance (LOW tie) → edge_disappeared',
      { recomputedEdge: dec('-0.01'), rebalanceCandidate: true, ...pct('0.05') },
      ['edge_disappeared', 'early_exit', 'rebalance'],
    ],
    [
      'early + rebalance (LOW tie) → early_exit',
      { recomputedEdge: dec('0.01'), rebalanceCandidate: true, ...pct('0.05') },
      ['early_exit', 'rebalance'],
    ],
    [
      'a loser: seven triggers listed',
      {
        ...pct('-0.40'),
        liquidationBreaker: 'daily_loss_limit',
        trailingStop: STOP_073,
        bid: dec('0.36'),
        closeTime: at(2 * MIN),
        spread: dec('0.05'),
        volume: 5,
        recomputedEdge: dec('-0.2'),
        rebalanceCandidate: true,
      },
      ['stop_loss', 'circuit_breaker', 'trailing_stop', 'time_based_urgent', 'liquidity_dried_up', 'edge_disappeared', 'early_exit'],
    ],
    [
      'a winner: seven triggers listed',
      {
        ...pct('0.30'),
        liquidationBreaker: 'daily_loss_limit',
        trailingStop: STOP_073,
        bid: dec('0.73'),
        closeTime: at(2 * MIN),
        volume: 5,
        recomputedEdge: dec('-0.2'),
        rebalanceCandidate: true,
      },
      ['circuit_breaker', 'trailing_stop', 'liquidity_dried_up', 'partial_exit_target', 'edge_disappeared', 'early_exit', 'rebalance'],
    ],
  ])('%s', (_name, overrides, expected) => {
    const { triggers, decision } = evaluateExits(input(overrides));
    expect(triggers.map((t) => t.condition)).toEqual(expected);
    expect(decision).toEqual(triggers[0]);
  });

  it('a custom priority table reorders the decision', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      exits: { ...DEFAULT_TRADING_RULES.exits, priorities: { ...DEFAULT_TRADING_RULES.exits.priorities, rebalance: 'CRITICAL' } },
    };
    const i = input({ rebalanceCandidate: true, ...pct('0.20') });
    expect(evaluateExits(i, rules).decision).toMatchObject({ condition: 'rebalance', priority: 'CRITICAL' });
    expect(evaluateExits(i).decision).toMatchObject({ condition: 'partial_exit_target', priority: 'MEDIUM' });
  });

  it('a position holding nothing gets no decision', () => {
    const i = input({ quantity: qty(0), ...pct('-0.50'), liquidationBreaker: 'daily_loss_limit' });
    expect(evaluateExits(i)).toEqual({ triggers: [], decision: null });
    expect(EXIT_CHECKS.stop_loss(i, DEFAULT_TRADING_RULES)).toBeNull();
    expect(isUrgent(i)).toBe(false);
  });

  it.each<[string, Partial<ExitInput>]>([
    ['a quantity finer than 0.01', { quantity: dec('1.005') }],
    ['a JS number as quantity', { quantity: 5 as unknown as Decimal }],
    ['negative quantity', { quantity: qty(-1) }],
    ['negative partial count', { partialExitedQuantity: qty(-1) }],
    ['fractional volume', { volume: 10.5 }],
    ['negative volume', { volume: -1 }],
  ])('refuses %s', (_name, overrides) => {
    expect(() => evaluateExits(input(overrides))).toThrow(RangeError);
  });

  it('accepts counts with exactly 2 decimals (a fractional fill)', () => {
    expect(() => evaluateExits(input({ quantity: dec('2.97'), originalQuantity: dec('2.97'), partialExitedQuantity: dec('0.01') }))).not.toThrow();
  });
});

describe('isUrgent: within 2 P&L points of stop or next take-profit, or within 2% of the trailing stop', () => {
  it.each<[string, Partial<ExitInput>, boolean]>([
    ['flat', {}, false],
    ['−13.00%: 2 points from the stop (inclusive)', pct('-0.13'), true],
    ['−12.99%', pct('-0.1299'), false],
    ['−20%: past the stop', pct('-0.20'), true],
    ['override −10%: −8.00%', { ...pct('-0.08'), overrides: { stopLossPct: dec('-0.10') } }, true],
    ['override −10%: −7.99%', { ...pct('-0.0799'), overrides: { stopLossPct: dec('-0.10') } }, false],
    ['partials on: +13.00% (stage 1 at +15%)', pct('0.13'), true],
    ['partials on: +12.99%', pct('0.1299'), false],
    ['partials on, stage 1 done: +13% is not near stage 2', { ...pct('0.13'), partialExitedQuantity: qty(50), quantity: qty(50) }, false],
    ['partials on, stage 1 done: +23.00%', { ...pct('0.23'), partialExitedQuantity: qty(50), quantity: qty(50) }, true],
    ['partials on, stage 1 done: +22.99%', { ...pct('0.2299'), partialExitedQuantity: qty(50), quantity: qty(50) }, false],
    ['partials on, all stages done: +40%, no take-profit left', { ...pct('0.40'), partialExitedQuantity: qty(75), quantity: qty(25) }, false],
    ['partials off, high: +23.00%', { ...noPartials, ...pct('0.23') }, true],
    ['partials off, high: +22.99%', { ...noPartials, ...pct('0.2299') }, false],
    ['partials off, medium: +18.00%', { ...noPartials, confidence: 'medium', ...pct('0.18') }, true],
    ['partials off, medium: +17.99%', { ...noPartials, confidence: 'medium', ...pct('0.1799') }, false],
    ['partials off, low: +13.00%', { ...noPartials, confidence: 'low', ...pct('0.13') }, true],
    ['partials off, low: +12.99%', { ...noPartials, confidence: 'low', ...pct('0.1299') }, false],
    ['no P&L', { unrealizedPnlPct: null }, false],
    // trailing stop 0.73: urgent at bid ≤ 0.73 × 1.02 = 0.7446
    ['trailing: bid 0.7446 (inclusive)', { trailingStop: STOP_073, bid: dec('0.7446') }, true],
    ['trailing: bid 0.7447', { trailingStop: STOP_073, bid: dec('0.7447') }, false],
    ['trailing: bid at the stop', { trailingStop: STOP_073, bid: dec('0.73') }, true],
    ['trailing: no bid', { trailingStop: STOP_073, bid: null }, false],
    ['trailing: inactive', { trailingStop: { ...STOP_073, active: false }, bid: dec('0.70') }, false],
  ])('%s → %s', (_name, overrides, urgent) => {
    expect(isUrgent(input(overrides))).toBe(urgent);
  });

  it.each<ConfidenceLevel>(['high', 'medium', 'low'])('%s: partials on, the first stage is the next take-profit', (confidence) => {
    expect(isUrgent(input({ confidence, ...pct('0.13') }))).toBe(true);
  });
});

describe('valuePosition: marked at the bid, exact', () => {
  it.each<[string, number, string, string | null, string | null, string | null]>([
    // [name, quantity, cost basis, bid, unrealized P&L, P&L %]
    ['−15% exactly', 100, '60', '0.51', '-9', '-0.15'],
    ['+15% exactly', 100, '60', '0.69', '9', '0.15'],
    ['flat, float trap 3 × 0.1 − 0.3', 3, '0.3', '0.1', '0', '0'],
    ['repeating fraction 0.07 / 2.10 → 0.0333', 7, '2.10', '0.31', '0.07', '0.0333'],
    ['0.2 / 0.3 = 2/3 → 0.6667 (half-up)', 5, '0.30', '0.1', '0.2', '0.6667'],
    ['tie 0.00005 → 0.0001', 3, '2.0000', '0.6667', '0.0001', '0.0001'],
    ['tie −0.00005 → −0.0001 (away from zero)', 7, '2.0000', '0.2857', '-0.0001', '-0.0001'],
    ['cost basis beyond 4 decimals: P&L rounded half-up', 1, '1.00005', '0.5', '-0.5001', '-0.5'],
    ['bid 0: −100%', 10, '5', '0', '-5', '-1'],
    ['clamped to 99.9999', 1000, '1', '0.99', '989', '99.9999'],
    ['no bid', 100, '60', null, null, null],
    ['zero cost basis: no percentage', 10, '0', '0.5', '5', null],
  ])('%s', (_name, quantity, costBasis, bid, pnl, pnlPct) => {
    const v = valuePosition({ quantity: qty(quantity), costBasis: dec(costBasis), bid: bid === null ? null : dec(bid) });
    expect(v.currentPrice?.toFixed() ?? null).toBe(bid === null ? null : dec(bid).toFixed());
    expect(v.unrealizedPnl?.toFixed() ?? null).toBe(pnl);
    expect(v.unrealizedPnlPct?.toFixed() ?? null).toBe(pnlPct);
    if (v.unrealizedPnlPct) expect(v.unrealizedPnlPct.decimalPlaces()).toBeLessThanOrEqual(4);
  });

  it('refuses JS numbers and bad counts', () => {
    expect(() => valuePosition({ quantity: qty(1), costBasis: 0.6 as unknown as Decimal, bid: null })).toThrow(TypeError);
    expect(() => valuePosition({ quantity: dec('1.005'), costBasis: dec('1'), bid: dec('0.5') })).toThrow(RangeError);
    expect(() => valuePosition({ quantity: qty(1), costBasis: dec('-1'), bid: dec('0.5') })).toThrow(RangeError);
    // A fractional holding is marked exactly: 2.97 × 0.50 − 1.6335 = −0.1485.
    expect(valuePosition({ quantity: dec('2.97'), costBasis: dec('1.6335'), bid: dec('0.50') }).unrealizedPnl?.toFixed()).toBe('-0.1485');
  });
});

describe('partialExitStage: the stage a partial sale completes (50% of the original, then 25%)', () => {
  it.each<[string, string, string, number]>([
    ['the first half', '0', '50', 1],
    ['part of the first half', '0', '10', 1],
    ['the rest of the first half', '10', '40', 1],
    ['one past the first half', '0', '51', 2],
    ['the second quarter', '50', '25', 2],
    ['more than both stages', '50', '40', 2],
  ])('%s', (_, exited, quantity, stage) => {
    expect(partialExitStage({ originalQuantity: dec('100'), partialExitedQuantity: dec(exited) }, dec(quantity))).toBe(stage);
  });
});

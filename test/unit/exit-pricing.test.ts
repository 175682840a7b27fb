import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES, type ExitPriority, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { planExitAttempt, type ExitOrderPlan } from '../../shared/exits/pricing';

type Args = Parameters<typeof planExitAttempt>[0];
const d = (s: string | null) => (s === null ? null : dec(s));
const plan = (priority: ExitPriority, attempt: number, previousLimit: string | null, bid: string | null, ask: string | null, rules?: TradingRules) =>
  planExitAttempt({ priority, attempt, previousLimit: d(previousLimit), bid: d(bid), ask: d(ask) }, rules);

/** A plan in comparable form: prices as fixed strings. */
function show(p: ExitOrderPlan) {
  return p.kind === 'stop' ? { kind: 'stop' as const } : { ...p, limitPrice: p.limitPrice.toFixed(2) };
}

/** Chains attempts 1..n the way the executor does: each limit feeds the next attempt's previousLimit. */
function chain(priority: ExitPriority, n: number, bid: string | null, ask: string | null, rules?: TradingRules): ExitOrderPlan[] {
  const plans: ExitOrderPlan[] = [];
  let previous: Decimal | null = null;
  for (let attempt = 1; attempt <= n; attempt++) {
    const p = planExitAttempt({ priority, attempt, previousLimit: previous, bid: d(bid), ask: d(ask) }, rules);
    plans.push(p);
    if (p.kind === 'order' && p.orderType === 'limit') previous = p.limitPrice;
  }
  return plans;
}
const summary = (plans: ExitOrderPlan[]) =>
  plans.map((p) => (p.kind === 'stop' ? 'stop' : `${p.orderType === 'market' ? 'market' : 'limit'} ${p.limitPrice.toFixed(2)}`));

describe('first order by priority (bid 0.70, ask 0.73)', () => {
  it.each<[ExitPriority, 'market' | 'limit', string, 'immediate_or_cancel' | 'good_till_canceled', number]>([
    ['CRITICAL', 'market', '0.70', 'immediate_or_cancel', 5], // IOC at the far side for a sell: the bid
    ['HIGH', 'limit', '0.70', 'good_till_canceled', 10], // crossing the spread: at the bid
    ['MEDIUM', 'limit', '0.72', 'good_till_canceled', 30], // mid 0.715 rounded UP to the cent
    ['LOW', 'limit', '0.73', 'good_till_canceled', 60], // at the ask
  ])('%s → %s at %s, %s, wait %is', (priority, orderType, price, timeInForce, waitSeconds) => {
    expect(show(plan(priority, 1, null, '0.70', '0.73'))).toEqual({ kind: 'order', orderType, limitPrice: price, timeInForce, waitSeconds, walk: 0 });
  });

  it.each([
    ['0.70', '0.74', '0.72'], // exact mid
    ['0.70', '0.71', '0.71'], // 0.705 → 0.71
    ['0.01', '0.02', '0.02'],
    ['0.98', '0.99', '0.99'],
  ])('MEDIUM mid of %s / %s → %s', (bid, ask, mid) => {
    const p = plan('MEDIUM', 1, null, bid, ask);
    expect(p.kind === 'order' && p.limitPrice.toFixed()).toBe(dec(mid).toFixed());
  });
});

describe("the schema document's HIGH example", () => {
  it('limit 0.75, limit 0.74 (one 1¢ walk), then market IOC at the current bid 0.73', () => {
    const a1 = plan('HIGH', 1, null, '0.75', '0.77');
    expect(show(a1)).toEqual({ kind: 'order', orderType: 'limit', limitPrice: '0.75', timeInForce: 'good_till_canceled', waitSeconds: 10, walk: 0 });
    const a2 = plan('HIGH', 2, '0.75', '0.74', '0.76');
    expect(show(a2)).toEqual({ kind: 'order', orderType: 'limit', limitPrice: '0.74', timeInForce: 'good_till_canceled', waitSeconds: 10, walk: 1 });
    const a3 = plan('HIGH', 3, '0.74', '0.73', '0.75');
    expect(show(a3)).toEqual({ kind: 'order', orderType: 'market', limitPrice: '0.73', timeInForce: 'immediate_or_cancel', waitSeconds: 10, walk: 1 });
  });

  it('keeps going at market after that', () => {
    expect(summary(chain('HIGH', 6, '0.75', '0.77'))).toEqual(['limit 0.75', 'limit 0.74', 'market 0.75', 'market 0.75', 'market 0.75', 'market 0.75']);
  });
});

describe('price walking: 1¢ × (1.0, 1.5, 2.0, …), rounded down to the cent', () => {
  it.each([
    // [walk, previous limit, decrement, new limit]
    [1, '0.50', '0.01', '0.49'],
    [2, '0.50', '0.015', '0.48'], // 0.485 → 0.48
    [3, '0.50', '0.02', '0.48'],
    [4, '0.50', '0.025', '0.47'], // 0.475 → 0.47
    [5, '0.50', '0.03', '0.47'],
    [9, '0.50', '0.05', '0.45'],
    [2, '0.7450', '0.015', '0.73'], // 0.7300 exactly
    [1, '0.7455', '0.01', '0.74'], // off the levels: the first level below (limits Precog places are always on a level)
    [1, '0.02', '0.01', '0.01'],
    [1, '0.01', '0.01', '0.01'], // never below 0.01
    [4, '0.02', '0.025', '0.01'],
  ])('walk %i from %s (−%s) → %s', (walk, previous, _decrement, expected) => {
    const p = plan('LOW', walk + 1, previous, '0.40', '0.60');
    expect(show(p)).toMatchObject({ kind: 'order', orderType: 'limit', limitPrice: expected, walk, timeInForce: 'good_till_canceled' });
  });

  it('MEDIUM: 5 limits from the mid 0.80, then stop and alert', () => {
    const plans = chain('MEDIUM', 7, '0.79', '0.81');
    expect(summary(plans)).toEqual(['limit 0.80', 'limit 0.79', 'limit 0.77', 'limit 0.75', 'limit 0.72', 'stop', 'stop']);
    expect(plans.map((p) => (p.kind === 'order' ? p.walk : null))).toEqual([0, 1, 2, 3, 4, null, null]);
    expect(plans[5]).toEqual({ kind: 'stop', reason: 'MEDIUM exit unfilled after 5 limit attempts: stop and alert' });
  });

  it('LOW: 10 limits from the ask 0.80, then stop and alert', () => {
    const plans = chain('LOW', 12, '0.70', '0.80');
    expect(summary(plans)).toEqual([
      'limit 0.80',
      'limit 0.79',
      'limit 0.77',
      'limit 0.75',
      'limit 0.72',
      'limit 0.69',
      'limit 0.65',
      'limit 0.61',
      'limit 0.56',
      'limit 0.51',
      'stop',
      'stop',
    ]);
    expect(plans[10]).toEqual({ kind: 'stop', reason: 'LOW exit unfilled after 10 limit attempts: stop and alert' });
    expect(plans.every((p) => p.kind === 'stop' || p.waitSeconds === 60)).toBe(true);
  });

  it('walks from the previous limit, not from the current book', () => {
    // The bid moved up to 0.90; the walk still continues from the 0.80 tried before.
    expect(show(plan('MEDIUM', 2, '0.80', '0.90', '0.92'))).toMatchObject({ limitPrice: '0.79', walk: 1 });
  });

  it('without a previous limit a later attempt walks from the current first-order price', () => {
    expect(show(plan('MEDIUM', 2, null, '0.70', '0.74'))).toMatchObject({ orderType: 'limit', limitPrice: '0.71', walk: 1 });
    expect(show(plan('MEDIUM', 3, null, '0.70', '0.74'))).toMatchObject({ orderType: 'limit', limitPrice: '0.70', walk: 2 }); // 0.72 − 0.015
  });

  it('follows the rules object (a 2¢ step growing by 1.0)', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      priceWalk: { stepUsd: dec('0.02'), initialMultiplier: dec('1'), multiplierIncrement: dec('1') },
    };
    expect(summary(chain('MEDIUM', 4, '0.79', '0.81', rules))).toEqual(['limit 0.80', 'limit 0.78', 'limit 0.74', 'limit 0.68']);
  });
});

describe('CRITICAL: market every time', () => {
  it.each([1, 2, 3, 10, 100])('attempt %i → market IOC at the bid, wait 5s', (attempt) => {
    expect(show(plan('CRITICAL', attempt, '0.50', '0.42', '0.45'))).toEqual({
      kind: 'order',
      orderType: 'market',
      limitPrice: '0.42',
      timeInForce: 'immediate_or_cancel',
      waitSeconds: 5,
      walk: 0,
    });
  });

  it.each<[string | null, string | null]>([
    [null, '0.45'],
    [null, null],
  ])('no bid (ask %s) → market IOC at the 0.01 floor', (bid, ask) => {
    expect(show(plan('CRITICAL', 1, null, bid, ask))).toMatchObject({ orderType: 'market', limitPrice: '0.01', timeInForce: 'immediate_or_cancel' });
  });
});

describe('missing sides of the book', () => {
  it.each<[string, ExitPriority, string | null, string | null, string]>([
    ['aggressive without a bid: a cent under the ask', 'HIGH', null, '0.74', 'limit 0.73'],
    ['aggressive without a bid, ask 0.01: floor 0.01', 'HIGH', null, '0.01', 'limit 0.01'],
    ['aggressive without an ask: the bid', 'HIGH', '0.70', null, 'limit 0.70'],
    ['aggressive, empty book: market IOC (HIGH ends in market)', 'HIGH', null, null, 'market 0.01'],
    ['mid without an ask: the bid', 'MEDIUM', '0.70', null, 'limit 0.70'],
    ['mid without a bid: a cent under the ask', 'MEDIUM', null, '0.74', 'limit 0.73'],
    ['mid, empty book: stop (MEDIUM ends in stop and alert)', 'MEDIUM', null, null, 'stop'],
    ['conservative without an ask: a cent over the bid', 'LOW', '0.70', null, 'limit 0.71'],
    ['conservative without an ask, bid 0.99: capped at 0.99', 'LOW', '0.99', null, 'limit 0.99'],
    ['conservative without a bid: the ask', 'LOW', null, '0.74', 'limit 0.74'],
    ['conservative, empty book: stop', 'LOW', null, null, 'stop'],
  ])('%s', (_name, priority, bid, ask, expected) => {
    expect(summary([plan(priority, 1, null, bid, ask)])).toEqual([expected]);
  });

  it('an empty book does not stop a walk that has a previous limit', () => {
    expect(summary([plan('MEDIUM', 2, '0.80', null, null)])).toEqual(['limit 0.79']);
    expect(summary([plan('MEDIUM', 2, null, null, null)])).toEqual(['stop']);
    expect(show(plan('HIGH', 2, null, null, null))).toMatchObject({ orderType: 'market', limitPrice: '0.01', walk: 1 });
    // HIGH after its limits with no bid: market IOC at the floor.
    expect(show(plan('HIGH', 3, '0.74', null, '0.80'))).toMatchObject({ orderType: 'market', limitPrice: '0.01', walk: 1 });
  });
});

describe('other rule shapes', () => {
  it('limitAttempts null with a limit first order: the same limit every attempt, no walk', () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      exitExecution: {
        ...DEFAULT_TRADING_RULES.exitExecution,
        LOW: { firstOrder: 'limit_conservative', waitSeconds: 60, limitAttempts: null, then: 'repeat_until_filled' },
      },
    };
    expect(summary(chain('LOW', 3, '0.70', '0.80', rules))).toEqual(['limit 0.80', 'limit 0.80', 'limit 0.80']);
  });

  it("'repeat_until_filled' after the limits: market again", () => {
    const rules: TradingRules = {
      ...DEFAULT_TRADING_RULES,
      exitExecution: {
        ...DEFAULT_TRADING_RULES.exitExecution,
        MEDIUM: { firstOrder: 'limit_mid', waitSeconds: 30, limitAttempts: 2, then: 'repeat_until_filled' },
      },
    };
    expect(summary(chain('MEDIUM', 4, '0.79', '0.81', rules))).toEqual(['limit 0.80', 'limit 0.79', 'market 0.79', 'market 0.79']);
  });

  it.each<[string, Partial<Args>, ErrorConstructor]>([
    ['attempt 0', { attempt: 0 }, RangeError],
    ['attempt 1.5', { attempt: 1.5 }, RangeError],
    ['unknown priority', { priority: 'URGENT' as ExitPriority }, RangeError],
    ['a JS number bid', { bid: 0.5 as unknown as Decimal }, TypeError],
  ])('refuses %s', (_name, overrides, error) => {
    const args: Args = { priority: 'HIGH', attempt: 1, previousLimit: null, bid: dec('0.5'), ask: dec('0.6'), ...overrides };
    expect(() => planExitAttempt(args)).toThrow(error);
  });

  it.each<[string, Partial<Args>]>([
    ['a NaN bid', { bid: new Decimal(NaN) }],
    ['an infinite ask', { ask: new Decimal(Infinity) }],
    ['a NaN previous limit', { attempt: 2, previousLimit: new Decimal(NaN) }],
  ])('refuses %s, naming it (a price that is not a finite Decimal never reaches an order)', (name, overrides) => {
    const args: Args = { priority: 'LOW', attempt: 1, previousLimit: null, bid: dec('0.5'), ask: dec('0.6'), ...overrides };
    const field = name.endsWith('previous limit') ? 'previousLimit' : name.endsWith('bid') ? 'bid' : 'ask';
    expect(() => planExitAttempt(args)).toThrow(new TypeError(`${field} must be a finite Decimal or null`));
  });
});

describe('on the market\'s price levels (ticks other than the cent)', () => {
  const levels = (...ranges: Array<[string, string, string]>) => ranges.map(([start, end, step]) => ({ start: dec(start), end: dec(end), step: dec(step) }));
  const DECI_CENT = levels(['0', '1', '0.001']);
  const TAPERED = levels(['0', '0.1', '0.001'], ['0.1', '0.9', '0.01'], ['0.9', '1', '0.001']);
  const on = (lv: ReturnType<typeof levels>) => (priority: ExitPriority, attempt: number, previous: string | null, bid: string | null, ask: string | null) => {
    const p = planExitAttempt({ priority, attempt, previousLimit: d(previous), bid: d(bid), ask: d(ask), levels: lv });
    return p.kind === 'stop' ? 'stop' : `${p.orderType} ${p.limitPrice.toFixed(4)}`;
  };

  it('a 0.001-tick market walks by its tick: 0.750 → 0.749 → 0.747 → 0.745 → 0.742 (1, 2, 2, 3 ticks)', () => {
    const plan = on(DECI_CENT);
    const walked: string[] = [];
    let previous: string | null = null;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const p = plan('MEDIUM', attempt, previous, '0.750', '0.750');
      walked.push(p);
      previous = p.split(' ')[1]!;
    }
    expect(walked).toEqual(['limit 0.7500', 'limit 0.7490', 'limit 0.7470', 'limit 0.7450', 'limit 0.7420']);
  });

  it.each<[string, ExitPriority, number, string | null, string | null, string | null, string]>([
    ['mid rounded up to the 0.001 tick', 'MEDIUM', 1, null, '0.701', '0.704', 'limit 0.7030'],
    ['aggressive without a bid: one tick under the ask', 'HIGH', 1, null, null, '0.704', 'limit 0.7030'],
    ['aggressive without a bid, the ask on the lowest level: that level (0.001), not 0.01', 'HIGH', 1, null, null, '0.001', 'limit 0.0010'],
    ['conservative without an ask: one tick over the bid', 'LOW', 1, null, '0.701', null, 'limit 0.7020'],
    ['the market floor is the lowest level (0.001), not 0.01', 'CRITICAL', 1, null, null, null, 'market 0.0010'],
    ['a walk never goes below the lowest level', 'LOW', 2, '0.001', '0.40', '0.60', 'limit 0.0010'],
  ])('0.001 ticks: %s', (_name, priority, attempt, previous, bid, ask, expected) => {
    expect(on(DECI_CENT)(priority, attempt, previous, bid, ask)).toBe(expected);
  });

  it.each<[string, number, string, string]>([
    ['in the cent middle a walk moves by the cent', 2, '0.50', 'limit 0.4900'],
    ['across 0.10 into the 0.001 tail: 0.11 → 0.10 → 0.099 (two ticks at walk 2)', 3, '0.11', 'limit 0.0990'],
    ['in the tail a walk moves by 0.001', 2, '0.05', 'limit 0.0490'],
  ])('tapered: %s', (_name, attempt, previous, expected) => {
    expect(on(TAPERED)('LOW', attempt, previous, '0.40', '0.60')).toBe(expected);
  });

  it('a sale is put on a level rounding UP: a bid off the levels asks the level above, never less', () => {
    expect(on(levels(['0', '1', '0.01']))('HIGH', 1, null, '0.7012', '0.72')).toBe('limit 0.7100');
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_TRADING_RULES, type TradingRules } from '../../shared/config/tradingRules';
import { Decimal, dec } from '../../shared/domain/decimal';
import { bestSide, marketImpliedProbability, sideEdges, type SideEdge } from '../../shared/domain/edge';

const d = (v: string | null | undefined) => (v === null || v === undefined ? v : dec(v));

/** A SideEdge as strings, for readable expectations. */
const text = (e: SideEdge | null) =>
  e && {
    side: e.side,
    price: e.price.toFixed(),
    probability: e.probability.toFixed(),
    edge: e.edge.toFixed(),
    fee: e.fee.toFixed(),
    ev: e.ev.toFixed(),
  };

describe('YES side: edge = p − yesAsk, ev = edge − taker fee of one contract', () => {
  it.each([
    // [case, p, yesAsk, edge, fee, ev]
    ['p = c: zero edge, negative ev', '0.6', '0.6', '0', '0.02', '-0.02'],
    ['p = c = 0.5', '0.5', '0.5', '0', '0.02', '-0.02'],
    ['p < c', '0.5', '0.55', '-0.05', '0.02', '-0.07'],
    ['p > c', '0.7', '0.55', '0.15', '0.02', '0.13'],
    ['price 0.01 (fee rounds up to a cent)', '0.05', '0.01', '0.04', '0.01', '0.03'],
    ['price 0.99', '1', '0.99', '0.01', '0.01', '0'],
    ['price 0.99, p below', '0.98', '0.99', '-0.01', '0.01', '-0.02'],
    ['a basis point of edge, exactly', '0.1234', '0.1233', '0.0001', '0.01', '-0.0099'],
  ])('%s', (_name, p, yesAsk, edge, fee, ev) => {
    const { yes } = sideEdges(dec(p), dec(yesAsk), null);
    expect(text(yes)).toEqual({ side: 'yes', price: dec(yesAsk).toFixed(), probability: dec(p).toFixed(), edge, fee, ev });
  });
});

describe('NO side: edge = (1 − p) − noAsk', () => {
  it.each([
    // [p, noAsk, probability of NO, edge, fee, ev]
    ['0.3', '0.6', '0.7', '0.1', '0.02', '0.08'],
    ['0.5', '0.5', '0.5', '0', '0.02', '-0.02'],
    ['0.8', '0.25', '0.2', '-0.05', '0.02', '-0.07'],
    ['0', '0.99', '1', '0.01', '0.01', '0'],
    ['0.95', '0.01', '0.05', '0.04', '0.01', '0.03'],
  ])('p %s, noAsk %s', (p, noAsk, probability, edge, fee, ev) => {
    const { no, yes } = sideEdges(dec(p), null, dec(noAsk));
    expect(yes).toBeNull();
    expect(text(no)).toEqual({ side: 'no', price: dec(noAsk).toFixed(), probability, edge, fee, ev });
  });
});

describe('a side without a real ask is null', () => {
  it.each([
    ['missing (undefined)', undefined],
    ['missing (null)', null],
    ['0', '0'],
    ['below 0', '-0.01'],
    ['1 (no offer)', '1'],
    ['above 1', '1.2'],
  ])('ask %s', (_name, ask) => {
    const edges = sideEdges(dec('0.5'), d(ask), d(ask));
    expect(edges).toEqual({ yes: null, no: null });
    expect(bestSide(dec('0.5'), d(ask), d(ask))).toBeNull();
  });

  it('keeps the other side', () => {
    const edges = sideEdges(dec('0.5'), dec('1'), dec('0.4'));
    expect(edges.yes).toBeNull();
    expect(edges.no?.edge.toFixed()).toBe('0.1');
  });
});

describe('bestSide: the higher ev', () => {
  it.each([
    // [case, p, yesAsk, noAsk, expected side]
    ['NO is underpriced', '0.3', '0.35', '0.6', 'no'],
    ['YES is underpriced', '0.7', '0.6', '0.45', 'yes'],
    ['both negative: still the better one', '0.5', '0.55', '0.52', 'no'],
    ['only YES quoted', '0.1', '0.5', null, 'yes'],
    ['only NO quoted', '0.9', null, '0.5', 'no'],
    ['tie on ev and price → YES', '0.5', '0.45', '0.45', 'yes'],
    ['tie on ev → the cheaper side', '0.7', '0.6', '0.2', 'no'],
  ])('%s', (_name, p, yesAsk, noAsk, side) => {
    expect(bestSide(dec(p), d(yesAsk), d(noAsk))?.side).toBe(side);
  });

  it('returns the same object as sideEdges describes', () => {
    const best = bestSide(dec('0.3'), dec('0.35'), dec('0.6'));
    expect(text(best)).toEqual(text(sideEdges(dec('0.3'), dec('0.35'), dec('0.6')).no));
  });

  it('nets the fee of the rules given', () => {
    const noFees: TradingRules = { ...DEFAULT_TRADING_RULES, fees: { takerRate: dec('0'), makerRate: dec('0') } };
    const { yes } = sideEdges(dec('0.6'), dec('0.6'), null, noFees);
    expect(yes?.fee.isZero()).toBe(true);
    expect(yes?.ev.isZero()).toBe(true);
  });

  it('is exact: no float arithmetic anywhere', () => {
    const { yes, no } = sideEdges(dec('0.3'), dec('0.1'), dec('0.6'));
    expect(yes?.edge.equals(dec('0.2'))).toBe(true); // 0.3 − 0.1 in floats is 0.19999999999999998
    expect(no?.edge.equals(dec('0.1'))).toBe(true);
    expect(yes?.ev).toBeInstanceOf(Decimal);
  });
});

describe('probability validation', () => {
  it.each(['-0.0001', '1.0001', '50'])('p %s → RangeError', (p) => {
    expect(() => sideEdges(dec(p), dec('0.5'), dec('0.5'))).toThrow(RangeError);
    expect(() => sideEdges(dec(p), dec('0.5'), dec('0.5'))).toThrow(/p must be within 0..1/);
  });

  it('accepts p = 0 and p = 1', () => {
    expect(sideEdges(dec('0'), dec('0.5'), dec('0.5')).yes?.edge.toFixed()).toBe('-0.5');
    expect(sideEdges(dec('1'), dec('0.5'), dec('0.5')).no?.edge.toFixed()).toBe('-0.5');
  });

  it('refuses JS numbers', () => {
    expect(() => sideEdges(0.5 as unknown as Decimal, dec('0.5'), null)).toThrow(TypeError);
    expect(() => sideEdges(dec('0.5'), 0.5 as unknown as Decimal, null)).toThrow(TypeError);
    // The message names the argument (and the side's quote) that is wrong.
    expect(() => sideEdges(0.5 as unknown as Decimal, dec('0.5'), null)).toThrow(/^p must be a Decimal, got number$/);
    expect(() => sideEdges(dec('0.5'), 0.5 as unknown as Decimal, null)).toThrow(/^yesAsk must be a Decimal, got number$/);
    expect(() => sideEdges(dec('0.5'), null, 0.5 as unknown as Decimal)).toThrow(/^noAsk must be a Decimal, got number$/);
  });

  it('refuses a NaN quote, naming its side', () => {
    expect(() => sideEdges(dec('0.5'), new Decimal(NaN), null)).toThrow(/^yesAsk must be a number, got NaN$/);
    expect(() => sideEdges(dec('0.5'), null, new Decimal(NaN))).toThrow(/^noAsk must be a number, got NaN$/);
  });
});

describe('marketImpliedProbability: mid of YES ask and bid, else the ask', () => {
  it.each([
    // [yesAsk, yesBid, expected]
    ['0.55', '0.45', '0.5'],
    ['0.55', '0.54', '0.545'],
    ['0.0101', '0.01', '0.01005'],
    ['0.55', '0.55', '0.55'],
    ['0.55', null, '0.55'],
    ['0.55', undefined, '0.55'],
    ['0.55', '0', '0.55'], // a bid of 0 is "no bid"
    ['0.99', '1', '0.99'],
    [null, '0.45', null], // no ask: nothing to buy, no implied probability
    ['1', '0.4', null], // an ask of 1 is "no offer"
    ['0', '0', null],
  ])('ask %s, bid %s → %s', (ask, bid, expected) => {
    const result = marketImpliedProbability(d(ask), d(bid));
    expect(result === null ? null : result.toFixed()).toBe(expected);
  });

  it('works with the ask alone', () => {
    expect(marketImpliedProbability(dec('0.42'))?.toFixed()).toBe('0.42');
  });
});

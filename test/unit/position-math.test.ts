import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, dec } from '../../shared/domain/decimal';
import { qty } from '../../shared/domain/quantity';
import { applyFill, cashDelta, EMPTY_POSITION } from '../../shared/execution/positionMath';

describe('position math', () => {
  it('buys accumulate an exact cost basis; entry price is its rounded average', () => {
    let p = applyFill(EMPTY_POSITION, { action: 'buy', count: qty(1), price: dec('0.50'), fee: dec('0.02') });
    p = applyFill(p, { action: 'buy', count: qty(2), price: dec('0.51'), fee: dec('0.04') });
    expect(p.quantity.toFixed()).toBe('3');
    expect(p.costBasis.toFixed(4)).toBe('1.5200');
    expect(p.entryPrice!.toFixed(4)).toBe('0.5067');
    expect(p.fees.toFixed(4)).toBe('0.0600');
    expect(p.originalQuantity.toFixed()).toBe('3');
  });

  it('sells remove cost pro rata and realise the difference; selling all leaves zero cost', () => {
    let p = applyFill(EMPTY_POSITION, { action: 'buy', count: qty(3), price: dec('0.3333'), fee: dec('0.02') });
    p = applyFill(p, { action: 'sell', count: qty(1), price: dec('0.40'), fee: dec('0.01') });
    expect(p.quantity.toFixed()).toBe('2');
    expect(p.costBasis.toFixed(4)).toBe('0.6666');
    // 0.40 − 0.3333 − the sell fee 0.01 − the buy fee 0.02 (a realised cost when paid).
    expect(p.realizedPnl.toFixed(4)).toBe('0.0367');
    p = applyFill(p, { action: 'sell', count: qty(2), price: dec('0.30'), fee: dec('0.02') });
    expect(p.quantity.toFixed()).toBe('0');
    expect(p.costBasis.isZero()).toBe(true);
    // Closed: proceeds 1.0000 − cost 0.9999 − fees 0.05.
    expect(p.realizedPnl.toFixed(4)).toBe('-0.0499');
    expect(p.originalQuantity.toFixed()).toBe('3');
  });

  it('a fractional fill (2.97 of an order) is held and sold exactly', () => {
    let p = applyFill(EMPTY_POSITION, { action: 'buy', count: dec('2.97'), price: dec('0.55'), fee: dec('0.06') });
    expect(p.quantity.toFixed()).toBe('2.97');
    expect(p.costBasis.toFixed()).toBe('1.6335');
    p = applyFill(p, { action: 'sell', count: dec('2.97'), price: dec('0.60'), fee: dec('0.05') });
    expect(p.quantity.isZero()).toBe(true);
    expect(p.costBasis.isZero()).toBe(true);
    // 2.97 × 0.60 − 1.6335 − 0.06 − 0.05 = 0.0385
    expect(p.realizedPnl.toFixed()).toBe('0.0385');
    expect(() => applyFill(EMPTY_POSITION, { action: 'buy', count: dec('1.005'), price: dec('0.5'), fee: dec('0') })).toThrow(/at most 2 decimals/);
  });

  it('refuses to sell more than is held', () => {
    expect(() => applyFill(EMPTY_POSITION, { action: 'sell', count: qty(1), price: dec('0.5'), fee: dec('0') })).toThrow(/holding 0/);
  });

  it('cash moves by price and fee in the right direction', () => {
    expect(cashDelta({ action: 'buy', count: qty(10), price: dec('0.45'), fee: dec('0.18') }).toFixed(4)).toBe('-4.6800');
    expect(cashDelta({ action: 'sell', count: qty(10), price: dec('0.45'), fee: dec('0.18') }).toFixed(4)).toBe('4.3200');
  });

  it('property: whatever the fills, cash + cost basis + realized P&L − fees balance exactly', () => {
    const fill = fc.record({
      buy: fc.boolean(),
      // Hundredths of a contract: fractional counts (Kalshi's 0.01 granularity) as well as whole ones.
      hundredths: fc.integer({ min: 1, max: 50_000 }),
      cents: fc.integer({ min: 1, max: 99 }),
      feeCents: fc.integer({ min: 0, max: 200 }),
    });
    fc.assert(fc.property(fc.array(fill, { minLength: 1, maxLength: 60 }), (fills) => {
      let p = EMPTY_POSITION;
      let cash = new Decimal(0);
      for (const f of fills) {
        const action = f.buy || p.quantity.isZero() ? 'buy' : 'sell';
        const wanted = new Decimal(f.hundredths).div(100);
        const count = action === 'sell' ? Decimal.min(wanted, p.quantity) : wanted;
        const amounts = { action, count, price: new Decimal(f.cents).div(100), fee: new Decimal(f.feeCents).div(100) } as const;
        p = applyFill(p, amounts);
        cash = cash.plus(cashDelta(amounts));
      }
      // Money paid in = money still in the position − money realised (realized includes fees).
      expect(cash.negated().toFixed()).toBe(p.costBasis.minus(p.realizedPnl).toFixed());
      expect(p.costBasis.isNegative()).toBe(false);
      expect(p.costBasis.decimalPlaces()).toBeLessThanOrEqual(6);
      expect(p.quantity.decimalPlaces()).toBeLessThanOrEqual(2);
    }), { numRuns: 300 });
  });
});

describe('position math input checks', () => {
  it.each<[string, unknown]>([
    ['a count that is not a Decimal', 5],
    ['an infinite count', new Decimal(Infinity)],
    ['a NaN count', new Decimal(NaN)],
    ['a zero count', dec('0')],
    ['a negative count', dec('-1')],
  ])('refuses a fill with %s', (_, count) => {
    expect(() => applyFill(EMPTY_POSITION, { action: 'buy', count: count as Decimal, price: dec('0.5'), fee: dec('0') }))
      .toThrow(/fill count must be a positive count with at most 2 decimals/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { parseEach } from '../../shared/http/parse';
import { toMarketSnapshot } from '../../shared/ingestion/kalshiHierarchy';
import { kalshiEvent, kalshiMarket } from '../../shared/venues/kalshi/schemas';
import { gammaMarketSchema, toHierarchy } from '../../shared/venues/polymarket/gamma';
import { kalshiEventPayload, kalshiMarketPayload } from '../fixtures/kalshi';

/**
 * Mutation fuzzing of the exchange parsers: start from a valid payload, break it at random
 * (drop fields, retype them, corrupt prices and counts, add junk), and require that the parser
 * never throws and always either accepts a record whose invariants hold or rejects it with a
 * field path and a reason.
 */

const junk = fc.oneof(
  fc.constant(null), fc.constant(undefined), fc.boolean(), fc.integer(), fc.double(), fc.string(),
  fc.constantFrom('1.2', '-0.01', '0.12345', 'NaN', '1e3', '', ' 0.5', '0x10', '١٢', '0.5000', '100', '99.99', '2026-13-45T00:00:00Z'),
  fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }),
);

type Mutation = { kind: 'delete' | 'set' | 'add'; key: string; value?: unknown };

function mutations(keys: readonly string[]) {
  return fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...keys), value: junk }),
      fc.record({ kind: fc.constant('add' as const), key: fc.string({ minLength: 1, maxLength: 12 }), value: junk }),
    ),
    { minLength: 0, maxLength: 4 },
  );
}

function mutate<T extends object>(base: T, list: Mutation[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const m of list) {
    if (m.kind === 'delete') delete copy[m.key];
    else copy[m.key] = m.value;
  }
  return copy;
}

const inUnitRange = (d: Decimal | null) => d === null || (Decimal.isDecimal(d) && d.gte(0) && d.lte(1));

describe('parser fuzzing (10,000 mutated payloads each)', () => {
  const marketKeys = Object.keys(kalshiMarketPayload());

  it('Kalshi markets: accepted with valid prices, or rejected with a path and reason; never a crash', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(mutations(marketKeys), (list) => {
        const payload = mutate(kalshiMarketPayload(), list);
        const result = parseEach('kalshi market', kalshiMarket, [payload], 'markets', 'ticker');
        expect(result.items.length + result.rejected.length).toBe(1);
        if (result.items.length === 1) {
          accepted++;
          const m = result.items[0]!;
          expect(typeof m.ticker).toBe('string');
          expect(m.ticker.length).toBeGreaterThan(0);
          for (const price of [m.yesBid, m.yesAsk, m.noBid, m.noAsk, m.lastPrice, m.settlementValue]) expect(inUnitRange(price)).toBe(true);
          expect(m.volume === null || Number.isSafeInteger(m.volume)).toBe(true);
          // The mapping either stores it or rejects it with a reason; it never throws.
          const snapshot = toMarketSnapshot(m);
          if ('reject' in snapshot) expect(snapshot.reject).not.toBe('');
          else expect(inUnitRange(snapshot.spread ?? null)).toBe(true);
        } else {
          rejected++;
          const r = result.rejected[0]!;
          expect(r.path).toMatch(/^markets\[0\]/);
          expect(r.reason).toMatch(/^kalshi market: .+/);
        }
      }),
      { numRuns: 10_000, seed: 20261127 },
    );
    // The fuzzer exercised both outcomes.
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it('Kalshi events: same contract', () => {
    const base = kalshiEventPayload([kalshiMarketPayload()]);
    fc.assert(
      fc.property(mutations(Object.keys(base)), (list) => {
        const result = parseEach('kalshi event', kalshiEvent, [mutate(base, list)], 'events', 'event_ticker');
        expect(result.items.length + result.rejected.length).toBe(1);
        for (const r of result.rejected) expect(r.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 10_000, seed: 7 },
    );
  });

  it('Polymarket Gamma markets: same contract, through the hierarchy mapping', () => {
    const base = {
      id: '512345', conditionId: '0xabc', slug: 'chiefs-vs-cowboys', question: 'Will the Chiefs beat the Cowboys?',
      outcomes: '["Yes","No"]', outcomePrices: '["0.61","0.39"]', clobTokenIds: '["1","2"]', volume: '15234.5',
      liquidity: '3200.25', endDate: '2026-11-28T04:00:00Z', active: true, closed: false,
    };
    fc.assert(
      fc.property(mutations(Object.keys(base)), (list) => {
        const result = parseEach('polymarket-gamma', gammaMarketSchema, [mutate(base, list)], 'markets', 'id');
        expect(result.items.length + result.rejected.length).toBe(1);
        if (result.items.length === 1) {
          const mapped = toHierarchy(result.items);
          expect(mapped.markets.length + mapped.rejected.length).toBe(1);
          for (const m of mapped.markets) expect(inUnitRange(m.yesPrice ?? null) && inUnitRange(m.noPrice ?? null)).toBe(true);
        } else {
          expect(result.rejected[0]!.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 10_000, seed: 99 },
    );
  });
});

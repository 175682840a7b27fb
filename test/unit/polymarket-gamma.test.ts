import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Decimal } from '../../shared/domain/decimal';
import { parseEach } from '../../shared/http/parse';
import {
  NOT_BINARY,
  UNCATEGORIZED_SERIES_ID,
  gammaMarketSchema,
  toHierarchy,
  type GammaMarket,
} from '../../shared/venues/polymarket/gamma';

const fixture = (name: string): unknown[] =>
  JSON.parse(readFileSync(new URL(`../fixtures/polymarket/${name}`, import.meta.url), 'utf8')) as unknown[];

/** A documented Gamma market, raw (as the API sends it). */
function rawMarket(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '600001',
    conditionId: '0xabc',
    slug: 'will-it-rain-in-london-tomorrow',
    question: 'Will it rain in London tomorrow?',
    outcomes: '["Yes", "No"]',
    outcomePrices: '["0.61", "0.39"]',
    clobTokenIds: '["111", "222"]',
    volume: '1234.99',
    liquidity: '500.5000',
    endDate: '2025-06-01T12:00:00Z',
    active: true,
    closed: false,
    ...overrides,
  };
}

function parse(raw: Record<string, unknown>): GammaMarket {
  return gammaMarketSchema.parse(raw);
}

describe('gammaMarketSchema', () => {
  it('decodes the JSON-encoded arrays and keeps prices exact', () => {
    const m = parse(rawMarket());
    expect(m.outcomes).toEqual(['Yes', 'No']);
    expect(m.outcomePrices.map((p) => p.toFixed())).toEqual(['0.61', '0.39']);
    expect(m.outcomePrices.every((p) => Decimal.isDecimal(p))).toBe(true);
    expect(m.clobTokenIds).toEqual(['111', '222']);
    expect(m.volume).toBe(1234);
    expect(m.liquidity).toBe('500.5');
    expect(m.endDate?.toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(m.events).toEqual([]);
  });

  it('accepts unknown extra fields (and drops them)', () => {
    const m = parse(rawMarket({ image: 'x.png', volumeNum: 1234.99, spread: 0.01, umaBond: '500', events: [{ id: '1', ticker: 't', series: [{ id: '2', recurrence: 'daily' }] }] }));
    expect(m.id).toBe('600001');
    expect(m).not.toHaveProperty('image');
    expect(m.events[0]).toMatchObject({ id: '1', series: [{ id: '2' }] });
  });

  it.each([
    { name: 'volume as a number is floored', field: { volume: 15234.9 }, volume: 15234, liquidity: '500.5' },
    { name: 'liquidity as a number becomes text', field: { liquidity: 8000.25 }, volume: 1234, liquidity: '8000.25' },
    { name: 'volume and liquidity absent', field: { volume: undefined, liquidity: undefined }, volume: undefined, liquidity: undefined },
    { name: 'volume and liquidity null', field: { volume: null, liquidity: null }, volume: undefined, liquidity: undefined },
  ])('amounts: $name', ({ field, volume, liquidity }) => {
    const m = parse(rawMarket(field));
    expect(m.volume).toBe(volume);
    expect(m.liquidity).toBe(liquidity);
  });

  it.each([
    { name: 'outcomes not JSON', field: { outcomes: '["Yes", "No"' }, path: 'markets[0].outcomes', reason: /not a JSON-encoded array \(invalid JSON/ },
    { name: 'outcomePrices not JSON', field: { outcomePrices: "['0.61','0.39']" }, path: 'markets[0].outcomePrices', reason: /not a JSON-encoded array \(invalid JSON/ },
    { name: 'outcomePrices decodes to an object', field: { outcomePrices: '{"yes":"0.61"}' }, path: 'markets[0].outcomePrices', reason: /decodes to object/ },
    { name: 'outcomePrices holds JSON numbers', field: { outcomePrices: '[0.61, 0.39]' }, path: 'markets[0].outcomePrices[0]', reason: /expected a decimal string, received number/ },
    { name: 'outcomePrices holds garbage', field: { outcomePrices: '["0.61", "n/a"]' }, path: 'markets[0].outcomePrices[1]', reason: /not a decimal number/ },
    { name: 'outcomePrices not a string', field: { outcomePrices: ['0.61', '0.39'] }, path: 'markets[0].outcomePrices', reason: /expected string/ },
    { name: 'price count differs from outcome count', field: { outcomePrices: '["0.61"]' }, path: 'markets[0].outcomePrices', reason: /1 prices for 2 outcomes/ },
    { name: 'clobTokenIds not JSON', field: { clobTokenIds: '[111, ' }, path: 'markets[0].clobTokenIds', reason: /invalid JSON/ },
    { name: 'clobTokenIds hold numbers', field: { clobTokenIds: '[111, 222]' }, path: 'markets[0].clobTokenIds[0]', reason: /expected string/ },
    { name: 'negative volume', field: { volume: '-5' }, path: 'markets[0].volume', reason: /non-negative/ },
    { name: 'endDate not ISO', field: { endDate: 'next Tuesday' }, path: 'markets[0].endDate', reason: /not an ISO date/ },
    { name: 'active missing', field: { active: undefined }, path: 'markets[0].active', reason: /expected boolean/ },
    { name: 'numeric id', field: { id: 600001 }, path: 'markets[0].id', reason: /expected string/ },
    { name: 'event without id', field: { events: [{ slug: 'x' }] }, path: 'markets[0].events[0].id', reason: /expected string/ },
  ])('rejects $name with the field path', ({ field, path, reason }) => {
    const { items, rejected } = parseEach('polymarket-gamma', gammaMarketSchema, [rawMarket(field)], 'markets', 'id');
    expect(items).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.path).toBe(path);
    expect(rejected[0]!.reason).toMatch(reason);
    expect(rejected[0]!.reason).toMatch(/^polymarket-gamma: /);
  });

  it('parses the fixture pages, rejecting only the record with broken outcomePrices', () => {
    const list = [...fixture('markets-page-1.json'), ...fixture('markets-page-2.json'), ...fixture('markets-page-3.json')];
    const { items, rejected } = parseEach('polymarket-gamma', gammaMarketSchema, list, 'markets', 'id');
    expect(items.map((m) => m.id)).toEqual(['501001', '501002', '501003', '501005']);
    expect(rejected).toEqual([
      { at: 'markets[3]', id: '501004', path: 'markets[3].outcomePrices', reason: expect.stringMatching(/invalid JSON/) },
    ]);
  });
});

describe('toHierarchy', () => {
  it.each([
    { name: 'Yes/No', outcomes: '["Yes","No"]', prices: '["0.61","0.39"]', closed: false, active: true, yes: '0.61', no: '0.39', status: 'open', settlement: null },
    { name: 'No/Yes order, any case', outcomes: '["no","YES"]', prices: '["0.3","0.7"]', closed: false, active: true, yes: '0.7', no: '0.3', status: 'open', settlement: null },
    { name: '4 decimals', outcomes: '["Yes","No"]', prices: '["0.0005","0.9995"]', closed: false, active: true, yes: '0.0005', no: '0.9995', status: 'open', settlement: null },
    { name: 'trailing zeros', outcomes: '["Yes","No"]', prices: '["0.610000","0.390000"]', closed: false, active: true, yes: '0.61', no: '0.39', status: 'open', settlement: null },
    { name: 'exponent notation', outcomes: '["Yes","No"]', prices: '["6.1e-1","3.9E-1"]', closed: false, active: true, yes: '0.61', no: '0.39', status: 'open', settlement: null },
    { name: 'inactive, not closed', outcomes: '["Yes","No"]', prices: '["0.5","0.5"]', closed: false, active: false, yes: '0.5', no: '0.5', status: 'paused', settlement: null },
    { name: 'closed, unresolved', outcomes: '["Yes","No"]', prices: '["0.995","0.005"]', closed: true, active: true, yes: '0.995', no: '0.005', status: 'closed', settlement: null },
    { name: 'settled Yes', outcomes: '["Yes","No"]', prices: '["1","0"]', closed: true, active: true, yes: '1', no: '0', status: 'settled', settlement: '1' },
    { name: 'settled No', outcomes: '["No","Yes"]', prices: '["1.0000","0.0"]', closed: true, active: false, yes: '0', no: '1', status: 'settled', settlement: '0' },
    { name: 'Yes at 1 but not closed', outcomes: '["Yes","No"]', prices: '["1","0"]', closed: false, active: true, yes: '1', no: '0', status: 'open', settlement: null },
  ])('prices and status: $name', ({ outcomes, prices, closed, active, yes, no, status, settlement }) => {
    const { markets, rejected } = toHierarchy([parse(rawMarket({ outcomes, outcomePrices: prices, closed, active }))]);
    expect(rejected).toEqual([]);
    const m = markets[0]!;
    expect(Decimal.isDecimal(m.yesPrice)).toBe(true);
    expect(Decimal.isDecimal(m.noPrice)).toBe(true);
    expect(m.yesPrice!.toFixed()).toBe(yes);
    expect(m.noPrice!.toFixed()).toBe(no);
    expect(m.status).toBe(status);
    expect(m.settlementValue?.toFixed() ?? null).toBe(settlement);
    expect(m.spread).toBeNull();
    expect(m.marketType).toBe('binary');
  });

  it.each([
    { name: 'team names', outcomes: '["Celtics","Lakers"]', prices: '["0.57","0.43"]' },
    { name: 'three outcomes', outcomes: '["Yes","No","Maybe"]', prices: '["0.5","0.3","0.2"]' },
    { name: 'one outcome', outcomes: '["Yes"]', prices: '["0.5"]' },
    { name: 'Yes twice', outcomes: '["Yes","yes"]', prices: '["0.5","0.5"]' },
    { name: 'Over/Under', outcomes: '["Over","Under"]', prices: '["0.5","0.5"]' },
  ])('rejects a non-binary market: $name', ({ outcomes, prices }) => {
    const { series, events, markets, rejected } = toHierarchy([parse(rawMarket({ outcomes, outcomePrices: prices }))]);
    expect(markets).toEqual([]);
    expect(series).toEqual([]);
    expect(events).toEqual([]);
    expect(rejected).toEqual([{ at: 'markets[0]', id: '600001', path: 'markets[0].outcomes', reason: NOT_BINARY }]);
  });

  it.each([
    { name: '5 decimals', prices: '["0.61234","0.38766"]', path: 'markets[0].outcomePrices[0]', reason: /Yes price 0\.61234 / },
    { name: 'above 1', prices: '["1.5","0.39"]', path: 'markets[0].outcomePrices[0]', reason: /Yes price 1\.5 / },
    { name: 'negative No', prices: '["0.61","-0.01"]', path: 'markets[0].outcomePrices[1]', reason: /No price -0\.01 / },
    { name: 'tiny exponent', prices: '["0.5","1e-5"]', path: 'markets[0].outcomePrices[1]', reason: /No price 0\.00001 / },
  ])('rejects a price outside DECIMAL(10,4) 0..1: $name', ({ prices, path, reason }) => {
    const { markets, rejected } = toHierarchy([parse(rawMarket({ outcomePrices: prices }))]);
    expect(markets).toEqual([]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ at: 'markets[0]', id: '600001', path });
    expect(rejected[0]!.reason).toMatch(reason);
    expect(rejected[0]!.reason).toMatch(/not a price in 0\.\.1 with at most 4 decimals/);
  });

  it('maps a market without an event onto a per-market event in the uncategorized series', () => {
    const { series, events, markets } = toHierarchy([parse(rawMarket({ category: 'Weather' }))]);
    expect(series).toEqual([
      { seriesId: UNCATEGORIZED_SERIES_ID, platformId: 'polymarket', externalId: 'uncategorized', category: 'other', subcategory: null, title: 'Uncategorized', frequency: null, metadata: null },
    ]);
    expect(events).toEqual([
      {
        eventId: 'polymarket:market-600001', platformId: 'polymarket', seriesId: UNCATEGORIZED_SERIES_ID, externalId: 'market-600001',
        category: 'weather', subcategory: null, title: 'Will it rain in London tomorrow?', description: null, startTime: null,
        endTime: new Date('2025-06-01T12:00:00Z'), status: null, result: null, metadata: { slug: 'will-it-rain-in-london-tomorrow', synthetic: true },
      },
    ]);
    expect(markets).toEqual([
      {
        marketId: 'polymarket:600001', platformId: 'polymarket', eventId: 'polymarket:market-600001', externalId: '600001',
        ticker: 'will-it-rain-in-london-tomorrow', title: 'Will it rain in London tomorrow?', marketType: 'binary',
        yesPrice: new Decimal('0.61'), noPrice: new Decimal('0.39'), volume: 1234, openInterest: null, spread: null,
        status: 'open', settlementValue: null,
        metadata: { slug: 'will-it-rain-in-london-tomorrow', conditionId: '0xabc', clobTokenIds: ['111', '222'], liquidity: '500.5', endDate: '2025-06-01T12:00:00.000Z' },
      },
    ]);
  });

  it('metadata holds nulls for absent optional fields', () => {
    const { markets } = toHierarchy([parse(rawMarket({ clobTokenIds: undefined, liquidity: null, endDate: undefined, volume: undefined }))]);
    expect(markets[0]!.metadata).toEqual({ slug: 'will-it-rain-in-london-tomorrow', conditionId: '0xabc', clobTokenIds: null, liquidity: null, endDate: null });
    expect(markets[0]!.volume).toBeNull();
  });

  it.each([
    {
      name: 'NFL series slug → sports/nfl',
      events: [{ id: '7', slug: 'kc-buf', title: 'Chiefs vs. Bills', series: [{ id: '10187', slug: 'nfl', title: 'NFL' }] }],
      seriesId: 'polymarket:nfl', seriesTitle: 'NFL', category: 'sports', subcategory: 'nfl',
    },
    {
      name: 'college football series → sports/ncaaf',
      events: [{ id: '7', series: [{ id: '10210', slug: 'cfb', title: 'College Football' }] }],
      seriesId: 'polymarket:cfb', seriesTitle: 'College Football', category: 'sports', subcategory: 'ncaaf',
    },
    {
      name: 'series without slug → id',
      events: [{ id: '7', category: 'Politics', series: [{ id: '42' }] }],
      seriesId: 'polymarket:42', seriesTitle: '42', category: 'politics', subcategory: null,
    },
    {
      name: 'event without series, league in event slug',
      events: [{ id: '7', slug: 'nba-bos-lal-2025-01-23', title: 'Celtics vs. Lakers' }],
      seriesId: UNCATEGORIZED_SERIES_ID, seriesTitle: 'Uncategorized', category: 'sports', subcategory: 'nba',
    },
    {
      name: "category 'polymarket' is ignored",
      events: [{ id: '7', category: 'Polymarket', series: [{ id: '9', slug: 'misc' }] }],
      seriesId: 'polymarket:misc', seriesTitle: 'misc', category: 'other', subcategory: null,
    },
  ])('series, event and category: $name', ({ events: gammaEvents, seriesId, seriesTitle, category, subcategory }) => {
    const { series, events, markets } = toHierarchy([parse(rawMarket({ events: gammaEvents }))]);
    expect(series).toHaveLength(1);
    expect(series[0]).toMatchObject({ seriesId, title: seriesTitle, platformId: 'polymarket' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ eventId: 'polymarket:7', externalId: '7', seriesId, category, subcategory });
    expect(markets[0]!.eventId).toBe('polymarket:7');
  });

  it('maps the fixtures: deduplicated series and events, exact prices, settlement', () => {
    const list = [...fixture('markets-page-1.json'), ...fixture('markets-page-2.json'), ...fixture('markets-page-3.json')];
    const parsed = parseEach('polymarket-gamma', gammaMarketSchema, list, 'markets', 'id');
    const { series, events, markets, rejected } = toHierarchy(parsed.items);

    expect(rejected).toEqual([{ at: 'markets[2]', id: '501003', path: 'markets[2].outcomes', reason: NOT_BINARY }]);
    expect(series.map((s) => s.seriesId)).toEqual(['polymarket:nfl', UNCATEGORIZED_SERIES_ID]);
    expect(series[0]).toMatchObject({ externalId: '10187', category: 'sports', subcategory: 'nfl', title: 'NFL' });
    expect(events.map((e) => [e.eventId, e.seriesId, e.category])).toEqual([
      ['polymarket:16085', 'polymarket:nfl', 'sports'],
      ['polymarket:market-501005', UNCATEGORIZED_SERIES_ID, 'economics'],
    ]);
    expect(events[0]).toMatchObject({ title: 'Chiefs vs. Bills', startTime: new Date('2025-01-20T15:00:00Z'), endTime: new Date('2025-01-26T23:30:00Z') });

    expect(markets.map((m) => [m.marketId, m.yesPrice!.toFixed(), m.noPrice!.toFixed(), m.volume, m.status, m.settlementValue?.toFixed() ?? null])).toEqual([
      ['polymarket:501001', '0.61', '0.39', 2345678, 'open', null],
      ['polymarket:501002', '0.4475', '0.5525', 15234, 'open', null],
      ['polymarket:501005', '1', '0', 8123456, 'settled', '1'],
    ]);
    expect(markets[0]!.metadata).toMatchObject({ liquidity: '125430.5521', endDate: '2025-01-26T23:30:00.000Z' });
    expect((markets[0]!.metadata!.clobTokenIds as string[])[0]).toBe('71321045679252212594626385532706912750332728571942532289631379312455583992563');
  });

  it('is pure: the same input maps to the same output', () => {
    const input = [parse(rawMarket())];
    expect(toHierarchy(input)).toEqual(toHierarchy(input));
  });
});

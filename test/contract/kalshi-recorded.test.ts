import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseStrict } from '../../shared/http/parse';
import { kalshiMarket } from '../../shared/venues/kalshi/schemas';
import { dollarAmount, kalshiBalance, kalshiFill, kalshiOrder, kalshiPosition } from '../../shared/venues/kalshi/tradingSchemas';
import { decimalString } from '../../shared/validation/decimals';
import { expectExact, inYesTerms, recorded, recordedFiles } from './recorded';

/**
 * Real Kalshi responses, recorded by other people from their own accounts (see
 * test/fixtures/kalshi-recorded/SOURCES.md), through Precog's own parsers, with the exact Decimal
 * value of every amount. Our simulator and our hand-written fixtures once shared an outdated
 * belief about Kalshi (4-decimal amounts, whole-contract fills, direction read from `side`):
 * these files are what the venue really sends.
 *
 * The order, fill, position and settlement cases need the parsers of branch `qty` (6-decimal
 * amounts, fractional counts as Decimal, direction from outcome_side/book_side): they fail on a
 * tree without it. The balance and market cases pass on main already. The V2 create reply has
 * its own file (kalshi-recorded-v2.test.ts), wired to branch `kalshi`'s parser at merge.
 */

/** Files covered by this file or by kalshi-recorded-v2.test.ts: a new recording must get a test. */
const COVERED = [
  'balance.json', 'create-order-v1-executed.json', 'create-order-v2-filled.json', 'create-order-v2-unfilled.json',
  'fill-fractional-maker.json', 'fills.json', 'market-deci-cent.json', 'market-linear-cent.json',
  'order-list-element.json', 'positions.json', 'settlements.json',
];

describe('recorded Kalshi responses', () => {
  it('every recorded file is replayed by a contract test and named in SOURCES.md', () => {
    expect(recordedFiles()).toEqual([...COVERED].sort());
  });
});

describe('orders (kalshiOrder)', () => {
  it('a V1 create reply of May 2026: 6-decimal fees and costs, counts as Decimal, a NO buy', () => {
    const body = recorded<{ order: unknown }>('create-order-v1-executed.json');
    const order = parseStrict('recorded create-order-v1-executed.json', kalshiOrder, body.order, 'order');
    expect(order.venueOrderId).toBe('9ac7286c-6e3c-47b6-ad5c-188e0d7371ea');
    expect(order.clientOrderId).toBe('debut-fade-KXSOL15M-26MAY241600-00-1779652454276-4291e6ee');
    expect(order.ticker).toBe('KXSOL15M-26MAY241600-00');
    expect(order.status).toBe('executed');
    expect(order.type).toBe('limit');
    expectExact(order.initialCount, '6', 'initialCount');
    expectExact(order.filledCount, '6', 'filledCount');
    expectExact(order.remainingCount, '0', 'remainingCount');
    expectExact(order.takerFees, '0.06', 'taker_fees_dollars "0.060000"');
    expectExact(order.takerFillCost, '0.9', 'taker_fill_cost_dollars "0.900000"');
    expectExact(order.makerFees, '0', 'maker_fees_dollars "0.000000"');
    expectExact(order.makerFillCost, '0', 'maker_fill_cost_dollars "0.000000"');
    // outcome_side no + book_side ask: six NO contracts bought at 0.17 (the YES book at 0.83).
    expect(inYesTerms({ ...order, price: order.limitPrice }, order.filledCount)).toEqual({ yesContracts: '-6', yesPrice: '0.83' });
    expect(order.createdAt?.toISOString()).toBe('2026-05-24T19:54:14.742Z');
  });

  it('an order-list element (a market sell, no client order id): the YES holding it sold, 6-decimal fees', () => {
    const order = parseStrict('recorded order-list-element.json', kalshiOrder, recorded('order-list-element.json'), 'orders[0]');
    expect(order.venueOrderId).toBe('7973a122-3cc8-40ce-a857-00fbf2043f18');
    expect(order.clientOrderId).toBe('');
    expect(order.type).toBe('market');
    expect(order.status).toBe('executed');
    expectExact(order.filledCount, '7', 'filledCount');
    expectExact(order.remainingCount, '0', 'remainingCount');
    expectExact(order.takerFees, '0.12', 'taker_fees_dollars "0.120000"');
    expectExact(order.takerFillCost, '2.66', 'taker_fill_cost_dollars "2.660000"');
    // side "yes" + action "sell" and outcome_side "no" + book_side "ask" agree here: 7 YES sold at 0.01.
    expect(inYesTerms({ ...order, price: order.limitPrice }, order.filledCount)).toEqual({ yesContracts: '-7', yesPrice: '0.01' });
  });
});

describe('fills (kalshiFill)', () => {
  const body = recorded<{ payload: { fills: unknown[] } }>('fills.json');
  const expected = [
    { id: '00000000-0000-4000-8000-000000000000', count: '227.27', yes: '227.27', yesPrice: '0.001', fee: '0.01593' },
    { id: '00000000-0000-4000-8000-000000000003', count: '90.9', yes: '90.9', yesPrice: '0.001', fee: '0.0064' },
    { id: '00000000-0000-4000-8000-000000000012', count: '28.32', yes: '28.32', yesPrice: '0.033', fee: '0.06334' },
    { id: '00000000-0000-4000-8000-000000000018', count: '4.15', yes: '4.15', yesPrice: '0.228', fee: '0.0512' },
    { id: '00000000-0000-4000-8000-000000000030', count: '15', yes: '15', yesPrice: '0.74', fee: '0.2021' },
    { id: '00000000-0000-4000-8000-000000000054', count: '10', yes: '-10', yesPrice: '0.84', fee: '0.0941' },
    { id: '00000000-0000-4000-8000-000000000057', count: '20', yes: '-20', yesPrice: '0.85', fee: '0.1785' },
  ];

  it('a page of real fills: fractional counts, 0.1¢ prices and 6-decimal fees, exactly', () => {
    expect(body.payload.fills).toHaveLength(expected.length);
    body.payload.fills.forEach((raw, i) => {
      const fill = parseStrict('recorded fills.json', kalshiFill, raw, `fills[${i}]`);
      const want = expected[i]!;
      expect(fill.fillId).toBe(want.id);
      expectExact(fill.count, want.count, `fills[${i}].count_fp`);
      expectExact(fill.fee, want.fee, `fills[${i}].fee_cost`);
      expect(inYesTerms(fill, fill.count), `fills[${i}] direction`).toEqual({ yesContracts: want.yes, yesPrice: want.yesPrice });
      expect(fill.isTaker).toBe(true);
      expect(fill.createdAt.toISOString()).toMatch(/^2026-08-1[68]T0\d:00:00\.000Z$/);
    });
  });

  it('a fractional maker fill (2.97) whose deprecated side/action say the opposite of outcome_side/book_side', () => {
    const fill = parseStrict('recorded fill-fractional-maker.json', kalshiFill, recorded('fill-fractional-maker.json'), 'fills[0]');
    expect(fill.fillId).toBe('9a499d1c-c837-67c7-7c55-67fe7c848451');
    expect(fill.venueOrderId).toBe('849c8d28-6072-4fdd-8985-affa0f5ca7a1');
    expect(fill.ticker).toBe('KXUST10AD-26JUL30-T4.73');
    expectExact(fill.count, '2.97', 'count_fp "2.97"');
    expectExact(fill.fee, '0', 'fee_cost "0.000000"');
    expect(fill.isTaker).toBe(false);
    // book_side "ask": the resting ask on the YES book at 0.13 was hit, so the account acquired
    // 2.97 NO (at 0.87). Reading "side: no, action: sell" instead would add 2.97 YES.
    expect(inYesTerms(fill, fill.count)).toEqual({ yesContracts: '-2.97', yesPrice: '0.13' });
    expect(fill.createdAt.toISOString()).toBe('2026-07-30T04:39:40.458Z');
  });
});

describe('positions (kalshiPosition)', () => {
  it('GET /portfolio/positions: 6-decimal realized P&L and fees, exactly', () => {
    const body = recorded<{ market_positions: unknown[] }>('positions.json');
    const positions = body.market_positions.map((raw, i) => parseStrict('recorded positions.json', kalshiPosition, raw, `market_positions[${i}]`));
    expect(positions.map((p) => p.ticker)).toEqual(['KXUSTESTSREADING-26-SD', 'KXAISPIKE-26B-1550', 'KXCODINGMODEL-26DEC-GOOG']);
    const want = [
      { realized: '-0.14', fees: '0.24' },
      { realized: '-25.6719', fees: '1.4481' },
      { realized: '-1.74', fees: '0.47' },
    ];
    positions.forEach((p, i) => {
      expectExact(p.position, '0', `market_positions[${i}].position_fp`);
      expectExact(p.exposure, '0', `market_positions[${i}].market_exposure_dollars`);
      expectExact(p.realizedPnl, want[i]!.realized, `market_positions[${i}].realized_pnl_dollars`);
      expectExact(p.feesPaid, want[i]!.fees, `market_positions[${i}].fees_paid_dollars`);
    });
  });
});

describe('balance (kalshiBalance)', () => {
  it('GET /portfolio/balance: balance_dollars wins over the integer cents, exactly', () => {
    const balance = parseStrict('recorded balance.json', kalshiBalance, recorded('balance.json'));
    // "21.4120" dollars; the integer field (2141 cents) truncates the sub-cent part.
    expectExact(balance, '21.412', 'balance_dollars "21.4120"');
  });
});

describe('settlements', () => {
  // Precog has no settlement parser yet (branch `kalshi` adds the live cross-check); the amounts
  // go through the same field parsers the trading schemas use.
  const settlement = z.object({
    ticker: z.string().min(1),
    market_result: z.enum(['yes', 'no', 'scalar', 'void']),
    yes_count_fp: decimalString,
    no_count_fp: decimalString,
    yes_total_cost_dollars: dollarAmount,
    no_total_cost_dollars: dollarAmount,
    fee_cost: dollarAmount,
    revenue: z.number().int().nonnegative(),
  });

  it('GET /portfolio/settlements: 6-decimal costs and fees, a fractional count, exactly', () => {
    const body = recorded<{ payload: { settlements: unknown[] } }>('settlements.json');
    const rows = body.payload.settlements.map((raw, i) => parseStrict('recorded settlements.json', settlement, raw, `settlements[${i}]`));
    const want = [
      { result: 'no', yes: '10', no: '0', yesCost: '0.4', noCost: '0', fee: '0.0269', revenue: 0 },
      { result: 'yes', yes: '15', no: '0', yesCost: '11.1', noCost: '0', fee: '0.2021', revenue: 1500 },
      { result: 'no', yes: '0', no: '10', yesCost: '0', noCost: '1.6', fee: '0.0941', revenue: 1000 },
      { result: 'yes', yes: '0', no: '20', yesCost: '0', noCost: '3', fee: '0.1785', revenue: 0 },
      { result: 'no', yes: '11.27', no: '0', yesCost: '3.0429', noCost: '0', fee: '0.0778', revenue: 0 },
    ];
    expect(rows).toHaveLength(want.length);
    rows.forEach((r, i) => {
      const w = want[i]!;
      expect(r.market_result).toBe(w.result);
      expectExact(r.yes_count_fp, w.yes, `settlements[${i}].yes_count_fp`);
      expectExact(r.no_count_fp, w.no, `settlements[${i}].no_count_fp`);
      expectExact(r.yes_total_cost_dollars, w.yesCost, `settlements[${i}].yes_total_cost_dollars`);
      expectExact(r.no_total_cost_dollars, w.noCost, `settlements[${i}].no_total_cost_dollars`);
      expectExact(r.fee_cost, w.fee, `settlements[${i}].fee_cost`);
      // revenue is integer cents: a winning contract pays $1.
      expect(r.revenue).toBe((w.result === 'yes' ? Number(w.yes) : Number(w.no)) * 100);
    });
  });
});

describe('markets (kalshiMarket)', () => {
  const market = z.object({ market: kalshiMarket });

  it('a 1¢ game market (linear_cent): prices exactly, its price_ranges as recorded', () => {
    const body = recorded<{ market: { price_level_structure: string; price_ranges: unknown } }>('market-linear-cent.json');
    const m = parseStrict('recorded market-linear-cent.json', market, body).market;
    expect(m.ticker).toBe('KXNCAAFGAME-26SEP19MSUND-ND');
    expect(m.status).toBe('active');
    expectExact(m.yesBid, '0.89', 'yes_bid_dollars');
    expectExact(m.yesAsk, '0.94', 'yes_ask_dollars');
    expectExact(m.noBid, '0.06', 'no_bid_dollars');
    expectExact(m.noAsk, '0.11', 'no_ask_dollars');
    expectExact(m.lastPrice, '0.95', 'last_price_dollars');
    // What the tick-size work (branch `tick`) reads: one band, 0 to 1 in steps of a cent.
    expect(body.market.price_level_structure).toBe('linear_cent');
    expect(body.market.price_ranges).toEqual([{ start: '0.0000', end: '1.0000', step: '0.0100' }]);
  });

  it('a 0.1¢ market (deci_cent): three-decimal prices exactly', () => {
    const m = parseStrict('recorded market-deci-cent.json', market, recorded('market-deci-cent.json')).market;
    expect(m.ticker).toBe('KXGDPSHAREMANU-29');
    expectExact(m.yesBid, '0.111', 'yes_bid_dollars "0.1110"');
    expectExact(m.yesAsk, '0.197', 'yes_ask_dollars "0.1970"');
    expectExact(m.noBid, '0.803', 'no_bid_dollars "0.8030"');
    expectExact(m.noAsk, '0.889', 'no_ask_dollars "0.8890"');
    expectExact(m.lastPrice, '0.198', 'last_price_dollars "0.1980"');
  });
});

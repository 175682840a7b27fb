import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, dec } from '../../shared/domain/decimal';
import { ACCOUNT_BALANCE, versionedUpsert } from '../../shared/db';
import { withTransaction } from '../../shared/db/transaction';
import { StaticBookSource } from '../../shared/exchange/paper/bookSources';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { VenueFill } from '../../shared/exchange/types';
import { applyVenueUpdate, lockOrder } from '../../shared/execution/ledger';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { createTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy, seedMarkets } from '../helpers/seed';
import { qty } from '../../shared/domain/quantity';

/**
 * Precision: a thousand random trades (5 runs × 200) through the real path (orders row → paper
 * venue → fills → trades, positions and cash in one transaction) leave the books and the venue
 * agreeing to the cent, and both equal to the same sums worked out independently from the fills.
 * Prices have up to 4 decimals (Kalshi's sub-penny ticks), partial fills come from random depth,
 * sells close random parts of positions, and fees are rounded up per fill.
 */

const MARKETS = Array.from({ length: 6 }, (_, i) => `KXNFLGAME-25NOV27KCDAL-M${i}`);
/** One side per market: buying the other side would net at the venue (see reconcile docs). */
const sideOf = (market: number) => (market % 2 === 0 ? 'yes' : 'no') as 'yes' | 'no';
const STARTING = dec('1000000');

const tradeArb = fc.record({
  market: fc.integer({ min: 0, max: MARKETS.length - 1 }),
  buy: fc.boolean(),
  // 0.0001 … 0.9999: mostly whole cents, sometimes sub-penny.
  price: fc.oneof(
    fc.integer({ min: 1, max: 99 }).map((c) => new Decimal(c).div(100)),
    fc.integer({ min: 1, max: 9999 }).map((t) => new Decimal(t).div(10000)),
  ),
  // Precog orders whole contracts; the venue may fill a fraction of them (fractional depth).
  count: fc.integer({ min: 1, max: 300 }).map((n) => new Decimal(n)),
  // Contracts at the touch: often less than the order (a partial fill), sometimes unlimited.
  depth: fc.option(fc.oneof(
    fc.integer({ min: 1, max: 400 }).map((n) => new Decimal(n)),
    fc.integer({ min: 1, max: 40_000 }).map((h) => new Decimal(h).div(100)),
  ), { nil: null }),
});

const money = (d: Decimal) => d.toFixed(6);

type Trade = typeof tradeArb extends fc.Arbitrary<infer T> ? T : never;

async function runTrades(trades: Trade[]) {
  const db = await createTestDatabase();
  try {
    const pool = db.pool;
    await seedHierarchy(pool);
    await seedMarkets(pool, MARKETS.map((m) => marketSnapshot(m, '0.5')));
    await versionedUpsert(pool, ACCOUNT_BALANCE, [{ platform_id: 'kalshi', execution_mode: 'paper', currency: 'USD', balance: STARTING }]);

    let tick = Date.parse('2026-11-27T22:00:00Z');
    const books = new StaticBookSource();
    const exchange = new PaperExchange(pool, { books, startingBalance: STARTING, now: () => new Date(tick) });
    const allFills: VenueFill[] = [];
    let executed = 0;

    for (const [i, t] of trades.entries()) {
      const ticker = MARKETS[t.market]!;
      const side = sideOf(t.market);
      // What the books hold on this market (the venue must agree: checked at the end).
      const { rows: held } = await pool.query(
        `SELECT position_id, quantity FROM open_positions WHERE market_id = $1 AND side = $2`, [ticker, side],
      );
      const holding: Decimal = held[0]?.quantity ?? dec('0');
      const action = t.buy || holding.isZero() ? 'buy' : 'sell';
      const count = action === 'sell' ? Decimal.min(t.count, holding) : t.count;
      // A fresh snapshot with the touch at the trade's price, on the side the order takes.
      tick += 1000;
      const level = [{ price: t.price, count: t.depth }];
      const other = [{ price: dec('1').minus(t.price), count: t.depth }];
      const sideBook = action === 'buy' ? { asks: level, bids: [] } : { asks: [], bids: level };
      const otherBook = action === 'buy' ? { asks: [], bids: other } : { asks: other, bids: [] };
      const book: PaperBook = {
        ticker, at: new Date(tick), open: true,
        yes: side === 'yes' ? sideBook : otherBook,
        no: side === 'no' ? sideBook : otherBook,
      };
      books.set(book);

      const clientOrderId = `px-${i}-${Math.random().toString(36).slice(2, 10)}`;
      await pool.query(
        `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, side, action, order_type, limit_price, quantity,
                             execution_mode, position_id, time_in_force)
         VALUES ($1, $2, $3, 'kalshi', $4, $5, 'limit', $6, $7, 'paper', $8, 'immediate_or_cancel')`,
        [clientOrderId, action === 'buy' ? 'entry' : 'exit', ticker, side, action, t.price.toFixed(4), count.toFixed(),
          action === 'sell' ? held[0].position_id : null],
      );
      const venueOrder = await exchange.placeOrder({
        ticker, clientOrderId, side, action, count, type: 'limit', limitPrice: t.price, timeInForce: 'immediate_or_cancel',
      });
      const fills = venueOrder.filledCount.gt(0) ? await exchange.getFills({ venueOrderId: venueOrder.venueOrderId }) : [];
      allFills.push(...fills);
      await withTransaction(pool, async (client) => {
        const order = (await lockOrder(client, clientOrderId))!;
        const result = await applyVenueUpdate(client, order, venueOrder, fills);
        expect(result.filledQuantity.eq(venueOrder.filledCount)).toBe(true);
        expect(result.status).toBe(venueOrder.filledCount.eq(count) ? 'filled' : 'cancelled');
      });
      executed += fills.length;
    }

    // Independent arithmetic from the venue's fills.
    let cash = STARTING;
    let fees = dec('0');
    for (const f of allFills) {
      const notional = f.price.times(f.count);
      cash = f.action === 'buy' ? cash.minus(notional).minus(f.fee) : cash.plus(notional).minus(f.fee);
      fees = fees.plus(f.fee);
      // Fees are whole cents, never negative.
      expect(f.fee.decimalPlaces()).toBeLessThanOrEqual(2);
      expect(f.fee.isNegative()).toBe(false);
    }

    const { rows: [books_] } = await pool.query(`
      SELECT (SELECT balance FROM current_balances WHERE execution_mode = 'paper') AS balance,
             (SELECT coalesce(sum(fees), 0) FROM trades) AS trade_fees,
             (SELECT count(*)::int FROM trades) AS trades,
             (SELECT coalesce(sum(fees), 0) FROM positions WHERE row_current_ind) AS position_fees,
             (SELECT coalesce(sum(fee), 0) FROM paper_fills) AS venue_fees`);
    expect(books_.trades).toBe(executed);
    expect(money(books_.balance)).toBe(money(cash));
    expect(money(await exchange.getBalance())).toBe(money(cash));
    expect(money(books_.trade_fees)).toBe(money(fees));
    expect(money(books_.position_fees)).toBe(money(fees));
    expect(money(books_.venue_fees)).toBe(money(fees));

    // Per market: contracts, cost basis and realized P&L agree with the venue's position.
    const venue = new Map((await exchange.getPositions()).map((p) => [p.ticker, p]));
    const { rows: positions } = await pool.query(`
      SELECT market_id, side, sum(quantity) AS quantity, sum(cost_basis) AS cost_basis, sum(realized_pnl) AS realized
      FROM positions WHERE row_current_ind GROUP BY market_id, side`);
    for (const p of positions) {
      const v = venue.get(p.market_id);
      const signed: Decimal = p.side === 'yes' ? p.quantity : p.quantity.negated();
      expect((v?.position ?? dec('0')).toFixed()).toBe(signed.toFixed());
      if (p.quantity.gt(0)) expect(money(v!.exposure)).toBe(money(p.cost_basis));
    }
    // The books' realized P&L includes fees; the venue reports it before fees, and the fees apart.
    const realizedBooks = positions.reduce((s, p) => s.plus(p.realized), dec('0'));
    const { rows: [venueRealized] } = await pool.query('SELECT coalesce(sum(realized_pnl), 0) AS r, coalesce(sum(fees_paid), 0) AS f FROM paper_positions');
    expect(money(realizedBooks)).toBe(money(venueRealized.r.minus(venueRealized.f)));

    // Money in = money still in positions − money realised, for the whole account.
    const costBasis = positions.reduce((s, p) => s.plus(p.cost_basis), dec('0'));
    expect(money(STARTING.minus(cash))).toBe(money(costBasis.minus(realizedBooks)));

    // And reconciliation, comparing the two independently, finds nothing to complain about.
    const reconciled = await reconcileVenue({ pool, exchange });
    expect(reconciled.desyncs).toEqual([]);
    expect(reconciled.balance.difference).toBe('0.0000');
    return executed;
  } finally {
    await db.drop();
  }
}

describe('precision over 1,000 random trades', () => {
  it('positions, fees and balances reconcile to the cent between the books, the venue and the fills', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(tradeArb, { minLength: 200, maxLength: 200 }), async (trades) => {
        runs++;
        await runTrades(trades);
      }),
      { numRuns: 5, endOnFailure: true },
    );
    expect(runs).toBe(5); // 5 × 200 = 1,000 trades
  }, 300_000);
});

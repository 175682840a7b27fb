import { describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { StaticBookSource } from '../../shared/exchange/paper/bookSources';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { Exchange, VenuePosition } from '../../shared/exchange/types';
import { executeExit, type ExitOutcome } from '../../shared/execution/executeExit';
import { applyVenueUpdate, lockOrder } from '../../shared/execution/ledger';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { withTransaction } from '../../shared/db/transaction';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * Kalshi counts are fixed-point with 2 decimals since March 2026: a counterparty may fill 2.97 of
 * Precog's 5, and the account may hold a fraction elsewhere. Those are read, stored and
 * reconciled exactly, and an exit sells exactly what is held.
 */

const db = useDatabasePerTest({ poolMax: 10 });
const KC = `${GAME_EVENT}-KC`;

/** KC's book: YES asks at `ask` with `depth` contracts, YES bids at `bid` (NO mirrors them). */
function book(at: number, ask: string, depth: string | null, bid: string): PaperBook {
  const level = (price: string, count: string | null) => ({ price: dec(price), count: count === null ? null : dec(count) });
  return {
    ticker: KC, open: true, at: new Date(at),
    yes: { asks: [level(ask, depth)], bids: [level(bid, null)] },
    no: { asks: [level(dec('1').minus(bid).toFixed(), null)], bids: [level(dec('1').minus(ask).toFixed(), depth)] },
  };
}

async function buyIoc(exchange: Exchange, clientOrderId: string, count: string, price: string) {
  await db().pool.query(
    `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, side, action, order_type, limit_price, quantity, execution_mode, time_in_force)
     VALUES ($1, 'entry', $2, 'kalshi', 'yes', 'buy', 'limit', $3, $4, 'paper', 'immediate_or_cancel')`,
    [clientOrderId, KC, price, count],
  );
  const venueOrder = await exchange.placeOrder({
    ticker: KC, clientOrderId, side: 'yes', action: 'buy', count: dec(count), type: 'limit', limitPrice: dec(price), timeInForce: 'immediate_or_cancel',
  });
  const fills = await exchange.getFills({ venueOrderId: venueOrder.venueOrderId });
  return withTransaction(db().pool, async (client) => applyVenueUpdate(client, (await lockOrder(client, clientOrderId))!, venueOrder, fills));
}

describe('fractional quantities', () => {
  it('a fill of 2.97 of Precog\'s 5 is recorded exactly, and the exit sells exactly 2.97', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const books = new StaticBookSource([book(1_000, '0.60', '2.97', '0.58')]);
    const exchange = new PaperExchange(db().pool, { books, startingBalance: dec('10000') });

    const entry = await buyIoc(exchange, 'pc-fractional-entry', '5', '0.60');
    expect(entry.status).toBe('cancelled');
    expect(entry.filledQuantity.toFixed()).toBe('2.97');
    const { rows: [stored] } = await db().pool.query(
      `SELECT t.quantity::text AS trade_qty, t.fees::text AS trade_fees, p.quantity::text AS held, p.original_quantity::text AS original,
              p.cost_basis::text AS cost, o.filled_quantity::text AS filled, o.quantity::text AS ordered
       FROM trades t JOIN positions p ON p.position_id = t.position_id AND p.row_current_ind
       JOIN orders o ON o.client_order_id = t.client_order_id`,
    );
    // NUMERIC(12,2) round-trips 2.97; 2.97 × 0.60 = 1.782 exactly; fee ceil(0.07 × 2.97 × 0.24) = 0.05.
    expect(stored).toEqual({
      trade_qty: '2.97', trade_fees: '0.050000', held: '2.97', original: '2.97', cost: '1.782000', filled: '2.97', ordered: '5.00',
    });
    // The read side: NUMERIC arrives as an exact Decimal.
    const { rows: [read] } = await db().pool.query('SELECT quantity FROM positions WHERE row_current_ind');
    expect(read.quantity.eq(dec('2.97'))).toBe(true);
    // Books and venue agree on the fractional holding: no desync.
    expect((await exchange.getPositions()).map((p) => p.position.toFixed())).toEqual(['2.97']);
    const agreed = await reconcileVenue({ pool: db().pool, exchange });
    expect(agreed.errors).toEqual([]);
    expect(agreed.desyncs).toEqual([]);

    // The price falls through the stop loss: the exit sells everything held, the exact fraction.
    await quoteYes(db().pool, KC, 30, 32);
    books.set(book(2_000, '0.32', null, '0.30'));
    const queue = new MemoryExitQueue();
    const sweep = await sweepPositions({ pool: db().pool, queue });
    expect(sweep.exits).toHaveLength(1);
    expect(sweep.exits[0]!.quantity.toFixed()).toBe('2.97');
    const outcomes: ExitOutcome[] = [];
    for (let receive = 1; receive <= 5; receive++) {
      const outcome = await executeExit({ pool: db().pool, exchange }, queue.sent.at(-1)!, { receiveCount: receive });
      outcomes.push(outcome);
      if (outcome.outcome !== 'retry') break;
    }
    expect(outcomes.at(-1)).toMatchObject({ outcome: 'filled' });
    const { rows: [after] } = await db().pool.query(
      `SELECT p.quantity::text AS held, p.status, (SELECT sum(quantity_exited)::text FROM position_exits) AS exited,
              (SELECT quantity::text FROM trades WHERE side = 'sell') AS sold
       FROM positions p WHERE p.row_current_ind`,
    );
    expect(after).toEqual({ held: '0.00', status: 'closed', exited: '2.97', sold: '2.97' });
    // The paper venue agrees: nothing held, and reconciliation finds nothing to report.
    expect(await exchange.getPositions()).toEqual([]);
    const reconciled = await reconcileVenue({ pool: db().pool, exchange });
    expect(reconciled.errors).toEqual([]);
    expect(reconciled.desyncs).toEqual([]);
  });

  it('a fractional holding in another market of the account is reported as the venue shows it, and nothing breaks', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const paper = new PaperExchange(db().pool, { books: new StaticBookSource([book(1_000, '0.60', null, '0.58')]), startingBalance: dec('10000') });
    await buyIoc(paper, 'pc-whole-entry', '4', '0.60');
    const foreign: VenuePosition = { ticker: 'KXNBAGAME-26JAN01LALBOS-BOS', position: dec('-2.97'), exposure: dec('1.336500'), realizedPnl: dec('0'), feesPaid: dec('0.06') };
    // The account as the venue reports it: Precog's 4 KC YES plus a NO fraction placed elsewhere.
    const exchange: Exchange = new Proxy(paper, {
      get(target, property, receiver) {
        if (property === 'getPositions') return async () => [...(await target.getPositions()), foreign];
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.errors).toEqual([]);
    // Reconciliation's rule for a position the books do not have: an open position desync.
    expect(result.desyncs).toEqual([
      { ticker: foreign.ticker, marketId: null, kind: 'position', local: { net: '0' }, venue: { net: '-2.97' } },
    ]);
    const { rows } = await db().pool.query(`SELECT ticker, venue_value, local_value FROM venue_desyncs WHERE resolved_at IS NULL`);
    expect(rows).toEqual([{ ticker: foreign.ticker, venue_value: { net: '-2.97' }, local_value: { net: '0' } }]);
  });
  it('a sell YES fill reported as Kalshi may (outcome no, read as buy NO at 1 − p) is recorded as the order\'s sell at its own price', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    const exchange = new PaperExchange(db().pool, { books: new StaticBookSource([book(1_000, '0.60', null, '0.58')]), startingBalance: dec('10000') });
    const entry = await buyIoc(exchange, 'pc-yes-entry', '3', '0.60');
    await db().pool.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, position_id, side, action, order_type, limit_price, quantity, execution_mode, time_in_force)
       VALUES ('px-sell', 'exit', $1, 'kalshi', $2, 'yes', 'sell', 'limit', '0.58', '3', 'paper', 'immediate_or_cancel')`,
      [KC, entry.positionId],
    );
    const venueOrder = await exchange.placeOrder({
      ticker: KC, clientOrderId: 'px-sell', side: 'yes', action: 'sell', count: dec('3'), type: 'limit', limitPrice: dec('0.58'), timeInForce: 'immediate_or_cancel',
    });
    // Without the legacy side/action, outcome_side 'no' reads as a buy of NO at the NO price.
    const asKalshiMaySay = (await exchange.getFills({ venueOrderId: venueOrder.venueOrderId }))
      .map((f) => ({ ...f, side: 'no' as const, action: 'buy' as const, price: dec('1').minus(f.price) }));
    expect(asKalshiMaySay.every((f) => f.outcomeSide === 'no')).toBe(true);
    await withTransaction(db().pool, async (client) => applyVenueUpdate(client, (await lockOrder(client, 'px-sell'))!, venueOrder, asKalshiMaySay));
    const { rows } = await db().pool.query(`SELECT side, contract_side, price::text, quantity::text FROM trades WHERE client_order_id = 'px-sell'`);
    expect(rows).toEqual([{ side: 'sell', contract_side: 'yes', price: '0.5800', quantity: '3.00' }]);
    // A fill positioning the other way is not this order's: refused, nothing recorded.
    const wrongWay = asKalshiMaySay.map((f) => ({ ...f, fillId: `${f.fillId}-x`, outcomeSide: 'yes' as const }));
    await expect(withTransaction(db().pool, async (client) => applyVenueUpdate(client, (await lockOrder(client, 'px-sell'))!, venueOrder, wrongWay)))
      .rejects.toThrow(/positions for yes, but order px-sell \(sell yes\) positions for no/);
  });
});

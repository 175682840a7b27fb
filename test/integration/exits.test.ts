import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dec, Decimal } from '../../shared/domain/decimal';
import { kalshiFee } from '../../shared/domain/fees';
import { MarketRepository, QUERY_PATTERNS } from '../../shared/db';
import { StaticBookSource } from '../../shared/exchange/paper/bookSources';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { executeExit, type ExitOutcome } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import type { ExitOrderMessage } from '../../shared/queues/messages';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld, quoteYes } from '../helpers/scanWorld';
import { qty } from '../../shared/domain/quantity';

const db = useDatabasePerTest({ poolMax: 20 });

const KC = `${GAME_EVENT}-KC`;

/** The ingested market: YES bid and ask in cents (the NO side mirrors them). */
const quote = (yesBid: number, yesAsk: number) => quoteYes(db().pool, KC, yesBid, yesAsk);

/** Runs the exit message's attempts the way SQS redelivers it, the clock moving by each wait. */
async function runExit(exchange: PaperExchange, message: ExitOrderMessage, clock: { t: number }, between?: (attempt: number) => Promise<void>) {
  const outcomes: ExitOutcome[] = [];
  for (let receive = 1; receive <= 20; receive++) {
    const outcome = await executeExit({ pool: db().pool, exchange, now: () => new Date(clock.t) }, message, { receiveCount: receive });
    outcomes.push(outcome);
    if (outcome.outcome !== 'retry') return outcomes;
    // The orders' created_at comes from the database clock: never let the test clock lag it.
    clock.t = Math.max(clock.t, Date.now()) + outcome.afterSeconds * 1000;
    await between?.(receive);
  }
  throw new Error(`exit did not finish: ${JSON.stringify(outcomes)}`);
}

describe('the schema document\'s partial-exit example, end to end on the paper exchange', () => {
  it('100 @ 0.60 → 50 at 0.69, 25 at 0.75, 25 by trailing stop at 0.88: three exits, closed, exact realized P&L', async () => {
    const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(58, 60);
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, {
      marketId: KC, side: 'yes', quantity: 100, price: '0.60', strategyId: strategies[0]!.id, modelId: model.id,
    });
    const queue = new MemoryExitQueue();
    const clock = { t: Date.now() };
    const sweep = () => sweepPositions({ pool: db().pool, queue });

    // +15% at the bid: the first partial stage sells half the original quantity (MEDIUM: a limit
    // at the mid, 0.70, rests; after 30 s it walks 1¢ to 0.69 and fills).
    await quote(69, 71);
    const first = await sweep();
    expect(first.exits).toEqual([expect.objectContaining({ positionId, condition: 'partial_exit_target', priority: 'MEDIUM', quantity: 50, partialStage: 1 })]);
    const firstRun = await runExit(exchange, queue.sent.at(-1)!, clock);
    expect(firstRun.map((o) => o.outcome)).toEqual(['retry', 'filled']);
    // A sweep while nothing changed: no second request for the same stage.
    expect((await sweep()).exits).toEqual([]);

    // +25% (on what is held): the second stage, another quarter of the original.
    await quote(75, 77);
    const second = await sweep();
    expect(second.exits).toEqual([expect.objectContaining({ condition: 'partial_exit_target', priority: 'MEDIUM', quantity: 25, partialStage: 2 })]);
    await runExit(exchange, queue.sent.at(-1)!, clock);

    // The rest rides the trailing stop: the peak 0.90 sets the stop at 0.88 (distance 0.02)…
    await quote(90, 92);
    const high = await sweep();
    expect(high.exits).toEqual([]);
    const { rows: [riding] } = await db().pool.query('SELECT quantity, trailing_stop_state FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    expect(riding.quantity).toEqual(25);
    expect(riding.trailing_stop_state).toMatchObject({ active: true, peak_price: '0.9000', current_stop_price: '0.8800', current_distance: '0.0200' });
    // The corrected P&L query and the open_positions view show the monitor's fields.
    const { rows: [pnl] } = await db().pool.query(QUERY_PATTERNS.positionPnlWithTrailingStop);
    expect(pnl).toMatchObject({ position_id: positionId, quantity: 25, trailing_stop_active: true });
    expect(pnl.current_stop_price.toFixed(4)).toBe('0.8800');
    expect(pnl.trailing_peak_price.toFixed(4)).toBe('0.9000');
    expect(pnl.total_cost.toFixed(4)).toBe('60.0000');
    expect(pnl.unrealized_pnl_now.toFixed(4)).toBe('7.5000'); // 25 × 0.90 − 25 × 0.60
    const { rows: [view] } = await db().pool.query('SELECT current_price::text, unrealized_pnl::text, unrealized_pnl_pct::text, last_update, exit_reason, exit_priority FROM open_positions WHERE position_id = $1', [positionId]);
    expect(view).toMatchObject({ current_price: '0.9000', unrealized_pnl: '7.500000', unrealized_pnl_pct: '0.5000', exit_reason: 'partial_exit_target', exit_priority: 'MEDIUM' });
    expect(view.last_update).toBeInstanceOf(Date);

    // …and the fall to 0.88 hits it: a HIGH exit, a limit at the bid, filled.
    await quote(88, 90);
    const stop = await sweep();
    expect(stop.exits).toEqual([expect.objectContaining({ condition: 'trailing_stop', priority: 'HIGH', quantity: 25 })]);
    await runExit(exchange, queue.sent.at(-1)!, clock);

    const { rows: exits } = await db().pool.query(
      `SELECT exit_condition, exit_priority, quantity_exited, exit_price::text FROM position_exits WHERE position_id = $1 ORDER BY exit_id`, [positionId],
    );
    expect(exits).toEqual([
      { exit_condition: 'partial_exit_target', exit_priority: 'MEDIUM', quantity_exited: 50, exit_price: '0.6900' },
      { exit_condition: 'partial_exit_target', exit_priority: 'MEDIUM', quantity_exited: 25, exit_price: '0.7500' },
      { exit_condition: 'trailing_stop', exit_priority: 'HIGH', quantity_exited: 25, exit_price: '0.8800' },
    ]);
    const { rows: [closed] } = await db().pool.query(
      'SELECT status, quantity, realized_pnl, fees, cost_basis FROM positions WHERE position_id = $1 AND row_current_ind', [positionId],
    );
    expect(closed.status).toBe('closed');
    expect(closed.quantity.isZero()).toBe(true);
    expect(closed.cost_basis.toFixed(4)).toBe('0.0000');
    // Fees: each fill's own, rounded up to the cent (all four fills took liquidity).
    const taker = (n: number, p: string) => kalshiFee(qty(n), dec(p), dec('0.07'));
    const fees = [taker(100, '0.60'), taker(50, '0.69'), taker(25, '0.75'), taker(25, '0.88')].reduce((a, b) => a.plus(b), new Decimal(0));
    expect(closed.fees.toFixed(4)).toBe(fees.toFixed(4));
    // 50 × 0.69 + 25 × 0.75 + 25 × 0.88 − 100 × 0.60 = 15.25, fees included.
    expect(closed.realized_pnl.toFixed(4)).toBe(dec('15.25').minus(fees).toFixed(4));
    const { rows: trades } = await db().pool.query(`SELECT side, sum(quantity)::int AS q FROM trades WHERE position_id = $1 GROUP BY side ORDER BY side`, [positionId]);
    expect(trades).toEqual([{ side: 'buy', q: 100 }, { side: 'sell', q: 100 }]);
    // The venue agrees: nothing held.
    expect(await exchange.getPositions()).toEqual([]);
  });
});

describe('price walking', () => {
  it('the document\'s example: limit 0.75 unfilled, 0.74 unfilled, market fill at 0.73 — three attempts, the last successful', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quote(79, 80);
    // The venue's book, which moves ahead of the ingested prices the monitor decides on.
    const book = (bid: number, ask: number, minute: number): PaperBook => {
      const d = (c: number) => new Decimal(c).div(100);
      return {
        ticker: KC, at: new Date(Date.UTC(2026, 10, 27, 22, minute)), open: true,
        yes: { bids: [{ price: d(bid), count: null }], asks: [{ price: d(ask), count: null }] },
        no: { bids: [{ price: d(100 - ask), count: null }], asks: [{ price: d(100 - bid), count: null }] },
      };
    };
    const books = new StaticBookSource([book(79, 80, 0)]);
    const exchange = new PaperExchange(db().pool, { books, startingBalance: dec('10000') });
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 40, price: '0.80' });

    // The spread blows out (0.75 / 0.80): liquidity_dried_up, HIGH. The venue's bid is already 0.74.
    await quote(75, 80);
    books.set(book(74, 80, 1));
    const queue = new MemoryExitQueue();
    const decided = await sweepPositions({ pool: db().pool, queue });
    expect(decided.exits).toEqual([expect.objectContaining({ positionId, condition: 'liquidity_dried_up', priority: 'HIGH', quantity: 40 })]);

    const clock = { t: Date.now() };
    const outcomes = await runExit(exchange, queue.sent[0]!, clock, async (attempt) => {
      // Each wait of 10 s, the market falls another cent, ingested and at the venue.
      if (attempt === 1) {
        await quote(74, 80);
        books.set(book(73, 80, 2));
      }
      if (attempt === 2) {
        await quote(73, 80);
        books.set(book(73, 80, 3));
      }
    });
    expect(outcomes.map((o) => o.outcome)).toEqual(['retry', 'retry', 'filled']);
    expect(outcomes[0]).toMatchObject({ afterSeconds: 10 });

    const { rows: attempts } = await db().pool.query(
      `SELECT attempt_number, order_type, limit_price::text, fill_price::text, quantity, success, priority_level, exit_condition, timeout_seconds
       FROM exit_attempts WHERE position_id = $1 ORDER BY attempt_id`, [positionId],
    );
    expect(attempts).toEqual([
      { attempt_number: 1, order_type: 'limit', limit_price: '0.7500', fill_price: null, quantity: 40, success: false, priority_level: 'HIGH', exit_condition: 'liquidity_dried_up', timeout_seconds: 10 },
      { attempt_number: 2, order_type: 'limit', limit_price: '0.7400', fill_price: null, quantity: 40, success: false, priority_level: 'HIGH', exit_condition: 'liquidity_dried_up', timeout_seconds: 10 },
      { attempt_number: 3, order_type: 'market', limit_price: null, fill_price: '0.7300', quantity: 40, success: true, priority_level: 'HIGH', exit_condition: 'liquidity_dried_up', timeout_seconds: 10 },
    ]);
    const { rows: [position] } = await db().pool.query('SELECT status, quantity FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    expect(position).toEqual({ status: 'closed', quantity: 0 });
    const { rows: orders } = await db().pool.query(`SELECT client_order_id, status FROM orders WHERE purpose = 'exit' ORDER BY order_id`);
    expect(orders.map((o) => o.status)).toEqual(['cancelled', 'cancelled', 'filled']);
  });
});

import { describe, expect, it } from 'vitest';
import { MarketRepository } from '../../shared/db';
import { dec, Decimal } from '../../shared/domain/decimal';
import { StaticBookSource } from '../../shared/exchange/paper/bookSources';
import type { PaperBook } from '../../shared/exchange/paper/matching';
import { PaperExchange } from '../../shared/exchange/paper/paperExchange';
import type { Exchange, VenueQuote } from '../../shared/exchange/types';
import { executeExit } from '../../shared/execution/executeExit';
import { reconcileVenue } from '../../shared/execution/reconcile';
import type { ExitOrderMessage } from '../../shared/queues/messages';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition } from '../helpers/execution';
import { GAME_EVENT, quotedMarket, seedHalftimeWorld } from '../helpers/scanWorld';
import { qty } from '../../shared/domain/quantity';

/**
 * Exits price from the venue's book as it is now (Exchange.getQuote) when the venue can say, fall
 * back to the ingested quote when it cannot, end without an order when the market has stopped
 * trading, and their resting orders' fills count for the exit whoever finds them (here: the
 * reconciliation, between two attempts).
 *
 * The world: a position of 40 KC YES bought at 0.60. The ingested market (the `markets` table)
 * still says 0.58 / 0.60; the venue's own book is a StaticBookSource the test moves.
 */

const db = useDatabasePerTest({ poolMax: 20 });
const KC = `${GAME_EVENT}-KC`;

/** The venue's book of KC from the YES bid and ask in cents (NO mirrors them), observed at `minute`. */
function book(bid: number, ask: number, minute: number, open = true): PaperBook {
  const d = (c: number) => new Decimal(c).div(100);
  return {
    ticker: KC, at: new Date(Date.UTC(2026, 10, 27, 22, minute)), open,
    yes: { bids: [{ price: d(bid), count: null }], asks: [{ price: d(ask), count: null }] },
    no: { bids: [{ price: d(100 - ask), count: null }], asks: [{ price: d(100 - bid), count: null }] },
  };
}

/** The top of a book as Exchange.getQuote reports it. */
function quoteOf(b: PaperBook, status = 'active'): VenueQuote {
  return {
    ticker: b.ticker, status,
    yes: { bid: b.yes.bids[0]?.price ?? null, ask: b.yes.asks[0]?.price ?? null },
    no: { bid: b.no.bids[0]?.price ?? null, ask: b.no.asks[0]?.price ?? null },
  };
}

/** The paper venue with `getQuote` added (Kalshi's exchange has one; the paper one does not), counting calls. */
function withQuotes(paper: PaperExchange, getQuote: (ticker: string) => Promise<VenueQuote | null>) {
  const calls = { getQuote: [] as string[], placeOrder: 0 };
  const exchange = new Proxy(paper, {
    get(target, property) {
      if (property === 'getQuote') {
        return async (ticker: string) => {
          calls.getQuote.push(ticker);
          return getQuote(ticker);
        };
      }
      const value = Reflect.get(target, property, target);
      if (property === 'placeOrder') {
        return async (...args: unknown[]) => {
          calls.placeOrder++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as Exchange;
  return { exchange, calls };
}

/** A position of 40 KC YES at 0.60, on a paper venue whose book the test holds. */
async function world() {
  const { strategies, model } = await seedHalftimeWorld(db().pool, { strategies: 1 });
  const books = new StaticBookSource([book(58, 60, 0)]);
  const paper = new PaperExchange(db().pool, { books, startingBalance: dec('10000') });
  const positionId = await openPosition(db().pool, paper, {
    marketId: KC, side: 'yes', quantity: 40, price: '0.60', strategyId: strategies[0]!.id, modelId: model.id,
  });
  return { books, paper, positionId };
}

/** An exit request as the monitor writes it, and its queue message. */
async function requestExit(positionId: number, condition: string, priority: ExitOrderMessage['priority'], quantity: number): Promise<ExitOrderMessage> {
  const { rows: [r] } = await db().pool.query(
    `INSERT INTO exit_requests (position_id, position_version_id, exit_condition, exit_priority, quantity, triggers)
     SELECT $1, position_version_id, $2, $3, $4, '[]'::jsonb FROM positions WHERE position_id = $1 AND row_current_ind
     RETURNING exit_request_id`,
    [positionId, condition, priority, quantity],
  );
  return { version: 1, exitRequestId: r.exit_request_id, positionId, priority, createdAt: new Date().toISOString() };
}

async function exitOrders(exitRequestId: number) {
  const { rows } = await db().pool.query(
    `SELECT client_order_id, order_type, limit_price::text, quantity, filled_quantity, status FROM orders
     WHERE exit_request_id = $1 ORDER BY order_id`,
    [exitRequestId],
  );
  return rows;
}

async function request(exitRequestId: number) {
  const { rows: [r] } = await db().pool.query(
    'SELECT status, status_reason, quantity, filled_quantity FROM exit_requests WHERE exit_request_id = $1', [exitRequestId],
  );
  return r;
}

async function position(positionId: number) {
  const { rows: [p] } = await db().pool.query('SELECT status, quantity FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
  return p;
}

describe('exits price from the venue\'s live quote', () => {
  it('the first limit is at the venue\'s current bid, not the stale bid of the markets table', async () => {
    const { books, paper, positionId } = await world();
    // The market fell at the venue (0.55 / 0.57); ingestion has not seen it yet (0.58 / 0.60).
    books.set(book(55, 57, 1));
    const { exchange, calls } = withQuotes(paper, async (ticker) => quoteOf(books.get(ticker)!));
    const message = await requestExit(positionId, 'trailing_stop', 'HIGH', 40);

    const outcome = await executeExit({ pool: db().pool, exchange }, message);
    expect(calls.getQuote).toEqual([KC]);
    // HIGH: a limit at the bid — the venue's 0.55, which fills; 0.58 would have rested unfilled.
    expect(await exitOrders(message.exitRequestId)).toEqual([
      { client_order_id: `px-${message.exitRequestId}-1`, order_type: 'limit', limit_price: '0.5500', quantity: 40, filled_quantity: 40, status: 'filled' },
    ]);
    expect(outcome).toMatchObject({ outcome: 'filled', filledQuantity: 40, attempts: 1 });
    const { rows: attempts } = await db().pool.query(
      'SELECT limit_price::text, fill_price::text, success FROM exit_attempts WHERE exit_request_id = $1', [message.exitRequestId],
    );
    expect(attempts).toEqual([{ limit_price: '0.5500', fill_price: '0.5500', success: true }]);
    expect(await position(positionId)).toEqual({ status: 'closed', quantity: 0 });
  });

  it('a MEDIUM exit prices its mid from the venue\'s book too', async () => {
    const { books, paper, positionId } = await world();
    books.set(book(70, 74, 1)); // the venue rallied; the ingested mid would be 0.59
    const { exchange } = withQuotes(paper, async (ticker) => quoteOf(books.get(ticker)!));
    const message = await requestExit(positionId, 'profit_target', 'MEDIUM', 40);
    const outcome = await executeExit({ pool: db().pool, exchange }, message);
    expect(outcome).toMatchObject({ outcome: 'retry', attempt: 1, filledQuantity: 0, remaining: 40, afterSeconds: 30 });
    expect((await exitOrders(message.exitRequestId)).map((o) => [o.limit_price, o.status])).toEqual([['0.7200', 'resting']]);
  });

  it.each([
    ['throws', async (): Promise<VenueQuote | null> => {
      throw new Error('kalshi GET /markets/…: HTTP 503');
    }],
    ['does not know the market', async (): Promise<VenueQuote | null> => null],
  ])('when getQuote %s, the exit falls back to the ingested bid', async (_label, getQuote) => {
    const { books, paper, positionId } = await world();
    books.set(book(55, 57, 1));
    const { exchange, calls } = withQuotes(paper, getQuote);
    const message = await requestExit(positionId, 'trailing_stop', 'HIGH', 40);

    const outcome = await executeExit({ pool: db().pool, exchange }, message);
    expect(calls.getQuote).toEqual([KC]);
    expect(calls.placeOrder).toBe(1);
    // Priced on the markets table's 0.58: above the venue's bid, so it rests and walks later.
    expect((await exitOrders(message.exitRequestId)).map((o) => [o.limit_price, o.status])).toEqual([['0.5800', 'resting']]);
    expect(outcome).toMatchObject({ outcome: 'retry', attempt: 1, filledQuantity: 0, remaining: 40, afterSeconds: 10 });
    expect(await request(message.exitRequestId)).toMatchObject({ status: 'active', filled_quantity: 0 });
  });

  it('an exchange without getQuote prices from the ingested bid', async () => {
    const { books, paper, positionId } = await world();
    books.set(book(55, 57, 1));
    const message = await requestExit(positionId, 'trailing_stop', 'HIGH', 40);
    await executeExit({ pool: db().pool, exchange: paper }, message);
    expect((await exitOrders(message.exitRequestId)).map((o) => o.limit_price)).toEqual(['0.5800']);
  });
});

describe('exits of a market that has stopped trading', () => {
  it.each(['closed', 'finalized'])('the venue reports the market %s: no order, the request is cancelled to await settlement', async (status) => {
    const { books, paper, positionId } = await world();
    const { exchange, calls } = withQuotes(paper, async (ticker) => ({ ...quoteOf(books.get(ticker)!, status), yes: { bid: null, ask: null }, no: { bid: null, ask: null } }));
    const message = await requestExit(positionId, 'stop_loss', 'CRITICAL', 40);

    const outcome = await executeExit({ pool: db().pool, exchange }, message);
    expect(outcome).toEqual({
      outcome: 'finished', exitRequestId: message.exitRequestId, status: 'cancelled',
      reason: `market ${KC} is ${status}: no exit can trade; the position awaits settlement`,
    });
    expect(calls.placeOrder).toBe(0);
    expect(await exitOrders(message.exitRequestId)).toEqual([]);
    expect(await request(message.exitRequestId)).toMatchObject({ status: 'cancelled', status_reason: expect.stringMatching(/settlement/), filled_quantity: 0 });
    // The position stays open for settlement.
    expect(await position(positionId)).toEqual({ status: 'open', quantity: 40 });
    // A redelivery of the message does nothing more.
    expect(await executeExit({ pool: db().pool, exchange }, message, { receiveCount: 2 })).toMatchObject({ outcome: 'finished', status: 'cancelled' });
    expect(calls.placeOrder).toBe(0);
  });

  it('without a live quote, a markets row that is not open does the same', async () => {
    const { paper, positionId } = await world();
    await new MarketRepository(db().pool).upsertSnapshots([{ ...quotedMarket(KC, 60, 58, 42, 40), status: 'closed' }]);
    const message = await requestExit(positionId, 'stop_loss', 'CRITICAL', 40);
    const outcome = await executeExit({ pool: db().pool, exchange: paper }, message);
    expect(outcome).toMatchObject({ outcome: 'finished', status: 'cancelled', reason: expect.stringMatching(/is closed: .*awaits settlement/) });
    expect(await exitOrders(message.exitRequestId)).toEqual([]);
    expect(await request(message.exitRequestId)).toMatchObject({ status: 'cancelled', status_reason: expect.stringMatching(/settlement/) });
  });

  it('the venue\'s word wins over the markets table: an active quote trades though the ingested row says closed', async () => {
    const { books, paper, positionId } = await world();
    await new MarketRepository(db().pool).upsertSnapshots([{ ...quotedMarket(KC, 60, 58, 42, 40), status: 'closed' }]);
    const { exchange, calls } = withQuotes(paper, async (ticker) => quoteOf(books.get(ticker)!));
    const message = await requestExit(positionId, 'stop_loss', 'CRITICAL', 40);
    expect(await executeExit({ pool: db().pool, exchange }, message)).toMatchObject({ outcome: 'filled', filledQuantity: 40 });
    expect(calls.placeOrder).toBe(1);
  });

  it('the venue refusing the order as market_closed ends the request the same way, the attempt recorded as rejected', async () => {
    const { books, paper, positionId } = await world();
    // The quote still says active, but the market closed before the order arrived.
    const { exchange } = withQuotes(paper, async (ticker) => quoteOf(books.get(ticker)!));
    books.set(book(58, 60, 1, false));
    const message = await requestExit(positionId, 'stop_loss', 'CRITICAL', 40);
    const outcome = await executeExit({ pool: db().pool, exchange }, message);
    expect(outcome).toMatchObject({
      outcome: 'finished', status: 'cancelled', reason: `market ${KC} closed before exit attempt 1: the position awaits settlement`,
    });
    expect((await exitOrders(message.exitRequestId)).map((o) => o.status)).toEqual(['rejected']);
    const { rows: attempts } = await db().pool.query('SELECT success FROM exit_attempts WHERE exit_request_id = $1', [message.exitRequestId]);
    expect(attempts).toEqual([{ success: false }]);
    expect(await position(positionId)).toEqual({ status: 'open', quantity: 40 });
  });
});

describe('an exit order filled at the venue between attempts, found by the reconciliation', () => {
  it('reconcileVenue records the fill as the exit\'s: position_exits row, the request\'s filled quantity and status', async () => {
    const { books, paper, positionId } = await world();
    const message = await requestExit(positionId, 'profit_target', 'MEDIUM', 40);
    // Attempt 1: a limit at the mid (0.59) rests above the 0.58 bid.
    expect(await executeExit({ pool: db().pool, exchange: paper }, message)).toMatchObject({ outcome: 'retry', afterSeconds: 30 });
    const clientOrderId = `px-${message.exitRequestId}-1`;
    expect(await exitOrders(message.exitRequestId)).toEqual([
      { client_order_id: clientOrderId, order_type: 'limit', limit_price: '0.5900', quantity: 40, filled_quantity: 0, status: 'resting' },
    ]);

    // Before the next attempt, the bid reaches 0.59: the venue fills the resting sell as maker.
    books.set(book(59, 61, 1));
    const result = await reconcileVenue({ pool: db().pool, exchange: paper });
    expect(result.errors).toEqual([]);
    expect(result.fillsRecorded).toBe(1);
    expect(result.ordersClosed).toEqual([{ clientOrderId, status: 'filled' }]);
    expect(result.desyncs).toEqual([]);

    const { rows: exits } = await db().pool.query(
      `SELECT exit_condition, exit_priority, quantity_exited, exit_price::text, exit_request_id, trade_id IS NOT NULL AS has_trade
       FROM position_exits WHERE position_id = $1`, [positionId],
    );
    expect(exits).toEqual([
      { exit_condition: 'profit_target', exit_priority: 'MEDIUM', quantity_exited: 40, exit_price: '0.5900', exit_request_id: message.exitRequestId, has_trade: true },
    ]);
    expect(await request(message.exitRequestId)).toMatchObject({ status: 'filled', filled_quantity: 40 });
    expect(await position(positionId)).toEqual({ status: 'closed', quantity: 0 });

    // The queued message comes back: nothing more to sell; the attempt gets its exit_attempts row.
    const next = await executeExit({ pool: db().pool, exchange: paper }, message, { receiveCount: 2 });
    expect(next).toMatchObject({ outcome: 'finished', status: 'filled' });
    const { rows: attempts } = await db().pool.query(
      'SELECT attempt_number, limit_price::text, fill_price::text, success FROM exit_attempts WHERE exit_request_id = $1', [message.exitRequestId],
    );
    expect(attempts).toEqual([{ attempt_number: 1, limit_price: '0.5900', fill_price: '0.5900', success: true }]);
    expect(await exitOrders(message.exitRequestId)).toHaveLength(1);
  });

  it('a partial fill found by the reconciliation counts, and the next attempt sells only the rest', async () => {
    const { books, paper, positionId } = await world();
    const message = await requestExit(positionId, 'profit_target', 'MEDIUM', 40);
    await executeExit({ pool: db().pool, exchange: paper }, message);
    // Only 25 contracts are bid at 0.59.
    const partial = book(59, 61, 1);
    partial.yes.bids = [{ price: new Decimal('0.59'), count: qty(25) }];
    partial.no.asks = [{ price: new Decimal('0.41'), count: qty(25) }];
    books.set(partial);
    const result = await reconcileVenue({ pool: db().pool, exchange: paper });
    expect(result.errors).toEqual([]);
    expect(result.fillsRecorded).toBe(1);

    const { rows: exits } = await db().pool.query('SELECT quantity_exited, exit_price::text FROM position_exits WHERE exit_request_id = $1', [message.exitRequestId]);
    expect(exits).toEqual([{ quantity_exited: 25, exit_price: '0.5900' }]);
    expect(await request(message.exitRequestId)).toMatchObject({ status: 'active', filled_quantity: 25 });
    expect(await position(positionId)).toEqual({ status: 'open', quantity: 15 });
    expect((await exitOrders(message.exitRequestId)).map((o) => [o.filled_quantity, o.status])).toEqual([[25, 'partially_filled']]);

    // After its wait, the next receive cancels the rest of attempt 1 and places attempt 2 (walked a
    // cent down) for the 15 left; the 25 bid at 0.59 are gone, so it rests.
    const later = new Date(Date.now() + 31_000);
    const outcome = await executeExit({ pool: db().pool, exchange: paper, now: () => later }, message, { receiveCount: 2 });
    expect(outcome).toEqual({ outcome: 'retry', exitRequestId: message.exitRequestId, afterSeconds: 30, attempt: 2, filledQuantity: 25, remaining: 15 });
    expect((await exitOrders(message.exitRequestId)).map((o) => [o.limit_price, o.quantity, o.filled_quantity, o.status])).toEqual([
      ['0.5900', 40, 25, 'cancelled'],
      ['0.5800', 15, 0, 'resting'],
    ]);
    const { rows: attempts } = await db().pool.query(
      'SELECT attempt_number, quantity, fill_price::text, success FROM exit_attempts WHERE exit_request_id = $1 ORDER BY attempt_id', [message.exitRequestId],
    );
    expect(attempts).toEqual([{ attempt_number: 1, quantity: 40, fill_price: '0.5900', success: true }]);
    expect((await paper.getOrder((await paper.findOrder(`px-${message.exitRequestId}-1`, KC))!.venueOrderId)).status).toBe('canceled');
  });
});

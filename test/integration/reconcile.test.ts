import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { scanEdges } from '../../shared/edges/scanEdges';
import { executeEntry } from '../../shared/execution/executeEntry';
import { reconcileVenue } from '../../shared/execution/reconcile';
import { withTransaction } from '../../shared/db/transaction';
import { MemoryEntryQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { paperExchange, scannedEntries } from '../helpers/execution';
import { qty } from '../../shared/domain/quantity';

const db = useDatabasePerTest({ poolMax: 20 });

const KC = 'KXNFLGAME-25NOV27KCDAL-KC';
const DAL = 'KXNFLGAME-25NOV27KCDAL-DAL';
const openDesyncs = async () =>
  (await db().pool.query(`SELECT ticker, market_id, kind, local_value, venue_value FROM venue_desyncs WHERE resolved_at IS NULL ORDER BY ticker, kind`)).rows;

describe('reconciliation with the venue', () => {
  it('books and venue in step: nothing to report, cash equal', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    await executeEntry({ pool: db().pool, exchange }, message!);
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result).toMatchObject({ venue: 'paper', ordersChecked: 0, desyncs: [], resolved: [], errors: [] });
    expect(result.balance.difference).toBe('0.0000');
    expect(await openDesyncs()).toEqual([]);
  });

  it('a position at the venue the books do not know trips a desync that blocks entries on that market until they agree', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    // Someone traded the account by hand (or a fill was lost): the venue holds 10 KC YES.
    await exchange.placeOrder({
      ticker: KC, clientOrderId: 'manual-1', side: 'yes', action: 'buy', count: qty(10), type: 'limit',
      limitPrice: dec('0.60'), timeInForce: 'immediate_or_cancel',
    });
    const first = await reconcileVenue({ pool: db().pool, exchange });
    expect(first.desyncs).toEqual([{ ticker: KC, marketId: KC, kind: 'position', local: { net: '0' }, venue: { net: '10' } }]);
    expect(await openDesyncs()).toMatchObject([{ ticker: KC, market_id: KC, kind: 'position' }]);

    // A second pass updates the same desync instead of piling up rows.
    await reconcileVenue({ pool: db().pool, exchange });
    const { rows: [count] } = await db().pool.query('SELECT count(*)::int AS n FROM venue_desyncs');
    expect(count.n).toBe(1);

    // The entry in flight is refused at the last look, and the next scan makes no new one.
    expect(await executeEntry({ pool: db().pool, exchange }, message!)).toMatchObject({
      outcome: 'cancelled', reason: expect.stringMatching(/desynced/),
    });
    const blocked = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(blocked.orders.created).toBe(0);
    expect(blocked.skipped.some((s) => s.marketId === KC && /desynced/.test(s.reason))).toBe(true);

    // The venue position is closed out: the next reconciliation finds agreement and resolves it.
    await exchange.placeOrder({
      ticker: KC, clientOrderId: 'manual-2', side: 'yes', action: 'sell', count: qty(10), type: 'limit',
      limitPrice: dec('0.58'), timeInForce: 'immediate_or_cancel',
    });
    const last = await reconcileVenue({ pool: db().pool, exchange });
    expect(last.desyncs).toEqual([]);
    expect(last.resolved).toEqual([{ ticker: KC, kind: 'position' }]);
    expect(await openDesyncs()).toEqual([]);
    const { rows: [resolved] } = await db().pool.query('SELECT resolution FROM venue_desyncs');
    expect(resolved.resolution).toBe('agreed at reconciliation');
    // Entries resume: a new attempt on the same edge version, under a new client order id.
    const resumed = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(resumed.orders.created).toBe(1);
    expect(resumed.entries[0]!.clientOrderId).not.toBe(message!.clientOrderId);
  });

  it('a position in the books the venue does not hold is a desync too', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    await executeEntry({ pool: db().pool, exchange }, message!);
    // The venue account lost the contracts (sold by hand).
    const held = (await exchange.getPositions())[0]!;
    await exchange.placeOrder({
      ticker: KC, clientOrderId: 'manual-sell', side: 'yes', action: 'sell', count: held.position, type: 'limit',
      limitPrice: dec('0.58'), timeInForce: 'immediate_or_cancel',
    });
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.desyncs).toEqual([{ ticker: KC, marketId: KC, kind: 'position', local: { net: String(message!.quantity) }, venue: { net: '0' } }]);
    expect(result.balance.difference).not.toBe('0.0000');
  });

  it('a resting order at the venue the books do not have trips an order desync', async () => {
    await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool);
    await exchange.placeOrder({
      ticker: DAL, clientOrderId: 'manual-rest', side: 'yes', action: 'buy', count: qty(10), type: 'limit', limitPrice: dec('0.10'),
    });
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.desyncs).toEqual([
      { ticker: DAL, marketId: DAL, kind: 'order', local: { openNotAtVenue: [] }, venue: { restingNotInBooks: ['manual-rest'] } },
    ]);
    await exchange.cancelOrder((await exchange.findOrder('manual-rest', DAL))!.venueOrderId);
    expect((await reconcileVenue({ pool: db().pool, exchange })).resolved).toEqual([{ ticker: DAL, kind: 'order' }]);
  });

  it('a pending entry never executed is cancelled after staleEntrySeconds; one that reached the venue is adopted', async () => {
    const messages = await scannedEntries(db().pool, { strategies: 2 });
    const exchange = paperExchange(db().pool);
    // The second one did reach the venue before its function died.
    await exchange.placeOrder({
      ticker: KC, clientOrderId: messages[1]!.clientOrderId, side: 'yes', action: 'buy', count: qty(messages[1]!.quantity),
      type: 'limit', limitPrice: dec(messages[1]!.limitPrice),
    });
    // Not stale yet: left alone.
    expect((await reconcileVenue({ pool: db().pool, exchange })).ordersChecked).toBe(0);
    await db().pool.query(`UPDATE orders SET created_at = now() - interval '16 minutes'`);
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.ordersChecked).toBe(2);
    expect(result.ordersClosed).toEqual(expect.arrayContaining([
      { clientOrderId: messages[0]!.clientOrderId, status: 'cancelled', reason: 'not executed within 900 s and not at the venue' },
      { clientOrderId: messages[1]!.clientOrderId, status: 'filled' },
    ]));
    expect(result.fillsRecorded).toBe(1);
    expect(result.desyncs).toEqual([]);
    const { rows } = await db().pool.query('SELECT client_order_id, status FROM orders ORDER BY order_id');
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'filled']);
    // The cancelled one frees the market for the next scan's entry for that strategy.
    const next = await scanEdges({ pool: db().pool, queue: new MemoryEntryQueue() });
    expect(next.orders.created).toBe(1);
  });

  it('a resting entry the venue expired is closed as cancelled with what filled', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool, { depth: 100 });
    const outcome = await executeEntry({ pool: db().pool, exchange }, message!);
    expect(outcome).toMatchObject({ status: 'partially_filled', filledQuantity: 100 });
    await exchange.cancelOrder((outcome as { venueOrderId: string }).venueOrderId);
    const result = await reconcileVenue({ pool: db().pool, exchange });
    expect(result.ordersClosed).toEqual([{ clientOrderId: message!.clientOrderId, status: 'cancelled' }]);
    const { rows: [order] } = await db().pool.query('SELECT status, filled_quantity FROM orders');
    expect(order).toEqual({ status: 'cancelled', filled_quantity: 100 });
    expect(result.desyncs).toEqual([]);
  });

  it('skips an order another transaction is working on', async () => {
    const [message] = await scannedEntries(db().pool, { strategies: 1 });
    const exchange = paperExchange(db().pool, { depth: 100 });
    await executeEntry({ pool: db().pool, exchange }, message!);
    await withTransaction(db().pool, async (client) => {
      await client.query('SELECT 1 FROM orders WHERE client_order_id = $1 FOR UPDATE', [message!.clientOrderId]);
      const result = await reconcileVenue({ pool: db().pool, exchange });
      expect(result.ordersBusy).toBe(1);
      expect(result.fillsRecorded).toBe(0);
    });
  });
});

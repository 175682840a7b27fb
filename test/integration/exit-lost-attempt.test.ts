import { describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/decimal';
import { executeExit, exitClientOrderId } from '../../shared/execution/executeExit';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';
import { qty } from '../../shared/domain/quantity';

/**
 * An execute-exit delivery that placed its attempt at the venue and died before committing (a
 * killed process, a lost connection) leaves an order the books do not have. Whatever became of
 * the exit request meanwhile (here: superseded), the redelivery records that order's fills: the
 * position is what the venue says it is, not what it was before the sale.
 */
const db = useDatabasePerTest();
const KC = `${GAME_EVENT}-KC`;

describe('an exit attempt that reached the venue but not the books', () => {
  it('is adopted on the redelivery even though the request was superseded meanwhile', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quoteYes(db().pool, KC, 58, 60);
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 80, price: '0.60' });
    await quoteYes(db().pool, KC, 45, 47); // −25 %: stop loss
    const queue = new MemoryExitQueue();
    await sweepPositions({ pool: db().pool, queue });
    const message = queue.sent[0]!;

    // The died delivery: its market sell reached the venue (and filled), nothing was committed.
    await exchange.placeOrder({
      ticker: KC, clientOrderId: exitClientOrderId(message.exitRequestId, 1), side: 'yes', action: 'sell', count: qty(80),
      type: 'market', limitPrice: dec('0.45'), timeInForce: 'immediate_or_cancel',
    });
    await db().pool.query(`UPDATE exit_requests SET status = 'superseded', status_reason = 'test' WHERE exit_request_id = $1`, [message.exitRequestId]);

    const outcome = await executeExit({ pool: db().pool, exchange }, message, { receiveCount: 2 });
    expect(outcome).toMatchObject({ outcome: 'finished', exitRequestId: message.exitRequestId });
    const { rows: [position] } = await db().pool.query('SELECT quantity, status FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    expect(position).toEqual({ quantity: 0, status: 'closed' });
    const { rows: sold } = await db().pool.query(
      `SELECT t.quantity, t.price::text, x.exit_request_id FROM trades t JOIN position_exits x ON x.trade_id = t.trade_id WHERE t.position_id = $1 AND t.side = 'sell'`,
      [positionId],
    );
    expect(sold).toEqual([{ quantity: 80, price: '0.4500', exit_request_id: message.exitRequestId }]);
    const { rows: [attempt] } = await db().pool.query('SELECT count(*)::int AS n FROM exit_attempts WHERE exit_request_id = $1', [message.exitRequestId]);
    expect(attempt.n).toBe(1);

    // The first delivery never looks (nothing can be lost before the first attempt).
    const again = await executeExit({ pool: db().pool, exchange }, message, { receiveCount: 3 });
    expect(again).toMatchObject({ outcome: 'finished' });
    const { rows: [count] } = await db().pool.query(`SELECT count(*)::int AS n FROM trades WHERE position_id = $1 AND side = 'sell'`, [positionId]);
    expect(count.n).toBe(1);
  });
});

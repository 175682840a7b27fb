import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { runExecuteExit } from '../../functions/execute-exit/handler';
import { LocalExitQueue } from '../../local/localQueue';
import type { Exchange } from '../../shared/exchange/types';
import { exitClientOrderId } from '../../shared/execution/executeExit';
import { EXIT_MESSAGE_WINDOW_SECONDS, sweepPositions } from '../../shared/monitor/sweep';
import { useDatabasePerTest } from '../helpers/database';
import { lambdaContext, openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';

/**
 * A stop-loss whose exit-orders message used up its receives (the venue unreachable meanwhile)
 * lands in the dead-letter queue while its exit request stays active. The monitor's sweep must
 * notice that nothing has seen the message for longer than a live message can stay unseen, send it
 * again, and the re-sent message must sell what is left, never a second time what the venue
 * already sold.
 */
const db = useDatabasePerTest();
const KC = `${GAME_EVENT}-KC`;

/**
 * A venue that stops answering: the first sell reaches it (and fills) but its answer is lost, every
 * later call fails as a reset connection does. Quotes still come from the ingested book.
 */
function venueLostAfterFirstSell(real: Exchange): Exchange {
  const unreachable = (what: string) => async () => {
    throw new Error(`venue unreachable (${what}): connection reset`);
  };
  let sent = false;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'placeOrder') {
        return async (...args: Parameters<Exchange['placeOrder']>) => {
          if (sent) return unreachable('placeOrder')();
          sent = true;
          await target.placeOrder(...args);
          throw new Error('connection reset after the order was sent');
        };
      }
      if (prop === 'getOrder' || prop === 'findOrder' || prop === 'cancelOrder' || prop === 'getFills') return unreachable(prop);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('a dead-lettered exit', () => {
  it('is re-sent by the sweep once its message is gone, and the CRITICAL stop-loss closes the position, selling once', async () => {
    const pool = db().pool;
    await seedHalftimeWorld(pool, { strategies: 1 });
    await quoteYes(pool, KC, 58, 60);
    const venue = paperExchange(pool);
    const positionId = await openPosition(pool, venue, { marketId: KC, side: 'yes', quantity: 80, price: '0.60' });

    // The exit-orders queue as deployed but for its receives (3 instead of 30: the same redrive, sooner).
    const clock = { ms: 1_800_000_000_000 };
    const queue = new LocalExitQueue({ now: () => clock.ms, maxReceiveCount: 3 });
    await quoteYes(pool, KC, 45, 47); // −25 %: stop loss, CRITICAL
    const decided = await sweepPositions({ pool, queue });
    expect(decided.exits).toEqual([expect.objectContaining({ condition: 'stop_loss', priority: 'CRITICAL', quantity: 80 })]);
    const exitRequestId = decided.exits[0]!.exitRequestId!;

    // Every receive fails (the first after its sell reached the venue); after 3 the message is dead-lettered.
    const broken = venueLostAfterFirstSell(venue);
    const consumeWith = (exchange: Exchange) => (event: SQSEvent) =>
      runExecuteExit(event, lambdaContext, { pool, exchange, retryAfter: queue.retryAfter });
    for (let receive = 1; receive <= 3; receive++) {
      const delivered = await queue.deliver(consumeWith(broken), { batchSize: 1 });
      expect(delivered).toMatchObject({ received: 1, failed: [expect.any(String)] });
      clock.ms += queue.visibilityTimeoutSeconds * 1000;
    }
    expect(await queue.deliver(consumeWith(venue))).toMatchObject({ received: 0 });
    expect(queue.deadLetters).toHaveLength(1);
    expect(queue.depth()).toBe(0);
    // The venue sold the 80 contracts; the books do not know it yet and the request is still active.
    expect(await venue.getPositions()).toEqual([]);
    const books = async () => (await pool.query(
      `SELECT p.quantity, p.status, r.status AS request, r.message_receives
       FROM positions p JOIN exit_requests r ON r.position_id = p.position_id
       WHERE p.position_id = $1 AND p.row_current_ind AND r.exit_request_id = $2`, [positionId, exitRequestId])).rows[0];
    expect(await books()).toEqual({ quantity: 80, status: 'open', request: 'active', message_receives: 3 });

    // Seen moments ago: a live message could still come back, nothing is re-sent.
    const resweep = () => sweepPositions({ pool, queue });
    expect(await resweep()).toMatchObject({ resent: 0, enqueued: 0, waiting: 1 });
    // Unseen for the window: the time a live message stays unseen at most (time moved by moving the stamps back).
    const unseenFor = (seconds: number) => pool.query(
      `UPDATE exit_requests SET enqueued_at = now() - make_interval(secs => $2), message_received_at = now() - make_interval(secs => $2)
       WHERE exit_request_id = $1`, [exitRequestId, seconds]);
    await unseenFor(EXIT_MESSAGE_WINDOW_SECONDS - 5);
    expect(await resweep()).toMatchObject({ resent: 0, enqueued: 0 });
    expect(queue.depth()).toBe(0);
    await unseenFor(EXIT_MESSAGE_WINDOW_SECONDS + 5);
    expect(await resweep()).toMatchObject({ resent: 1, enqueued: 1 });
    expect(queue.depth()).toBe(1);
    // Sent again just now: the next sweep leaves it alone.
    expect(await resweep()).toMatchObject({ resent: 0, enqueued: 0 });

    // The venue answers again, the market a little lower: the re-sent message's first receive is
    // the request's fourth, so it looks for the sale the first delivery made (its client order id)
    // and records that order as the venue has it, rather than placing attempt 1 anew.
    await quoteYes(pool, KC, 43, 45);
    const delivered = await queue.deliver(consumeWith(venue), { batchSize: 1 });
    expect(delivered).toMatchObject({ received: 1, deleted: [expect.any(String)], failed: [] });
    expect(await books()).toEqual({ quantity: 0, status: 'closed', request: 'filled', message_receives: 4 });
    const { rows: sells } = await pool.query(
      `SELECT t.client_order_id, t.quantity, t.price::text FROM trades t WHERE t.position_id = $1 AND t.side = 'sell'`, [positionId]);
    expect(sells).toEqual([{ client_order_id: exitClientOrderId(exitRequestId, 1), quantity: 80, price: '0.4500' }]);
    const { rows: orders } = await pool.query(`SELECT client_order_id, limit_price::text, status FROM orders WHERE exit_request_id = $1`, [exitRequestId]);
    expect(orders).toEqual([{ client_order_id: exitClientOrderId(exitRequestId, 1), limit_price: '0.4500', status: 'filled' }]);
    const { rows: [venueSells] } = await pool.query(`SELECT count(*)::int AS n FROM paper_orders WHERE action = 'sell'`);
    expect(venueSells.n).toBe(1);
    expect(queue.depth()).toBe(0);
    expect(await resweep()).toMatchObject({ positions: 0, resent: 0, enqueued: 0 });
  });
});

import { describe, expect, it } from 'vitest';
import { sweepPositions } from '../../shared/monitor/sweep';
import { MemoryExitQueue } from '../../shared/queues/sqsEntryQueue';
import { useDatabasePerTest } from '../helpers/database';
import { openPosition, paperExchange } from '../helpers/execution';
import { GAME_EVENT, quoteYes, seedHalftimeWorld } from '../helpers/scanWorld';
import { qty } from '../../shared/domain/quantity';

/**
 * The monitor's sweep and the ledger (an exit's fill, a reconciliation) both write position
 * versions. The ledger writes under the position's identity lock; the sweep must too, or it
 * supersedes the ledger's new version with the quantity it read before: sold contracts come back
 * and are sold twice (seen in a local run: a position of 189 sold 229).
 */
const db = useDatabasePerTest({ poolMax: 20 });
const KC = `${GAME_EVENT}-KC`;

const versions = async (positionId: number) =>
  (await db().pool.query('SELECT quantity FROM positions WHERE position_id = $1 ORDER BY position_version_id', [positionId])).rows.map((r) => r.quantity);

describe('sweep against a position being recorded', () => {
  it('skips a position whose identity is locked by a ledger write, and keeps the quantity that write commits', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quoteYes(db().pool, KC, 58, 60);
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
    await quoteYes(db().pool, KC, 61, 63); // the price moved: the sweep wants a new version (unrealized P&L)

    // A fill of 40 being recorded: the identity locked, the new version (60) not yet committed.
    const ledger = await db().pool.connect();
    try {
      await ledger.query('BEGIN');
      await ledger.query('SELECT 1 FROM position_identities WHERE position_id = $1 FOR UPDATE', [positionId]);
      const { rows: [current] } = await ledger.query(
        'SELECT position_version_id FROM positions WHERE position_id = $1 AND row_current_ind', [positionId],
      );
      await ledger.query('UPDATE positions SET row_current_ind = false, superseded_at = now() WHERE position_id = $1 AND row_current_ind', [positionId]);
      await ledger.query(
        `INSERT INTO positions (position_id, market_id, platform_id, side, execution_mode, entry_price, quantity, original_quantity, fees, status, cost_basis)
         SELECT position_id, market_id, platform_id, side, execution_mode, entry_price, 60, original_quantity, fees, 'open', 36
         FROM positions WHERE position_version_id = $1`,
        [current.position_version_id],
      );

      const during = await sweepPositions({ pool: db().pool, queue: new MemoryExitQueue() });
      expect(during.moved).toEqual([positionId]);
      expect(during.versions).toBe(0);
      await ledger.query('COMMIT');
    } catch (error) {
      await ledger.query('ROLLBACK');
      throw error;
    } finally {
      ledger.release();
    }

    // The next sweep prices the position as the ledger left it: 60 held, never 100 again.
    const after = await sweepPositions({ pool: db().pool, queue: new MemoryExitQueue() });
    expect(after.moved).toBeUndefined();
    expect(after.versions).toBe(1);
    expect(await versions(positionId)).toEqual([100, 60, 60]);
  });
});

/**
 * Polls pg_stat_activity until a backend waits on a lock held by `holderPid` and returns what it
 * runs. Fails as soon as `finished()` is true first: the work did not wait, so the race was not
 * tested. (The deadline only guards against a hang; nothing is decided by elapsed time.)
 */
async function waitUntilBlocked(holderPid: number, finished: () => boolean): Promise<{ pid: number; query: string }> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { rows } = await db().pool.query(
      `SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY (pg_blocking_pids(pid))`, [holderPid],
    );
    if (rows[0]) return rows[0];
    if (finished()) throw new Error('the work finished without ever waiting for the lock: the race was not exercised');
  }
  throw new Error(`no backend waited on a lock held by ${holderPid} within 30 s`);
}

describe('a fill recorded while another transaction writes the same position', () => {
  it('waits for the identity lock and builds on the version that transaction committed', async () => {
    const { applyVenueUpdate, lockOrder } = await import('../../shared/execution/ledger');
    const { withTransaction } = await import('../../shared/db/transaction');
    const { dec } = await import('../../shared/domain/decimal');
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quoteYes(db().pool, KC, 58, 60);
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });

    // An exit order of 20, filled at the venue.
    const clientOrderId = 'px-race-1';
    await db().pool.query(
      `INSERT INTO orders (client_order_id, purpose, market_id, platform_id, position_id, side, action, order_type, limit_price, quantity,
                           execution_mode, time_in_force)
       VALUES ($1, 'exit', $2, 'kalshi', $3, 'yes', 'sell', 'limit', '0.58', 20, 'paper', 'immediate_or_cancel')`,
      [clientOrderId, KC, positionId],
    );
    const placed = await exchange.placeOrder({ ticker: KC, clientOrderId, side: 'yes', action: 'sell', count: qty(20), type: 'limit', limitPrice: dec('0.58'), timeInForce: 'immediate_or_cancel' });
    const fills = await exchange.getFills({ venueOrderId: placed.venueOrderId });

    // Another writer holds the identity and writes 100 → 70 (a fill of 30 elsewhere).
    const other = await db().pool.connect();
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM position_identities WHERE position_id = $1 FOR UPDATE', [positionId]);
    const { rows: [current] } = await other.query('SELECT position_version_id FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    await other.query('UPDATE positions SET row_current_ind = false, superseded_at = now() WHERE position_version_id = $1', [current.position_version_id]);
    await other.query(
      `INSERT INTO positions (position_id, market_id, platform_id, side, execution_mode, entry_price, quantity, original_quantity, fees, status, cost_basis)
       SELECT position_id, market_id, platform_id, side, execution_mode, entry_price, 70, original_quantity, fees, 'open', 42
       FROM positions WHERE position_version_id = $1`,
      [current.position_version_id],
    );

    // The fill's recording starts now and has to wait for that lock …
    const { rows: [{ pid: holder }] } = await other.query('SELECT pg_backend_pid() AS pid');
    let recorded = false;
    const recording = withTransaction(db().pool, async (client) => {
      const order = (await lockOrder(client, clientOrderId))!;
      return applyVenueUpdate(client, order, placed, fills);
    }).finally(() => { recorded = true; });
    // Observed, not assumed: the recorder's backend is blocked by the holder, on the identity lock.
    try {
      const waiting = await waitUntilBlocked(holder, () => recorded);
      expect(waiting.query).toMatch(/FROM position_identities pi[\s\S]*FOR UPDATE OF pi/);
      expect(recorded).toBe(false);
    } finally {
      // Released whatever the outcome, so a failed check does not leave the recorder hanging.
      await other.query('COMMIT');
      other.release();
    }
    await recording;

    // … and sells from the 70 the other writer left: 50, one current version.
    const { rows } = await db().pool.query('SELECT quantity::text FROM positions WHERE position_id = $1 AND row_current_ind', [positionId]);
    expect(rows).toEqual([{ quantity: '50.00' }]);
  });
});

describe('the heartbeat of an unchanged position', () => {
  it('is skipped while the position is being recorded (an in-place update would make the recorder close nothing)', async () => {
    await seedHalftimeWorld(db().pool, { strategies: 1 });
    await quoteYes(db().pool, KC, 58, 60);
    const exchange = paperExchange(db().pool);
    const positionId = await openPosition(db().pool, exchange, { marketId: KC, side: 'yes', quantity: 100, price: '0.60' });
    await sweepPositions({ pool: db().pool, queue: new MemoryExitQueue() }); // priced: nothing changes from now on
    const lastUpdate = async () =>
      (await db().pool.query('SELECT last_update FROM positions WHERE position_id = $1 AND row_current_ind', [positionId])).rows[0].last_update;
    const before = await lastUpdate();

    const ledger = await db().pool.connect();
    try {
      await ledger.query('BEGIN');
      await ledger.query('SELECT 1 FROM position_identities WHERE position_id = $1 FOR UPDATE', [positionId]);
      const during = await sweepPositions({ pool: db().pool, queue: new MemoryExitQueue() });
      expect(during.moved).toEqual([positionId]);
      expect(during.heartbeats).toBe(0);
      await ledger.query('COMMIT');
    } finally {
      ledger.release();
    }
    expect(await lastUpdate()).toEqual(before);
    const after = await sweepPositions({ pool: db().pool, queue: new MemoryExitQueue() });
    expect(after.heartbeats).toBe(1);
  });
});

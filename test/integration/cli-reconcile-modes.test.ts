import { describe, expect, it } from 'vitest';
import { EXIT_OK } from '../../cli/precog';
import { runPrecog } from '../helpers/cli';
import { useTestDatabase } from '../helpers/database';
import { scannedEntries } from '../helpers/execution';

const db = useTestDatabase();
const precog = (...args: string[]) => runPrecog(db().url, args);

/**
 * Issue 18: `precog reconcile` after `npm start` checked the default paper account, which the run
 * never used (it trades live, against its simulator), and said everything agreed.
 */
describe('precog reconcile on a database that trades in the other mode', () => {
  it('says that the account it reconciled was never used, and which mode the database trades in', async () => {
    await scannedEntries(db().pool, { strategies: 1, executionMode: 'live' });
    const run = await precog('reconcile');
    expect(run.code).toBe(EXIT_OK);
    expect(run.out).toMatch(/reconciled with paper/);
    expect(run.out).toMatch(/note: this database has no paper orders; its trading is live \(1 orders\): set EXECUTION_MODE \(and the venue\) to reconcile that account; a finished `npm start` run's simulator is no longer running/);
  });

  it('says nothing of the kind when the mode reconciled is the one the database trades in', async () => {
    await db().pool.query(`INSERT INTO orders (client_order_id, purpose, market_id, platform_id, strategy_id, side, action, order_type, limit_price, quantity, execution_mode)
      SELECT client_order_id || '-paper', purpose, market_id, platform_id, strategy_id, side, action, order_type, limit_price, quantity, 'paper' FROM orders LIMIT 1`);
    expect((await precog('reconcile')).out).not.toMatch(/note:/);
  });
});

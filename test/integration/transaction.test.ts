import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../shared/db';
import { useTestDatabase } from '../helpers/database';

const db = useTestDatabase();

describe('withTransaction', () => {
  it('commits on success and rolls everything back on error', async () => {
    const { pool } = db();
    await pool.query('CREATE TABLE IF NOT EXISTS tx_probe (n int)');
    await withTransaction(pool, (c) => c.query('INSERT INTO tx_probe VALUES (1)'));
    await expect(
      withTransaction(pool, async (c) => {
        await c.query('INSERT INTO tx_probe VALUES (2)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await pool.query('SELECT array_agg(n ORDER BY n) AS ns FROM tx_probe');
    expect(rows[0].ns).toEqual([1]);
  });

  it('readOnly: a snapshot that reads, and refuses any write (tape and archive exports)', async () => {
    const { pool } = db();
    await pool.query('CREATE TABLE IF NOT EXISTS tx_read_only (n int)');
    const isolation = await withTransaction(pool, async (c) => (await c.query('SHOW transaction_isolation')).rows[0].transaction_isolation, { isolation: 'repeatable read', readOnly: true });
    expect(isolation).toBe('repeatable read');
    await expect(withTransaction(pool, (c) => c.query('INSERT INTO tx_read_only VALUES (1)'), { readOnly: true, retries: 0 }))
      .rejects.toThrow(/read-only transaction/);
    expect((await pool.query('SELECT count(*)::int AS n FROM tx_read_only')).rows[0].n).toBe(0);
  });

  it('re-runs the whole callback after a serialization failure, not after other errors', async () => {
    const { pool } = db();
    let calls = 0;
    const result = await withTransaction(pool, async (c) => {
      calls++;
      await c.query('SELECT 1');
      if (calls < 3) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);

    let failing = 0;
    await expect(
      withTransaction(pool, async () => {
        failing++;
        throw Object.assign(new Error('unique violation'), { code: '23505' });
      }),
    ).rejects.toThrow('unique violation');
    expect(failing).toBe(1);
  });

  it('gives up after the configured retries', async () => {
    let calls = 0;
    await expect(
      withTransaction(db().pool, async () => {
        calls++;
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      }, { retries: 1 }),
    ).rejects.toThrow('deadlock detected');
    expect(calls).toBe(2);
  });
});

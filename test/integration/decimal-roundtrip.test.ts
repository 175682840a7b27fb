import { describe, expect, it } from 'vitest';
import { Decimal, dec } from '../../shared/domain/decimal';
import { MarketRepository } from '../../shared/db';
import { useTestDatabase } from '../helpers/database';
import { marketSnapshot, seedHierarchy } from '../helpers/seed';

const db = useTestDatabase();

describe('NUMERIC ⇄ Decimal at the boundary', () => {
  it('writes and reads back 0.0001 and 0.9999 exactly, as Decimal', async () => {
    const { pool } = db();
    await seedHierarchy(pool);
    const markets = new MarketRepository(pool);
    await markets.upsertSnapshots([
      marketSnapshot('LOW', '0.0001'),
      marketSnapshot('HIGH', '0.9999'),
    ]);
    const low = await markets.getCurrent('LOW');
    const high = await markets.getCurrent('HIGH');
    expect(Decimal.isDecimal(low!.yesPrice)).toBe(true);
    expect(low!.yesPrice!.toFixed(4)).toBe('0.0001');
    expect(low!.noPrice!.toFixed(4)).toBe('0.9999');
    expect(high!.yesPrice!.equals(dec('0.9999'))).toBe(true);
    expect(high!.noPrice!.equals(dec('0.0001'))).toBe(true);
  });

  it('sums 10,000 prices of 0.0001 to exactly 1.0000, in SQL and in Decimal', async () => {
    const { pool } = db();
    const client = await pool.connect();
    try {
      // One transaction: a temp table is session state, and behind a transaction-pooling proxy
      // (PgBouncer here, RDS Proxy in AWS) the next statement may run on another server session.
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE prices (p DECIMAL(10,4)) ON COMMIT DROP');
      await client.query('INSERT INTO prices SELECT unnest($1::numeric[])', [Array(10_000).fill('0.0001')]);
      const { rows } = await client.query('SELECT sum(p) AS total, array_agg(p) AS all_prices FROM prices');
      expect(Decimal.isDecimal(rows[0].total)).toBe(true);
      expect(rows[0].total.toFixed(4)).toBe('1.0000');
      expect(rows[0].total.equals(1)).toBe(true);
      const jsSum = (rows[0].all_prices as Decimal[]).reduce((a, b) => a.plus(b), new Decimal(0));
      expect(jsSum.toFixed(4)).toBe('1.0000');
      // The same sum in floating point is not exact: this is why numbers never hold money.
      expect(Array(10_000).fill(0.0001).reduce((a: number, b: number) => a + b, 0)).not.toBe(1);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('refuses a JS number for a NUMERIC column before anything is written', async () => {
    const { pool } = db();
    const markets = new MarketRepository(pool);
    await expect(
      markets.upsertSnapshots([{ ...marketSnapshot('BAD', '0.5'), yesPrice: 0.5 as unknown as Decimal }]),
    ).rejects.toThrow(/yes_price: NUMERIC values must be Decimal or string/);
    expect(await markets.getCurrent('BAD')).toBeUndefined();
  });
});

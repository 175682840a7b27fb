import type pg from 'pg';
import { currentClock } from '../clock/clock';
import { ClockedClient } from './clockedClient';

export type Queryable = Pick<pg.ClientBase, 'query'>;

/** SQLSTATEs after which re-running the whole transaction is safe and likely to succeed. */
const RETRYABLE = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */]);

export interface TransactionOptions {
  /** Retries of the whole callback after a serialization failure or deadlock (default 3). */
  retries?: number;
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** BEGIN … READ ONLY: the server refuses any write (exports that must only read). */
  readOnly?: boolean;
}

/**
 * Runs fn inside BEGIN/COMMIT on one pooled client; any error rolls everything back, so callers
 * never leave half-written state. The callback must be safe to re-run (it is, when all its effects
 * are database writes on the given client).
 *
 * On a virtual clock the pool's ClockedClient sends the BEGIN together with the transaction's
 * `precog.now` (one round trip), so every default, trigger and precog_now() inside reads that time.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    if (currentClock().virtual && !(client instanceof ClockedClient)) {
      client.release();
      throw new Error('a virtual clock is installed but this pool was not made by createPool (shared/db/pool.ts): its SQL would read the wall clock');
    }
    let broken = false;
    try {
      await client.query(`BEGIN${options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : ''}${options.readOnly ? ' READ ONLY' : ''}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // connection is unusable: do not return it to the pool
      }
      const code = (error as { code?: string }).code;
      if (code !== undefined && RETRYABLE.has(code) && attempt < retries) continue;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

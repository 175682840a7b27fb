import pg from 'pg';
import { currentClock, SQL_CLOCK_SETTING } from '../clock/clock';

/**
 * A pg client that puts PostgreSQL on the application's clock. On the system clock it is a plain
 * pg.Client (no setting, no extra round trip). When a virtual clock is installed (`useClock`),
 * every statement runs in a transaction whose `precog.now` setting holds that clock's time, which
 * `precog_now()` (migration 0018) returns to every default, trigger and query:
 *
 * - `BEGIN …` goes out as one simple query `BEGIN …; SELECT set_config('precog.now', '<iso>', true)`
 *   (no extra round trip; the caller gets BEGIN's result);
 * - a statement outside any transaction (a `pool.query`, a checked-out client's single statement)
 *   is wrapped: `BEGIN; set_config` / the statement / `COMMIT` on this one connection, so the
 *   setting and the statement share one server session even through a transaction pooler
 *   (PgBouncer, RDS Proxy);
 * - statements inside a transaction pass unchanged.
 *
 * The setting is transaction-local (`set_config(…, true)`): nothing outlives the transaction, so
 * a pooler may hand the server connection to anyone afterwards.
 *
 * Every path to the database gets it: createPool's pool (pool.query, pool.connect, withTransaction)
 * and migrate's own connection.
 */
export class ClockedClient extends pg.Client {
  /** Whether this connection is inside a transaction block, as the server last reported it. */
  private inTransaction = false;
  /** Virtual-clock statements run one after another: each decision needs the previous outcome. */
  private clockedQueue: Promise<unknown> = Promise.resolve();

  // pg's query has a dozen overloads (promise, callback, submittable); this forwards all of them.
  // A submittable (a COPY stream, a cursor) passes unchanged: inside a transaction it sees that
  // transaction's setting, outside one it reads now() (only the benches use one today).
  override query(...args: any[]): any {
    const clock = currentClock();
    const [config, second, third] = args;
    if (!clock.virtual || (config !== null && typeof config === 'object' && typeof config.submit === 'function')) {
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const callback: ((error: Error | null, result?: unknown) => void) | undefined =
      typeof second === 'function' ? second : typeof third === 'function' ? third : undefined;
    const values: unknown = typeof second === 'function' ? undefined : second;
    const iso = clock.now().toISOString(); // the time the statement was issued
    const run = this.clockedQueue.then(() => this.runClocked(config, values, iso));
    this.clockedQueue = run.catch(() => undefined);
    if (callback) {
      run.then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
      return undefined;
    }
    return run;
  }

  private async runClocked(config: unknown, values: unknown, iso: string): Promise<unknown> {
    const text = statementText(config);
    const stamp = `SELECT set_config(${this.escapeLiteral(SQL_CLOCK_SETTING)}, ${this.escapeLiteral(iso)}, true)`;
    if (text !== undefined && TRANSACTION_START.test(text) && !hasValues(values)) {
      // One simple query: BEGIN and the stamp travel together (pg uses the simple protocol for a
      // text without parameters, which allows several statements).
      const results = (await this.send(`${text.trim().replace(/;\s*$/, '')}; ${stamp}`, undefined, text)) as pg.QueryResult[];
      return Array.isArray(results) ? results[0] : results;
    }
    if (this.inTransaction || text === undefined || OUTSIDE_TRANSACTION.test(text) || TRANSACTION_END.test(text) || readsNoClock(text)) {
      return this.send(config, values, text);
    }
    await this.send(`BEGIN; ${stamp}`, undefined, 'BEGIN');
    let result: unknown;
    try {
      result = await this.send(config, values, text);
    } catch (error) {
      if (this.inTransaction) await this.send('ROLLBACK', undefined, 'ROLLBACK').catch(() => undefined);
      throw error;
    }
    await this.send('COMMIT', undefined, 'COMMIT');
    return result;
  }

  /** Sends one query and records whether the connection is now inside a transaction. */
  private async send(config: unknown, values: unknown, text: string | undefined): Promise<unknown> {
    try {
      const result = await (super.query as (c: unknown, v?: unknown) => Promise<unknown>)(config, values);
      // After a success the server's ReadyForQuery status is current: trust it.
      this.inTransaction = this.getTransactionStatus() !== 'I';
      return result;
    } catch (error) {
      // pg reports an error before the server's ReadyForQuery arrives, so the status may be stale:
      // a failed COMMIT/ROLLBACK still ended the transaction; any other failure leaves it as it was.
      if (text !== undefined && TRANSACTION_END.test(text)) this.inTransaction = false;
      throw error;
    }
  }
}

/**
 * A standalone statement that can neither read the clock nor write a row needs no stamp (one round
 * trip instead of three): a plain query (SELECT, WITH, VALUES, TABLE, SHOW) that names no
 * precog_now() and no writing keyword. Safe because the schema's only functions callable from a
 * query are precog_now() and the immutable version_sort_key(), and no view reads the clock
 * (test/integration/sql-clock.test.ts checks both); anything in doubt is wrapped.
 */
export function readsNoClock(text: string): boolean {
  return READ_ONLY_START.test(text) && !CLOCK_OR_WRITE.test(stripLiterals(text));
}
const READ_ONLY_START = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:SELECT|WITH|VALUES|TABLE|SHOW)\b/i;
const CLOCK_OR_WRITE = /\b(?:precog_now|now|current_timestamp|current_date|localtimestamp|clock_timestamp|statement_timestamp|transaction_timestamp|insert|update|delete|merge|copy|call|do|nextval|setval|set_config|pg_sleep|lock)\b/i;
/** The text without its quoted literals and comments (a keyword inside 'text' is not a statement). */
const stripLiterals = (text: string) => text.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');

/** SQL comments and blanks before the first keyword. */
const LEADING = String.raw`^(?:\s|--[^\n]*(?:\n|$)|/\*[\s\S]*?\*/)*`;
const TRANSACTION_START = new RegExp(`${LEADING}(?:BEGIN|START\\s+TRANSACTION)\\b`, 'i');
const TRANSACTION_END = new RegExp(`${LEADING}(?:COMMIT|END|ABORT|ROLLBACK(?!\\s+TO\\b)|PREPARE\\s+TRANSACTION)\\b`, 'i');
/** Statements PostgreSQL refuses inside a transaction block (none of them reads the clock). */
const OUTSIDE_TRANSACTION = new RegExp(
  `${LEADING}(?:VACUUM|CREATE\\s+DATABASE|DROP\\s+DATABASE|CREATE\\s+TABLESPACE|DROP\\s+TABLESPACE|ALTER\\s+SYSTEM|DISCARD\\s+ALL|(?:COMMIT|ROLLBACK)\\s+PREPARED|[^;]*\\bCONCURRENTLY\\b)`,
  'i',
);

function statementText(config: unknown): string | undefined {
  if (typeof config === 'string') return config;
  if (config !== null && typeof config === 'object' && typeof (config as { text?: unknown }).text === 'string') {
    return (config as { text: string }).text;
  }
  return undefined;
}

function hasValues(values: unknown): boolean {
  return Array.isArray(values) && values.length > 0;
}

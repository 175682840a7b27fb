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
/** pg's own conversion of a parameter to the text it sends for $n (pg.utils, untyped in @types/pg). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils;

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
    // One round trip where the statement's parameters can travel as literals (pg sends them
    // untyped, as text, so a quoted literal resolves the same way): BEGIN, stamp, statement and
    // COMMIT as one simple query. Anything else (binary values, dollar quotes, named or typed
    // queries) takes the three round trips below.
    const inlined = plainConfig(config) ? inlineParameters(text, values ?? (config as { values?: unknown[] }).values, (v) => this.escapeLiteral(v)) : undefined;
    if (inlined !== undefined) {
      try {
        const results = (await this.send(`BEGIN; ${stamp}; ${inlined}; COMMIT`, undefined, 'BEGIN')) as pg.QueryResult[];
        this.inTransaction = false;
        return results[2];
      } catch (error) {
        // The statement failed inside the block: the rest was skipped and the transaction aborted.
        await this.send('ROLLBACK', undefined, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
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

/** A statement given as text, or as {text, values} only (no name, row mode, types or submittable). */
function plainConfig(config: unknown): boolean {
  if (typeof config === 'string') return true;
  if (config === null || typeof config !== 'object') return false;
  return Object.keys(config).every((key) => key === 'text' || key === 'values');
}

/**
 * The statement with its $n parameters written as quoted literals, as pg would send them (its own
 * prepareValue, then escapeLiteral); undefined when that cannot be done safely: a binary value, a
 * dollar-quoted body, a placeholder without a value, or more than one statement.
 */
export function inlineParameters(text: string, values: unknown, escapeLiteral: (value: string) => string): string | undefined {
  const list = Array.isArray(values) ? values : values === undefined || values === null ? [] : undefined;
  if (list === undefined || /\$[A-Za-z_]*\$/.test(text)) return undefined;
  const literals: string[] = [];
  for (const value of list) {
    const prepared = prepareValue(value) as unknown;
    if (prepared === null || prepared === undefined) literals.push('NULL');
    else if (typeof prepared === 'string') literals.push(escapeLiteral(prepared));
    else return undefined; // a Buffer (bytea): binary
  }
  let out = '';
  let failed = false;
  // Walk the text: quoted literals, quoted identifiers and comments pass unchanged.
  const token = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|\$(\d+)|;|[^'"$;\-/]+|[\s\S]/g;
  for (const match of text.matchAll(token)) {
    if (match[1] !== undefined) {
      const literal = literals[Number(match[1]) - 1];
      if (literal === undefined) failed = true;
      out += literal ?? '';
    } else if (match[0] === ';') {
      failed = true; // only one statement may travel this way
    } else {
      out += match[0];
    }
  }
  return failed ? undefined : out;
}

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

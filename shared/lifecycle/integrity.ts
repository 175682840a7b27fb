import { Decimal } from '../domain/decimal';
import { ZERO } from '../domain/decimal';
import type { Queryable } from '../db/transaction';
import { ACCOUNT_BALANCE, EDGES, GAME_STATES, MARKETS, POSITIONS } from '../db/versionedTables';
import type { VersionedTableSpec } from '../db/versionedUpsert';
import { EMPTY_POSITION, applyFill, type PaperPositionState } from '../exchange/paper/paperExchange';

/**
 * Integrity checks of a Precog database: what must hold in any copy of it (the live database, a
 * restored backup, a database an archive was restored into). Read-only; every query names the
 * parent tables, so partitioned tables are checked whole.
 *
 * - one current row per key in every versioned (SCD-2) table: the partial unique index says so,
 *   but a restore (or a broken index) is exactly when that is worth checking from the rows;
 * - append-only tables (found in the catalog: a row-level BEFORE DELETE trigger calling
 *   reject_append_only_change) never lose rows: their counts are compared with a baseline the
 *   caller recorded earlier (the restore test keeps the previous run's), when one is given;
 * - the paper venue's cash reconciles: each paper account's balance equals its starting balance
 *   plus what every fill did to cash (replayed in fill order with the exchange's own applyFill,
 *   so YES+NO pairs pay back as they did) plus every settlement's credit.
 */

export const VERSIONED_TABLES: readonly VersionedTableSpec[] = [MARKETS, GAME_STATES, EDGES, POSITIONS, ACCOUNT_BALANCE];

export type IntegrityCheckName = 'one-current-row' | 'append-only-count' | 'paper-cash';

export interface IntegrityViolation {
  check: IntegrityCheckName;
  table: string;
  /** What is wrong, naming the key, account or counts concerned. */
  message: string;
}

export interface IntegrityReport {
  ok: boolean;
  violations: IntegrityViolation[];
  /** Row count of every append-only table (the next run's baseline). */
  appendOnlyCounts: Record<string, number>;
  /** The checks that ran, with how many rows/keys/accounts each looked at. */
  checked: Array<{ check: IntegrityCheckName; table: string; examined: number }>;
}

export interface IntegrityOptions {
  /** Append-only row counts recorded earlier; a table now holding fewer rows is a violation. */
  baselineCounts?: Record<string, number>;
  /**
   * Rows archived (and dropped) per table since the baseline was recorded: they left on purpose
   * and count as still there.
   */
  archivedSinceBaseline?: Record<string, number>;
  /** Cap on the duplicate keys listed per table (the count is always given). */
  maxListed?: number;
}

/** Quotes an identifier for SQL (the table and column names come from code, not input). */
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function checkIntegrity(db: Queryable, options: IntegrityOptions = {}): Promise<IntegrityReport> {
  const violations: IntegrityViolation[] = [];
  const checked: IntegrityReport['checked'] = [];
  const maxListed = options.maxListed ?? 5;

  for (const spec of VERSIONED_TABLES) {
    const key = spec.businessKey.map(ident).join(', ');
    const { rows } = await db.query(
      `SELECT ${key}, count(*)::int AS current_rows FROM ${ident(spec.table)}
       WHERE row_current_ind GROUP BY ${key} HAVING count(*) > 1 ORDER BY ${key}`,
    );
    const { rows: [total] } = await db.query(`SELECT count(*)::int AS n FROM ${ident(spec.table)} WHERE row_current_ind`);
    checked.push({ check: 'one-current-row', table: spec.table, examined: total.n as number });
    if (rows.length > 0) {
      const listed = rows.slice(0, maxListed)
        .map((r) => `${spec.businessKey.map((k) => `${k}=${String(r[k])}`).join(' ')} has ${r.current_rows as number} current rows`);
      violations.push({
        check: 'one-current-row',
        table: spec.table,
        message: `${rows.length} key(s) of ${spec.table} with more than one current row: ${listed.join('; ')}${rows.length > maxListed ? '; …' : ''}`,
      });
    }
  }

  const appendOnlyCounts: Record<string, number> = {};
  for (const table of await appendOnlyTables(db)) {
    const { rows: [r] } = await db.query(`SELECT count(*)::bigint AS n FROM ${ident(table)}`);
    const count = r.n as number;
    appendOnlyCounts[table] = count;
    checked.push({ check: 'append-only-count', table, examined: count });
    const baseline = options.baselineCounts?.[table];
    if (baseline === undefined) continue;
    const archived = options.archivedSinceBaseline?.[table] ?? 0;
    if (count + archived < baseline) {
      violations.push({
        check: 'append-only-count',
        table,
        message: `${table} has ${count} rows${archived ? ` (+${archived} archived)` : ''}, fewer than the ${baseline} recorded before: append-only rows were lost`,
      });
    }
  }
  for (const table of Object.keys(options.baselineCounts ?? {})) {
    if (!(table in appendOnlyCounts)) {
      violations.push({ check: 'append-only-count', table, message: `${table} was recorded as append-only but is no longer an append-only table here` });
    }
  }

  const cash = await paperCash(db);
  checked.push({ check: 'paper-cash', table: 'paper_accounts', examined: cash.length });
  for (const account of cash) {
    if (!account.balance.eq(account.expected)) {
      violations.push({
        check: 'paper-cash',
        table: 'paper_accounts',
        message: `paper account ${account.accountId}: balance ${account.balance.toFixed(6)} but starting ${account.starting.toFixed(6)} + fills ${account.fills.toFixed(6)} + settlements ${account.settlements.toFixed(6)} = ${account.expected.toFixed(6)} (difference ${account.balance.minus(account.expected).toFixed(6)})`,
      });
    }
  }

  return { ok: violations.length === 0, violations, appendOnlyCounts, checked };
}

/**
 * The append-only tables, from the catalog: the ones a row-level BEFORE DELETE trigger guards
 * with reject_append_only_change (a partition's cloned trigger is skipped: its parent is counted).
 */
export async function appendOnlyTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT c.relname AS table
     FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
     JOIN pg_proc p ON p.oid = t.tgfoid AND p.proname = 'reject_append_only_change'
     WHERE NOT c.relispartition
       AND (t.tgtype & 1) = 1      -- FOR EACH ROW
       AND (t.tgtype & 8) = 8      -- ON DELETE
     ORDER BY 1`,
  );
  return rows.map((r) => r.table as string);
}

interface PaperCash {
  accountId: string;
  starting: Decimal;
  balance: Decimal;
  fills: Decimal;
  settlements: Decimal;
  expected: Decimal;
}

/** Every paper account's cash as recorded, and as its fills and settlements say it must be. */
async function paperCash(db: Queryable): Promise<PaperCash[]> {
  const { rows: accounts } = await db.query(
    `SELECT a.account_id, a.starting_balance, a.balance,
            COALESCE((SELECT sum(s.credited) FROM paper_settlements s WHERE s.account_id = a.account_id), 0) AS settlements
     FROM paper_accounts a ORDER BY a.account_id`,
  );
  const result: PaperCash[] = [];
  for (const a of accounts) {
    // Replayed per ticker in fill order: a buy's pair payback depends on the position before it.
    const { rows: fills } = await db.query(
      `SELECT ticker, side, action, count, price, fee FROM paper_fills WHERE account_id = $1 ORDER BY fill_number`,
      [a.account_id],
    );
    const positions = new Map<string, PaperPositionState>();
    let fillCash = ZERO;
    for (const f of fills) {
      const { after, balanceChange } = applyFill(positions.get(f.ticker) ?? EMPTY_POSITION, {
        side: f.side, action: f.action, count: f.count as Decimal, price: f.price as Decimal, fee: f.fee as Decimal,
      });
      positions.set(f.ticker, after);
      fillCash = fillCash.plus(balanceChange);
    }
    const starting = a.starting_balance as Decimal;
    const settlements = new Decimal(a.settlements as Decimal);
    result.push({
      accountId: a.account_id,
      starting,
      balance: a.balance as Decimal,
      fills: fillCash,
      settlements,
      expected: starting.plus(fillCash).plus(settlements),
    });
  }
  return result;
}

/** One line per violation (logs, the restore test's message, the CLI). */
export function formatIntegrityReport(report: IntegrityReport): string {
  if (report.ok) {
    const tables = report.checked.length;
    return `integrity ok: ${tables} checks (one current row per key, append-only counts, paper cash)`;
  }
  return report.violations.map((v) => `${v.check} ${v.table}: ${v.message}`).join('\n');
}

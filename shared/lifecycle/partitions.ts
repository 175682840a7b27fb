import type { Queryable } from '../db/transaction';

/**
 * The time partitions of the versioned tables (migration 0021, docs/schema.md "Partitioning").
 *
 * Each table T is LIST-partitioned on row_current_ind: `T_current` holds every current row (and
 * the one-current-row unique index); `T_history` holds closed versions, RANGE-partitioned by
 * `superseded_at` into one partition per UTC month (`T_history_YYYY_MM`) plus `T_history_default`
 * for a month nobody created yet. Only the month partitions are time partitions: they are what
 * archival exports, detaches and drops, and what restore re-creates.
 */
export interface PartitionedTable {
  table: string;
  /** The column the time partitions are ranges of. */
  partitionKey: 'superseded_at';
  /** The partition of current rows: never archived, never dropped. */
  currentPartition: string;
  /** The parent of the month partitions. */
  historyPartition: string;
  defaultPartition: string;
}

function partitioned(table: string): PartitionedTable {
  return {
    table,
    partitionKey: 'superseded_at',
    currentPartition: `${table}_current`,
    historyPartition: `${table}_history`,
    defaultPartition: `${table}_history_default`,
  };
}

export const PARTITIONED_TABLES: readonly PartitionedTable[] = Object.freeze([partitioned('markets'), partitioned('game_states')]);

/** A month partition: rows with from <= partition key < to. */
export interface TimePartition {
  table: string;
  partition: string;
  from: Date;
  to: Date;
}

export function partitionedTable(table: string): PartitionedTable {
  const found = PARTITIONED_TABLES.find((t) => t.table === table);
  if (!found) {
    throw new Error(`table: ${table} is not a time-partitioned table (known: ${PARTITIONED_TABLES.map((t) => t.table).join(', ')})`);
  }
  return found;
}

/** The leaf time-range partitions of `table`, oldest first (not the current or default partition). */
export async function listTimePartitions(db: Queryable, table: string): Promise<TimePartition[]> {
  const spec = partitionedTable(table);
  // The bounds are read by PostgreSQL itself (the text of relpartbound cast back to timestamptz),
  // so they do not depend on the session's time zone or date style.
  const { rows } = await db.query<{ partition: string; from: Date; to: Date }>(
    `SELECT c.relname AS partition,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \\('([^']+)'\\) TO \\('([^']+)'\\)$$))[1]::timestamptz AS "from",
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \\('([^']+)'\\) TO \\('([^']+)'\\)$$))[2]::timestamptz AS "to"
     FROM pg_inherits i
     JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1) AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
     ORDER BY 2`,
    [spec.historyPartition],
  );
  return rows.map((r) => ({ table, partition: r.partition, from: r.from, to: r.to }));
}

/**
 * Creates the missing month partitions of `table` covering [from, to) (UTC months), moving any
 * rows of those months out of the default partition. Idempotent. Returns the partitions created.
 * Runs in the caller's transaction when given a client inside one.
 */
export async function ensurePartitionsFor(db: Queryable, table: string, from: Date, to: Date): Promise<string[]> {
  partitionedTable(table);
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) throw new TypeError('from: expected a valid Date');
  if (!(to instanceof Date) || Number.isNaN(to.getTime())) throw new TypeError('to: expected a valid Date');
  if (to < from) throw new RangeError(`to: ${to.toISOString()} is before from: ${from.toISOString()}`);
  const { rows } = await db.query<{ created: string }>('SELECT ensure_history_partitions($1, $2, $3) AS created', [table, from, to]);
  return rows.map((r) => r.created);
}

/**
 * Detaches one month partition from `table` and drops it. Only a month partition listed by
 * listTimePartitions qualifies: never the partition of current rows, never the default one.
 * The caller (archival) must have verified its copy of the rows first. A plain DETACH (not
 * CONCURRENTLY), so it runs inside the caller's transaction and commits with what it recorded.
 */
export async function detachAndDropPartition(db: Queryable, table: string, partition: string): Promise<void> {
  const spec = partitionedTable(table);
  const months = await listTimePartitions(db, table);
  if (!months.some((m) => m.partition === partition)) {
    throw new Error(`partition: ${partition} is not a month partition of ${table} (the current and default partitions are never dropped)`);
  }
  await db.query(`ALTER TABLE "${spec.historyPartition}" DETACH PARTITION "${partition}"`);
  await db.query(`DROP TABLE "${partition}"`);
}

/** How many months after the current one maintain-partitions keeps created (the current one too). */
export const DEFAULT_MONTHS_AHEAD = 3;

export interface MaintainResult {
  /** Month partitions created, by table. */
  created: Record<string, string[]>;
  /** Rows left in each default partition after the run (0: every row is in its month's partition). */
  defaultRows: Record<string, number>;
}

/** The first instant of the UTC month `months` after the one containing `at`. */
export function utcMonthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}

/**
 * The daily job: for every partitioned table, the month partitions from the current UTC month
 * through `monthsAhead` months after it exist, and every row that fell into the default partition
 * (a month without its partition yet, e.g. a clock past the window) is moved into a partition of
 * its own month. Idempotent: a second run creates nothing. `now` comes from shared/clock.
 */
export async function maintainPartitions(db: Queryable, now: Date, monthsAhead = DEFAULT_MONTHS_AHEAD): Promise<MaintainResult> {
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0) throw new RangeError(`monthsAhead: expected a whole number >= 0, got ${monthsAhead}`);
  const created: Record<string, string[]> = {};
  const defaultRows: Record<string, number> = {};
  for (const spec of PARTITIONED_TABLES) {
    const made = await ensurePartitionsFor(db, spec.table, utcMonthStart(now), utcMonthStart(now, monthsAhead + 1));
    // Rows parked in the default partition: give each of their months a partition (which moves them).
    const { rows: strayMonths } = await db.query<{ month: Date }>(
      `SELECT DISTINCT date_trunc('month', superseded_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month
       FROM "${spec.defaultPartition}" ORDER BY 1`,
    );
    for (const { month } of strayMonths) made.push(...(await ensurePartitionsFor(db, spec.table, month, utcMonthStart(month, 1))));
    const { rows: left } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${spec.defaultPartition}"`);
    created[spec.table] = made;
    defaultRows[spec.table] = left[0]!.n;
  }
  return { created, defaultRows };
}

import type pg from 'pg';
import type { Queryable } from '../db/transaction';
import type { ExportTableOptions, TableFile, TapeRow } from '../tape';

/**
 * What archival and restore need from the tape library (shared/tape, decision 2) and the
 * partition module (shared/lifecycle/partitions.ts, decision 5), as interfaces: archiveDeps.ts
 * wires the real ones; the tests swap in stores, codecs and partition operations that fail on
 * purpose, to prove nothing is dropped unless verified.
 */

export type { ArchiveStore } from '../tape';

/** One leaf time-range partition of a partitioned table ([from, to)). */
export interface TimePartition {
  table: string;
  partition: string;
  from: Date;
  to: Date;
}

export interface PartitionOps {
  /** Every partitioned table with its partition key (the archive's time column). */
  tables(): ReadonlyArray<{ table: string; timeColumn: string }>;
  /** Leaf time-range partitions, oldest first. */
  listTimePartitions(db: Queryable, table: string): Promise<TimePartition[]>;
  /** Creates the missing month partitions covering [from, to) (restore: in its transaction). */
  ensurePartitionsFor(db: Queryable, table: string, from: Date, to: Date): Promise<unknown>;
  /** In the caller's transaction when given a client inside one. */
  detachAndDropPartition(db: Queryable, table: string, partition: string): Promise<void>;
}

export type ExportedFile = TableFile;

export interface TableFileCodec {
  /** `table` may be a leaf partition (same columns as its parent). */
  exportTableFile(db: pg.Pool, options: ExportTableOptions): Promise<TableFile>;
  readTableFile(bytes: Uint8Array): AsyncIterable<TapeRow>;
  /** Inside the caller's transaction; identity values kept (OVERRIDING SYSTEM VALUE). Returns the rows inserted. */
  insertRowsExact(db: Queryable, table: string, rows: AsyncIterable<TapeRow>): Promise<number>;
}

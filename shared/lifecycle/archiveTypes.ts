import type pg from 'pg';

/**
 * What archival and restore need from the tape library (shared/tape, decision 2) and the
 * partition module (shared/lifecycle/partitions.ts, decision 5), as interfaces: the archive's
 * state machine is tested with the real implementations (archiveDeps.ts wires them) and, for the
 * failure paths, with stores and codecs that fail on purpose.
 */

/** A store of archive files keyed by tape path (`<table>/<YYYY-MM>.parquet`, `manifest.json`). */
export interface ArchiveStore {
  put(key: string, bytes: Uint8Array, options: { sha256: string }): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  stat(key: string): Promise<{ bytes: number; sha256: string } | null>;
  list(prefix: string): Promise<string[]>;
}

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
  listTimePartitions(db: pg.Pool, table: string): Promise<TimePartition[]>;
  /** Creates the missing month partitions covering [from, to) (restore uses it, in its transaction). */
  ensurePartitionsFor(db: pg.ClientBase, table: string, from: Date, to: Date): Promise<void>;
  detachAndDropPartition(db: pg.Pool, table: string, partition: string): Promise<void>;
}

export interface ExportedFile {
  bytes: Uint8Array;
  rows: number;
  /** Lower-case hex sha256 of `bytes`. */
  sha256: string;
}

export interface ColumnSpec {
  name: string;
  [key: string]: unknown;
}

export interface TableFileCodec {
  describeTable(db: pg.Pool | pg.ClientBase, table: string): Promise<ColumnSpec[]>;
  /** `table` may be a leaf partition (same columns as its parent). */
  exportTableFile(db: pg.Pool, spec: { table: string; where?: string; params?: unknown[]; orderBy?: string }): Promise<ExportedFile>;
  readTableFile(bytes: Uint8Array): AsyncIterable<Record<string, unknown>>;
  /** Inside the caller's transaction; identity values kept (OVERRIDING SYSTEM VALUE). */
  insertRowsExact(db: pg.ClientBase, table: string, rows: AsyncIterable<Record<string, unknown>>): Promise<number>;
}

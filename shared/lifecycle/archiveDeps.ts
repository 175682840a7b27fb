import { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { DirectoryStore, S3Store, exportTableFile, insertRowsExact, readTableFile } from '../tape';
import { PARTITIONED_TABLES, detachAndDropPartition, ensurePartitionsFor, listTimePartitions } from './partitions';
import type { ArchiveDeps } from './archive';
import type { ArchiveLocation } from './archiveConfig';
import type { ArchiveStore, PartitionOps, TableFileCodec } from './archiveTypes';

/** The real implementations: the tape library (Parquet, stores) and the partition module. */

export const tapeCodec: TableFileCodec = { exportTableFile, readTableFile, insertRowsExact };

export const partitionOps: PartitionOps = {
  tables: () => PARTITIONED_TABLES.map((t) => ({ table: t.table, timeColumn: t.partitionKey })),
  listTimePartitions,
  ensurePartitionsFor,
  detachAndDropPartition,
};

/** The archive at `location`: a directory, or the bucket under its prefix (S3 client built on first use). */
export function archiveStore(location: ArchiveLocation, s3?: S3Client): ArchiveStore {
  return location.kind === 'directory' ? new DirectoryStore(location.dir) : new S3Store(s3 ?? new S3Client({}), location.bucket, location.prefix);
}

export function archiveDeps(pool: pg.Pool, location: ArchiveLocation, options: { s3?: S3Client } = {}): ArchiveDeps {
  return { pool, store: archiveStore(location, options.s3), partitions: partitionOps, codec: tapeCodec };
}

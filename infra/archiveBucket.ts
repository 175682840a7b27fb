import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { guardFindings } from './guard';
import { acknowledge } from './nag';

/**
 * The storage plan of the schema document (database-schema-v1.5.md, Archival Strategy): hot in
 * PostgreSQL for 18 months, warm to 42 months, cold after that, 10 years in all. Archival moves a
 * month out of PostgreSQL once it is past the hot window, so an archive object is created when its
 * data is about 18 months old; the S3 ages below count from that upload.
 */
export const STORAGE_PLAN = { hotMonths: 18, warmUntilMonths: 42, retentionYears: 10 } as const;

const DAYS_PER_MONTH = 365.25 / 12;
/** Warm in S3: from the upload (≈ 18 months of age) until the data is 42 months old. */
export const ARCHIVE_COLD_AFTER_DAYS = Math.round((STORAGE_PLAN.warmUntilMonths - STORAGE_PLAN.hotMonths) * DAYS_PER_MONTH); // 731
/** Deleted when the data is 10 years old: 120 − 18 months after the upload (a late upload keeps it longer, never shorter). */
export const ARCHIVE_EXPIRE_AFTER_DAYS = Math.round((STORAGE_PLAN.retentionYears * 12 - STORAGE_PLAN.hotMonths) * DAYS_PER_MONTH); // 3105
/** S3 moves nothing to STANDARD_IA younger than 30 days. */
export const ARCHIVE_INFREQUENT_ACCESS_AFTER_DAYS = 30;
/** Overwritten or deleted object versions (the manifest is rewritten on every run) are kept this long. */
export const NONCURRENT_VERSION_DAYS = 30;
/**
 * STANDARD_IA and GLACIER_IR bill every object as at least 128 KiB: smaller objects (the manifest,
 * a quiet month's file) stay in STANDARD, where they cost less.
 */
export const TIERED_MIN_OBJECT_BYTES = 128 * 1024;

/** Key prefix of the archive (the tape layout under it: manifest.json, <table>/<YYYY-MM>.parquet). */
export const ARCHIVE_PREFIX = 'archive/';
/** Key prefix of the restore test's recorded append-only row counts. */
export const INTEGRITY_PREFIX = 'integrity/';

/**
 * The archive bucket: Parquet months moved out of PostgreSQL by archive-partitions, which are
 * then the only copy. Versioned (an overwrite or delete leaves the previous version for
 * NONCURRENT_VERSION_DAYS), SSE-S3 encrypted, every public access blocked, TLS only, retained
 * when the stack is deleted, and lifecycle rules that follow the storage plan:
 *
 * - warm (data 18–42 months old): STANDARD for the first 30 days (S3's minimum before
 *   STANDARD_IA), then STANDARD_IA: read in milliseconds, for audits and backtests;
 * - cold (42 months on): GLACIER_IR (Glacier Instant Retrieval). Still read with a plain GetObject,
 *   so `precog archive restore` and a backtest over an old month work unchanged; Deep Archive would
 *   cost less but needs a RestoreObject and hours first, which nothing in Precog does;
 * - expired at 10 years of age; noncurrent versions after 30 days; unfinished multipart uploads
 *   after 7 days.
 *
 * SSE-S3, not KMS: the objects are market history (no credentials), IAM on the bucket is the
 * access control either way, and a customer key would add a per-request charge and a key whose
 * deletion makes every archive unreadable, the only copy included.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // The archives are the only copy of what archival dropped from PostgreSQL.
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
      lifecycleRules: [
        {
          id: 'archive-tiers',
          prefix: ARCHIVE_PREFIX,
          objectSizeGreaterThan: TIERED_MIN_OBJECT_BYTES,
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(ARCHIVE_INFREQUENT_ACCESS_AFTER_DAYS) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(ARCHIVE_COLD_AFTER_DAYS) },
          ],
        },
        {
          id: 'archive-retention',
          prefix: ARCHIVE_PREFIX,
          expiration: Duration.days(ARCHIVE_EXPIRE_AFTER_DAYS),
        },
        {
          id: 'old-versions-and-uploads',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    // CloudFormation types ObjectSizeGreaterThan as a string; the L2 writes a number, which CDK's
    // own template check flags (W9003). The same value, as the schema wants it.
    (this.bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'LifecycleConfiguration.Rules.0.ObjectSizeGreaterThan', String(TIERED_MIN_OBJECT_BYTES),
    );
    acknowledge(this.bucket, guardFindings(
      's3_bucket_default_encryption_kms_check', 's3_bucket_logging_enabled_check',
      's3_event_notifications_enabled_check', 's3_bucket_object_lock_enabled_check',
    ));
    acknowledge(this.bucket, {
      'AwsSolutions-S1':
        'No server access logs: the only writers are the archive and restore-check functions through their IAM roles (CloudTrail records the bucket-level API calls); a log bucket would need its own retention and grows with every request, for an archive written once a day.',
    });
  }

  /** Read, write and list under one prefix (list limited to it by the s3:prefix condition). */
  grantPrefix(grantee: iam.IGrantable, prefix: string, actions: { write: boolean }): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', ...(actions.write ? ['s3:PutObject'] : [])],
      resources: [this.bucket.arnForObjects(`${prefix}*`)],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }));
  }
}

import { PutRestoreValidationResultCommand, type BackupClient } from '@aws-sdk/client-backup';
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { Queryable } from '../../shared/db/transaction';
import { parseEvent } from '../../shared/events/parseEvent';
import { checkIntegrity, formatIntegrityReport, type IntegrityReport } from '../../shared/lifecycle/integrity';

/**
 * AWS Backup's "Restore Job State Change" event (source aws.backup, on the default bus), as the
 * restore testing plan's jobs send it: the fields restore-check reads. Others are let through.
 */
export const RestoreJobEvent = z.object({
  source: z.literal('aws.backup'),
  'detail-type': z.literal('Restore Job State Change'),
  detail: z.object({
    restoreJobId: z.string().min(1),
    status: z.string().min(1),
    resourceType: z.string().optional(),
    createdResourceArn: z.string().optional(),
    restoreTestingPlanArn: z.string().optional(),
    statusMessage: z.string().optional(),
  }),
});
export type RestoreJobEvent = z.infer<typeof RestoreJobEvent>;

/** The recorded append-only counts: the baseline of the next restore test. */
const Baseline = z.object({ recordedAt: z.string(), restoreJobId: z.string(), appendOnlyCounts: z.record(z.string(), z.number().int().nonnegative()) });

/** AWS Backup shows the validation message in its console; keep it readable. */
export const MAX_VALIDATION_MESSAGE = 1000;

export interface RestoredDatabase {
  db: Queryable;
  close(): Promise<void>;
}

export interface RestoreCheckDeps {
  backup: Pick<BackupClient, 'send'>;
  rds: Pick<RDSClient, 'send'>;
  s3: Pick<S3Client, 'send'>;
  /** Connects to the restored instance (its address and port from RDS). */
  connect(endpoint: { host: string; port: number }): Promise<RestoredDatabase>;
  bucket: string;
  /** The S3 key of the baseline counts (under the integrity/ prefix). */
  baselineKey: string;
  now(): Date;
}

export interface RestoreCheckOutcome {
  restoreJobId: string;
  status: 'SUCCESSFUL' | 'FAILED';
  message: string;
  /** Whether the result was sent to AWS Backup (a restore job that itself failed has nothing to validate). */
  reported: boolean;
  report?: IntegrityReport;
}

/**
 * Validates one restore test: finds the restored instance from the job's created resource ARN,
 * runs the integrity checks on it against the previous test's append-only counts, records the new
 * counts when everything holds, and reports SUCCESSFUL or FAILED (with what is wrong) to AWS
 * Backup, which then deletes the instance. Anything that stops the check (no endpoint, no
 * connection, a failing query) is a FAILED restore test, not an exception: the test exists to
 * find exactly that.
 */
export async function runRestoreCheck(event: unknown, deps: RestoreCheckDeps): Promise<RestoreCheckOutcome> {
  const { detail } = parseEvent('restore-check', RestoreJobEvent, event);
  const restoreJobId = detail.restoreJobId;
  if (detail.status !== 'COMPLETED') {
    return {
      restoreJobId, status: 'FAILED', reported: false,
      message: `restore job ${restoreJobId} ended ${detail.status}${detail.statusMessage ? `: ${detail.statusMessage}` : ''}: the latest backup could not be restored`,
    };
  }

  let outcome: RestoreCheckOutcome;
  try {
    if (detail.resourceType !== undefined && detail.resourceType !== 'RDS') throw new Error(`restore job ${restoreJobId} restored a ${detail.resourceType}, not an RDS instance`);
    if (!detail.createdResourceArn) throw new Error(`restore job ${restoreJobId} names no created resource (detail.createdResourceArn)`);
    const endpoint = await endpointOf(deps, detail.createdResourceArn);
    const restored = await deps.connect(endpoint);
    try {
      const baseline = await readBaseline(deps);
      const report = await checkIntegrity(restored.db, { baselineCounts: baseline?.appendOnlyCounts });
      if (report.ok) {
        await deps.s3.send(new PutObjectCommand({
          Bucket: deps.bucket, Key: deps.baselineKey, ContentType: 'application/json',
          Body: JSON.stringify({ recordedAt: deps.now().toISOString(), restoreJobId, appendOnlyCounts: report.appendOnlyCounts }, null, 2),
        }));
      }
      outcome = {
        restoreJobId, report, reported: false,
        status: report.ok ? 'SUCCESSFUL' : 'FAILED',
        message: report.ok
          ? `${formatIntegrityReport(report)}${baseline ? ` (append-only counts compared with restore job ${baseline.restoreJobId})` : ' (first run: append-only counts recorded as the baseline)'}`
          : formatIntegrityReport(report),
      };
    } finally {
      await restored.close();
    }
  } catch (error) {
    outcome = { restoreJobId, status: 'FAILED', reported: false, message: `restore check could not run: ${error instanceof Error ? error.message : String(error)}` };
  }

  await deps.backup.send(new PutRestoreValidationResultCommand({
    RestoreJobId: restoreJobId,
    ValidationStatus: outcome.status,
    ValidationStatusMessage: outcome.message.slice(0, MAX_VALIDATION_MESSAGE),
  }));
  return { ...outcome, reported: true };
}

/** The restored instance's endpoint; DescribeDBInstances' db-instance-id filter takes an ARN. */
async function endpointOf(deps: RestoreCheckDeps, arn: string): Promise<{ host: string; port: number }> {
  const { DBInstances: instances = [] } = await deps.rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-instance-id', Values: [arn] }] }));
  const instance = instances[0];
  if (!instance) throw new Error(`restored instance ${arn} not found`);
  if (!instance.Endpoint?.Address || instance.Endpoint.Port === undefined) {
    throw new Error(`restored instance ${arn} has no endpoint (status ${instance.DBInstanceStatus ?? 'unknown'})`);
  }
  return { host: instance.Endpoint.Address, port: instance.Endpoint.Port };
}

async function readBaseline(deps: RestoreCheckDeps): Promise<z.infer<typeof Baseline> | null> {
  let text: string;
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: deps.baselineKey }));
    text = await object.Body!.transformToString();
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
  const parsed = Baseline.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`s3://${deps.bucket}/${deps.baselineKey} is not a baseline: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

import { BackupClient, PutRestoreValidationResultCommand } from '@aws-sdk/client-backup';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_VALIDATION_MESSAGE, runRestoreCheck, type RestoreCheckDeps } from '../../functions/restore-check/restoreCheck';
import { InvalidEventError } from '../../shared/events/parseEvent';
import { useTestDatabase } from '../helpers/database';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * restore-check against a real PostgreSQL playing the restored instance; AWS Backup, RDS and S3
 * mocked at the SDK boundary (aws-sdk-client-mock).
 */
const db = useTestDatabase();

const backup = mockClient(BackupClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);

const RESTORED_ARN = 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-example';
const sample = JSON.parse(readFileSync(fileURLToPath(new URL('../../events/restore-check.json', import.meta.url)), 'utf8'));
const event = (detail: Record<string, unknown> = {}) => ({ ...sample, detail: { ...sample.detail, ...detail } });

let connected: Array<{ host: string; port: number }>;
function deps(): RestoreCheckDeps {
  return {
    backup: new BackupClient({}), rds: new RDSClient({}), s3: new S3Client({}),
    bucket: 'archive-bucket', baselineKey: 'integrity/append-only-counts.json',
    now: () => new Date('2026-12-02T09:45:00Z'),
    async connect(endpoint) {
      connected.push(endpoint);
      return { db: db().pool, close: async () => undefined };
    },
  };
}
/** A GetObject body: the SDK's stream mixin, reduced to the method restore-check reads. */
const body = (text: string) => ({ transformToString: async () => text });
const validation = () => backup.commandCalls(PutRestoreValidationResultCommand).map((c) => c.args[0].input);

beforeEach(() => {
  backup.reset(); rds.reset(); s3.reset();
  connected = [];
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [{ DBInstanceArn: RESTORED_ARN, DBInstanceStatus: 'available', Endpoint: { Address: 'restored.example.rds.amazonaws.com', Port: 5432 } }],
  });
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
  s3.on(PutObjectCommand).resolves({});
  backup.on(PutRestoreValidationResultCommand).resolves({});
});

describe('restore-check', () => {
  it('finds the restored instance by its ARN, checks it, records the counts as the baseline and reports SUCCESSFUL', async () => {
    const outcome = await runRestoreCheck(event(), deps());
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0]!.args[0].input).toEqual({ Filters: [{ Name: 'db-instance-id', Values: [RESTORED_ARN] }] });
    expect(connected).toEqual([{ host: 'restored.example.rds.amazonaws.com', port: 5432 }]);
    expect(outcome).toMatchObject({ status: 'SUCCESSFUL', reported: true });
    expect(validation()).toEqual([{
      RestoreJobId: sample.detail.restoreJobId, ValidationStatus: 'SUCCESSFUL',
      ValidationStatusMessage: expect.stringMatching(/^integrity ok: .*first run: append-only counts recorded as the baseline/),
    }]);
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'archive-bucket', Key: 'integrity/append-only-counts.json' });
    const recorded = JSON.parse(put.Body as string);
    expect(recorded).toMatchObject({ restoreJobId: sample.detail.restoreJobId, recordedAt: '2026-12-02T09:45:00.000Z' });
    expect(recorded.appendOnlyCounts).toEqual(outcome.report!.appendOnlyCounts);
  });

  it('append-only rows missing against the previous test\'s counts: FAILED naming the table, and the baseline is kept', async () => {
    const current = (await runRestoreCheck(event(), deps())).report!.appendOnlyCounts;
    backup.reset(); s3.reset();
    backup.on(PutRestoreValidationResultCommand).resolves({});
    s3.on(GetObjectCommand).resolves({
      Body: body(JSON.stringify({ recordedAt: '2026-11-02T09:45:00Z', restoreJobId: 'previous-job', appendOnlyCounts: { ...current, trades: (current.trades ?? 0) + 4 } })),
    } as never);
    const outcome = await runRestoreCheck(event(), deps());
    expect(outcome.status).toBe('FAILED');
    expect(validation()).toEqual([{
      RestoreJobId: sample.detail.restoreJobId, ValidationStatus: 'FAILED',
      ValidationStatusMessage: expect.stringMatching(/^append-only-count trades: trades has \d+ rows, fewer than the \d+ recorded before/),
    }]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('a restore job that itself failed is counted as a failed test without validating anything', async () => {
    const outcome = await runRestoreCheck(event({ status: 'FAILED', statusMessage: 'DB snapshot not found' }), deps());
    expect(outcome).toEqual({
      restoreJobId: sample.detail.restoreJobId, status: 'FAILED', reported: false,
      message: `restore job ${sample.detail.restoreJobId} ended FAILED: DB snapshot not found: the latest backup could not be restored`,
    });
    expect(validation()).toEqual([]);
    expect(connected).toEqual([]);
  });

  it('an unreachable restored instance is a FAILED restore test with the reason, not an exception', async () => {
    const failing = { ...deps(), connect: async () => { throw new Error('connect ETIMEDOUT 10.0.3.7:5432'); } };
    const outcome = await runRestoreCheck(event(), failing);
    expect(outcome).toMatchObject({ status: 'FAILED', reported: true });
    expect(validation()).toEqual([{
      RestoreJobId: sample.detail.restoreJobId, ValidationStatus: 'FAILED',
      ValidationStatusMessage: 'restore check could not run: connect ETIMEDOUT 10.0.3.7:5432',
    }]);
  });

  it('an instance without an endpoint, or a corrupt baseline, fails the test with what is wrong; messages fit AWS Backup\'s console', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceArn: RESTORED_ARN, DBInstanceStatus: 'creating' }] });
    await runRestoreCheck(event(), deps());
    expect(validation()[0]!.ValidationStatusMessage).toBe(`restore check could not run: restored instance ${RESTORED_ARN} has no endpoint (status creating)`);

    backup.reset(); backup.on(PutRestoreValidationResultCommand).resolves({});
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ Endpoint: { Address: 'h', Port: 5432 } }] });
    s3.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ appendOnlyCounts: { trades: -1 } })) } as never);
    await runRestoreCheck(event(), deps());
    const message = validation()[0]!.ValidationStatusMessage!;
    expect(message).toMatch(/^restore check could not run: s3:\/\/archive-bucket\/integrity\/append-only-counts\.json is not a baseline: recordedAt: .*appendOnlyCounts\.trades: /);
    expect(message.length).toBeLessThanOrEqual(MAX_VALIDATION_MESSAGE);
  });

  it('an event that is not a restore job\'s is refused naming the field', async () => {
    await expect(runRestoreCheck({ source: 'aws.backup', 'detail-type': 'Restore Job State Change', detail: { status: 'COMPLETED' } }, deps()))
      .rejects.toThrow(InvalidEventError);
    await expect(runRestoreCheck({ source: 'aws.backup', 'detail-type': 'Restore Job State Change', detail: { status: 'COMPLETED' } }, deps()))
      .rejects.toThrow(/invalid restore-check event: detail\.restoreJobId: /);
    expect(validation()).toEqual([]);
  });
});

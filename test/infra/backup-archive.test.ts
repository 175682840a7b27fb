import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHIVE_COLD_AFTER_DAYS, ARCHIVE_EXPIRE_AFTER_DAYS, ARCHIVE_PREFIX, INTEGRITY_PREFIX, NONCURRENT_VERSION_DAYS, TIERED_MIN_OBJECT_BYTES,
} from '../../infra/archiveBucket';
import { INTEGRITY_BASELINE_KEY } from '../../infra/functions';
import { PrecogStack } from '../../infra/precogStack';

/**
 * The data-lifecycle infrastructure of issue 20: the archive bucket, AWS Backup's vault and plan
 * for the database, the monthly restore test and its validation function, their alarms.
 */

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };

let stack: PrecogStack;
let template: Template;
const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId((CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild) as CfnElement);
const only = (type: string): [string, Resource] => {
  const found = Object.entries(template.findResources(type)) as Array<[string, Resource]>;
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const resource = (construct: IConstruct) => template.toJSON().Resources[logicalId(construct)] as Resource;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], schedules: 'all' } });
  stack = new PrecogStack(app, 'Precog');
  template = Template.fromStack(stack);
});

describe('archive bucket', () => {
  it('is versioned, SSE-S3 encrypted, blocks every public access, owner-enforced, and retained when the stack is deleted', () => {
    const [, bucket] = only('AWS::S3::Bucket');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    // No auto-delete custom resource that would empty it on stack deletion.
    expect(Object.keys(template.findResources('Custom::S3AutoDeleteObjects'))).toEqual([]);
  });

  it('its policy refuses every request without TLS (and below TLS 1.2)', () => {
    const [, policy] = only('AWS::S3::BucketPolicy');
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    const bucketId = logicalId(stack.archive.bucket);
    const denies = statements.filter((s) => s.Effect === 'Deny' && s.Action === 's3:*' && s.Principal?.AWS === '*');
    expect(denies).toContainEqual(expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(denies).toContainEqual(expect.objectContaining({ Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    for (const deny of denies) {
      expect(deny.Resource).toEqual([{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }]);
    }
  });

  it('lifecycle: archives go to STANDARD_IA at 30 days, GLACIER_IR when the data is 42 months old, expire at 10 years; old versions after 30 days', () => {
    const [, bucket] = only('AWS::S3::Bucket');
    const rules = bucket.Properties.LifecycleConfiguration.Rules as Array<Record<string, any>>;
    const byId = Object.fromEntries(rules.map((r) => [r.Id, r]));
    expect(Object.keys(byId).sort()).toEqual(['archive-retention', 'archive-tiers', 'old-versions-and-uploads']);
    for (const r of rules) expect(r.Status, r.Id).toBe('Enabled');
    expect(byId['archive-tiers']).toMatchObject({
      Prefix: ARCHIVE_PREFIX,
      // A string, as CloudFormation's schema types it; objects under 128 KiB (the manifest) stay STANDARD.
      ObjectSizeGreaterThan: String(TIERED_MIN_OBJECT_BYTES),
      Transitions: [
        { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
        { StorageClass: 'GLACIER_IR', TransitionInDays: ARCHIVE_COLD_AFTER_DAYS },
      ],
    });
    // 42 − 18 months after the upload; 120 − 18 months for the whole retention.
    expect(ARCHIVE_COLD_AFTER_DAYS).toBe(731);
    expect(ARCHIVE_EXPIRE_AFTER_DAYS).toBe(3105);
    expect(byId['archive-retention']).toMatchObject({ Prefix: ARCHIVE_PREFIX, ExpirationInDays: ARCHIVE_EXPIRE_AFTER_DAYS });
    expect(byId['old-versions-and-uploads']).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_DAYS },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      ExpiredObjectDeleteMarker: true,
    });
    expect(byId['old-versions-and-uploads']!.Prefix).toBeUndefined();
  });
});

describe('archive-partitions and restore-check', () => {
  const fn = (name: 'archive-partitions' | 'restore-check') => resource(stack.functions.functions[name]);
  const statementsOf = (name: 'archive-partitions' | 'restore-check') => {
    const policy = stack.functions.functions[name].role!.node.tryFindChild('DefaultPolicy') as IConstruct;
    return resource(policy).Properties.PolicyDocument.Statement as Array<Record<string, any>>;
  };
  const bucketArn = () => ({ 'Fn::GetAtt': [logicalId(stack.archive.bucket), 'Arn'] });
  const objectsUnder = (prefix: string) => ({ 'Fn::Join': ['', [bucketArn(), `/${prefix}*`]] });

  it('archive-partitions runs daily with the bucket and prefix in its environment, and may read, write and list only under archive/', () => {
    const env = fn('archive-partitions').Properties.Environment.Variables;
    expect(env.ARCHIVE_BUCKET).toEqual({ Ref: logicalId(stack.archive.bucket) });
    expect(env.ARCHIVE_PREFIX).toBe('archive/');
    expect(fn('archive-partitions').Properties.Timeout).toBe(900);
    expect(stack.functions.schedules['archive-partitions']).toBeDefined();
    expect(resource(stack.functions.schedules['archive-partitions']!).Properties.ScheduleExpression).toBe('rate(1 day)');
    const s3 = statementsOf('archive-partitions').filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectsUnder(ARCHIVE_PREFIX) },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn(), Condition: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } } },
    ]);
  });

  it('restore-check keeps its baseline under integrity/, finds the restored instance and reports to AWS Backup; nothing else runs on AWS Backup events', () => {
    const env = fn('restore-check').Properties.Environment.Variables;
    expect(env.ARCHIVE_BUCKET).toEqual({ Ref: logicalId(stack.archive.bucket) });
    expect(env.INTEGRITY_BASELINE_KEY).toBe(INTEGRITY_BASELINE_KEY);
    expect(INTEGRITY_BASELINE_KEY.startsWith(INTEGRITY_PREFIX)).toBe(true);
    expect(env.ARCHIVE_PREFIX).toBeUndefined();
    const statements = statementsOf('restore-check');
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: objectsUnder(INTEGRITY_PREFIX) });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['rds:DescribeDBInstances', 'backup:PutRestoreValidationResult'], Resource: '*' });
    // No other function touches the bucket or AWS Backup.
    for (const name of Object.keys(stack.functions.functions) as Array<keyof typeof stack.functions.functions>) {
      if (name === 'archive-partitions' || name === 'restore-check') continue;
      const policy = stack.functions.functions[name].role!.node.tryFindChild('DefaultPolicy') as IConstruct;
      const text = JSON.stringify(resource(policy).Properties.PolicyDocument);
      expect(text, name).not.toMatch(/s3:|backup:|rds:Describe/);
    }
  });
});

describe('AWS Backup', () => {
  it('a vault retained with the stack whose recovery points only their lifecycle may delete', () => {
    const [, vault] = only('AWS::Backup::BackupVault');
    expect(vault.DeletionPolicy).toBe('Retain');
    expect(vault.UpdateReplacePolicy).toBe('Retain');
    const deny = vault.Properties.AccessPolicy.Statement[0];
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: '*' });
    expect(deny.Action).toEqual(expect.arrayContaining(['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle']));
  });

  it('the plan: daily at 05:00 UTC kept 30 days, monthly on the 1st kept 365 days, both into the vault; no cold-storage move (RDS has none)', () => {
    const [, plan] = only('AWS::Backup::BackupPlan');
    const rules = plan.Properties.BackupPlan.BackupPlanRule as Array<Record<string, any>>;
    const vault = { 'Fn::GetAtt': [logicalId(stack.backup.vault), 'BackupVaultName'] };
    expect(rules).toEqual([
      {
        RuleName: 'daily', TargetBackupVault: vault, ScheduleExpression: 'cron(0 5 * * ? *)',
        StartWindowMinutes: 60, CompletionWindowMinutes: 480, Lifecycle: { DeleteAfterDays: 30 },
      },
      {
        RuleName: 'monthly', TargetBackupVault: vault, ScheduleExpression: 'cron(0 5 1 * ? *)',
        StartWindowMinutes: 60, CompletionWindowMinutes: 480, Lifecycle: { DeleteAfterDays: 365 },
      },
    ]);
    for (const rule of rules) {
      expect(rule.Lifecycle.MoveToColdStorageAfterDays, rule.RuleName).toBeUndefined();
      expect(rule.EnableContinuousBackup, rule.RuleName).toBeUndefined();
    }
    // Point-in-time recovery stays with the instance's own automated backups.
    expect(resource(stack.database.instance).Properties.BackupRetentionPeriod).toBe(30);
  });

  it('the selection is the database instance, by ARN, with a role holding AWS Backup\'s backup policy', () => {
    const [, selection] = only('AWS::Backup::BackupSelection');
    const instanceArn = stack.resolve(stack.database.instance.instanceArn);
    expect(selection.Properties.BackupSelection.Resources).toEqual([instanceArn]);
    expect(selection.Properties.BackupPlanId).toEqual({ 'Fn::GetAtt': [logicalId(stack.backup.plan), 'BackupPlanId'] });
    const roleId = selection.Properties.BackupSelection.IamRoleArn['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId] as Resource;
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('service-role/AWSBackupServiceRolePolicyForBackup');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('backup.amazonaws.com');
  });
});

describe('monthly restore test', () => {
  it('a restore testing plan: monthly, the latest snapshot of the last 7 days in the vault', () => {
    const [, plan] = only('AWS::Backup::RestoreTestingPlan');
    expect(plan.Properties).toMatchObject({
      RestoreTestingPlanName: 'Precog_monthly_restore_test',
      ScheduleExpression: 'cron(0 9 2 * ? *)',
      StartWindowHours: 24,
      RecoveryPointSelection: {
        Algorithm: 'LATEST_WITHIN_WINDOW',
        IncludeVaults: [{ 'Fn::GetAtt': [logicalId(stack.backup.vault), 'BackupVaultArn'] }],
        RecoveryPointTypes: ['SNAPSHOT'],
        SelectionWindowDays: 7,
      },
    });
  });

  it('a restore testing selection: this instance, into the database subnets behind a group only the functions reach, deleted after at most 4 hours', () => {
    const [, selection] = only('AWS::Backup::RestoreTestingSelection');
    const instanceArn = stack.resolve(stack.database.instance.instanceArn);
    const subnetGroup = stack.database.instance.node.findChild('SubnetGroup') as IConstruct;
    expect(selection.Properties).toMatchObject({
      RestoreTestingPlanName: 'Precog_monthly_restore_test',
      ProtectedResourceType: 'RDS',
      ProtectedResourceArns: [instanceArn],
      ValidationWindowHours: 4,
      IamRoleArn: { 'Fn::GetAtt': [logicalId(stack.backup.restoreTestingRole), 'Arn'] },
      RestoreMetadataOverrides: { dbSubnetGroupName: { Ref: logicalId(subnetGroup) } },
    });
    // The security group ids as a JSON list, the form RDS restore metadata takes.
    const sgList = selection.Properties.RestoreMetadataOverrides.vpcSecurityGroupIds;
    expect(JSON.stringify(sgList)).toContain(logicalId(stack.backup.restoredSecurityGroup));
    expect(selection.DependsOn).toContain(logicalId(stack.backup.restoreTestingPlan));
    const role = resource(stack.backup.restoreTestingRole);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('service-role/AWSBackupServiceRolePolicyForRestores');
    // The restored instance's group: PostgreSQL in from the functions' group, nothing out.
    const sg = resource(stack.backup.restoredSecurityGroup);
    expect(sg.Properties.SecurityGroupIngress ?? []).toEqual([]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [logicalId(stack.backup.restoredSecurityGroup), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId(stack.network.functionSecurityGroup), 'GroupId'] },
      FromPort: 5432, ToPort: 5432, IpProtocol: 'tcp',
    });
  });

  it('the end of this plan\'s restore jobs (completed, failed or aborted) invokes restore-check', () => {
    const rule = resource(stack.backup.restoreCompletedRule);
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.backup'],
      'detail-type': ['Restore Job State Change'],
      detail: {
        status: ['COMPLETED', 'FAILED', 'ABORTED'],
        restoreTestingPlanArn: [{ 'Fn::GetAtt': [logicalId(stack.backup.restoreTestingPlan), 'RestoreTestingPlanArn'] }],
      },
    });
    expect(rule.Properties.EventBusName).toBeUndefined(); // AWS services publish on the default bus
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({
      Arn: { 'Fn::GetAtt': [logicalId(stack.functions.functions['restore-check']), 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
    })]);
  });
});

describe('alarms', () => {
  const alarm = (name: string) =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).find((a) => a.Properties.AlarmName === `Precog-${name}`)?.Properties;
  const topic = () => ({ Ref: logicalId(stack.notifications.topic) });

  it('archive failures, a stale archival, a failed restore test, and both functions\' errors page through the alarm topic', () => {
    expect(alarm('archive-failures')).toMatchObject({
      Namespace: 'Precog', MetricName: 'ArchiveFailures', Dimensions: [{ Name: 'service', Value: 'archive-partitions' }],
      Statistic: 'Sum', Period: 3600, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topic()],
    });
    expect(alarm('restore-test-failed')).toMatchObject({
      Namespace: 'Precog', MetricName: 'RestoreTestFailures', Dimensions: [{ Name: 'service', Value: 'restore-check' }],
      Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topic()],
    });
    expect(alarm('archive-stale')).toMatchObject({
      Namespace: 'AWS/Lambda', MetricName: 'Invocations', Period: 86400, EvaluationPeriods: 2, Threshold: 1,
      ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', AlarmActions: [topic()],
    });
    for (const name of ['archive-partitions-errors', 'restore-check-errors']) {
      expect(alarm(name), name).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', AlarmActions: [topic()] });
    }
  });

  it('with schedules off, a silent archival is not an alarm', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const off = Template.fromStack(new PrecogStack(app, 'Precog'));
    const stale = Object.values(off.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).find((a) => a.Properties.AlarmName === 'Precog-archive-stale');
    expect(stale?.Properties.TreatMissingData).toBe('notBreaching');
  });
});

describe('outputs', () => {
  it('name the archive bucket, the vault and the restore testing plan', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ArchiveBucketName!.Value).toEqual({ Ref: logicalId(stack.archive.bucket) });
    expect(outputs.BackupVaultName!.Value).toEqual({ 'Fn::GetAtt': [logicalId(stack.backup.vault), 'BackupVaultName'] });
    expect(outputs.RestoreTestingPlanName!.Value).toBe('Precog_monthly_restore_test');
  });
});

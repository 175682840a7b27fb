import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { Database } from './database';
import { acknowledge } from './nag';

/** Daily backups: 05:00 UTC, clear of the instance's 07:00–08:00 automated-backup window and its Tuesday 08:30 maintenance. */
export const DAILY_BACKUP_CRON = { minute: '0', hour: '5' } as const;
/** Daily recovery points are kept 30 days (the schema document's "30 days online"). */
export const DAILY_RETENTION_DAYS = 30;
/**
 * Monthly recovery points (the 1st, same hour) are kept a year: the document's "1 year in cold
 * storage". AWS Backup has no cold tier for RDS snapshots (its lifecycle's
 * MoveToColdStorageAfterDays is ignored for resource types without one), so these stay in warm
 * snapshot storage; twelve monthly points instead of 365 daily ones keep that affordable.
 */
export const MONTHLY_RETENTION_DAYS = 365;
/** The restore test: the 2nd of every month at 09:00 UTC, the day after the monthly backup. */
export const RESTORE_TEST_SCHEDULE = 'cron(0 9 2 * ? *)';
/** How recent the recovery point the restore test picks must be. */
export const RESTORE_TEST_SELECTION_WINDOW_DAYS = 7;
/** The throwaway instance lives at most this long: validation has to finish within it. */
export const RESTORE_TEST_VALIDATION_HOURS = 4;

export interface BackupProps {
  readonly database: Database;
  readonly vpc: ec2.IVpc;
  /** The functions' security group: restore-check connects from it to the restored instance. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  /** The function that validates a restored instance (triggered by the restore job's end). */
  readonly restoreCheck: lambda.IFunction;
}

/**
 * AWS Backup for the RDS instance, and the monthly restore test.
 *
 * - A vault (recovery points encrypted with the source instance's RDS key, as AWS Backup does for
 *   RDS; the vault's own key is AWS Backup's managed key), retained with the stack; its access
 *   policy denies DeleteRecoveryPoint and UpdateRecoveryPointLifecycle through AWS Backup to
 *   everyone (vault policies govern the AWS Backup API only: the lifecycle still expires points).
 * - A plan: daily at 05:00 UTC kept 30 days; monthly on the 1st kept 365 days (no cold tier for
 *   RDS: see MONTHLY_RETENTION_DAYS). Point-in-time recovery stays with the instance's own
 *   automated backups (30 days, infra/database.ts): AWS Backup's continuous backup for RDS would
 *   take over those automated backups (their retention and window) from the instance's
 *   BackupRetentionPeriod, which CloudFormation sets, and caps them at 35 days anyway.
 * - Selected by the instance's ARN.
 * - Restore testing: monthly, the latest snapshot of the last 7 days restored into the isolated
 *   subnets behind a security group only the functions reach; when the restore job ends,
 *   EventBridge invokes restore-check, which runs the integrity checks and reports the result to
 *   AWS Backup (PutRestoreValidationResult), after which AWS Backup deletes the instance (or at the
 *   end of the 4-hour validation window).
 */
export class Backup extends Construct {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  readonly selection: backup.BackupSelection;
  readonly restoreTestingPlan: backup.CfnRestoreTestingPlan;
  readonly restoreTestingSelection: backup.CfnRestoreTestingSelection;
  readonly restoreTestingRole: iam.Role;
  readonly restoredSecurityGroup: ec2.SecurityGroup;
  readonly restoreCompletedRule: events.Rule;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const instance = props.database.instance;

    this.vault = new backup.BackupVault(this, 'Vault', {
      // Recovery points outlive the stack: deleting it must not delete the backups.
      removalPolicy: RemovalPolicy.RETAIN,
      blockRecoveryPointDeletion: true,
    });

    const daily = new backup.BackupPlanRule({
      ruleName: 'daily',
      backupVault: this.vault,
      scheduleExpression: events.Schedule.cron({ ...DAILY_BACKUP_CRON }),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(8),
      deleteAfter: Duration.days(DAILY_RETENTION_DAYS),
    });
    const monthly = new backup.BackupPlanRule({
      ruleName: 'monthly',
      backupVault: this.vault,
      scheduleExpression: events.Schedule.cron({ ...DAILY_BACKUP_CRON, day: '1' }),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(8),
      deleteAfter: Duration.days(MONTHLY_RETENTION_DAYS),
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `${stack.stackName}-database`,
      backupVault: this.vault,
      backupPlanRules: [daily, monthly],
    });
    this.selection = this.plan.addSelection('Database', {
      backupSelectionName: 'postgres',
      resources: [backup.BackupResource.fromArn(instance.instanceArn)],
      // The role CDK creates gets AWS Backup's managed backup policy; restores use their own role below.
      allowRestores: false,
    });
    acknowledge(this.selection, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]':
        "AWS Backup's own managed policy for taking backups: it covers the snapshot and tagging calls of every resource type Backup supports, which AWS keeps current as RDS evolves; the selection limits it to this instance.",
    });

    // The restored instance: in the database's isolated subnets, reachable from the functions only.
    this.restoredSecurityGroup = new ec2.SecurityGroup(this, 'RestoredInstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'Precog restore test: the throwaway restored instance, reachable from the functions (restore-check) only',
      allowAllOutbound: false,
    });
    this.restoredSecurityGroup.connections.allowFrom(props.clientSecurityGroup, ec2.Port.tcp(5432), 'restore-check to the restored instance');

    this.restoreTestingRole = new iam.Role(this, 'RestoreTestingRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup restore testing: restores the latest database snapshot to a throwaway instance and deletes it',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores')],
    });
    acknowledge(this.restoreTestingRole, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]':
        "AWS Backup's own managed policy for restores (create the instance from the snapshot, tag it, delete it after the test); the restore testing selection limits what it restores to this instance's recovery points.",
    });

    // Names: letters, digits and underscores only (CloudFormation refuses anything else).
    const planName = `${stack.stackName.replace(/[^A-Za-z0-9]/g, '_')}_monthly_restore_test`.slice(0, 50);
    this.restoreTestingPlan = new backup.CfnRestoreTestingPlan(this, 'RestoreTestingPlan', {
      restoreTestingPlanName: planName,
      scheduleExpression: RESTORE_TEST_SCHEDULE,
      startWindowHours: 24,
      recoveryPointSelection: {
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: [this.vault.backupVaultArn],
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: RESTORE_TEST_SELECTION_WINDOW_DAYS,
      },
    });
    const subnetGroup = instance.node.findChild('SubnetGroup') as rds.SubnetGroup;
    this.restoreTestingSelection = new backup.CfnRestoreTestingSelection(this, 'RestoreTestingSelection', {
      restoreTestingPlanName: this.restoreTestingPlan.restoreTestingPlanName,
      restoreTestingSelectionName: 'postgres',
      protectedResourceType: 'RDS',
      protectedResourceArns: [instance.instanceArn],
      iamRoleArn: this.restoreTestingRole.roleArn,
      validationWindowHours: RESTORE_TEST_VALIDATION_HOURS,
      // Without these the restore goes to the default VPC (which may not exist) with the default
      // security group: restore-check could not reach it.
      restoreMetadataOverrides: {
        dbSubnetGroupName: subnetGroup.subnetGroupName,
        vpcSecurityGroupIds: stack.toJsonString([this.restoredSecurityGroup.securityGroupId]),
      },
    });
    this.restoreTestingSelection.node.addDependency(this.restoreTestingPlan);

    // The restore job's end (AWS Backup's own event on the default bus), for this plan's jobs only.
    this.restoreCompletedRule = new events.Rule(this, 'RestoreTestJobEnded', {
      description: 'Precog restore test: a restore job of the monthly restore testing plan ended; restore-check validates it',
      eventPattern: {
        source: ['aws.backup'],
        detailType: ['Restore Job State Change'],
        detail: {
          status: ['COMPLETED', 'FAILED', 'ABORTED'],
          restoreTestingPlanArn: [this.restoreTestingPlan.attrRestoreTestingPlanArn],
        },
      },
      targets: [new targets.LambdaFunction(props.restoreCheck, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
  }
}

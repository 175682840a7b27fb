import { Annotations, CfnOutput, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ArchiveBucket } from './archiveBucket';
import { Backup } from './backup';
import { CONFIG_KEYS, resolveConfig, type DeploySettings, type PrecogConfig, type ResolvedConfig } from './config';
import { Database } from './database';
import { FUNCTION_SPECS, PrecogFunctions, scheduledFunctions } from './functions';
import { Monitoring } from './monitoring';
import { acknowledge } from './nag';
import { Network } from './network';
import { Notifications } from './notifications';
import { ENTRY_MAX_RECEIVE_COUNT, EXIT_MAX_RECEIVE_COUNT, OrderQueue } from './queues';

/** The placeholder the Kalshi secret is created with; the user puts the real key in after deploy. */
export const KALSHI_SECRET_PLACEHOLDER = { keyId: '', privateKeyPem: '' };

export interface PrecogStackProps extends StackProps {
  /** Overrides the CDK context values (tests); see infra/config.ts for the keys and defaults. */
  readonly config?: Partial<PrecogConfig>;
  /** The deploy settings file's values (infra/app.ts reads precog.settings.json). */
  readonly settings?: DeploySettings;
  /** The settings file's name, for messages. */
  readonly settingsFile?: string;
}

/**
 * The Precog deployment: network and database, order queues, functions with their schedules and
 * the migrate trigger, the event bus and alarm topic, alarms and the dashboard. What is switched
 * on comes from the deploy settings file and context (infra/config.ts): every schedule rule
 * disabled and paper trading unless asked.
 */
export class PrecogStack extends Stack {
  readonly config: ResolvedConfig;
  readonly network: Network;
  readonly database: Database;
  readonly entryOrders: OrderQueue;
  readonly exitOrders: OrderQueue;
  readonly notifications: Notifications;
  readonly kalshiCredentials: secretsmanager.Secret;
  readonly functions: PrecogFunctions;
  readonly archive: ArchiveBucket;
  readonly backup: Backup;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PrecogStackProps = {}) {
    super(scope, id, props);
    // Validated before any resource exists: live without kalshiEnv stops here.
    this.config = resolveConfig(this, props.config, props.settings, props.settingsFile);
    const config = this.config;
    for (const key of CONFIG_KEYS) {
      if (config.sources[key] === 'context' && props.settings?.[key] !== undefined) {
        // A -c flag lasts one deploy: the next plain deploy puts the file's value back.
        Annotations.of(this).addWarningV2(`precog:context-overrides-${key}`,
          `-c ${key}=${String(config[key])} overrides ${props.settingsFile ?? 'the settings file'} (${JSON.stringify(props.settings[key])}) for this deploy only: the next deploy without the flag reverts it. Edit the file to keep it.`);
      }
    }

    this.network = new Network(this, 'Network', { natGateways: config.natGateways });
    this.database = new Database(this, 'Database', {
      vpc: this.network.vpc,
      clientSecurityGroup: this.network.functionSecurityGroup,
      instanceType: config.dbInstanceType,
      multiAz: config.multiAz,
      deletionProtection: config.databaseDeletionProtection,
    });

    this.entryOrders = new OrderQueue(this, 'EntryOrders', {
      consumerTimeout: FUNCTION_SPECS['execute-entry'].timeout,
      maxReceiveCount: ENTRY_MAX_RECEIVE_COUNT,
    });
    this.exitOrders = new OrderQueue(this, 'ExitOrders', {
      consumerTimeout: FUNCTION_SPECS['execute-exit'].timeout,
      maxReceiveCount: EXIT_MAX_RECEIVE_COUNT,
    });

    this.notifications = new Notifications(this, 'Notifications', { alarmEmail: config.alarmEmail });

    this.kalshiCredentials = new secretsmanager.Secret(this, 'KalshiCredentials', {
      description: 'Kalshi API key for live trading: {"keyId": "…", "privateKeyPem": "-----BEGIN PRIVATE KEY-----…"} (put it in after deploy)',
      // A placeholder without any secret in it; CloudFormation never rewrites a value put in later
      // unless this template value changes.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(KALSHI_SECRET_PLACEHOLDER)),
    });
    acknowledge(this.kalshiCredentials, {
      'AwsSolutions-SMG4':
        'Kalshi API keys are issued in the Kalshi account (an RSA key pair registered there), so no rotation Lambda can mint one; the user rotates by creating a new key at Kalshi and putting it into this secret.',
    });

    this.archive = new ArchiveBucket(this, 'ArchiveBucket');

    this.functions = new PrecogFunctions(this, 'Functions', {
      vpc: this.network.vpc,
      securityGroup: this.network.functionSecurityGroup,
      database: this.database,
      entryOrders: this.entryOrders,
      exitOrders: this.exitOrders,
      notifications: this.notifications,
      kalshiCredentials: this.kalshiCredentials,
      executionMode: config.executionMode,
      kalshiEnv: config.kalshiEnv,
      schedules: config.schedules,
      reservedConcurrency: config.reservedConcurrency,
      namePrefix: this.stackName,
      archiveBucket: this.archive,
    });

    this.backup = new Backup(this, 'Backup', {
      database: this.database,
      vpc: this.network.vpc,
      clientSecurityGroup: this.network.functionSecurityGroup,
      restoreCheck: this.functions.functions['restore-check'],
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      topic: this.notifications.topic,
      functions: this.functions,
      entryOrders: this.entryOrders,
      exitOrders: this.exitOrders,
      database: this.database,
      scheduled: scheduledFunctions(config.schedules),
      alertDeadLetters: this.notifications.alertDeadLetters,
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ExecutionMode', config.executionMode, 'paper or live (executionMode setting)');
    output('Schedules', config.schedules, 'off, data or all: which schedule rules are enabled (schedules setting)');
    output('DatabaseDeletionProtection', String(config.databaseDeletionProtection), 'databaseDeletionProtection setting: switch it on once the stack exists (docs/deploy.md)');
    output('KalshiCredentialsSecretArn', this.kalshiCredentials.secretArn, 'Put the Kalshi API key here before live trading');
    output('DatabaseSecretArn', this.database.secret.secretArn, 'Generated PostgreSQL credentials (RDS format)');
    output('DatabaseInstanceId', this.database.instance.instanceIdentifier, 'RDS instance (docs/deploy.md, Tearing down)');
    output('DatabaseProxyEndpoint', this.database.proxy.endpoint, 'RDS Proxy endpoint the functions connect to (TLS)');
    output('AlarmTopicArn', this.notifications.topic.topicArn, 'SNS topic of every alarm and alerting event');
    output('EventBusName', this.notifications.bus.eventBusName, 'Precog operational events');
    output('EntryQueueUrl', this.entryOrders.queue.queueUrl, 'entry-orders queue');
    output('ExitQueueUrl', this.exitOrders.queue.queueUrl, 'exit-orders queue');
    output('ArchiveBucketName', this.archive.bucket.bucketName, 'Parquet archive of partitions past the hot window (retained when the stack is deleted)');
    output('BackupVaultName', this.backup.vault.backupVaultName, 'AWS Backup vault of the database (retained when the stack is deleted)');
    output('RestoreTestingPlanName', this.backup.restoreTestingPlan.restoreTestingPlanName, 'Monthly restore test (AWS Backup restore testing)');
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
  }
}

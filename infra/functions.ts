import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { BUNDLE_TARGET, ESM_REQUIRE_BANNER, EXTERNAL_MODULES, FUNCTION_NAMES, entryOf, type FunctionName } from './bundling';
import type { ExecutionMode, KalshiEnv, ScheduleMode } from './config';
import type { Database } from './database';
import { acknowledge } from './nag';
import type { Notifications } from './notifications';
import type { OrderQueue } from './queues';

/** The repository root (entries, package-lock.json and migrations/ are resolved from it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** CloudWatch namespace of the functions' EMF metrics (METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'Precog';

/** Where the migrate bundle carries the SQL migrations (LAMBDA_TASK_ROOT is /var/task). */
export const MIGRATIONS_DIR_IN_BUNDLE = '/var/task/migrations';

/** Which schedule switch turns a function's schedule on: `data` (with `-c schedules=data` or `all`) or `trading` (`all`). */
type ScheduleGroup = 'data' | 'trading';

export interface FunctionSpec {
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** EventBridge rate; none: invoked by a queue, a deploy or a person. */
  readonly schedule?: { readonly every: Duration; readonly group: ScheduleGroup };
  readonly reservedConcurrency?: number;
  /** Publishes operational events (events:PutEvents on Precog's bus, EVENT_BUS_NAME). */
  readonly publishesEvents?: boolean;
  /** Trades through the exchange factory: live mode reads the Kalshi credentials secret. */
  readonly usesExchange?: boolean;
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
    timeout: Duration.seconds(60), memorySize: 512,
    publishesEvents: true, usesExchange: true,
  },
  'monitor-positions': {
    description: 'Reconciles with the venue, then re-prices open positions on the 30 s / 5 s cadence and decides exits',
    // It runs most of every minute: 512 MB keeps that near 1.2 M GB-s a month (database-bound work).
    timeout: Duration.seconds(60), memorySize: 512,
    schedule: { every: Duration.minutes(1), group: 'trading' },
    // One monitor at a time: its sweeps hold an advisory lock anyway, a second one would only skip.
    reservedConcurrency: 1,
    publishesEvents: true, usesExchange: true,
  },
  'execute-exit': {
    description: 'Exit-orders consumer: one attempt of the price walk per receive',
    timeout: Duration.seconds(30), memorySize: 512,
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
  migrate: {
    description: 'Applies pending SQL migrations (run by a deploy-time trigger before the schedules)',
    timeout: Duration.seconds(300), memorySize: 512,
  },
};

/** The schedules `-c schedules=…` turns on. */
export function scheduledFunctions(mode: ScheduleMode): FunctionName[] {
  if (mode === 'off') return [];
  return FUNCTION_NAMES.filter((name) => {
    const group = FUNCTION_SPECS[name].schedule?.group;
    return group !== undefined && (mode === 'all' || group === 'data');
  });
}

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
  /** Prefix of the function names (`Precog-ingest-markets`). */
  readonly namePrefix: string;
}

/**
 * One NodejsFunction per handler (ESM for Node 22 on arm64, minified, source maps, bundled as
 * infra/bundling.ts says), in the private subnets; least-privilege grants; the queues' event
 * source mappings; the migrate trigger; and the schedules, which wait for the trigger.
 */
export class PrecogFunctions extends Construct {
  readonly functions: Record<FunctionName, nodejs.NodejsFunction>;
  readonly logGroups: Record<FunctionName, logs.LogGroup>;
  readonly migrateTrigger: triggers.Trigger;
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
      DATABASE_SSL: 'require',
      EXECUTION_MODE: props.executionMode,
      ...(props.kalshiEnv ? { KALSHI_ENV: props.kalshiEnv } : {}),
      ...(live && spec.usesExchange ? { KALSHI_CREDENTIALS_SECRET_ARN: props.kalshiCredentials.secretArn } : {}),
      ...(spec.publishesEvents ? { EVENT_BUS_NAME: notifications.bus.eventBusName } : {}),
      ...(name === 'scan-edges' ? { ENTRY_QUEUE_URL: entryOrders.queue.queueUrl } : {}),
      ...(name === 'monitor-positions' || name === 'execute-exit' ? { EXIT_QUEUE_URL: exitOrders.queue.queueUrl } : {}),
      ...(name === 'migrate' ? { PRECOG_MIGRATIONS_DIR: MIGRATIONS_DIR_IN_BUNDLE } : {}),
    });

    const functions = {} as Record<FunctionName, nodejs.NodejsFunction>;
    const logGroups = {} as Record<FunctionName, logs.LogGroup>;
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTION_SPECS[name];
      const cid = constructIdOf(name);
      logGroups[name] = new logs.LogGroup(this, `${cid}Logs`, { retention: logs.RetentionDays.THREE_MONTHS });
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
        reservedConcurrentExecutions: spec.reservedConcurrency,
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
        fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: spec.schedule.every });
      }
      // Every function reads and writes PostgreSQL through the proxy with the generated secret.
      database.secret.grantRead(fn);
      if (spec.publishesEvents) notifications.bus.grantPutEventsTo(fn);
      if (live && spec.usesExchange) props.kalshiCredentials.grantRead(fn);
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
    this.eventSourceMappings = {
      // Entries share the account's limits and lock: few at a time.
      entry: functions['execute-entry'].addEventSourceMapping('EntryOrders', {
        eventSourceArn: entryOrders.queue.queueArn,
        batchSize: 5,
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
      exit: functions['execute-exit'].addEventSourceMapping('ExitOrders', {
        eventSourceArn: exitOrders.queue.queueArn,
        batchSize: 5,
        reportBatchItemFailures: true,
        maxConcurrency: 5,
      }),
    };

    // Migrations on every deploy that changes the migrate bundle (its code or migrations/), after
    // the database and proxy exist and before anything that could use the schema starts.
    this.migrateTrigger = new triggers.Trigger(this, 'MigrateOnDeploy', {
      handler: functions.migrate,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: FUNCTION_SPECS.migrate.timeout.plus(Duration.seconds(30)),
      executeOnHandlerChange: true,
      // The database and proxy, and the security-group rules that let the function reach the proxy.
      executeAfter: [database, props.securityGroup],
    });
    this.migrateTrigger.executeBefore(this.eventSourceMappings.entry, this.eventSourceMappings.exit);

    const schedules: Partial<Record<FunctionName, events.Rule>> = {};
    for (const name of scheduledFunctions(props.schedules)) {
      const spec = FUNCTION_SPECS[name];
      const rule = new events.Rule(this, `${constructIdOf(name)}Schedule`, {
        description: `Precog ${name} every ${spec.schedule!.every.toHumanString()}`,
        schedule: events.Schedule.rate(spec.schedule!.every),
        targets: [new targets.LambdaFunction(functions[name], { retryAttempts: 0, maxEventAge: spec.schedule!.every })],
      });
      this.migrateTrigger.executeBefore(rule);
      schedules[name] = rule;
    }
    this.schedules = schedules;
  }
}

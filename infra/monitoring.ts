import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BREAKER_TYPES } from '../shared/observability/events';
import { FUNCTION_NAMES, type FunctionName } from './bundling';
import type { Database } from './database';
import { METRICS_NAMESPACE, constructIdOf, type PrecogFunctions } from './functions';
import type { OrderQueue } from './queues';

/**
 * A Precog metric as the functions emit it: Powertools Metrics (EMF) in namespace `Precog`, with
 * the default dimension `service` = the service name each handler gives its Metrics (the function
 * name), plus any dimension the handler adds (`BreakerType` on BreakerTripped).
 */
export function precogMetric(
  service: FunctionName,
  metricName: string,
  options: { statistic?: string; period?: Duration; label?: string; extraDimensions?: Record<string, string> } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service, ...options.extraDimensions },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? Duration.minutes(1),
    label: options.label,
  });
}

export interface MonitoringProps {
  readonly topic: sns.ITopic;
  readonly functions: PrecogFunctions;
  readonly entryOrders: OrderQueue;
  readonly exitOrders: OrderQueue;
  readonly database: Database;
  /** The functions whose schedule rule the settings enable (absence is only an alarm for what should run). */
  readonly scheduled: readonly FunctionName[];
  /** The alert rule's dead-letter queue. */
  readonly alertDeadLetters: sqs.IQueue;
}

/** The metric monitor-positions and check-health emit once per run: their absence is the heartbeat alarm. */
export const HEARTBEAT_METRIC = 'Heartbeat';
/** The functions whose heartbeat is watched. */
export const HEARTBEAT_FUNCTIONS = ['monitor-positions', 'check-health'] as const satisfies readonly FunctionName[];
/** Consecutive silent minutes before the heartbeat alarm fires (one late flush is not an outage). */
export const HEARTBEAT_MINUTES = 3;

/**
 * The alarms (each sends to the alarm topic) and the dashboard. Alarm names start with the stack
 * name so that the email subject says which deployment it is about.
 *
 * Missing data is chosen per alarm, on purpose (the stack test asserts each):
 * - a metric emitted on every run of a scheduled function (the heartbeats, ingest-markets'
 *   invocations): missing means it stopped, so BREACHING while that schedule is on;
 * - a metric emitted only when something happened (a breaker trip, an error, a throttle) or only
 *   while there is something to measure (sweep age: only with open positions; SQS depth of a
 *   queue nobody writes to): missing is the quiet case, NOT_BREACHING; the heartbeats are what
 *   notices a reporter that stopped;
 * - RDS metrics, which the service always publishes: a gap is CloudWatch's, MISSING keeps the state.
 */
export class Monitoring extends Construct {
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const action = new actions.SnsAction(props.topic);
    const fns = props.functions.functions;

    const alarm = (key: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, key, { ...alarmProps, alarmName: `${prefix}-${alarmProps.alarmName}` });
      created.addAlarmAction(action);
      this.alarms[key] = created;
      return created;
    };
    const scheduled = new Set(props.scheduled);

    // --- Heartbeats ----------------------------------------------------------------------------
    // monitor-positions and check-health emit Heartbeat=1 on every run. Missing data is the
    // outage, so it is BREACHING, for the watched function whose schedule the settings enable.
    // With that schedule disabled on purpose nothing runs and nothing should page: then missing
    // data is NOT_BREACHING (the alarm stays OK, its actions stay on). The heartbeat does not wait
    // for open positions: with trading on, scan-edges can open one any minute, and a monitor found
    // dead then is found too late. Positions left open with the monitor's schedule off are the
    // sweep-age alarm's case (check-health runs with schedules=data).
    for (const service of HEARTBEAT_FUNCTIONS) {
      const on = scheduled.has(service);
      alarm(`${constructIdOf(service)}Heartbeat`, {
        alarmName: `${service}-heartbeat`,
        alarmDescription: on
          ? `${service} has not reported for ${HEARTBEAT_MINUTES} minutes (no Heartbeat metric): it is not running, failing before it reports, or throttled. ${service === 'monitor-positions' ? 'Open positions are not being watched.' : 'Breakers and the sweep-age alarm are blind.'}`
          : `${service} heartbeat (its schedule is disabled by the settings, so silence is expected and this alarm does not fire; deploy with the schedule on to arm it).`,
        metric: precogMetric(service, HEARTBEAT_METRIC, { statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: HEARTBEAT_MINUTES,
        datapointsToAlarm: HEARTBEAT_MINUTES,
        treatMissingData: on ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // --- Risk --------------------------------------------------------------------------------
    alarm('CircuitBreakerOpen', {
      alarmName: 'circuit-breaker-open',
      alarmDescription: 'A circuit breaker is open (check-health BreakersOpen > 0): entries are blocked. `npx precog breaker list`.',
      metric: precogMetric('check-health', 'BreakersOpen', { statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('DailyLossLimit', {
      alarmName: 'daily-loss-limit',
      alarmDescription: 'The daily_loss_limit breaker tripped: positions are being liquidated and entries blocked until the next UTC day.',
      metric: precogMetric('check-health', 'BreakerTripped', { extraDimensions: { BreakerType: 'daily_loss_limit' } }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('MonitorSweepStale', {
      alarmName: 'monitor-sweep-stale',
      alarmDescription: 'An open position has not been re-priced for over 2 minutes (MonitorSweepAgeSeconds > 120): nothing is watching its stop.',
      metric: precogMetric('check-health', 'MonitorSweepAgeSeconds', { statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 120,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('IngestionStale', {
      alarmName: 'ingestion-stale',
      alarmDescription: scheduled.has('ingest-markets')
        ? 'ingest-markets has not been invoked for 5 minutes: prices are going stale (the data_stale breaker follows).'
        : 'ingest-markets has not been invoked for 5 minutes (schedules are off, so this alarm only watches once they are on).',
      metric: fns['ingest-markets'].metricInvocations({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      // No invocation means no datapoint: missing data is the stale case, while ingestion is scheduled.
      treatMissingData: scheduled.has('ingest-markets') ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // --- Queues ------------------------------------------------------------------------------
    for (const [key, queue] of [['EntryOrdersDlqDepth', props.entryOrders], ['ExitOrdersDlqDepth', props.exitOrders]] as const) {
      alarm(key, {
        alarmName: key === 'EntryOrdersDlqDepth' ? 'entry-orders-dlq' : 'exit-orders-dlq',
        alarmDescription: key === 'EntryOrdersDlqDepth'
          ? 'An entry order failed all its receives and is in the dead-letter queue: look at the message and its order row.'
          : 'An exit could not be completed and is in the dead-letter queue: a person must close that position.',
        metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('AlertRuleDlqDepth', {
      alarmName: 'alert-rule-dlq',
      alarmDescription: 'An operational event (breaker, edge alert, stopped exit, venue desync) could not be delivered to the alarm topic and is in the alert rule\'s dead-letter queue: read it there (the e-mail never went out).',
      metric: props.alertDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // An empty queue nobody writes to reports nothing for hours: the quiet case.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // --- Functions ---------------------------------------------------------------------------
    for (const name of FUNCTION_NAMES) {
      const fn = fns[name];
      alarm(`${constructIdOf(name)}Errors`, {
        alarmName: `${name}-errors`,
        alarmDescription: `${name} failed (an invocation threw or timed out); its log group has the error.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`${constructIdOf(name)}Throttles`, {
        alarmName: `${name}-throttles`,
        alarmDescription: `${name} was throttled (account or reserved concurrency exhausted).`,
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // --- Data lifecycle: archival and the restore test ----------------------------------------
    // Both metrics are counted only when something went wrong (a failed archival run, a failed
    // restore test): missing data is the quiet case. A run that never happens is the stale alarm's
    // case (archival) or the errors alarm's (restore-check throwing on a bad event).
    alarm('ArchiveFailures', {
      alarmName: 'archive-failures',
      alarmDescription: 'archive-partitions failed to archive a partition (ArchiveFailures > 0): nothing was dropped, but the hot tables keep growing until it succeeds. Its log group has the partition and the error; docs/operations.md, Archival.',
      metric: precogMetric('archive-partitions', 'ArchiveFailures', { period: Duration.hours(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const archiving = scheduled.has('archive-partitions');
    alarm('ArchiveStale', {
      alarmName: 'archive-stale',
      alarmDescription: archiving
        ? 'archive-partitions has not run for 2 days: its daily schedule is not firing or the function cannot start.'
        : 'archive-partitions has not run for 2 days (its schedule is disabled by the settings, so this alarm only watches once it is on).',
      metric: fns['archive-partitions'].metricInvocations({ period: Duration.days(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: archiving ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('RestoreTestFailed', {
      alarmName: 'restore-test-failed',
      alarmDescription: 'The monthly restore test failed (RestoreTestFailures > 0): the latest backup did not restore, or the restored database failed an integrity check. The message is in restore-check\'s log and on the restore job in the AWS Backup console; docs/operations.md, Restore test.',
      metric: precogMetric('restore-check', 'RestoreTestFailures', { period: Duration.hours(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // --- Database ----------------------------------------------------------------------------
    const db = props.database.instance;
    alarm('DatabaseCpu', {
      alarmName: 'database-cpu',
      alarmDescription: 'RDS CPU above 80% for 15 minutes.',
      metric: db.metricCPUUtilization({ period: Duration.minutes(5), statistic: cloudwatch.Stats.AVERAGE }),
      threshold: 80,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    alarm('DatabaseFreeStorage', {
      alarmName: 'database-free-storage',
      alarmDescription: 'RDS free storage below 2 GiB (storage autoscaling goes up to 100 GiB; past that the database stops accepting writes).',
      metric: db.metricFreeStorageSpace({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MINIMUM }),
      threshold: 2 * 1024 ** 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    alarm('DatabaseConnections', {
      alarmName: 'database-connections',
      alarmDescription: `RDS connections above 80% of the instance's max_connections (about ${props.database.maxConnections}).`,
      metric: db.metricDatabaseConnections({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: Math.floor(props.database.maxConnections * 0.8),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });

    this.dashboard = this.buildDashboard(prefix, props);
  }

  private buildDashboard(prefix: string, props: MonitoringProps): cloudwatch.Dashboard {
    const fns = props.functions.functions;
    const five = Duration.minutes(5);
    const sum5 = (service: FunctionName, name: string, label?: string) => precogMetric(service, name, { period: five, label });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${prefix}-trading`,
      defaultInterval: Duration.hours(6),
    });

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Precog\nP&L and exposure from check-health (every minute); alarms go to the alarm topic. Breakers: \`npx precog breaker list\`.`,
        width: 24, height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Daily P&L (USD, since 00:00 UTC)',
        left: [precogMetric('check-health', 'DailyPnl', { statistic: cloudwatch.Stats.AVERAGE, label: 'DailyPnl' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Exposure',
        left: [precogMetric('check-health', 'OpenExposure', { statistic: cloudwatch.Stats.AVERAGE, label: 'Open exposure (USD)' })],
        right: [precogMetric('check-health', 'OpenPositions', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Open positions' })],
        width: 8,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Now',
        metrics: [
          precogMetric('check-health', 'BreakersOpen', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Breakers open' }),
          precogMetric('check-health', 'OpenPositions', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Positions' }),
          precogMetric('check-health', 'DailyPnl', { statistic: cloudwatch.Stats.AVERAGE, label: 'Daily P&L' }),
        ],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Edges and entry orders (scan-edges)',
        left: [
          sum5('scan-edges', 'EdgesWritten', 'Edge versions written'),
          sum5('scan-edges', 'EntryOrdersCreated', 'Entry orders created'),
          sum5('scan-edges', 'EntryOrdersUnsent', 'Entry orders not yet sent'),
        ],
        right: [sum5('scan-edges', 'EdgeAlerts', 'Edge alerts')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Entries (execute-entry)',
        left: ['EntryExecuted', 'EntryCancelled', 'EntryRejected', 'EntryDuplicate', 'EntryDiscarded', 'EntryFailed', 'EntryMessageInvalid']
          .map((m) => sum5('execute-entry', m, m.replace(/^Entry/, ''))),
        stacked: true,
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Exits (decided by the monitor, attempts by execute-exit)',
        left: [
          sum5('monitor-positions', 'ExitsDecided', 'Decided'),
          ...['ExitFilled', 'ExitRetry', 'ExitStopped', 'ExitFinished', 'ExitMessageInvalid'].map((m) => sum5('execute-exit', m, m.replace(/^Exit/, ''))),
        ],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Circuit breakers',
        left: [precogMetric('check-health', 'BreakersOpen', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Open' })],
        right: BREAKER_TYPES.map((type) => precogMetric('check-health', 'BreakerTripped', { extraDimensions: { BreakerType: type }, label: `Tripped: ${type}` })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Monitoring',
        left: [precogMetric('check-health', 'MonitorSweepAgeSeconds', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Oldest position re-priced (s)' })],
        right: [precogMetric('monitor-positions', 'SweepMs', { statistic: cloudwatch.Stats.p(95), label: 'Sweep p95 (ms)' })],
        leftAnnotations: [{ value: 120, label: 'alarm', color: cloudwatch.Color.RED }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Venue and API health',
        left: [
          precogMetric('monitor-positions', 'OpenDesyncs', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Open desyncs' }),
          precogMetric('check-health', 'ApiErrors', { statistic: cloudwatch.Stats.MAXIMUM, label: 'API errors (5 min window)' }),
        ],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: FUNCTION_NAMES.map((n) => fns[n].metricErrors({ period: five, label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: FUNCTION_NAMES.map((n) => fns[n].metricThrottles({ period: five, label: n })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (max)',
        left: FUNCTION_NAMES.map((n) => fns[n].metricDuration({ period: five, statistic: cloudwatch.Stats.MAXIMUM, label: n })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Order queues',
        left: [
          props.entryOrders.queue.metricApproximateNumberOfMessagesVisible({ label: 'Entry visible' }),
          props.exitOrders.queue.metricApproximateNumberOfMessagesVisible({ label: 'Exit visible' }),
          props.exitOrders.queue.metricApproximateNumberOfMessagesNotVisible({ label: 'Exit in flight / waiting' }),
        ],
        right: [
          props.entryOrders.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'Entry DLQ' }),
          props.exitOrders.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'Exit DLQ' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Database',
        left: [props.database.instance.metricCPUUtilization({ label: 'CPU %' })],
        right: [props.database.instance.metricDatabaseConnections({ label: 'Connections' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Database free storage (bytes)',
        left: [props.database.instance.metricFreeStorageSpace({ label: 'Free storage' })],
        width: 8,
      }),
    );
    const day = Duration.days(1);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Archival (archive-partitions, per day)',
        left: [
          precogMetric('archive-partitions', 'ArchivedPartitions', { period: day, label: 'Partitions archived' }),
          precogMetric('archive-partitions', 'ArchiveFailures', { period: day, label: 'Failures' }),
        ],
        right: [precogMetric('archive-partitions', 'ArchivedRows', { period: day, label: 'Rows archived' })],
        // A daily job: two weeks show its rhythm whatever the dashboard's interval.
        start: '-P14D',
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Monthly restore test (restore-check)',
        left: [
          precogMetric('restore-check', 'RestoreTestsPassed', { period: day, label: 'Passed' }),
          precogMetric('restore-check', 'RestoreTestFailures', { period: day, label: 'Failed' }),
        ],
        // Monthly: three months show the last three tests.
        start: '-P90D',
        width: 12,
      }),
    );
    return dashboard;
  }
}

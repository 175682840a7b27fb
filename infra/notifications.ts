import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag';
import {
  CIRCUIT_BREAKER_TRIPPED,
  DEFAULT_EVENT_SOURCE,
  EDGE_ALERT,
  EXIT_STOPPED,
  VENUE_DESYNC_DETECTED,
} from '../shared/observability/events';

/** The operational events that reach a person through the alarm topic. */
export const ALERTING_DETAIL_TYPES = [CIRCUIT_BREAKER_TRIPPED, EDGE_ALERT, EXIT_STOPPED, VENUE_DESYNC_DETECTED];

export interface NotificationsProps {
  readonly alarmEmail?: string;
}

/**
 * Where people hear from Precog: the alarm topic (encrypted with a customer-managed KMS key,
 * because CloudWatch alarms and EventBridge cannot publish to a topic under the AWS-managed SNS
 * key), Precog's own event bus with an archive for replay, and the rule that forwards the
 * operational events a person must see to the topic. An alert the rule cannot deliver (the topic
 * refuses it, its key is unusable) goes to the rule's dead-letter queue, which has an alarm
 * (infra/monitoring.ts) instead of being dropped after EventBridge's retries.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly alertRule: events.Rule;
  readonly alertDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const account = Stack.of(this).account;

    this.topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Precog alarm topic encryption (CloudWatch alarms and EventBridge publish with it)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topicKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlarmAndEventPublishers',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      // In a key policy, "*" is this key.
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    }));

    // Grants on this key only for AWS services acting for a resource (the Control Tower baseline,
    // CT.KMS.PR.3): no principal of this account needs to hand out grants on it.
    this.topicKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsServices',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Precog alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarms',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': account } },
    }));
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    this.bus = new events.EventBus(this, 'Bus', {
      description: 'Precog operational events (source "precog"): breakers, edge alerts, stopped exits, venue desyncs',
    });
    this.archive = this.bus.archive('Archive', {
      description: 'Every event on the Precog bus, for replay',
      eventPattern: { account: [account] },
      retention: Duration.days(90),
    });
    // SQS-managed encryption: EventBridge needs no KMS grant to write to it (the queue policy
    // CDK adds lets this rule send).
    this.alertDeadLetters = new sqs.Queue(this, 'AlertDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      // Declares it a dead-letter queue (CT.SQS.PR.1); allowAll is also SQS's behaviour without one.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.alertDeadLetters, {
      'AwsSolutions-SQS3':
        'This queue is itself a dead-letter queue: the alert rule\'s target DLQ (EventBridge DeadLetterConfig, not an SQS redrive policy, so cdk-nag cannot see it); a message here raises the alert-rule-dlq alarm.',
    });
    this.alertRule = new events.Rule(this, 'AlertsToTopic', {
      eventBus: this.bus,
      description: 'Operational events a person must see, to the alarm topic',
      eventPattern: { source: [DEFAULT_EVENT_SOURCE], detailType: [...ALERTING_DETAIL_TYPES] },
      targets: [new targets.SnsTopic(this.topic, { deadLetterQueue: this.alertDeadLetters, retryAttempts: 10, maxEventAge: Duration.hours(2) })],
    });
  }
}

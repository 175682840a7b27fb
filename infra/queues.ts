import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OrderQueueProps {
  /** The consumer function's timeout: the queue's visibility timeout is 6× it. */
  readonly consumerTimeout: Duration;
  /** Receives before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/**
 * An order queue and its dead-letter queue, both encrypted (SQS-managed SSE) and refusing
 * requests without TLS. The visibility timeout is six times the consumer's timeout (AWS's advice
 * for Lambda consumers), so a message is never redelivered while an invocation still works on it.
 */
export class OrderQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly maxReceiveCount: number;
  /** 6 × the consumer's timeout (AWS's advice for Lambda event sources); the monitor needs it too. */
  readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: OrderQueueProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount;
    this.visibilityTimeout = Duration.seconds(props.consumerTimeout.toSeconds() * 6);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      // Declares it a dead-letter queue (CT.SQS.PR.1; a dead-letter queue has none of its own).
      // allowAll is SQS's behaviour without a policy; byQueue would need the source queue's ARN,
      // which itself names this queue (a cycle).
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}

/**
 * Entries: a message that fails 5 times (malformed, or a venue/database failure that outlasts
 * about half an hour of retries at a 6-minute visibility timeout) goes to its DLQ and pages.
 */
export const ENTRY_MAX_RECEIVE_COUNT = 5;

/**
 * Exits: every receive is one attempt of the price walk (shared/execution/executeExit.ts). The
 * longest walk is LOW's 10 limit prices plus the receive that stops it; CRITICAL repeats an
 * immediate-or-cancel sell every 5 s until filled. 30 receives leave LOW's walk two thirds spare
 * for transient failures and give CRITICAL about 30 attempts (2½ minutes) before the DLQ alarm
 * hands the position to a person.
 */
export const EXIT_MAX_RECEIVE_COUNT = 30;

import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addNagSuppressions } from './nag';

export interface SecureQueueProps {
  readonly fifo?: boolean;
  /**
   * FIFO only: high-throughput mode — the throughput quota applies per message group, and
   * deduplication is per message group. For a queue whose duplicates can only come within one group.
   */
  readonly highThroughput?: boolean;
  /** How long a receiver has before the message becomes visible again. Keep ≥ 6 × the consumer's timeout. */
  readonly visibilityTimeout?: Duration;
  /** Deliveries before a message moves to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A queue with its dead-letter queue, both encrypted at rest and reachable over TLS only.
 * Nothing is lost: a message that keeps failing lands in `dlq`, where an alarm and the operator
 * tools can see it and redrive it.
 */
export class SecureQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to `dlq`. */
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(60);
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    const fifo = props.fifo ? true : undefined;
    if (props.highThroughput && !fifo) throw new Error(`${id}: high-throughput mode is for FIFO queues`);
    this.dlq = new sqs.Queue(this, 'Dlq', {
      fifo,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    addNagSuppressions(this.dlq, [
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This is a dead-letter queue: the end of the line, watched by an alarm.',
      },
    ]);
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo,
      contentBasedDeduplication: fifo,
      ...(props.highThroughput
        ? {
            fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
          }
        : {}),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: this.maxReceiveCount },
      removalPolicy: props.removalPolicy,
    });
  }
}

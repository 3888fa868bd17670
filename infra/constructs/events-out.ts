import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TERMINAL_CHANGE_FILTERS } from '../../shared/events';
import { addNagSuppressions } from './nag';
import { NodeFunction } from './node-function';

export interface EventsOutProps {
  /** The transactions table, with a NEW_AND_OLD_IMAGES stream. */
  readonly transactions: dynamodb.Table;
  readonly bus: events.IEventBus;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Events out: a function on the transactions table's stream announces every change of a record
 * into COMMITTED or ABORTED on the bus (shared/adapters/outcome-stream.ts). Nothing on the
 * transaction's path waits for it or pays for it: Lambda reads the stream for free and drops
 * every other change before invoking (event filtering). A batch that keeps failing is retried
 * for up to `MAX_RECORD_AGE` (the stream keeps records 24 h); then its description goes to
 * `failed`, which an alarm watches, and `npm run ops -- events republish --from-dlq` puts that
 * time range's outcomes again.
 */
export class EventsOut extends Construct {
  static readonly MAX_RECORD_AGE = Duration.hours(12);
  readonly fn: NodeFunction;
  /** Descriptions of stream batches given up on (shard, sequence numbers, arrival times). */
  readonly failed: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventsOutProps) {
    super(scope, id);
    this.failed = new sqs.Queue(this, 'Dlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    addNagSuppressions(this.failed, [
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          "This is the events function's on-failure destination: the end of the line, watched by an alarm.",
      },
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This is the events function's on-failure destination: the end of the line, watched by an alarm.",
      },
    ]);

    this.fn = new NodeFunction(this, 'Fn', {
      code: 'events',
      description: 'Tandem events out: announces terminal transactions on the bus',
      // It waits on PutEvents only; the smallest memory that starts quickly is enough.
      memorySizeMb: 256,
      timeout: Duration.seconds(30),
      removalPolicy: props.removalPolicy,
      environment: { EVENT_BUS_NAME: props.bus.eventBusName },
    });
    props.bus.grantPutEventsTo(this.fn.role);
    this.fn.fn.addEventSource(
      new DynamoEventSource(props.transactions, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // Up to a second for a fuller batch: fewer invocations at low traffic.
        maxBatchingWindow: Duration.seconds(1),
        filters: TERMINAL_CHANGE_FILTERS.map((pattern) => lambda.FilterCriteria.filter(pattern)),
        // A failed batch is retried whole, halved each time to isolate a record that keeps failing.
        bisectBatchOnError: true,
        retryAttempts: -1,
        maxRecordAge: EventsOut.MAX_RECORD_AGE,
        onFailure: new SqsDlq(this.failed),
      }),
    ); // also grants reading the stream (and ListStreams, which has no resource-level permissions)
  }
}

import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type IntakeKind, intakeSource } from '../../shared/intake/intake';
import { NodeFunction, VISIBILITY_TIMEOUT_FACTOR } from './node-function';
import { SecureQueue } from './secure-queue';

export interface IntakeProps {
  /** The intake's id in its Tandem, e.g. `transfers`: its keys' scope is `<kind>:<id>`. */
  readonly intakeId: string;
  readonly kind: IntakeKind;
  /** A FIFO requests queue (kind `queue` only): its key is each message's deduplication id. */
  readonly fifo?: boolean;
  /** The field holding each request's key (`detail.orderId` of an event, a field of a queue's request). */
  readonly keyField?: string;
  /** The producer's environment (as the API's): where and how to submit. */
  readonly producerEnvironment: Record<string, string>;
  /** An event intake: the bus and the pattern of its rule. */
  readonly events?: { readonly bus: events.IEventBus; readonly pattern: events.EventPattern };
  /** The team's function, whose handler is `eventIntakeHandler(map)`; Tandem's own intake function without. */
  readonly handler?: lambda.Function;
  readonly removalPolicy: RemovalPolicy;
}

/** How long Tandem's own intake function may run per batch (submits answer at once, no wait). */
const INTAKE_TIMEOUT = Duration.seconds(30);

/**
 * An intake of Tandem: transactions started from a queue rather than by the HTTP API. Its queue
 * (the durable buffer, with a DLQ) is fed by an EventBridge rule (an event intake) or by the
 * team's senders (a requests queue), and consumed in batches by Tandem's intake function or the
 * team's own (`eventIntakeHandler` of `tandem/intake`), which validates each request as the API
 * does and submits it under the intake's idempotency scope. A request that can never succeed lands
 * in the DLQ with its reason; a transient failure is retried, then lands there with its last error.
 */
export class Intake extends Construct {
  readonly intakeId: string;
  readonly kind: IntakeKind;
  /** `origin.source` of the transactions it starts: `events:<id>` or `queue:<id>`. */
  readonly source: string;
  readonly inbox: SecureQueue;
  /** The function that consumes the queue (Tandem's intake function, or the team's). */
  readonly fn: lambda.Function;
  /** Tandem's own intake function; absent for the team's. */
  readonly intakeFunction: NodeFunction | undefined;
  /** The EventBridge rule of an event intake. */
  readonly rule: events.Rule | undefined;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);
    if ((props.kind === 'events') !== (props.events !== undefined)) {
      throw new Error(`intake ${props.intakeId}: an event intake, and only one, has a bus and a pattern`);
    }
    if (props.handler && props.kind !== 'events') {
      throw new Error(`intake ${props.intakeId}: only an event intake runs the team's function`);
    }
    this.intakeId = props.intakeId;
    this.kind = props.kind;
    this.source = intakeSource({ id: props.intakeId, kind: props.kind });
    const timeout = props.handler ? (props.handler.timeout ?? Duration.seconds(3)) : INTAKE_TIMEOUT;
    this.inbox = new SecureQueue(this, 'Inbox', {
      ...(props.fifo ? { fifo: true } : {}),
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()),
      removalPolicy: props.removalPolicy,
    });
    const environment: Record<string, string> = {
      ...props.producerEnvironment,
      INTAKE_ID: props.intakeId,
      INTAKE_KIND: props.kind,
      ...(props.keyField ? { INTAKE_KEY_FIELD: props.keyField } : {}),
      INTAKE_DLQ_URL: this.inbox.dlq.queueUrl,
      MAX_RECEIVE_COUNT: String(this.inbox.maxReceiveCount),
    };
    if (props.handler) {
      this.intakeFunction = undefined;
      this.fn = props.handler;
      for (const [name, value] of Object.entries(environment)) this.fn.addEnvironment(name, value);
      this.fn.addEventSource(
        new SqsEventSource(this.inbox.queue, { batchSize: 10, reportBatchItemFailures: true }),
      );
    } else {
      this.intakeFunction = new NodeFunction(this, 'Handler', {
        code: 'intake',
        description: `Tandem intake ${this.source}`,
        timeout,
        removalPolicy: props.removalPolicy,
        environment,
      });
      this.intakeFunction.consume(this.inbox);
      this.fn = this.intakeFunction.fn;
    }
    this.inbox.dlq.grantSendMessages(this.fn);

    this.rule = props.events
      ? new events.Rule(this, 'Rule', {
          eventBus: props.events.bus,
          description: `Tandem intake ${this.source}: matching events start transactions`,
          eventPattern: props.events.pattern,
          // EventBridge's own retries; an event it cannot deliver lands in the intake's DLQ, from
          // where a redrive feeds it to the intake like any other.
          targets: [
            new targets.SqsQueue(this.inbox.queue, {
              deadLetterQueue: this.inbox.dlq,
              retryAttempts: 185,
              maxEventAge: Duration.hours(24),
            }),
          ],
        })
      : undefined;
  }

  /** The queue that buffers the intake's requests (senders of a requests queue need `grantSendMessages`). */
  get queue(): sqs.Queue {
    return this.inbox.queue;
  }
}

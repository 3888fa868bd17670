import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { CounterSpec } from '../../shared/participant/counter-spec';
import type { Coordinator } from './coordinator';
import { DataTable, grantTable, type TableKeeping } from './data-table';
import { NodeFunction, VISIBILITY_TIMEOUT_FACTOR } from './node-function';
import { SecureQueue } from './secure-queue';

export interface ParticipantProps extends TableKeeping {
  /** Unique participant id, e.g. `ledger-0` or `seats`; the coordinator addresses it by this id. */
  readonly participantId: string;
  /** The participant's name that operations use, e.g. `ledger` (its shards share it). */
  readonly kind: string;
  readonly coordinator: Coordinator;
  /** The Faults table of a test deployment; absent everywhere else. */
  readonly faultsTable?: dynamodb.ITable;
  /** Tandem's built-in counter function, keeping this counter (COUNTER_SPEC); or … */
  readonly counter?: CounterSpec;
  /** … the team's own function, whose handler is `participantHandler(definition)`. */
  readonly handler?: lambda.Function;
}

/** How long Tandem's own counter function may run per batch. */
const COUNTER_TIMEOUT = Duration.seconds(10);

/**
 * A participant of Tandem transactions: its own table (the protocol's barrier items, and a
 * counter's entities, under one partition key `pk`), its inbox queue with a DLQ, and its function —
 * Tandem's counter or the team's own — wired to the coordinator with least-privilege grants,
 * including UpdateItem on the coordinator's Transactions table, where it notes its votes and acks.
 */
export class Participant extends Construct {
  readonly participantId: string;
  readonly kind: string;
  readonly table: dynamodb.Table;
  readonly inbox: SecureQueue;
  /** The function that runs it (Tandem's counter function, or the team's). */
  readonly fn: lambda.Function;
  /** Tandem's counter function; absent for the team's own. */
  readonly counterFunction: NodeFunction | undefined;

  constructor(scope: Construct, id: string, props: ParticipantProps) {
    super(scope, id);
    if ((props.counter === undefined) === (props.handler === undefined)) {
      throw new Error(`participant ${props.participantId}: give either a counter or a handler`);
    }
    this.participantId = props.participantId;
    this.kind = props.kind;
    this.table = new DataTable(this, 'Data', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
      encryptionKey: props.encryptionKey,
    }).table;
    const timeout = props.handler ? (props.handler.timeout ?? Duration.seconds(3)) : COUNTER_TIMEOUT;
    // Six times the function's timeout (AWS's advice for SQS event sources), so a batch is never
    // redelivered while an invocation still works on it.
    this.inbox = new SecureQueue(this, 'Inbox', {
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()),
      removalPolicy: props.removalPolicy,
    });
    const environment: Record<string, string> = {
      PARTICIPANT_ID: props.participantId,
      PARTICIPANT_KIND: props.kind,
      PARTICIPANT_TABLE: this.table.tableName,
      PARTICIPANT_DLQ_URL: this.inbox.dlq.queueUrl,
      MAX_RECEIVE_COUNT: String(this.inbox.maxReceiveCount),
      COORDINATOR_QUEUE_URL: props.coordinator.queue.queue.queueUrl,
      // Where the participant notes its votes and acks (RecordNote), in its own transactions.
      TRANSACTIONS_TABLE: props.coordinator.transactions.tableName,
      SLOT_COUNT: String(props.coordinator.slotCount),
      ...(props.faultsTable ? { FAULTS_TABLE: props.faultsTable.tableName } : {}),
    };
    if (props.counter) {
      this.counterFunction = new NodeFunction(this, 'Handler', {
        code: 'participant',
        description: `Tandem participant ${props.participantId} (counter of ${props.counter.entity}s)`,
        timeout,
        removalPolicy: props.removalPolicy,
        environment: { ...environment, COUNTER_SPEC: JSON.stringify(props.counter) },
      });
      this.counterFunction.consume(this.inbox);
      this.fn = this.counterFunction.fn;
    } else {
      this.counterFunction = undefined;
      this.fn = props.handler!;
      for (const [name, value] of Object.entries(environment)) this.fn.addEnvironment(name, value);
      this.fn.addEventSource(
        new SqsEventSource(this.inbox.queue, { batchSize: 10, reportBatchItemFailures: true }),
      );
    }
    const role = this.fn;
    grantTable(
      role,
      this.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
      // The team's participant may keep (and delete) its own items next to its barriers.
      ...(props.handler ? ['dynamodb:DeleteItem'] : []),
    );
    // The note on the coordinator's record is one Update in the participant's TransactWriteItems:
    // UpdateItem and nothing else there (no read, no Put or Delete that could replace a record).
    // No `dynamodb:Attributes` condition narrows it further, because AWS's documentation does not
    // make it safe: with that key, every key attribute of the table AND of its indexes must be
    // listed (here also `slot` and `nextCheckAtMs`, of the `due` index), and it does not say whether
    // the map key of a nested path named through ExpressionAttributeNames (the participant id in
    // `votes.#participant`) counts as an attribute name — if it does, a list of top-level names
    // would deny every note. The emulator runs the tests without enforcing IAM, so none could tell.
    grantTable(role, props.coordinator.transactions, 'dynamodb:UpdateItem');
    props.coordinator.queue.queue.grantSendMessages(role);
    this.inbox.dlq.grantSendMessages(role);
    if (props.faultsTable) grantTable(role, props.faultsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    props.coordinator.addParticipant(props.participantId, this.inbox);
  }
}

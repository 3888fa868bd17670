import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { LambdaCodeName } from '../lambda-code';
import type { Coordinator } from './coordinator';
import { DataTable, grantTable } from './data-table';
import { NodeFunction, VISIBILITY_TIMEOUT_FACTOR } from './node-function';
import { SecureQueue } from './secure-queue';

export interface ParticipantProps {
  /** Unique participant id, e.g. `ledger-0`; the coordinator addresses it by this id. */
  readonly participantId: string;
  /** Participant kind, e.g. `ledger` or `inventory`: selects the handler's business logic. */
  readonly kind: string;
  readonly coordinator: Coordinator;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** The Faults table of a test deployment; absent everywhere else. */
  readonly faultsTable?: dynamodb.ITable;
  /** Customer-managed key for the table; the AWS-managed key when absent. */
  readonly encryptionKey?: kms.IKey;
  /** The handler's pre-built code (infra/lambda-code.ts); defaults to the generic entity participant. */
  readonly code?: LambdaCodeName;
}

/**
 * A participant service of Tandem transactions: its own table (business items and the protocol's
 * barrier items, under one partition key `pk`), its inbox queue with a DLQ, and its function
 * (prepare / commit / abort), wired to the coordinator with least-privilege grants — including
 * UpdateItem on the coordinator's Transactions table, where it notes its votes and acks.
 */
export class Participant extends Construct {
  readonly participantId: string;
  readonly kind: string;
  readonly table: dynamodb.Table;
  readonly inbox: SecureQueue;
  readonly handler: NodeFunction;

  constructor(scope: Construct, id: string, props: ParticipantProps) {
    super(scope, id);
    this.participantId = props.participantId;
    this.kind = props.kind;
    this.table = new DataTable(this, 'Data', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
      encryptionKey: props.encryptionKey,
    }).table;
    const timeout = Duration.seconds(10);
    this.inbox = new SecureQueue(this, 'Inbox', {
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()),
      removalPolicy: props.removalPolicy,
    });
    this.handler = new NodeFunction(this, 'Handler', {
      code: props.code ?? 'participant',
      description: `Tandem participant ${props.participantId} (${props.kind})`,
      timeout,
      removalPolicy: props.removalPolicy,
      environment: {
        PARTICIPANT_ID: props.participantId,
        PARTICIPANT_KIND: props.kind,
        PARTICIPANT_TABLE: this.table.tableName,
        PARTICIPANT_DLQ_URL: this.inbox.dlq.queueUrl,
        COORDINATOR_QUEUE_URL: props.coordinator.queue.queue.queueUrl,
        // Where the participant notes its votes and acks (RecordNote), in its own transactions.
        TRANSACTIONS_TABLE: props.coordinator.transactions.tableName,
        SLOT_COUNT: String(props.coordinator.slotCount),
        ...(props.faultsTable ? { FAULTS_TABLE: props.faultsTable.tableName } : {}),
      },
    });
    this.handler.consume(this.inbox);
    grantTable(
      this.handler.role,
      this.table,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
    );
    // The note on the coordinator's record is one Update in the participant's TransactWriteItems:
    // UpdateItem and nothing else there (no read, no Put or Delete that could replace a record).
    // No `dynamodb:Attributes` condition narrows it further, because AWS's documentation does not
    // make it safe: with that key, every key attribute of the table AND of its indexes must be
    // listed (here also `slot` and `nextCheckAtMs`, of the `due` index), and it does not say whether
    // the map key of a nested path named through ExpressionAttributeNames (the participant id in
    // `votes.#participant`) counts as an attribute name — if it does, a list of top-level names
    // would deny every note. The emulator runs the tests without enforcing IAM, so none could tell.
    grantTable(this.handler.role, props.coordinator.transactions, 'dynamodb:UpdateItem');
    props.coordinator.queue.queue.grantSendMessages(this.handler.role);
    this.inbox.dlq.grantSendMessages(this.handler.role);
    if (props.faultsTable)
      grantTable(this.handler.role, props.faultsTable, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    props.coordinator.addParticipant(props.participantId, this.inbox);
  }
}

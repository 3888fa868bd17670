import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { DataTable } from './data-table';
import { SecureQueue } from './secure-queue';

export interface ParticipantProps {
  /** Participant kind, e.g. `ledger` or `inventory`; names its resources and its messages. */
  readonly kind: string;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
}

/**
 * A participant service of a Tandem transaction: a table of its own (business items and the
 * barrier items of the protocol, under one partition key `pk`) and an inbox queue with its DLQ.
 */
export class Participant extends Construct {
  readonly kind: string;
  readonly table: dynamodb.Table;
  readonly inbox: SecureQueue;

  constructor(scope: Construct, id: string, props: ParticipantProps) {
    super(scope, id);
    this.kind = props.kind;
    this.table = new DataTable(this, 'Data', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
    }).table;
    this.inbox = new SecureQueue(this, 'Inbox', { removalPolicy: props.removalPolicy });
  }
}

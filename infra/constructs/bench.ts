import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { DataTable, grantTable } from './data-table';
import { NodeFunction } from './node-function';
import { SecureQueue } from './secure-queue';

export interface BenchProps {
  /** The ledger shard tables the hand-rolled transfer writes, in shard order. */
  readonly ledgerShardTables: readonly dynamodb.ITable[];
  /** The stack's bus, for the hand-rolled transfer that also announces its outcome. */
  readonly eventBus?: events.IEventBus;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The benchmark's baselines (`-c bench=on`, never in prod), measured next to Tandem on the same
 * deployment:
 * - `direct`: a transfer as ONE hand-rolled TransactWriteItems issued by one Lambda (debit with
 *   its balance condition, credit, and an idempotency item — what a careful hand-rolled transfer
 *   needs to be safe to retry), behind the same HTTP API; with `?announce=on` it also puts its
 *   outcome on the bus (inline), the like-for-like baseline of a transaction with events out;
 * - `hop`: the raw cost of one hop of a message-driven protocol — an SQS message triggers a Lambda
 *   that makes one conditional write and sends the next message. A chain of hops measures the
 *   time per hop that 2PC latency is compared with.
 */
export class Bench extends Construct {
  readonly table: dynamodb.Table;
  readonly direct: NodeFunction;
  readonly hopQueue: SecureQueue;
  readonly hop: NodeFunction;

  constructor(scope: Construct, id: string, props: BenchProps) {
    super(scope, id);
    this.table = new DataTable(this, 'Data', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      removalPolicy: props.removalPolicy,
      deletionProtection: false,
    }).table;

    this.direct = new NodeFunction(this, 'Direct', {
      code: 'bench-direct-transfer',
      description: 'Tandem bench baseline: a transfer as one hand-rolled TransactWriteItems',
      removalPolicy: props.removalPolicy,
      environment: {
        LEDGER_SHARD_TABLES: props.ledgerShardTables.map((t) => t.tableName).join(','),
        BENCH_TABLE: this.table.tableName,
        ...(props.eventBus ? { EVENT_BUS_NAME: props.eventBus.eventBusName } : {}),
      },
    });
    props.eventBus?.grantPutEventsTo(this.direct.role);
    for (const table of props.ledgerShardTables) grantTable(this.direct.role, table, 'dynamodb:UpdateItem');
    grantTable(this.direct.role, this.table, 'dynamodb:PutItem');

    this.hopQueue = new SecureQueue(this, 'Hops', {
      visibilityTimeout: Duration.seconds(60),
      removalPolicy: props.removalPolicy,
    });
    this.hop = new NodeFunction(this, 'Hop', {
      code: 'bench-hop',
      description: 'Tandem bench baseline: one hop (conditional write + SQS send and receive)',
      removalPolicy: props.removalPolicy,
      environment: { HOP_QUEUE_URL: this.hopQueue.queue.queueUrl, BENCH_TABLE: this.table.tableName },
    });
    // Batches of up to 10, like the protocol's queues: under load, hops share invocations as the
    // protocol's messages do (one message at a time when unloaded).
    this.hop.consume(this.hopQueue);
    this.hopQueue.queue.grantSendMessages(this.hop.role);
    grantTable(this.hop.role, this.table, 'dynamodb:PutItem');
  }
}

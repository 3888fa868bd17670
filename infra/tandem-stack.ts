import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { TandemConfig } from './config';
import { DataTable } from './constructs/data-table';
import { NodeFunction } from './constructs/node-function';
import { Participant } from './constructs/participant';
import { SecureQueue } from './constructs/secure-queue';

export interface TandemStackProps extends StackProps {
  readonly config: TandemConfig;
}

export class TandemStack extends Stack {
  readonly transactions: dynamodb.Table;
  readonly slots: dynamodb.Table;
  readonly ledgerShards: Participant[];
  readonly inventory: Participant;
  readonly coordinatorQueue: SecureQueue;
  readonly timerQueue: SecureQueue;
  readonly api: apigw.HttpApi;

  constructor(scope: Construct, id: string, props: TandemStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prod = config.stage === 'prod';
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const stateful = { removalPolicy, deletionProtection: prod };

    // The coordinator's durable log: one item per transaction.
    this.transactions = new DataTable(this, 'Transactions', {
      partitionKey: { name: 'txId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAtS',
      ...stateful,
    }).table;
    // The leader slot table: one item per slot with owner, epoch (fencing token) and lease expiry.
    this.slots = new DataTable(this, 'Slots', {
      partitionKey: { name: 'slot', type: dynamodb.AttributeType.NUMBER },
      ...stateful,
    }).table;

    this.ledgerShards = Array.from(
      { length: config.ledgerShardCount },
      (_, shard) => new Participant(this, `Ledger${shard}`, { kind: 'ledger', ...stateful }),
    );

    this.inventory = new Participant(this, 'Inventory', { kind: 'inventory', ...stateful });

    // FIFO with the slot as message group: one coordinator at a time per slot, in order.
    this.coordinatorQueue = new SecureQueue(this, 'Coordinator', { fifo: true, removalPolicy });
    // Standard queue: timers need per-message delays, which FIFO queues do not have.
    this.timerQueue = new SecureQueue(this, 'Timers', { removalPolicy });

    const apiFn = new NodeFunction(this, 'Api', {
      entry: 'functions/api/handler.ts',
      description: 'Tandem HTTP API (producer)',
      removalPolicy,
      environment: {
        LEDGER_SHARD_TABLES: this.ledgerShards.map((p) => p.table.tableName).join(','),
        INVENTORY_TABLE: this.inventory.table.tableName,
      },
    });
    for (const participant of [...this.ledgerShards, this.inventory]) {
      participant.table.grant(apiFn.role, 'dynamodb:GetItem', 'dynamodb:PutItem');
    }

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Tandem: atomic multi-service transactions',
      createDefaultStage: false,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.jsonWithStandardFields(),
      },
    });

    const integration = new HttpLambdaIntegration('ApiIntegration', apiFn.fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    const authorizer = config.apiAuth === 'iam' ? new HttpIamAuthorizer() : undefined;
    const routes: Array<[apigw.HttpMethod, string, boolean]> = [
      [apigw.HttpMethod.GET, '/health', false],
      [apigw.HttpMethod.POST, '/accounts', true],
      [apigw.HttpMethod.GET, '/accounts/{accountId}', true],
      [apigw.HttpMethod.POST, '/inventory/items', true],
      [apigw.HttpMethod.GET, '/inventory/items/{sku}', true],
    ];
    for (const [method, path, protectedRoute] of routes) {
      const added = this.api.addRoutes({
        path,
        methods: [method],
        integration,
        authorizer: protectedRoute ? authorizer : undefined,
      });
      if (!protectedRoute || !authorizer) {
        NagSuppressions.addResourceSuppressions(added, [
          {
            id: 'AwsSolutions-APIG4',
            reason: protectedRoute
              ? 'Local emulator stack deployed with apiAuth=none on purpose; every other stage signs with SigV4.'
              : 'GET /health is a public liveness probe that returns no data.',
          },
        ]);
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the Tandem API' });
    new CfnOutput(this, 'LedgerShardTables', {
      value: this.ledgerShards.map((p) => p.table.tableName).join(','),
      description: 'Ledger shard tables, in shard order',
    });
    new CfnOutput(this, 'InventoryTable', { value: this.inventory.table.tableName });
    new CfnOutput(this, 'TransactionsTable', { value: this.transactions.tableName });
    new CfnOutput(this, 'SlotsTable', { value: this.slots.tableName });
  }
}

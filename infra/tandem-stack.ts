import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { TandemConfig } from './config';
import { Bench } from './constructs/bench';
import { Coordinator } from './constructs/coordinator';
import { DataTable, grantTable } from './constructs/data-table';
import { DeployGuard } from './constructs/deploy-guard';
import { EventsOut } from './constructs/events-out';
import { Monitoring } from './constructs/monitoring';
import { addNagSuppressions } from './constructs/nag';
import { NodeFunction } from './constructs/node-function';
import { Participant } from './constructs/participant';

export interface TandemStackProps extends StackProps {
  readonly config: TandemConfig;
}

export class TandemStack extends Stack {
  readonly coordinator: Coordinator;
  readonly ledgerShards: Participant[];
  readonly inventory: Participant;
  readonly deployGuard: DeployGuard;
  readonly faultsTable: dynamodb.Table | undefined;
  readonly api: apigw.HttpApi;
  /** Absent with `-c events=off`. */
  readonly eventBus: events.EventBus | undefined;

  constructor(scope: Construct, id: string, props: TandemStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prod = config.stage === 'prod';
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // Tables use the AWS-managed key unless the deployment asks for a customer-managed one.
    const encryptionKey =
      config.tableKms === 'customer'
        ? new kms.Key(this, 'TablesKey', {
            description: 'Tandem tables (customer-managed)',
            enableKeyRotation: true,
            removalPolicy,
          })
        : undefined;
    const stateful = { removalPolicy, deletionProtection: prod, encryptionKey };

    // Fault plans (crash and drop points) exist only in test deployments (`-c faults=on`).
    this.faultsTable = config.faults
      ? new DataTable(this, 'Faults', {
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
          removalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: false,
        }).table
      : undefined;
    const faultsTable = this.faultsTable;

    // Events out (unless -c events=off): every terminal transaction, at least once, with a stable
    // `detail.eventId`.
    this.eventBus = config.events
      ? new events.EventBus(this, 'Events', {
          description: 'Tandem transaction outcomes (TransactionCommitted, TransactionAborted)',
        })
      : undefined;

    this.coordinator = new Coordinator(this, 'Coordinator', {
      stream: this.eventBus !== undefined,
      slotCount: config.slotCount,
      prepareTimeoutMs: config.prepareTimeoutMs,
      resendBaseMs: config.resendBaseMs,
      resendCapMs: config.resendCapMs,
      leaseDurationMs: config.leaseDurationMs,
      leaseSkewMarginMs: config.leaseSkewMarginMs,
      faultsTable,
      ...stateful,
    });
    const coordinator = this.coordinator;

    this.ledgerShards = Array.from(
      { length: config.ledgerShardCount },
      (_, shard) =>
        new Participant(this, `Ledger${shard}`, {
          participantId: `ledger-${shard}`,
          kind: 'ledger',
          coordinator,
          faultsTable,
          ...stateful,
        }),
    );
    this.inventory = new Participant(this, 'Inventory', {
      participantId: 'inventory',
      kind: 'inventory',
      coordinator,
      faultsTable,
      ...stateful,
    });
    const participants = [...this.ledgerShards, this.inventory];
    // Refuses a later deploy that changes the shard count or removes a participant (wired last, below).
    this.deployGuard = new DeployGuard(this, 'DeployGuard', {
      ledgerShards: config.ledgerShardCount,
      participants: participants.map((p) => p.participantId),
      removalPolicy,
    });

    const apiFn = new NodeFunction(this, 'Api', {
      code: 'api',
      description: 'Tandem HTTP API (producer)',
      removalPolicy,
      timeout: Duration.seconds(29),
      environment: {
        LEDGER_SHARD_TABLES: this.ledgerShards.map((p) => p.table.tableName).join(','),
        INVENTORY_TABLE: this.inventory.table.tableName,
        TRANSACTIONS_TABLE: coordinator.transactions.tableName,
        SLOTS_TABLE: coordinator.slots.tableName,
        ...coordinator.producerEnvironment(),
        SLOT_COUNT: String(config.slotCount),
        PREPARE_TIMEOUT_MS: String(config.prepareTimeoutMs),
        RESEND_BASE_MS: String(config.resendBaseMs),
        RESEND_CAP_MS: String(config.resendCapMs),
        ONE_PHASE: config.onePhase ? 'on' : 'off',
      },
    });
    for (const participant of participants) {
      grantTable(
        apiFn.role,
        participant.table,
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:BatchGetItem',
        // The one-phase fast path applies operations to the entities directly.
        ...(config.onePhase ? ['dynamodb:UpdateItem'] : []),
      );
    }
    coordinator.grantProducer(apiFn.role);
    const eventsOut = this.eventBus
      ? new EventsOut(this, 'EventsOut', {
          transactions: coordinator.transactions,
          bus: this.eventBus,
          removalPolicy,
        })
      : undefined;

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Tandem: atomic multi-service transactions',
      createDefaultStage: false,
      // No CORS unless origins are configured (-c corsOrigins=https://app.example.com,…).
      ...(config.corsOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...config.corsOrigins],
              allowMethods: [
                apigw.CorsHttpMethod.GET,
                apigw.CorsHttpMethod.POST,
                apigw.CorsHttpMethod.OPTIONS,
              ],
              allowHeaders: [
                'content-type',
                'authorization',
                'idempotency-key',
                'x-amz-date',
                'x-amz-security-token',
              ],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    const stage = this.api.addStage('DefaultStage', {
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
    // Writes are throttled harder than reads, per route, under the stage-wide limit.
    // (RouteSettings is a free-form map in the L1 type, so it is set as raw CloudFormation.)
    (stage.node.defaultChild as apigw.CfnStage).addPropertyOverride(
      'RouteSettings',
      Object.fromEntries(
        ['POST /transfers', 'POST /transactions', 'POST /accounts', 'POST /inventory/items'].map((route) => [
          route,
          { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
        ]),
      ),
    );
    const authorizer =
      config.apiAuth === 'iam'
        ? new HttpIamAuthorizer()
        : config.apiAuth === 'jwt' && config.jwt
          ? new HttpJwtAuthorizer('JwtAuthorizer', config.jwt.issuer, {
              jwtAudience: [...config.jwt.audience],
            })
          : undefined;
    const routes: Array<[apigw.HttpMethod, string, boolean]> = [
      [apigw.HttpMethod.GET, '/health', false],
      [apigw.HttpMethod.GET, '/openapi.json', false],
      [apigw.HttpMethod.POST, '/accounts', true],
      [apigw.HttpMethod.GET, '/accounts/{accountId}', true],
      [apigw.HttpMethod.POST, '/inventory/items', true],
      [apigw.HttpMethod.GET, '/inventory/items/{sku}', true],
      [apigw.HttpMethod.POST, '/transfers', true],
      [apigw.HttpMethod.POST, '/transactions', true],
      [apigw.HttpMethod.GET, '/transactions/{txId}', true],
    ];
    for (const [method, path, protectedRoute] of routes) {
      const added = this.api.addRoutes({
        path,
        methods: [method],
        integration,
        authorizer: protectedRoute ? authorizer : undefined,
      });
      if (!protectedRoute || !authorizer) {
        addNagSuppressions(added, [
          {
            id: 'AwsSolutions-APIG4',
            reason: protectedRoute
              ? 'Local emulator stack deployed with apiAuth=none on purpose; every other stage signs with SigV4.'
              : `${method} ${path} is public on purpose (liveness probe / API description) and returns no data.`,
          },
        ]);
      }
    }

    if (config.bench) {
      const bench = new Bench(this, 'Bench', {
        ledgerShardTables: this.ledgerShards.map((p) => p.table),
        ...(this.eventBus ? { eventBus: this.eventBus } : {}),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const added = this.api.addRoutes({
        path: '/bench/direct-transfers',
        methods: [apigw.HttpMethod.POST],
        integration: new HttpLambdaIntegration('BenchDirectIntegration', bench.direct.fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
        authorizer,
      });
      if (!authorizer) {
        addNagSuppressions(added, [
          { id: 'AwsSolutions-APIG4', reason: 'Local emulator stack deployed with apiAuth=none on purpose.' },
        ]);
      }
      new CfnOutput(this, 'BenchTable', { value: bench.table.tableName });
      new CfnOutput(this, 'BenchHopQueueUrl', { value: bench.hopQueue.queue.queueUrl });
      // Every function of the stack meters its requests for the bench (shared/metering.ts).
      for (const construct of this.node.findAll()) {
        if (construct instanceof NodeFunction) construct.fn.addEnvironment('TANDEM_METER', 'on');
      }
    }

    const monitoring = new Monitoring(this, 'Monitoring', {
      functions: {
        api: apiFn,
        coordinator: coordinator.coordinatorFn,
        timers: coordinator.timerFn,
        sweeper: coordinator.sweeperFn,
        'deploy-guard': this.deployGuard.handler,
        ...(eventsOut ? { events: eventsOut.fn } : {}),
        ...Object.fromEntries(participants.map((p) => [p.participantId, p.handler])),
      },
      ...(eventsOut ? { eventsOut } : {}),
      queues: {
        coordinator: coordinator.queue,
        timers: coordinator.timers,
        ...Object.fromEntries(participants.map((p) => [p.participantId, p.inbox])),
      },
      inDoubtAlarmAfter: Duration.minutes(5),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the Tandem API' });
    new CfnOutput(this, 'LedgerShardTables', {
      value: this.ledgerShards.map((p) => p.table.tableName).join(','),
      description: 'Ledger shard tables, in shard order',
    });
    new CfnOutput(this, 'InventoryTable', { value: this.inventory.table.tableName });
    new CfnOutput(this, 'TransactionsTable', { value: coordinator.transactions.tableName });
    new CfnOutput(this, 'SlotsTable', { value: coordinator.slots.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: monitoring.dashboard.dashboardName });
    if (this.eventBus) new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    if (eventsOut) new CfnOutput(this, 'EventsDlqUrl', { value: eventsOut.failed.queueUrl });
    new CfnOutput(this, 'SlotCount', { value: String(config.slotCount) });
    new CfnOutput(this, 'CoordinatorQueueUrl', { value: coordinator.queue.queue.queueUrl });
    new CfnOutput(this, 'TimerQueueUrl', { value: coordinator.timers.queue.queueUrl });
    new CfnOutput(this, 'ParticipantQueues', {
      value: Stack.of(this).toJsonString(
        Object.fromEntries(participants.map((p) => [p.participantId, p.inbox.queue.queueUrl])),
      ),
    });
    if (faultsTable) new CfnOutput(this, 'FaultsTable', { value: faultsTable.tableName });
    // Last: every resource above waits for the guard, so a refused deploy changes none of them.
    this.deployGuard.guardEverythingIn(this);
  }
}

import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { INVENTORY_COUNTER, INVENTORY_NAME } from '../shared/inventory/participant';
import { LEDGER_COUNTER, LEDGER_NAME } from '../shared/ledger/participant';
import { PAYMENTS, PAYMENTS_NAME, PAYMENTS_PATH } from '../shared/payments/participant';
import type { TandemConfig } from './config';
import { Bench } from './constructs/bench';
import { Tandem, type TandemParticipant } from './tandem';

/** The stack's event intake (`TransferRequested` events on its requests bus) and requests queue (FIFO). */
const TRANSFER_INTAKE = 'transfers';
const REQUEST_QUEUE = 'requests';

export interface TandemStackProps extends StackProps {
  readonly config: TandemConfig;
}

/**
 * This repository's own app: the bank's ledger and the shop's inventory on Tandem, built from the
 * public constructs exactly as a team builds its own (the `-c` settings of infra/config.ts feed the
 * props), plus what the tests and the benchmark read: stack outputs, fault plans, the baselines.
 */
export class TandemStack extends Stack {
  readonly tandem: Tandem;
  readonly ledger: TandemParticipant;
  readonly inventory: TandemParticipant;
  /** The payment service, an HTTPS participant on loopback (served by the e2e tests). */
  readonly payments: TandemParticipant;

  constructor(scope: Construct, id: string, props: TandemStackProps) {
    super(scope, id, props);
    const { config } = props;
    const ms = Duration.millis;
    // Id `Default`: CDK leaves it out of logical ids, so every resource keeps the logical id it had
    // before the app was built from the Tandem construct, and an upgrade replaces no table.
    this.tandem = new Tandem(this, 'Default', {
      api: {
        auth:
          config.apiAuth === 'jwt' && config.jwt
            ? { type: 'jwt', issuer: config.jwt.issuer, audience: config.jwt.audience }
            : { type: config.apiAuth === 'none' ? 'none' : 'iam' },
        corsOrigins: config.corsOrigins,
      },
      slots: config.slotCount,
      timings: {
        prepareTimeout: ms(config.prepareTimeoutMs),
        resendBase: ms(config.resendBaseMs),
        resendCap: ms(config.resendCapMs),
        leaseDuration: ms(config.leaseDurationMs),
        leaseSkewMargin: ms(config.leaseSkewMarginMs),
      },
      events: config.events,
      onePhase: config.onePhase,
      encryption: config.tableKms === 'customer' ? 'customer-managed' : 'aws-managed',
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      testing: { faults: config.faults },
    });
    const { tandem } = this;
    this.ledger = tandem.addParticipant(LEDGER_NAME, {
      counter: LEDGER_COUNTER,
      shards: config.ledgerShardCount,
    });
    this.inventory = tandem.addParticipant(INVENTORY_NAME, { counter: INVENTORY_COUNTER });
    // Short retries and budget, so that a payment service that is down votes NO (or waits for the
    // coordinator's next Commit or Abort) within seconds in the tests.
    this.payments = tandem.addParticipant(PAYMENTS_NAME, {
      definition: PAYMENTS,
      https: {
        url: `http://127.0.0.1:${config.paymentsPort}${PAYMENTS_PATH}`,
        timeout: Duration.seconds(2),
        retry: { base: ms(200), cap: Duration.seconds(1), attempts: 5 },
        budget: Duration.seconds(5),
      },
    });
    const payments = this.payments.https!;
    const { coordinator } = tandem;
    const api = tandem.api!;

    // Transactions started by events (the e2e tests put them on a bus of their own) and by a FIFO
    // queue of requests.
    const requestsBus = new events.EventBus(this, 'RequestsBus', {
      description: 'Requests for transactions (TransferRequested events start one each)',
    });
    const transfers = tandem.addEventIntake(TRANSFER_INTAKE, {
      eventBus: requestsBus,
      eventPattern: { source: ['tandem.test'], detailType: ['TransferRequested'] },
    });
    tandem.addRequestQueue(REQUEST_QUEUE, { fifo: true });
    const requests = tandem.intakes.find((intake) => intake.intakeId === REQUEST_QUEUE)!;

    if (config.bench) {
      const bench = new Bench(this, 'Bench', {
        ledgerShardTables: this.ledger.shards.map((p) => p.table),
        ...(tandem.eventBus ? { eventBus: tandem.eventBus } : {}),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      tandem.addApiRoute(
        'POST /bench/direct-transfers',
        new HttpLambdaIntegration('BenchDirectIntegration', bench.direct.fn, {
          payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        }),
      );
      new CfnOutput(this, 'BenchTable', { value: bench.table.tableName });
      new CfnOutput(this, 'BenchHopQueueUrl', { value: bench.hopQueue.queue.queueUrl });
      // Every function of the stack meters its requests for the bench (shared/metering.ts).
      for (const construct of this.node.findAll()) {
        if (construct instanceof lambda.Function) construct.addEnvironment('TANDEM_METER', 'on');
      }
    }

    const participants = [...this.ledger.shards, ...this.inventory.shards];
    new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint, description: 'Base URL of the Tandem API' });
    new CfnOutput(this, 'LedgerShardTables', {
      value: this.ledger.shards.map((p) => p.table.tableName).join(','),
      description: 'Ledger shard tables, in shard order',
    });
    new CfnOutput(this, 'InventoryTable', { value: this.inventory.shards[0]!.table.tableName });
    new CfnOutput(this, 'TransactionsTable', { value: coordinator.transactions.tableName });
    new CfnOutput(this, 'SlotsTable', { value: coordinator.slots.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: tandem.monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: tandem.monitoring.dashboard.dashboardName });
    if (tandem.eventBus) new CfnOutput(this, 'EventBusName', { value: tandem.eventBus.eventBusName });
    if (tandem.eventsOut) new CfnOutput(this, 'EventsDlqUrl', { value: tandem.eventsOut.failed.queueUrl });
    new CfnOutput(this, 'SlotCount', { value: String(config.slotCount) });
    new CfnOutput(this, 'CoordinatorQueueUrl', { value: coordinator.queue.queue.queueUrl });
    new CfnOutput(this, 'TimerQueueUrl', { value: coordinator.timers.queue.queueUrl });
    new CfnOutput(this, 'ParticipantQueues', {
      value: Stack.of(this).toJsonString(
        Object.fromEntries([
          ...participants.map((p) => [p.participantId, p.inbox.queue.queueUrl]),
          [payments.participantId, payments.inbox.queue.queueUrl],
        ]),
      ),
    });
    new CfnOutput(this, 'RequestsBusName', { value: requestsBus.eventBusName });
    new CfnOutput(this, 'TransferIntakeQueueUrl', { value: transfers.queue.queueUrl });
    new CfnOutput(this, 'TransferIntakeDlqUrl', { value: transfers.inbox.dlq.queueUrl });
    new CfnOutput(this, 'RequestQueueUrl', { value: requests.queue.queueUrl });
    new CfnOutput(this, 'RequestQueueDlqUrl', { value: requests.inbox.dlq.queueUrl });
    new CfnOutput(this, 'PaymentsUrl', { value: `http://127.0.0.1:${config.paymentsPort}${PAYMENTS_PATH}` });
    new CfnOutput(this, 'PaymentsSecretArn', { value: payments.secret!.secretArn });
    if (tandem.faultsTable) new CfnOutput(this, 'FaultsTable', { value: tandem.faultsTable.tableName });
    // Last: the rest of the stack (the bench's baselines) waits for Tandem's deploy guard too.
    tandem.deployGuard.guardEverythingIn(this);
  }
}

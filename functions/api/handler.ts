import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { DynamoEntityDirectory } from '../../shared/adapters/dynamo-entity-directory';
import { DynamoOnePhaseCommitter } from '../../shared/adapters/dynamo-one-phase';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { SqsCoordinatorInbox } from '../../shared/adapters/sqs-coordinator-inbox';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { createApi, WAIT_SAFETY_MARGIN_MS } from '../../shared/api/app';
import type { HttpEvent } from '../../shared/api/http';
import { InvocationPacing } from '../../shared/backoff';
import { readApiConfig } from '../../shared/config';
import { Items } from '../../shared/inventory/items';
import { Accounts } from '../../shared/ledger/accounts';
import { METER, metered } from '../../shared/metering';
import {
  createMetrics,
  flush,
  METRIC,
  MetricUnit,
  recordContention,
  recordTerminal,
} from '../../shared/observability';
import { INVENTORY, LEDGER } from '../../shared/participant/kinds';
import { INVENTORY_PARTICIPANT, ledgerParticipantId, Transactions } from '../../shared/transactions';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const client = dynamoDocumentClient();
const metrics = createMetrics('api');
// Contention on the record's create or the one-phase commit is waited out within the request.
const pacing = new InvocationPacing({ nowMs: Date.now }, WAIT_SAFETY_MARGIN_MS);
const txStore = new DynamoTxStore(client, config.transactionsTable, config.slotsTable);
// Every participant of this deployment keeps its entities in a table the API can write, so the
// one-phase fast path covers every transaction unless ONE_PHASE=off or the request asks two-phase.
const onePhase = config.onePhase
  ? new DynamoOnePhaseCommitter(client, config.transactionsTable, {
      ...Object.fromEntries(
        config.ledgerShardTables.map((table, shard) => [ledgerParticipantId(shard), { table, kind: LEDGER }]),
      ),
      [INVENTORY_PARTICIPANT]: { table: config.inventoryTable, kind: INVENTORY },
    })
  : undefined;

const api = createApi({
  accounts: new Accounts(new DynamoEntityStore(client, 'account', config.ledgerShardTables)),
  items: new Items(new DynamoEntityStore(client, 'item', [config.inventoryTable])),
  transactions: new Transactions(
    {
      store: txStore,
      waitStore: { load: (txId) => METER.labelled('wait', () => txStore.load(txId)) },
      inbox: new SqsCoordinatorInbox(sqsClient(), config.coordinatorQueueUrl),
      ...(config.start
        ? {
            transport: new SqsTransport(
              sqsClient(),
              {
                coordinatorQueueUrl: config.coordinatorQueueUrl,
                slotCount: config.slotCount,
                ...config.start,
              },
              { nowMs: Date.now },
            ),
          }
        : {}),
      directory: new DynamoEntityDirectory(client, {
        account: config.ledgerShardTables,
        item: [config.inventoryTable],
      }),
      clock: { nowMs: Date.now },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      onCreated: () => metrics.addMetric(METRIC.started, MetricUnit.Count, 1),
      ...(onePhase ? { onePhase } : {}),
      onTerminal: (record) => recordTerminal(metrics, record),
      pacing,
      onContention: (error) => recordContention(metrics, error.reason),
      onBeginFailed: (txId, error) =>
        logger.warn('could not enqueue Begin; the sweeper will start the transaction', { txId, error }),
    },
    {
      ledgerShardCount: config.ledgerShardTables.length,
      slotCount: config.slotCount,
      coordinator: config.coordinator,
    },
  ),
  nowMs: Date.now,
  onServerError: (error, event) => logger.error('request failed', { error, routeKey: event.routeKey }),
});

export const handler = metered('api', async (event: HttpEvent, context: Context) => {
  pacing.start(context);
  try {
    return await api(event, context);
  } finally {
    flush(metrics);
  }
});

import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { DynamoEntityDirectory } from '../../shared/adapters/dynamo-entity-directory';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { SqsCoordinatorInbox } from '../../shared/adapters/sqs-coordinator-inbox';
import { createApi } from '../../shared/api/app';
import type { HttpEvent } from '../../shared/api/http';
import { readApiConfig } from '../../shared/config';
import { Items } from '../../shared/inventory/items';
import { Accounts } from '../../shared/ledger/accounts';
import { METER, metered } from '../../shared/metering';
import { createMetrics, flush, METRIC, MetricUnit } from '../../shared/observability';
import { Transactions } from '../../shared/transactions';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const client = dynamoDocumentClient();
const metrics = createMetrics('api');
const txStore = new DynamoTxStore(client, config.transactionsTable, config.slotsTable);

const api = createApi({
  accounts: new Accounts(new DynamoEntityStore(client, 'account', config.ledgerShardTables)),
  items: new Items(new DynamoEntityStore(client, 'item', [config.inventoryTable])),
  transactions: new Transactions(
    {
      store: txStore,
      waitStore: { load: (txId) => METER.labelled('wait', () => txStore.load(txId)) },
      inbox: new SqsCoordinatorInbox(sqsClient(), config.coordinatorQueueUrl),
      directory: new DynamoEntityDirectory(client, {
        account: config.ledgerShardTables,
        item: [config.inventoryTable],
      }),
      clock: { nowMs: Date.now },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      onCreated: () => metrics.addMetric(METRIC.started, MetricUnit.Count, 1),
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
  try {
    return await api(event, context);
  } finally {
    flush(metrics);
  }
});

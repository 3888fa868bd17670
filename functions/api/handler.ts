import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { DynamoEntityDirectory } from '../../shared/adapters/dynamo-entity-directory';
import {
  type DirectParticipant,
  DynamoOnePhaseCommitter as OnePhase,
} from '../../shared/adapters/dynamo-one-phase';
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
import { ParticipantRegistry, participantIdsOf } from '../../shared/registry';
import { Transactions } from '../../shared/transactions';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const client = dynamoDocumentClient();
const metrics = createMetrics('api');
// Contention on the record's create or the one-phase commit is waited out within the request.
const pacing = new InvocationPacing({ nowMs: Date.now }, WAIT_SAFETY_MARGIN_MS);
const txStore = new DynamoTxStore(client, config.transactionsTable, config.slotsTable);
const registry = new ParticipantRegistry(config.participants);
// Counter participants keep their entities in tables the API can write: a transaction whose
// participants are all counters commits in one phase unless ONE_PHASE=off or it asks two-phase.
const counters: Record<string, DirectParticipant> = {};
for (const spec of registry.specs) {
  if (!spec.counter) continue;
  for (const id of participantIdsOf(spec)) {
    const table = config.counterTables[id];
    if (table !== undefined) counters[id] = { table, kind: spec.name, counter: spec.counter };
  }
}
const onePhase = config.onePhase ? new OnePhase(client, config.transactionsTable, counters) : undefined;
/** The tables of a counter participant's shards, in shard order, for its entity routes. */
const entityStore = (name: string) => {
  const spec = registry.spec(name);
  if (!spec?.counter) return undefined;
  const tables = participantIdsOf(spec).map((id) => counters[id]?.table);
  if (tables.some((table) => table === undefined)) return undefined;
  return new DynamoEntityStore(client, spec.counter.entity, tables as string[]);
};
const ledgerStore = entityStore('ledger');
const inventoryStore = entityStore('inventory');

const api = createApi({
  registry,
  ...(ledgerStore ? { accounts: new Accounts(ledgerStore) } : {}),
  ...(inventoryStore ? { items: new Items(inventoryStore) } : {}),
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
      directory: new DynamoEntityDirectory(
        client,
        Object.fromEntries(Object.entries(counters).map(([id, { table }]) => [id, table])),
      ),
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
      registry,
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

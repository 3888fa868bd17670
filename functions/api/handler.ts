import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { createApi, WAIT_SAFETY_MARGIN_MS } from '../../shared/api/app';
import { readApiAuth } from '../../shared/api/auth';
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
import { wireProducer } from '../../shared/producer';
import { participantIdsOf } from '../../shared/registry';

const logger = new Logger({ serviceName: 'tandem-api' });
const config = readApiConfig();
const auth = readApiAuth();
const metrics = createMetrics('api');
// Contention on the record's create or the one-phase commit is waited out within the request.
const pacing = new InvocationPacing({ nowMs: Date.now }, WAIT_SAFETY_MARGIN_MS);
const { registry, transactions, client, counters } = wireProducer(config, {
  pacing,
  waitStore: (store) => ({ load: (txId) => METER.labelled('wait', () => store.load(txId)) }),
  onCreated: () => metrics.addMetric(METRIC.started, MetricUnit.Count, 1),
  onTerminal: (record) => recordTerminal(metrics, record),
  onContention: (error) => recordContention(metrics, error.reason),
  onBeginFailed: (txId, error) =>
    logger.warn('could not send Prepare or its timer; the next check re-sends it', { txId, error }),
});
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
  transactions,
  auth,
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

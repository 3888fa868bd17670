import type { Context } from 'aws-lambda';
import { DynamoEntityStore } from '../adapters/dynamo-entities';
import { createApi, WAIT_SAFETY_MARGIN_MS } from '../api/app';
import { readApiAuth } from '../api/auth';
import type { HttpEvent } from '../api/http';
import { InvocationPacing } from '../backoff';
import { readApiConfig } from '../config';
import { Items } from '../inventory/items';
import { Accounts } from '../ledger/accounts';
import { METER } from '../metering';
import { wireProducer } from '../producer';
import { participantIdsOf } from '../registry';
import { type Instruments, lambdaHandler } from './middleware';
import { observedProducer } from './producer';

/** The HTTP API over the producer wired to AWS, from the API's environment. */
export function wireApi(env: NodeJS.ProcessEnv, instrumented: Instruments) {
  const { logger } = instrumented;
  // Contention on the record's create or the one-phase commit is waited out within the request.
  const pacing = new InvocationPacing({ nowMs: Date.now }, WAIT_SAFETY_MARGIN_MS);
  const { registry, transactions, client, counters } = wireProducer(readApiConfig(env), {
    ...observedProducer(instrumented, pacing),
    waitStore: (store) => ({ load: (txId) => METER.labelled('wait', () => store.load(txId)) }),
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
    auth: readApiAuth(env),
    nowMs: Date.now,
    onServerError: (error, event) => logger.error('request failed', { error, routeKey: event.routeKey }),
  });
  return lambdaHandler(instrumented, (event: HttpEvent, context: Context) => api(event, context), { pacing });
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient, sqsClient } from './adapters/aws-clients';
import { DynamoEntityDirectory } from './adapters/dynamo-entity-directory';
import { type DirectParticipant, DynamoOnePhaseCommitter } from './adapters/dynamo-one-phase';
import { DynamoTxStore } from './adapters/dynamo-tx-store';
import { SqsTransport } from './adapters/sqs-transport';
import type { Pacing } from './backoff';
import type { ApiConfig } from './config';
import type { ContentionError } from './errors';
import type { TxStore } from './ports';
import type { TxRecord } from './protocol';
import { ParticipantRegistry, participantIdsOf } from './registry';
import { Transactions } from './transactions';

/** What the producer tells its host about (logs, metrics); every hook is optional. */
export interface ProducerHooks {
  readonly pacing?: Pacing;
  /** What a `?wait=N` hold re-reads the record through (the API labels these reads). */
  readonly waitStore?: (store: TxStore) => Pick<TxStore, 'load'>;
  readonly onCreated?: (record: TxRecord) => void;
  readonly onTerminal?: (record: TxRecord) => void;
  readonly onContention?: (error: ContentionError) => void;
  readonly onBeginFailed?: (txId: string, error: unknown) => void;
}

/** A producer wired to AWS: the use case and what its host may also need. */
export interface Producer {
  readonly registry: ParticipantRegistry;
  readonly transactions: Transactions;
  readonly client: DynamoDBDocumentClient;
  /** Counter participant id → where its entities live (one-phase commits, the entity check). */
  readonly counters: Readonly<Record<string, DirectParticipant>>;
}

/**
 * The producer side of Tandem wired to DynamoDB and SQS from its configuration (ApiConfig, the
 * environment the construct gives the API and every intake function): the registry, the entity
 * directory, the one-phase committer, the transport that starts two-phase transactions and
 * `Transactions`. One wiring, so a request
 * is validated and started alike whether it came over HTTP, from EventBridge or from a queue.
 */
export function wireProducer(config: ApiConfig, hooks: ProducerHooks = {}): Producer {
  const client = dynamoDocumentClient();
  const txStore = new DynamoTxStore(client, config.transactionsTable, config.slotsTable);
  const registry = new ParticipantRegistry(config.participants);
  // Counter participants keep their entities in tables the producer can write: a transaction whose
  // participants are all counters commits in one phase unless ONE_PHASE=off or it asks two-phase.
  const counters: Record<string, DirectParticipant> = {};
  for (const spec of registry.specs) {
    if (!spec.counter) continue;
    for (const id of participantIdsOf(spec)) {
      const table = config.counterTables[id];
      if (table !== undefined) counters[id] = { table, kind: spec.name, counter: spec.counter };
    }
  }
  const onePhase = config.onePhase
    ? new DynamoOnePhaseCommitter(client, config.transactionsTable, counters)
    : undefined;
  const transactions = new Transactions(
    {
      store: txStore,
      ...(hooks.waitStore ? { waitStore: hooks.waitStore(txStore) } : {}),
      transport: new SqsTransport(
        sqsClient(),
        { slotCount: config.slotCount, ...config.start },
        { nowMs: Date.now },
      ),
      directory: new DynamoEntityDirectory(
        client,
        Object.fromEntries(Object.entries(counters).map(([id, { table }]) => [id, table])),
      ),
      clock: { nowMs: Date.now },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...(onePhase ? { onePhase } : {}),
      ...(hooks.pacing ? { pacing: hooks.pacing } : {}),
      ...(hooks.onCreated ? { onCreated: hooks.onCreated } : {}),
      ...(hooks.onTerminal ? { onTerminal: hooks.onTerminal } : {}),
      ...(hooks.onContention ? { onContention: hooks.onContention } : {}),
      ...(hooks.onBeginFailed ? { onBeginFailed: hooks.onBeginFailed } : {}),
    },
    { registry, slotCount: config.slotCount, coordinator: config.coordinator },
  );
  return { registry, transactions, client, counters };
}

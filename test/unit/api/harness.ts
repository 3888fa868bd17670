import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { bankAndShopDirectory, bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { MemoryEntityStore } from '../../../shared/adapters/memory-entities';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { createApi } from '../../../shared/api/app';
import type { ApiAuth } from '../../../shared/api/auth';
import type { CoordinatorTransport } from '../../../shared/coordinator/effects';
import { newEntity } from '../../../shared/entities';
import { Items } from '../../../shared/inventory/items';
import { Accounts } from '../../../shared/ledger/accounts';
import { shardOf } from '../../../shared/ledger/sharding';
import type { EntityDirectory, Fence, StoredTx } from '../../../shared/ports';
import {
  type CoordinatorConfig,
  type CoordinatorInput,
  coordinatorStep,
  type ParticipantMessage,
} from '../../../shared/protocol';
import { Transactions } from '../../../shared/transactions';

export const LEDGER_SHARDS = 2;
export const SLOTS = 16;
export const T0 = 1_700_000_000_000;
const coordinatorConfig: CoordinatorConfig = {
  prepareTimeoutMs: 10_000,
  resendBaseMs: 500,
  resendCapMs: 4_000,
};

export function event(routeKey: string, init: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    requestContext: { http: { method, path } } as APIGatewayProxyEventV2['requestContext'],
    ...init,
  };
}

/** A clock that only moves when the code under test sleeps; `onSleep` hooks run after each move. */
class FakeClock {
  readonly sleeps: number[] = [];
  private readonly hooks: Array<(nowMs: number) => void | Promise<void>> = [];

  constructor(public now = T0) {}

  nowMs = () => this.now;

  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.now += ms;
    for (const hook of this.hooks) await hook(this.now);
  };

  onSleep(hook: (nowMs: number) => void | Promise<void>): void {
    this.hooks.push(hook);
  }
}

/** Records what the API sends to start a transaction (Prepares, timers); fails the next `failures` sends. */
class RecordingTransport implements CoordinatorTransport {
  readonly prepares: ParticipantMessage[] = [];
  readonly timers: Array<{ txId: string; atMs: number }> = [];
  failures = 0;

  async toParticipant(_participant: unknown, message: ParticipantMessage): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('sqs is down');
    }
    this.prepares.push(message);
  }

  async scheduleCheck(txId: string, _slot: number, atMs: number): Promise<void> {
    this.timers.push({ txId, atMs });
  }

  /** The transactions that Prepare went out for, each once, with their slot. */
  get started(): Array<{ txId: string; slot: number | undefined }> {
    const txIds = [...new Set(this.prepares.map((m) => m.txId))];
    return txIds.map((txId) => ({ txId, slot: this.prepares.find((m) => m.txId === txId)?.slot }));
  }
}

/** First ids of the form `<prefix><n>` that land on each ledger shard. */
export function accountIdsOnShard(shard: number, count: number, prefix = 'acct-'): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count && n < 10_000; n++) {
    if (shardOf(`${prefix}${n}`, LEDGER_SHARDS) === shard) ids.push(`${prefix}${n}`);
  }
  if (ids.length < count) throw new Error(`could not find ${count} ids on shard ${shard}`);
  return ids;
}

/** The coordinator inputs that take `txId` from PREPARING to COMMITTED: a YES and an ack from each. */
export function commitInputs(txId: string, participantIds: readonly string[]) {
  return [
    ...participantIds.map((participantId) => ({ type: 'Vote', txId, participantId, vote: 'YES' }) as const),
    ...participantIds.map(
      (participantId) => ({ type: 'Ack', txId, participantId, outcome: 'COMMITTED' }) as const,
    ),
  ];
}

const FENCE: Fence = { slot: 0, owner: 'test', epoch: 1 };

/** Everything the API runs on, in memory, with a fake clock. */
export function world(options: { directory?: EntityDirectory; auth?: ApiAuth } = {}) {
  const clock = new FakeClock();
  const registry = bankAndShopRegistry(LEDGER_SHARDS);
  const ledger = new MemoryEntityStore(LEDGER_SHARDS);
  const inventory = new MemoryEntityStore(1);
  const store = new MemoryTxStore();
  const transport = new RecordingTransport();
  const beginFailures: Array<{ txId: string; error: unknown }> = [];
  const serverErrors: unknown[] = [];
  let nextRandomId = 0;
  const transactions = new Transactions(
    {
      store,
      transport,
      directory: options.directory ?? bankAndShopDirectory(ledger, inventory),
      clock,
      sleep: clock.sleep,
      newTxId: () => `tx_random${String(++nextRandomId).padStart(20, '0')}`,
      onBeginFailed: (txId, error) => beginFailures.push({ txId, error }),
    },
    { registry, slotCount: SLOTS, coordinator: coordinatorConfig },
  );
  const api = createApi({
    registry,
    accounts: new Accounts(ledger),
    items: new Items(inventory),
    transactions,
    auth: options.auth ?? { type: 'iam' },
    nowMs: clock.nowMs,
    onServerError: (error) => serverErrors.push(error),
  });

  const call = async (routeKey: string, init: Partial<APIGatewayProxyEventV2> = {}) => {
    const answer = await api(event(routeKey, init));
    return { ...answer, json: answer.body ? JSON.parse(answer.body) : undefined };
  };

  return {
    clock,
    ledger,
    inventory,
    store,
    transport,
    beginFailures,
    serverErrors,
    transactions,
    api,
    call,
    async account(id: string, balance: number) {
      await ledger.insert(shardOf(id, LEDGER_SHARDS), newEntity(id, balance, clock.now));
    },
    async item(sku: string, stock: number) {
      await inventory.insert(0, newEntity(sku, stock, clock.now));
    },
    post(path: '/transfers' | '/transactions', body: unknown, init: Partial<APIGatewayProxyEventV2> = {}) {
      return call(`POST ${path}`, {
        rawPath: path,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
      });
    },
    get(txId: string, query: Record<string, string> = {}) {
      return call('GET /transactions/{txId}', {
        rawPath: `/transactions/${txId}`,
        pathParameters: { txId },
        queryStringParameters: query,
      });
    },
    /** Drives the stored record through the pure coordinator, as the coordinator Lambda would. */
    async drive(txId: string, inputs: readonly CoordinatorInput[]) {
      for (const input of inputs) {
        const stored = (await store.load(txId)) as StoredTx;
        const { state } = coordinatorStep(stored.record, input, clock.now, coordinatorConfig);
        if (state !== stored.record)
          await store.save({ ...stored, record: state }, stored.record.version, FENCE);
      }
    },
  };
}

export type World = ReturnType<typeof world>;

import type { MemoryEntityStore } from '../shared/adapters/memory-entities';
import type { CoordinatorTransport } from '../shared/coordinator/shell';
import { newEntity } from '../shared/entities';
import { ConflictError, InfrastructureError, UnprocessableError } from '../shared/errors';
import { shardOf } from '../shared/ledger/sharding';
import type { Clock, EntityDirectory, OnePhaseCommitter, TxStore } from '../shared/ports';
import type { Operation, ParticipantRegistry } from '../shared/registry';
import { Transactions } from '../shared/transactions';
import type { CheckedParticipantStore } from './checked-store';
import type { AnsweredRequest, InvariantChecker } from './checker';
import { type Invocation, LEDGER_SHARDS, type Node, type SimCore, T0_MS } from './core';
import type { Runtime } from './runtime';

const ACCOUNT_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const SKU = 'sku-1';

interface ClientRequest extends AnsweredRequest {
  readonly operations: readonly Operation[];
  retriesLeft: number;
}

/** What the workload uses of the world: its stores, the API's node, and the ports the API uses. */
export interface WorkloadWorld {
  readonly participantStores: ReadonlyMap<string, CheckedParticipantStore>;
  readonly accountStore: MemoryEntityStore;
  readonly itemStore: MemoryEntityStore;
  readonly apiNode: Node;
  readonly directory: EntityDirectory;
  readonly registry: ParticipantRegistry;
  /** The deployment's slot count now (a redeploy may change it). */
  slotCount(): number;
  txs(inv: Invocation): TxStore;
  transport(inv: Invocation, clock: Clock): CoordinatorTransport;
  onePhase(inv: Invocation): OnePhaseCommitter;
}

/**
 * The workload: the accounts and the SKU with their opening balances, and the clients — transfers
 * (with a reservation, sometimes), under an idempotency key or not, sent again, reused with another
 * body, reused long after; each submitted through the REAL Transactions.submit on the API's node,
 * retried after an infrastructure error or a lost answer.
 */
export class Workload {
  /** Clients whose request is scheduled or waiting for its answer. */
  pendingClients = 0;
  private nextTxNumber = 1;

  constructor(
    private readonly core: SimCore,
    private readonly runtime: Runtime,
    private readonly checker: InvariantChecker,
    private readonly world: WorkloadWorld,
  ) {}

  /** The accounts and the SKU, opened with random balances, and the clients' requests, scheduled. */
  setUp(): void {
    const rng = this.core.rng;
    const names = ACCOUNT_NAMES.slice(0, rng.int(3, 6));
    for (let shard = 0; shard < LEDGER_SHARDS; shard++) {
      if (!names.some((name) => shardOf(name, LEDGER_SHARDS) === shard)) {
        names.push(ACCOUNT_NAMES.find((name) => shardOf(name, LEDGER_SHARDS) === shard)!);
      }
    }
    for (const id of names) {
      const entity = newEntity(id, rng.int(0, 100), T0_MS);
      const shard = shardOf(id, LEDGER_SHARDS);
      this.world.participantStores.get(`ledger-${shard}`)!.seed(entity);
      void this.world.accountStore.insert(shard, entity);
      this.checker.opening.set(`account:${id}`, entity.total);
      this.checker.ledgerTotal += entity.total;
    }
    const sku = newEntity(SKU, rng.int(0, 5), T0_MS);
    this.world.participantStores.get('inventory')!.seed(sku);
    void this.world.itemStore.insert(0, sku);
    this.checker.opening.set(`item:${SKU}`, sku.total);
    this.core.log(
      `world: ${this.core.plan.envs} coordinator envs, ${this.core.plan.slotCount} slot(s), accounts ${names
        .map((id) => `${id}=${this.checker.opening.get(`account:${id}`)}@${shardOf(id, LEDGER_SHARDS)}`)
        .join(
          ' ',
        )}, ${SKU}=${sku.total}; plan ${JSON.stringify(this.core.plan)}; config ${JSON.stringify(this.core.config)}`,
    );

    const count = rng.int(2, 8);
    for (let index = 0; index < count; index++) {
      const pickTwo = () => {
        const from = rng.pick(names);
        let to = rng.pick(names);
        while (to === from) to = rng.pick(names);
        return [from, to] as const;
      };
      const [from, to] = pickTwo();
      const unknownEntity = rng.chance(0.05);
      const amount = rng.int(1, 60);
      const operations: Operation[] = rng.chance(0.7)
        ? [
            { participant: 'ledger', action: 'debit', accountId: from, amount },
            { participant: 'ledger', action: 'credit', accountId: unknownEntity ? 'ghost' : to, amount },
          ]
        : [
            { participant: 'ledger', action: 'debit', accountId: from, amount },
            { participant: 'ledger', action: 'credit', accountId: to, amount },
            {
              participant: 'inventory',
              action: 'reserve',
              sku: unknownEntity ? 'sku-ghost' : SKU,
              quantity: rng.int(1, 2),
            },
          ];
      const idempotencyKey = rng.chance(0.8) ? `key-${index}` : undefined;
      /** A transfer between two other accounts under the same key (another body). */
      const otherTransfer = (label: string, otherAmount: number, retriesLeft: number): ClientRequest => {
        const [otherFrom, otherTo] = pickTwo();
        return {
          label,
          operations: [
            { participant: 'ledger', action: 'debit', accountId: otherFrom, amount: otherAmount },
            { participant: 'ledger', action: 'credit', accountId: otherTo, amount: otherAmount },
          ],
          idempotencyKey,
          unknownEntity: false,
          retriesLeft,
        };
      };
      const request: ClientRequest = {
        label: `req ${index}`,
        operations,
        idempotencyKey,
        unknownEntity,
        retriesLeft: 3,
      };
      const firstAtMs = T0_MS + rng.int(0, 15_000);
      this.submitAt(request, firstAtMs);
      if (idempotencyKey !== undefined && rng.chance(0.3)) {
        // The client sends the same request again (a double click, a retry after a lost answer).
        for (let again = rng.int(1, 2); again > 0; again--)
          this.submitAt(request, firstAtMs + rng.int(0, 20_000));
      }
      if (idempotencyKey !== undefined && rng.chance(0.05)) {
        // Someone reuses the key with a different body: one of the two must get a conflict.
        this.submitAt(otherTransfer(`req ${index}′`, amount + 1, 0), firstAtMs + rng.int(-2_000, 5_000));
      }
      if (idempotencyKey !== undefined && rng.chance(this.core.plan.keyReuse)) {
        // The key again, much later — its record may have expired by then (TTL): the same body, or
        // another. Either way: the old transaction if its record lives, else a new one (new id).
        const other = otherTransfer(`req ${index}‴`, amount + 2, 1);
        const later: ClientRequest = rng.chance(0.5)
          ? { ...request, label: `req ${index}″`, retriesLeft: 1 }
          : other;
        this.submitAt(later, firstAtMs + rng.int(40_000, 150_000));
      }
    }
  }

  private submitAt(request: ClientRequest, atMs: number): void {
    this.pendingClients++;
    this.core.at(Math.max(this.core.now, atMs), () => this.submit(request));
  }

  private submit(request: ClientRequest): void {
    this.core.stats.submits++;
    const retry = (afterMs: number) => {
      if (request.idempotencyKey !== undefined && request.retriesLeft > 0) {
        request.retriesLeft--;
        this.submitAt(request, this.core.now + afterMs);
      }
    };
    const inv = this.runtime.spawn(
      this.world.apiNode,
      'api',
      `${request.label} POST ${JSON.stringify(request.operations)} key=${request.idempotencyKey ?? '-'}`,
      async (inv) => {
        const transactions = new Transactions(
          {
            store: this.world.txs(inv),
            // The API starts a two-phase transaction itself: the record written PREPARING, Prepare
            // sent from here.
            transport: this.world.transport(inv, this.world.apiNode.clock),
            // Most submits may take the one-phase fast path (as deployed); it mixes with two-phase
            // transactions on the same entities.
            ...(this.core.rng.int(0, 9) < 7 ? { onePhase: this.world.onePhase(inv) } : {}),
            directory: {
              missing: (refs) =>
                this.runtime.call(inv, `directory.missing`, () => this.world.directory.missing(refs)),
            },
            clock: this.world.apiNode.clock,
            sleep: async () => {},
            newTxId: () => `tx_sim${this.nextTxNumber++}`,
            newIncarnation: () => `i${this.nextTxNumber++}`,
            pacing: this.runtime.pacing(inv),
          },
          { registry: this.world.registry, slotCount: this.world.slotCount(), coordinator: this.core.config },
        );
        // Some clients hold the answer open (`?wait`): the API then arms the prepare timer lazily.
        const waitMs = this.core.rng.int(0, 3) === 0 ? this.core.rng.int(100, 5_000) : 0;
        const commit = this.core.rng.int(0, 4) === 0 ? 'two-phase' : 'auto';
        const { record, replayed } = await transactions.submit(
          request.idempotencyKey === undefined
            ? { operations: request.operations, waitMs, commit }
            : { operations: request.operations, idempotencyKey: request.idempotencyKey, waitMs, commit },
        );
        this.core.log(
          `   ↳ ${request.label}: 202 ${record.txId} ${record.state}${replayed ? ' (replayed)' : ''}`,
        );
        this.checker.accepted(request, record);
      },
      (error) => {
        this.pendingClients--;
        if (error === null) return;
        if (error instanceof UnprocessableError) {
          this.core.stats.apiRejected++;
          this.checker.refused(request, error);
          return;
        }
        if (error instanceof ConflictError) {
          this.core.stats.apiConflicts++;
          this.checker.conflicted(request, error);
          return;
        }
        if (error instanceof InfrastructureError) return retry(this.core.rng.int(500, 5_000));
        this.core.violation(
          `${request.label}: unexpected ${error instanceof Error ? error.stack : String(error)}`,
        );
      },
    );
    inv.onCrash = () => {
      // No answer: the client times out (API Gateway: 30 s) and retries with its key.
      this.pendingClients--;
      retry(30_000);
    };
  }
}

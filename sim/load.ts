import { newEntity } from '../shared/entities';
import { InfrastructureError } from '../shared/errors';
import { shardOf } from '../shared/ledger/sharding';
import { isTerminal, settledState, type TxState } from '../shared/protocol';
import type { Operation } from '../shared/registry';
import { Transactions } from '../shared/transactions';
import type { AnsweredRequest, InvariantChecker } from './checker';
import { ledgerShardsOf, type SimCore, T0_MS, type TimedOptions } from './core';
import { Zipf } from './prng';
import type { Runtime } from './runtime';
import type { WorkloadWorld } from './workload';

/** How long the API holds a request open for its outcome (the bench's clients ask `?wait=20`). */
const WAIT_MS = 20_000;

/** Each account's opening balance: enough that no transfer of the run is refused for funds. */
const OPENING_BALANCE = 1_000_000_000;

/** The timed mode's account ids (`acct-0`, `acct-1`, …) on each of `shards` ledger shards, in order. */
export function accountsByShard(accounts: number, shards: number): string[][] {
  const byShard: string[][] = Array.from({ length: shards }, () => []);
  for (let index = 0; index < accounts; index++) {
    const id = `acct-${index}`;
    byShard[shardOf(id, shards)]!.push(id);
  }
  return byShard;
}

/** One transaction's times (world ms), as the timed mode measures it. */
export interface TxTimes {
  readonly submittedAtMs: number;
  createdAtMs?: number;
  decidedAtMs?: number;
  completedAtMs?: number;
  /** When the client has its answer: the API's wait saw it settled, or it settled after the wait. */
  answeredAtMs?: number;
  /** Whether it debits the hot account (open loop with `hotShare`). */
  readonly hot: boolean;
  /** Whether the API still holds the client's request open, re-reading the record. */
  waiting: boolean;
  outcome?: TxState;
}

/**
 * The timed mode's workload: `accounts` ledger accounts over the ledger's shards, and two-phase
 * transfers from an account on one shard to one on the other (two participants) offered closed loop
 * (each client sends its next request when it has the answer to its last) or open loop (Poisson
 * arrivals at a rate), each through the REAL Transactions.submit on the API's node. It stops
 * offering at `durationMs`; what was offered runs to its end. Open loop, a transfer may debit a hot
 * account, pick its accounts by a Zipf law, credit more shards (`participants`), or take the
 * one-phase fast path.
 */
export class TimedLoad {
  /** Clients whose request is scheduled or waiting for its answer (the world is quiet at 0). */
  pendingClients = 0;
  /** Every transaction submitted, by its id. */
  readonly times = new Map<string, TxTimes>();
  /** The request each API invocation is submitting, until its record is written. */
  private readonly requestOf = new Map<
    number,
    { submittedAtMs: number; client: number | undefined; hot: boolean }
  >();
  /** The closed-loop client of each transaction, to send its next request on the answer. */
  private readonly clientOf = new Map<string, number>();
  private readonly shards: string[][];
  private nextTxNumber = 1;
  private readonly endMs: number;
  /** Open loop with `zipfS`: the law over each shard's accounts (a shard's first is rank 1). */
  private readonly zipfOf = new Map<number, Zipf>();

  constructor(
    private readonly core: SimCore,
    private readonly runtime: Runtime,
    private readonly checker: InvariantChecker,
    private readonly world: WorkloadWorld,
    private readonly options: TimedOptions,
  ) {
    this.endMs = T0_MS + options.durationMs;
    this.shards = Array.from({ length: ledgerShardsOf(options) }, () => []);
  }

  setUp(): void {
    accountsByShard(this.options.accounts, this.shards.length).forEach((ids, shard) => {
      for (const id of ids) {
        const entity = newEntity(id, OPENING_BALANCE, T0_MS);
        this.world.participantStores.get(`ledger-${shard}`)!.seed(entity);
        void this.world.accountStore.insert(shard, entity);
        this.checker.opening.set(`account:${id}`, entity.total);
        this.checker.ledgerTotal += entity.total;
        this.shards[shard]!.push(id);
      }
    });
    if (this.shards.some((ids) => ids.length === 0))
      throw new RangeError(`${this.options.accounts} accounts leave a ledger shard empty`);
    const { load } = this.options;
    if (load.kind === 'open' && load.zipfS !== undefined) {
      for (const ids of this.shards) this.zipfOf.set(ids.length, new Zipf(ids.length, load.zipfS));
    }
    if (load.kind === 'closed') {
      for (let client = 0; client < load.clients; client++) this.submitAt(T0_MS, client);
      return;
    }
    this.arrival(T0_MS, load.perS);
  }

  /** Open loop: the next arrival after an exponential gap, until the end. */
  private arrival(atMs: number, perS: number): void {
    const gapMs = (-Math.log(1 - this.core.timing!.float()) * 1000) / perS;
    const nextMs = atMs + gapMs;
    if (nextMs >= this.endMs) return;
    this.submitAt(nextMs, undefined);
    this.core.at(nextMs, () => this.arrival(nextMs, perS));
  }

  private submitAt(atMs: number, client: number | undefined): void {
    this.pendingClients++;
    const { profile } = this.options;
    this.core.at(atMs, () => {
      const submittedAtMs = this.core.now;
      const inMs = this.runtime.timedMs(profile.apiIn, profile.requestsPerApiCall, 'api');
      this.core.at(submittedAtMs + inMs, () => this.submit(submittedAtMs, client));
    });
  }

  /** An open-loop transfer's account on `ids` (a shard's): at random, or by the Zipf law. */
  private pick(ids: readonly string[]): string {
    const zipf = this.zipfOf.get(ids.length);
    return zipf ? ids[zipf.draw(this.core.rng)]! : this.core.rng.pick(ids);
  }

  private submit(submittedAtMs: number, client: number | undefined): void {
    // A closed-loop client moves money between its own two accounts, as the bench's do; open-loop
    // transfers debit an account on shard 0 and credit one on each other shard of the transfer's.
    // A share of them (hotShare) debits one hot account, the first of shard 0.
    const rng = this.core.rng;
    const [zero, one] = this.shards as [string[], string[]];
    const { load } = this.options;
    const open = load.kind === 'open' ? load : undefined;
    const hot = open?.hotShare !== undefined && rng.chance(open.hotShare);
    const from = client === undefined ? (hot ? zero[0]! : this.pick(zero)) : zero[client % zero.length]!;
    const credited =
      client === undefined
        ? this.shards.slice(1, open?.participants ?? 2).map((ids) => this.pick(ids))
        : [one[client % one.length]!];
    const operations: Operation[] = [
      { participant: 'ledger', action: 'debit', accountId: from, amount: credited.length },
      ...credited.map(
        (to): Operation => ({ participant: 'ledger', action: 'credit', accountId: to, amount: 1 }),
      ),
    ];
    const request: AnsweredRequest = {
      label: `load ${this.nextTxNumber}`,
      operations,
      idempotencyKey: undefined,
      unknownEntity: false,
    };
    const { apiNode } = this.world;
    this.runtime.spawn(
      apiNode,
      'api',
      `${request.label} POST ${JSON.stringify(operations)}`,
      async (inv) => {
        const transactions = new Transactions(
          {
            store: this.world.txs(inv),
            transport: this.world.transport(inv, apiNode.clock),
            directory: {
              missing: (refs) =>
                this.runtime.call(inv, 'directory.missing', () => this.world.directory.missing(refs)),
            },
            clock: apiNode.clock,
            sleep: (ms) => this.runtime.pacing(inv).sleep(ms),
            newTxId: () => `tx_model${this.nextTxNumber++}`,
            newIncarnation: () => `i${this.nextTxNumber++}`,
            pacing: this.runtime.pacing(inv),
            ...(open?.onePhase ? { onePhase: this.world.onePhase(inv) } : {}),
          },
          { registry: this.world.registry, slotCount: this.world.slotCount(), coordinator: this.core.config },
        );
        this.requestOf.set(inv.id, { submittedAtMs, client, hot });
        // As the bench's clients: the API holds the answer open (`?wait`), re-reading the record.
        const { record } = await transactions.submit({
          operations,
          waitMs: WAIT_MS,
          commit: open?.onePhase ? 'auto' : 'two-phase',
        });
        this.checker.accepted(request, record);
        const times = this.times.get(record.txId)!;
        times.waiting = false;
        // Settled within the wait: the answer goes out now; else when the record settles.
        if (isTerminal(settledState(record))) this.answer(record.txId, times);
      },
      (error) => {
        if (error === null) return;
        this.pendingClients--;
        // Nothing fails in the timed mode (no faults): a failure is the model's to explain.
        this.core.violation(
          `${request.label}: ${error instanceof InfrastructureError ? 'infrastructure' : 'unexpected'} ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      },
    );
  }

  /** The transaction's record was written (PREPARING) by the API's invocation `invocationId`. */
  onCreated(txId: string, invocationId: number): void {
    const request = this.requestOf.get(invocationId);
    if (!request) return;
    this.requestOf.delete(invocationId);
    this.times.set(txId, {
      submittedAtMs: request.submittedAtMs,
      createdAtMs: this.core.now,
      hot: request.hot,
      waiting: true,
    });
    if (request.client !== undefined) this.clientOf.set(txId, request.client);
  }

  /** The API's invocation `invocationId` committed the transaction in one phase: created, decided, done. */
  onOnePhase(txId: string, invocationId: number): void {
    this.onCreated(txId, invocationId);
    const times = this.times.get(txId);
    if (!times) return;
    times.decidedAtMs = this.core.now;
    times.completedAtMs = this.core.now;
    times.outcome = 'COMMITTED';
  }

  /** The transaction's record was written; as the client reads it, it is in `state`. */
  onRecord(txId: string, state: TxState): void {
    const times = this.times.get(txId);
    if (!times) return;
    if ((state === 'COMMITTING' || state === 'ABORTING') && times.decidedAtMs === undefined)
      times.decidedAtMs = this.core.now;
    if ((state !== 'COMMITTED' && state !== 'ABORTED') || times.completedAtMs !== undefined) return;
    times.completedAtMs = this.core.now;
    times.outcome = state;
    if (!times.waiting) this.answer(txId, times);
  }

  /** The client has its answer the profile's answer time from now; a closed-loop one sends again. */
  private answer(txId: string, times: TxTimes): void {
    if (times.answeredAtMs !== undefined) return;
    const { profile } = this.options;
    times.answeredAtMs =
      this.core.now + this.runtime.timedMs(profile.answer, profile.requestsPerAnswer, 'answer');
    this.core.at(times.answeredAtMs, () => {
      this.pendingClients--;
      const client = this.clientOf.get(txId);
      if (client !== undefined && this.core.now < this.endMs) this.submitAt(this.core.now, client);
    });
  }
}

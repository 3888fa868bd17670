import { bankAndShopDirectory, bankAndShopRegistry } from '../dev/bank-and-shop';
import { MemoryEntityStore } from '../shared/adapters/memory-entities';
import { MemoryOnePhaseCommitter } from '../shared/adapters/memory-one-phase';
import type { MemoryParticipantStore } from '../shared/adapters/memory-participant-store';
import { MemorySlotStore } from '../shared/adapters/memory-slots';
import { MemoryTxStore } from '../shared/adapters/memory-tx-store';
import { INVENTORY, LEDGER } from '../shared/bank-and-shop';
import { BatchLostError, LeaseManager } from '../shared/coordinator/leases';
import { parseCoordinatorInput, parseTimer, type Timer } from '../shared/coordinator/messages';
import { type CheckForwarder, handleTimer, sweep } from '../shared/coordinator/recovery';
import { type CoordinatorTransport, handleCoordinatorInput, RecordCache } from '../shared/coordinator/shell';
import { FenceLostError, InfrastructureError, VersionConflictError } from '../shared/errors';
import type { Faults } from '../shared/faults';
import {
  handleParticipantMessage,
  type ParticipantAction,
  type ParticipantBarrier,
  type ParticipantKind,
  type ParticipantStore,
  parseParticipantMessage,
} from '../shared/participant';
import type {
  Clock,
  EntityDirectory,
  Fence,
  OnePhaseCommitter,
  SlotStore,
  StoredTx,
  TxStore,
} from '../shared/ports';
import {
  type LeaseConfig,
  type ParticipantReply,
  ProtocolAssertionError,
  settledState,
  slotOf,
} from '../shared/protocol';
import { recordKeyOf } from '../shared/txid';
import { CheckedParticipantStore } from './checked-store';
import { InvariantChecker, QUIESCENCE_BOUND_MS, reservedOps } from './checker';
import {
  FUNCTION_TIMEOUT_MS,
  groupOf,
  type Invocation,
  type InvocationKind,
  ledgerShardsOf,
  type Node,
  SimCore,
  type SimOptions,
  T0_MS,
} from './core';
import { EventsOut } from './events';
import { HttpsParticipant } from './https';
import { TimedLoad, type TxTimes } from './load';
import { SimNetwork } from './network';
import { type FaultPlan, RELAY_FUNCTION_TIMEOUT_MS } from './plan';
import { Runtime } from './runtime';
import type { SimMessage } from './sqs';
import type { SimStats } from './stats';
import { Workload, type WorkloadWorld } from './workload';

/**
 * The deterministic simulation world (in the spirit of FoundationDB's simulator and TigerBeetle's
 * VOPR): the REAL shells — Transactions.submit, handleCoordinatorInput (with a LeaseManager per
 * coordinator execution environment), handleParticipantMessage, handleTimer and sweep — run
 * against the in-memory adapters, but every port call is a scheduled event: the scheduler decides
 * when (and whether) it completes, so handlers interleave at any await, crash between any two
 * effects, and pause past their lease. Queues are simulated SQS: standard queues (at-least-once,
 * delay, duplicates, reordering, visibility timeout, receive count, DLQ after maxReceiveCount) and
 * the coordinator's FIFO queue (a message group is blocked while its head is in flight;
 * deduplication ids within 5 minutes), delivered to a random coordinator environment.
 *
 * Most seeds serve one participant over HTTPS (plan.https): the REAL relayMessage consumes its
 * inbox and calls, across a faulty simulated network, an endpoint that runs the REAL barrier over
 * the participant's store (messageOfCall → handleParticipantMessage → answerOf) — so every check
 * of that store (holds, totals, barriers against the decision) holds across the relay too.
 *
 * Everything random comes from one seeded Prng; time is a virtual clock (each node reads it with
 * its own skew and drift). The same seed replays the same run, event for event.
 *
 *   one event:  pop (time, seq) ─▶ run (complete a port call: maybe crash / fail / pause first)
 *               ─▶ drain microtasks (handlers run to their next port call) ─▶ deliver queue heads
 *               ─▶ invariants ─▶ next event
 *
 * The parts, one module each: ./core (the seeded kernel: clock, events, trace), ./plan (the seed's
 * faults), ./runtime (invocations and port calls), ./network (the queues), ./https (the relay, its
 * network and the endpoint), ./workload (accounts and clients), ./checker (the invariants); this
 * world ties them to the REAL shells over the in-memory adapters.
 */

const TIMER_VISIBILITY_TIMEOUT_MS = 3 * FUNCTION_TIMEOUT_MS;
const SQS_MAX_DELAY_S = 900;
const SWEEP_INTERVAL_MS = 60_000;

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly stats: SimStats;
  /** The last trace lines (all of them with `traceAll`). */
  readonly trace: readonly string[];
  /** Messages found in a dead-letter queue at quiescence (then redriven by the "operator"). */
  readonly dlq: readonly string[];
  readonly plan: FaultPlan;
}

/** What a timed run measured, beside its SimResult (whose checks it also ran). */
export interface TimedResult {
  readonly result: SimResult;
  /** Every transaction submitted, by its id. */
  readonly times: ReadonlyMap<string, TxTimes>;
  /** Requests made — port calls, deliveries (receive, delete, invoke), the API's — by what made them. */
  readonly requests: ReadonlyMap<string, number>;
  readonly coldStarts: number;
  /** Writes that waited for write capacity at an item's partition, and the waits' sum (ms). */
  readonly partitionWaits: { readonly writes: number; readonly totalMs: number };
  /** SendMessage calls that waited for the FIFO queue's quota, and the waits' sum (ms). */
  readonly fifoSendWaits: { readonly sends: number; readonly totalMs: number };
  /** FIFO messages received, and their waits' sum in the queue for their group and a coordinator (ms). */
  readonly fifoWaits: { readonly messages: number; readonly totalMs: number };
  /** Deliveries that waited for their function's concurrency limit. */
  readonly concurrencyWaits: number;
  /** Writes cancelled by a TransactionConflict, by the kind of item they met a transaction on. */
  readonly conflictsOn: ReadonlyMap<string, number>;
  /** Most invocations of all functions running at once (what the account's quota counts). */
  readonly peakConcurrency: number;
  /** By kind of function: invocations, and the time they ran in all (ms). */
  readonly invocations: ReadonlyMap<InvocationKind, { readonly count: number; readonly ms: number }>;
}

interface CoordinatorEnv {
  readonly index: number;
  readonly node: Node;
  generation: number;
  owner: string;
  leases: LeaseManager;
  /** The records this environment wrote last (the shell's read-skipping cache). */
  cache: RecordCache;
  current: Invocation | null;
  /** The slot's group of the batch the current invocation works on, and when (world time) it began. */
  batch: { readonly group: string; readonly startedAtMs: number } | null;
}

/** The barrier switch: writes as if the stored barrier were always the one read (no conflict). */
class BarrierlessStore implements ParticipantStore {
  constructor(private readonly inner: MemoryParticipantStore) {}
  loadBarrier(txId: string, participantId: string) {
    return this.inner.loadBarrier(txId, participantId);
  }
  write(_prev: ParticipantBarrier | undefined, next: ParticipantBarrier, action: ParticipantAction) {
    return this.inner.write(this.inner.barrier(next.txId, next.participantId), next, action);
  }
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The item of a transaction record (at its record key), as a write's footprint names it. */
const recordItem = (txId: string) => `tx:${recordKeyOf(txId)}`;

/** The entities a participant's write touches: a reserve checks or holds every one, apply every
 * one, release only what was taken. */
function touchedBy(action: ParticipantAction): string[] {
  switch (action.type) {
    case 'none':
      return [];
    case 'release':
      return reservedOps(action.reservation)
        .filter((op) => op.action === 'take')
        .map((op) => op.id);
    default:
      return reservedOps(action.reservation).map((op) => op.id);
  }
}

class World {
  private readonly core: SimCore;
  private readonly runtime: Runtime;
  private readonly checker: InvariantChecker;
  private readonly network: SimNetwork<CoordinatorEnv>;
  private readonly workload: Workload | TimedLoad;
  /** The timed mode's workload (the same object as `workload`); undefined in the default mode. */
  private readonly timedLoad: TimedLoad | undefined;
  private readonly events: EventsOut;
  readonly lease: LeaseConfig = { leaseDurationMs: 30_000, skewMarginMs: 2_000 };
  /** The deployment's slot count now (a redeploy may change it: records keep theirs). */
  private slotCount: number;

  // The durable world: DynamoDB tables.
  private readonly slotStore = new MemorySlotStore();
  private readonly txStore: MemoryTxStore;
  private readonly participantStores = new Map<string, CheckedParticipantStore>();
  private readonly writeStores = new Map<string, ParticipantStore>();
  /** Participants whose store notes votes and acks on the transaction record. */
  private readonly noting = new Set<string>();
  private readonly kinds = new Map<string, { store: MemoryParticipantStore; kind: ParticipantKind }>();
  private readonly onePhaseCommitter: MemoryOnePhaseCommitter;
  private readonly directory: EntityDirectory;
  private readonly registry: ReturnType<typeof bankAndShopRegistry>;
  private readonly accountStore: MemoryEntityStore;
  private readonly itemStore = new MemoryEntityStore(1);

  // Nodes.
  private readonly envs: CoordinatorEnv[] = [];
  private readonly apiNode: Node;
  private readonly sweeperNode: Node;
  private readonly dlqSeen: string[] = [];

  constructor(options: SimOptions) {
    const core = new SimCore(options);
    this.core = core;
    const ledgerShards = ledgerShardsOf(options.timed);
    this.registry = bankAndShopRegistry(ledgerShards);
    this.accountStore = new MemoryEntityStore(ledgerShards);
    this.slotCount = core.plan.slotCount;
    this.txStore = new MemoryTxStore(core.switches.fenceCheck ? this.slotStore.fenceHolds : () => true, {
      versionCheck: core.switches.versionCheck,
    });
    this.runtime = new Runtime(core);
    this.checker = new InvariantChecker(core, {
      participantStores: this.participantStores,
      kinds: this.kinds,
      coordinators: this.envs,
      registry: this.registry,
      streamed: (prev, next) => this.events.streamed(prev, next),
      expire: (txId) => this.expire(txId),
    });
    this.events = new EventsOut(core, this.runtime, this.checker);
    this.network = new SimNetwork(core, this.runtime, this.checker, this.envs, (env, batch) =>
      this.startCoordinator(env, batch),
    );
    this.apiNode = core.node('api');
    this.sweeperNode = core.node('sweeper');
    for (let index = 0; index < core.plan.envs; index++) {
      const env = {
        index,
        node: core.node(`coord-${index}`),
        generation: 0,
        current: null,
      } as CoordinatorEnv;
      this.restartEnv(env);
      this.envs.push(env);
    }

    const participants: Array<[string, ParticipantKind]> = [
      ...Array.from({ length: ledgerShards }, (_, shard): [string, ParticipantKind] => [
        `ledger-${shard}`,
        LEDGER,
      ]),
      ['inventory', INVENTORY],
    ];
    const httpsId = core.plan.https?.participant;
    for (const [id, kind] of participants) {
      // An HTTPS participant's store is in another account: it cannot note on the record.
      const notes = core.rng.chance(core.plan.notes) && id !== httpsId;
      const store = new CheckedParticipantStore(kind.definition.counter!, notes ? this.txStore : undefined);
      if (notes) this.noting.add(id);
      this.participantStores.set(id, store);
      this.kinds.set(id, { store, kind });
      this.writeStores.set(id, core.switches.barrierCheck ? store : new BarrierlessStore(store));
      if (id === httpsId) {
        const https = new HttpsParticipant(
          core,
          this.runtime,
          this.checker,
          {
            participantStore: (inv, participantId) => this.participantStore(inv, participantId),
            sendReply: (inv, reply, slot) => this.sendReply(inv, reply, slot),
          },
          kind,
          core.node(`${id}-endpoint`),
        );
        this.network.inboxes.set(id, {
          queue: this.network.standardQueue(`${id}-inbox`, 6 * RELAY_FUNCTION_TIMEOUT_MS),
          node: core.node(`${id}-relay`),
          kind: 'relay',
          handle: (inv, message) => https.runRelay(inv, id, message),
        });
        continue;
      }
      const node = core.node(id);
      this.network.inboxes.set(id, {
        queue: this.network.standardQueue(`${id}-inbox`),
        node,
        kind: 'participant',
        handle: (inv, message) => this.runParticipant(inv, id, kind, message),
      });
    }
    const timerNode = core.node('timers');
    this.network.timerQueue = {
      queue: this.network.standardQueue('timers', TIMER_VISIBILITY_TIMEOUT_MS),
      node: timerNode,
      kind: 'timer',
      handle: (inv, message) => this.runTimer(inv, message),
    };
    this.directory = bankAndShopDirectory(this.accountStore, this.itemStore);
    // The fast path writes only the tables Tandem reaches: never an HTTPS participant's.
    this.onePhaseCommitter = new MemoryOnePhaseCommitter(
      this.txStore,
      new Map([...this.kinds].filter(([id]) => id !== httpsId)),
    );
    const workloadWorld: WorkloadWorld = {
      participantStores: this.participantStores,
      accountStore: this.accountStore,
      itemStore: this.itemStore,
      apiNode: this.apiNode,
      directory: this.directory,
      registry: this.registry,
      slotCount: () => this.slotCount,
      txs: (inv) => this.txs(inv),
      transport: (inv, clock) => this.transport(inv, clock),
      onePhase: (inv) => this.onePhase(inv),
    };
    this.timedLoad = options.timed
      ? new TimedLoad(core, this.runtime, this.checker, workloadWorld, options.timed)
      : undefined;
    this.workload = this.timedLoad ?? new Workload(core, this.runtime, this.checker, workloadWorld);
  }

  // ─── Running ────────────────────────────────────────────────────────────────────────────────

  async run(): Promise<SimResult> {
    const { core } = this;
    this.workload.setUp();
    core.at(core.faultsStopAtMs, () => {
      core.faultsOn = false;
      core.log('── faults stop ──');
    });
    core.at(T0_MS + core.rng.int(0, SWEEP_INTERVAL_MS), () => this.sweepTick());
    const { redeploy } = core.plan;
    if (redeploy) {
      core.at(T0_MS + redeploy.atMs, () => {
        core.log(`── redeploy: ${this.slotCount} → ${redeploy.slotCount} slot(s) ──`);
        this.slotCount = redeploy.slotCount;
      });
    }

    let redriven = false;
    const boundMs = core.faultsStopAtMs + QUIESCENCE_BOUND_MS;
    for (;;) {
      const event = core.next();
      if (!event) break;
      core.stats.events++;
      event();
      await drain();
      if (this.network.pumpFifo()) await drain();
      if (core.violations.length > 0) break;
      if (!core.faultsOn && this.quiet()) {
        const parked = this.network
          .queues()
          .flatMap((queue) => queue.dlq.map((m) => `${queue.name}: ${m.body}`));
        if (parked.length > 0 && !redriven) {
          // Invariant 9: an operator sees the DLQ (alarm) and redrives it; it must then complete.
          this.dlqSeen.push(...parked);
          core.log(`── operator redrives ${parked.length} dead-lettered message(s) ──`);
          this.network.redriveAll();
          redriven = true;
          continue;
        }
        this.checker.finalChecks(this.network.queues());
        break;
      }
      if (core.now > boundMs) {
        this.checker.noQuiescence(this.network.liveMessages(), this.runtime.liveInvocations);
        break;
      }
    }
    core.stats.virtualMs = core.now - T0_MS;
    return {
      seed: core.options.seed,
      violations: [...core.violations],
      stats: { ...core.stats },
      trace: core.traceLines(),
      dlq: [...this.dlqSeen],
      plan: core.plan,
    };
  }

  /** The timed mode's measures (after `run`). */
  measured(): Omit<TimedResult, 'result'> {
    return {
      times: this.timedLoad?.times ?? new Map(),
      requests: this.runtime.requests,
      coldStarts: this.runtime.coldStarts,
      partitionWaits: { ...this.runtime.partitionWaits },
      fifoSendWaits: { ...this.runtime.fifoSendWaits },
      fifoWaits: { ...this.network.fifoWaits },
      concurrencyWaits: this.runtime.concurrencyWaits,
      conflictsOn: this.runtime.conflictsOn,
      peakConcurrency: this.runtime.concurrency.peak,
      invocations: this.runtime.invocations,
    };
  }

  private quiet(): boolean {
    return (
      this.network.liveMessages() === 0 &&
      this.runtime.liveInvocations === 0 &&
      this.workload.pendingClients === 0 &&
      this.checker.undecidedOrLive.size === 0 &&
      this.checker.unpublished.size === 0 &&
      this.envs.every((env) => env.node.pausedUntilMs <= this.core.now)
    );
  }

  // ─── Ports over the memory adapters ─────────────────────────────────────────────────────────

  private txs(inv: Invocation): TxStore {
    return {
      create: (tx) =>
        this.runtime.call(
          inv,
          `txs.create ${tx.record.txId}`,
          async () => {
            const outcome = await this.txStore.create(tx);
            if (outcome.created) {
              this.checker.afterCreate(tx.record);
              this.timedLoad?.onCreated(tx.record.txId, inv.id);
            }
            return outcome;
          },
          { items: [recordItem(tx.record.txId)], transactional: false },
        ),
      load: (txId) => this.runtime.call(inv, `txs.load ${txId}`, () => this.txStore.load(txId)),
      loadAt: (recordKey) =>
        this.runtime.call(inv, `txs.loadAt ${recordKey}`, () => this.txStore.loadAt(recordKey)),
      save: (next, expectedVersion, fence) =>
        this.runtime.call(
          inv,
          `txs.save ${next.record.txId} v${expectedVersion}→${next.record.state} fence(slot ${fence.slot}, epoch ${fence.epoch}, ${fence.owner})`,
          () => this.save(next, expectedVersion, fence),
          { items: [recordItem(next.record.txId), `slot:${fence.slot}`], transactional: true },
        ),
      due: (nowMs, limit) => this.runtime.call(inv, 'txs.due', () => this.txStore.due(nowMs, limit)),
    };
  }

  private async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const row = this.checker.slotRows.get(fence.slot);
    const prev = this.checker.durable.get(next.record.txId);
    try {
      await this.txStore.save(next, expectedVersion, fence);
    } catch (error) {
      if (error instanceof FenceLostError) this.core.stats.fenceRejections++;
      if (error instanceof VersionConflictError) this.core.stats.versionConflicts++;
      this.core.log(`   ↳ save refused: ${error instanceof Error ? error.name : String(error)}`);
      throw error;
    }
    this.checker.afterSave(prev, next.record, fence, row);
    this.timedLoad?.onRecord(next.record.txId, settledState(next.record));
  }

  private slots(env: CoordinatorEnv): SlotStore {
    const inv = () => {
      if (!env.current) throw new Error(`slot store used by ${env.owner} outside an invocation`);
      return env.current;
    };
    return {
      read: (slot) => this.runtime.call(inv(), `slots.read ${slot}`, () => this.slotStore.read(slot)),
      write: (next, condition) =>
        this.runtime.call(
          inv(),
          `slots.write slot ${next.slot} epoch ${next.epoch} → ${next.owner}`,
          async () => {
            const won = await this.slotStore.write(next, condition);
            if (won) this.checker.afterSlotWrite(next, env);
            else this.core.log('   ↳ slot write lost its condition');
            return won;
          },
          { items: [`slot:${next.slot}`], transactional: false },
        ),
    };
  }

  private participantStore(inv: Invocation, participantId: string): ParticipantStore {
    const store = this.writeStores.get(participantId)!;
    const tables: ParticipantStore = {
      loadBarrier: (txId, pid) =>
        this.runtime.call(inv, `${participantId}.loadBarrier ${txId}`, () => store.loadBarrier(txId, pid)),
      write: (prev, next, action) =>
        this.runtime.call(
          inv,
          `${participantId}.write ${next.txId} ${prev?.state ?? '∅'}→${next.state} ${action.type}`,
          async () => {
            const outcome = await store.write(prev, next, action);
            if (outcome.ok) this.checker.afterParticipantWrite(participantId, next, action);
            else
              this.core.log(
                `   ↳ ${outcome.kind}${outcome.kind === 'rejected' ? `: ${outcome.reason}` : ''}`,
              );
            return outcome;
          },
          {
            items: [
              `${participantId}:barrier:${next.txId}`,
              ...touchedBy(action).map((id) => `${participantId}:${id}`),
            ],
            transactional: true,
          },
        ),
    };
    if (!this.noting.has(participantId)) return tables;
    // The notes go to the transaction records (the checked store's NoteTarget), barrier switch or not.
    const records = this.participantStores.get(participantId)!;
    return {
      ...tables,
      note: (note) =>
        this.runtime.call(
          inv,
          `${participantId}.note ${note.reply.type} ${note.txId}`,
          async () => {
            const noted = await records.note(note);
            if (noted === null) this.core.log('   ↳ note refused');
            else {
              this.checker.afterNote(participantId, note);
              // The note may settle the transaction: the client sees it done at its last ack.
              this.timedLoad?.onRecord(note.txId, settledState(noted));
            }
            return noted;
          },
          { items: [recordItem(note.txId)], transactional: false },
        ),
      end: (ended) =>
        this.runtime.call(
          inv,
          `${participantId}.end ${ended.txId} ${ended.state}`,
          async () => {
            const written = await records.end(ended);
            if (written) this.checker.afterEnd(participantId, ended);
            else this.core.log('   ↳ end refused: the record moved on');
            return written;
          },
          { items: [recordItem(ended.txId)], transactional: false },
        ),
    };
  }

  private transport(inv: Invocation, clock: Clock): CoordinatorTransport {
    return {
      toParticipant: (participant, message) =>
        this.runtime.call(
          inv,
          `send ${message.type} ${message.txId} → ${participant.id}`,
          async () => {
            this.checker.beforeSend(message);
            this.network.sendStandard(this.network.inboxes.get(participant.id)!, JSON.stringify(message), 0);
          },
          undefined,
          'send',
        ),
      scheduleCheck: (txId, slot, atMs) => this.armTimer(inv, clock, { type: 'Timer', txId, slot, atMs }),
    };
  }

  private forwarder(inv: Invocation, clock: Clock): CheckForwarder {
    return {
      forwardCheck: (txId, slot, dueAtMs) => {
        const dedupId = `check-${txId}-${dueAtMs}-${Math.floor(clock.nowMs() / 10_000)}`;
        return this.runtime.call(
          inv,
          `send Check ${txId}`,
          async () => this.network.sendFifo(groupOf(slot), JSON.stringify({ type: 'Check', txId }), dedupId),
          undefined,
          'sendFifo',
        );
      },
      rearm: (timer) => this.armTimer(inv, clock, timer),
    };
  }

  /** Like SqsTransport.armTimer: whole-second delay from the sender's clock, capped at 900 s. */
  private armTimer(inv: Invocation, clock: Clock, timer: Timer): Promise<void> {
    const delayS = Math.min(SQS_MAX_DELAY_S, Math.max(0, Math.ceil((timer.atMs - clock.nowMs()) / 1000)));
    return this.runtime.call(
      inv,
      `arm timer ${timer.txId} (${delayS} s)`,
      async () => this.network.sendStandard(this.network.timerQueue, JSON.stringify(timer), delayS * 1000),
      undefined,
      'send',
    );
  }

  private faults(): Faults {
    return {
      crashPoint: () => {},
      drop: (point, txId) => {
        const dropped = this.core.faultsOn && this.core.rng.chance(this.core.plan.dropVote);
        if (dropped) this.core.log(`   ↳ ${point} of ${txId} dropped`);
        return dropped;
      },
    };
  }

  private startCoordinator(env: CoordinatorEnv, batch: readonly SimMessage[]): void {
    const receipts = batch.map((message) => message.receipt);
    const generation = env.generation;
    let done = 0;
    const inv = this.runtime.spawn(
      env.node,
      'coordinator',
      `${batch.map((m) => `m${m.id} ${m.body} (receive ${m.receiveCount})`).join(' · ')} [${batch[0]!.group}] as ${env.owner}`,
      async (inv) => {
        // Current from its first step: with a cached record the handler reaches the slot store
        // before its first await.
        env.current = inv;
        env.batch = { group: batch[0]!.group!, startedAtMs: this.core.now };
        if (this.core.options.timed) {
          // Each environment is its own function instance: cold on its first batch only.
          const coldMs = this.runtime.acquire(env.owner)!;
          this.runtime.release(env.owner);
          if (coldMs > 0) await this.runtime.pacing(inv).sleep(coldMs);
        }
        const deadlineMs = env.node.clock.nowMs() + FUNCTION_TIMEOUT_MS;
        for (const message of batch) {
          const input = parseCoordinatorInput(message.body);
          await handleCoordinatorInput(input, {
            txs: this.txs(inv),
            leases: env.leases,
            clock: env.node.clock,
            transport: this.transport(inv, env.node.clock),
            config: this.core.config,
            faults: this.faults(),
            redelivered: message.receiveCount > 1,
            cache: env.cache,
            // The batch is held until the invocation's deadline, on its own clock (BatchHold).
            ...(this.core.switches.batchHold ? { batch: { heldUntilMs: deadlineMs } } : {}),
            pacing: this.runtime.pacing(inv),
          });
          done++;
        }
      },
      (error) => {
        if (env.generation === generation) {
          env.current = null;
          env.batch = null;
        }
        batch.slice(0, done).forEach((message, index) => {
          this.network.deleteMessage(this.network.fifo, message, receipts[index]!);
        });
        if (error === null) return;
        const failed = batch[done]!;
        if (error instanceof FenceLostError) this.core.log(`${env.owner} lost the lease: ${error.message}`);
        if (error instanceof BatchLostError) {
          this.core.stats.zombieDrops++;
          this.core.log(
            `${env.owner} (a zombie) drops m${failed.id} and the rest of its batch: ${error.message}`,
          );
          return;
        }
        this.runtime.handlerFailed(error, failed);
      },
    );
    inv.onCrash = () => this.restartEnv(env);
    if (!inv.dead) env.current = inv;
  }

  /** A crashed execution environment is replaced by a fresh one: new owner id, no cached lease. */
  private restartEnv(env: CoordinatorEnv): void {
    env.generation++;
    env.owner = `coord-${env.index}.${env.generation}`;
    env.current = null;
    env.batch = null;
    env.leases = new LeaseManager(this.slots(env), env.owner, env.node.clock, this.lease, { handoff: true });
    env.cache = new RecordCache();
  }

  // ─── Handlers (the thin Lambda handlers of functions/*, over the simulated ports) ─────────

  private async runParticipant(
    inv: Invocation,
    participantId: string,
    kind: ParticipantKind,
    message: SimMessage,
  ): Promise<void> {
    const parsed = parseParticipantMessage(message.body);
    if (parsed.participantId !== participantId) {
      throw new ProtocolAssertionError(`message for ${parsed.participantId} reached ${participantId}`);
    }
    await handleParticipantMessage(parsed, {
      store: this.participantStore(inv, participantId),
      kind,
      clock: inv.node.clock,
      replies: { send: (reply, slot) => this.sendReply(inv, reply, slot) },
      faults: this.faults(),
      pacing: this.runtime.pacing(inv),
    });
  }

  /** Like SqsTransport.reply: into the group of the slot the message named (else the txId's now). */
  private sendReply(inv: Invocation, reply: ParticipantReply, slot: number | undefined): Promise<void> {
    const dedupId = `reply-${this.network.nextMessageId}-${inv.id}-${this.core.seq}`;
    const what =
      reply.type === 'Vote'
        ? `send Vote ${reply.vote} ${reply.txId} from ${reply.participantId}`
        : `send Ack ${reply.outcome} ${reply.txId} from ${reply.participantId}`;
    return this.runtime.call(
      inv,
      what,
      async () =>
        this.network.sendFifo(
          groupOf(slot ?? slotOf(reply.txId, this.slotCount)),
          JSON.stringify(reply),
          dedupId,
        ),
      undefined,
      'sendFifo',
    );
  }

  private async runTimer(inv: Invocation, message: SimMessage): Promise<void> {
    const clock = inv.node.clock;
    const result = await handleTimer(parseTimer(message.body), {
      txs: this.txs(inv),
      clock,
      forwarder: this.forwarder(inv, clock),
    });
    this.core.log(`   ↳ timer ${result}`);
  }

  private sweepTick(): void {
    this.runtime.spawn(
      this.sweeperNode,
      'sweeper',
      'sweep',
      async (inv) => {
        await sweep({
          txs: this.txs(inv),
          clock: this.sweeperNode.clock,
          forwarder: this.forwarder(inv, this.sweeperNode.clock),
          limit: 100,
          concurrency: 2,
        });
      },
      (error) => {
        if (error !== null && !(error instanceof InfrastructureError)) {
          this.core.violation(`sweeper failed: ${error instanceof Error ? error.stack : String(error)}`);
        }
      },
    );
    this.core.at(this.core.now + SWEEP_INTERVAL_MS, () => this.sweepTick());
  }

  /**
   * DynamoDB's TTL deletes the terminal record (the stream carries a REMOVE, which events out
   * ignores). The participants' barriers stay; the key is free for a later transaction.
   */
  private expire(txId: string): void {
    const recordKey = recordKeyOf(txId);
    if (this.checker.holderOfKey.get(recordKey) !== txId) return;
    this.txStore.expire(recordKey);
    this.checker.holderOfKey.delete(recordKey);
    this.core.stats.expired++;
    this.core.log(`   ↳ TTL: the record of ${txId} expired`);
  }

  private onePhase(inv: Invocation): OnePhaseCommitter {
    return {
      covers: (participants) => this.onePhaseCommitter.covers(participants),
      commit: (tx) =>
        this.runtime.call(
          inv,
          `onePhase.commit ${tx.record.txId}`,
          async () => {
            const result = await this.onePhaseCommitter.commit(tx);
            this.core.log(`   ↳ one phase: ${result.kind}`);
            if (result.kind === 'committed') {
              this.checker.afterOnePhase(tx.record);
              this.timedLoad?.onOnePhase(tx.record.txId, inv.id);
            }
            return result;
          },
          {
            items: [
              recordItem(tx.record.txId),
              ...tx.record.participants.flatMap((p) =>
                reservedOps(this.kinds.get(p.id)!.kind.parseOperations(p.operations)).map(
                  (op) => `${p.id}:${op.id}`,
                ),
              ),
            ],
            transactional: true,
          },
        ),
    };
  }
}

export async function runSeed(options: SimOptions): Promise<SimResult> {
  return new World(options).run();
}

/** One run of the timed mode (`options.timed` set): its checks and what it measured. */
export async function runTimed(
  options: SimOptions & Required<Pick<SimOptions, 'timed'>>,
): Promise<TimedResult> {
  const world = new World(options);
  const result = await world.run();
  return { result, ...world.measured() };
}

import { LEDGER } from '../shared/bank-and-shop';
import type { EntityRecord } from '../shared/entities';
import type {
  ParticipantAction,
  ParticipantBarrier,
  ParticipantKind,
  Reservation,
  ReservedOp,
} from '../shared/participant';
import type { Fence } from '../shared/ports';
import {
  applyNote,
  canonicalJson,
  decisionOf,
  endOf,
  isTerminal,
  type JsonValue,
  type ParticipantMessage,
  type ParticipantReply,
  type RecordNote,
  type SlotRow,
  type TxRecord,
  timelineOf,
} from '../shared/protocol';
import type { Operation, ParticipantRegistry } from '../shared/registry';
import { planParticipants } from '../shared/transactions/plan';
import { keyedRecordKey, recordKeyOf } from '../shared/txid';
import type { CheckedParticipantStore } from './checked-store';
import { FUNCTION_TIMEOUT_MS, groupOf, type Invocation, type SimCore, T0_MS } from './core';
import type { SimMessage, SimQueue } from './sqs';

/**
 * Liveness after the last fault: a message first received after faults stop is deleted within this
 * long (no handler fails, so no FIFO group waits out a visibility timeout behind it).
 */
export const BLOCKED_BOUND_MS = 15_000;
/** After faults stop, everything must be terminal and every queue drained within this bound. */
export const QUIESCENCE_BOUND_MS = 20 * 60_000;
/**
 * Termination, per transaction: it ends within this long of faults stopping (or of its creation,
 * when later), unless one of its messages went to a DLQ and waits for the operator's redrive.
 */
export const TERMINATION_BOUND_MS = 10 * 60_000;

/** A counter's barrier keeps its operations as take/give entity operations (counterParticipant). */
export const reservedOps = (reservation: Reservation) => reservation as readonly ReservedOp[];

/** What the checker sees of a coordinator execution environment. */
export interface CoordinatorView {
  readonly owner: string;
  readonly current: Invocation | null;
  /** The slot's group of the batch the current invocation works on, and when (world time) it began. */
  readonly batch: { readonly group: string; readonly startedAtMs: number } | null;
}

/** A client's request, as its answer is checked. */
export interface AnsweredRequest {
  readonly label: string;
  readonly operations: readonly Operation[];
  readonly idempotencyKey: string | undefined;
  readonly unknownEntity: boolean;
}

/** What the checker reads of the world, and the two things a durable change sets going there. */
export interface CheckedWorld {
  readonly participantStores: ReadonlyMap<string, CheckedParticipantStore>;
  readonly kinds: ReadonlyMap<string, { readonly kind: ParticipantKind }>;
  readonly coordinators: readonly CoordinatorView[];
  readonly registry: ParticipantRegistry;
  /** A durable change of a transaction record, for the table's stream. */
  streamed(prev: TxRecord | undefined, next: TxRecord): void;
  /** DynamoDB's TTL deletes a terminal record. */
  expire(txId: string): void;
}

/**
 * The invariant checker: shadows of what is durable, updated in the same turn as the write they
 * follow, and the checks of the nine invariants (shared/protocol/INVARIANTS.md cites them by their
 * message prefix, `name (N)`) after every write, at the bounds, and at quiescence.
 */
export class InvariantChecker {
  /** Which transaction each record key holds now (TTL expiry frees a key for a later one). */
  readonly holderOfKey = new Map<string, string>();
  /** Every record key a transaction was ever created at. */
  private readonly keysHeld = new Set<string>();
  readonly durable = new Map<string, TxRecord>();
  readonly undecidedOrLive = new Set<string>();
  /** Terminal outcomes still to be announced (events out), and what was announced. */
  readonly unpublished = new Set<string>();
  private readonly published = new Map<string, string>();
  /** The slot table's rows, as last written. */
  readonly slotRows = new Map<number, SlotRow>();
  private readonly ownerOfEpoch = new Map<string, string>();
  private readonly acceptedEpoch = new Map<number, number>();
  readonly opening = new Map<string, number>();
  ledgerTotal = 0;
  /** Ledger deltas of COMMIT-decided transactions not applied yet (the other half of a transfer). */
  private ledgerInFlight = 0;
  private readonly applied = new Set<string>();
  private readonly appliedDelta = new Map<string, number>();
  private readonly expectedHeld = new Map<string, number>();
  /** Entities, by participant, whose expected total or holds changed since checkEntities last ran. */
  private readonly expectationChanged = new Map<string, Set<string>>();
  /** Slots each zombie invocation took from a live holder of the slot's batch (the ping-pong bound). */
  private readonly zombieTakeovers = new Map<number, number>();
  /** When (world time) each transaction was created and became terminal (the termination bound). */
  private readonly createdAt = new Map<string, number>();
  private readonly terminalAt = new Map<string, number>();
  /** Transactions a dead-lettered message named: they end only after the operator's redrive. */
  private readonly deadLetteredTx = new Set<string>();
  /** Messages first received after faults stopped, and when (the blocked-group bound). */
  private readonly receivedAfterFaults = new Map<SimMessage, number>();
  /** Transactions whose try the relay gave up on (maybe applied unseen): their barrier must end as they did. */
  readonly triesGivenUp = new Set<string>();

  constructor(
    private readonly core: SimCore,
    private readonly world: CheckedWorld,
  ) {}

  /** Decision before effect (4): what is sent must follow from what is durable. */
  beforeSend(message: ParticipantMessage): void {
    const state = this.durable.get(message.txId)?.state;
    const decision = state === undefined ? null : decisionOf(state);
    const allowed =
      message.type === 'Prepare'
        ? state !== undefined
        : decision === (message.type === 'Commit' ? 'COMMIT' : 'ABORT');
    if (!allowed) {
      this.core.violation(
        `decision before effect (4): ${message.type} of ${message.txId} sent while it is ${state}`,
      );
    }
  }

  /** An outcome put on the bus: it must be the durable one. */
  announced(txId: string, outcome: string): void {
    const state = this.durable.get(txId)?.state;
    if (outcome !== state) {
      this.core.violation(`events: ${txId} announced ${outcome} while it is ${state}`);
    }
    this.published.set(txId, outcome);
    this.unpublished.delete(txId);
  }

  /** A message received: after the last fault, the clock of the blocked-group bound starts. */
  received(message: SimMessage): void {
    if (!this.core.faultsOn && !this.receivedAfterFaults.has(message))
      this.receivedAfterFaults.set(message, this.core.now);
  }

  /** A message deleted: if first received after the last fault, within the blocked-group bound. */
  deleted(queue: SimQueue, message: SimMessage): void {
    const receivedAtMs = this.receivedAfterFaults.get(message);
    if (receivedAtMs === undefined) return;
    this.receivedAfterFaults.delete(message);
    const blockedMs = this.core.now - receivedAtMs;
    this.core.stats.maxBlockedMs = Math.max(this.core.stats.maxBlockedMs, blockedMs);
    if (blockedMs > BLOCKED_BOUND_MS) {
      this.core.violation(
        `liveness: m${message.id} of ${queue.name}${message.group ? ` (group ${message.group})` : ''} took ${blockedMs} ms ` +
          `from its first receive after the last fault to its delete (bound ${BLOCKED_BOUND_MS} ms): ${message.body}`,
      );
    }
  }

  /** A message dead-lettered: its transaction waits for the redrive; never after the last fault. */
  deadLettered(queue: SimQueue, message: SimMessage): void {
    const txId = (JSON.parse(message.body) as { txId?: unknown }).txId;
    if (typeof txId === 'string') this.deadLetteredTx.add(txId);
    if (this.receivedAfterFaults.has(message)) {
      this.core.violation(
        `liveness: m${message.id} of ${queue.name} was dead-lettered after the last fault: ${message.body}`,
      );
    }
  }

  /** No quiescence within QUIESCENCE_BOUND_MS of the faults' end. */
  noQuiescence(liveMessages: number, liveInvocations: number): void {
    if (this.unpublished.size > 0) {
      this.core.violation(
        `events: ${this.unpublished.size} terminal outcome(s) never announced [${[...this.unpublished].join(', ')}]`,
      );
    }
    this.core.violation(
      `termination (8): no quiescence ${QUIESCENCE_BOUND_MS / 60_000} min after faults stopped: ` +
        `${this.undecidedOrLive.size} transaction(s) not terminal [${[...this.undecidedOrLive].join(', ')}], ` +
        `${liveMessages} message(s) queued, ${liveInvocations} handler(s) running`,
    );
  }

  /** A request answered 202: it named known entities, and the answer is its own transaction. */
  accepted(request: AnsweredRequest, record: TxRecord): void {
    if (request.unknownEntity)
      this.core.violation(`${request.label} names an unknown entity but was accepted`);
    const planned = JSON.stringify(planParticipants(request.operations, this.world.registry));
    if (JSON.stringify(record.participants) !== planned) {
      this.core.violation(`${request.label} was answered with ${record.txId}, a different transaction`);
    }
  }

  /** A request refused as naming an unknown entity: it did. */
  refused(request: AnsweredRequest, error: Error): void {
    if (!request.unknownEntity) this.core.violation(`${request.label} refused as unknown: ${error.message}`);
  }

  /** A request refused with a conflict: its key holds another body. */
  conflicted(request: AnsweredRequest, error: Error): void {
    const holder = this.holderOfKey.get(keyedRecordKey(request.idempotencyKey ?? ''));
    const existing = holder === undefined ? undefined : this.durable.get(holder);
    const planned = JSON.stringify(planParticipants(request.operations, this.world.registry));
    if (!existing || JSON.stringify(existing.participants) === planned) {
      this.core.violation(`${request.label} got a conflict for its own request: ${error.message}`);
    }
  }

  afterCreate(record: TxRecord): void {
    this.core.stats.transactions++;
    if (this.durable.has(record.txId)) {
      // Its barriers would answer for the earlier one, and its outcome event's id would repeat.
      this.core.violation(
        `${record.txId} names two transactions: it was created again after its record expired`,
      );
    }
    const recordKey = recordKeyOf(record.txId);
    if (this.keysHeld.has(recordKey)) this.core.stats.keysReused++;
    this.keysHeld.add(recordKey);
    this.holderOfKey.set(recordKey, record.txId);
    this.createdAt.set(record.txId, this.core.now);
    if (isTerminal(record.state)) this.ended(record.txId);
    this.durable.set(record.txId, record);
    this.world.streamed(undefined, record);
    if (!isTerminal(record.state)) this.undecidedOrLive.add(record.txId);
    else if (this.core.plan.events) this.unpublished.add(record.txId); // a one-phase record, born terminal
  }

  /**
   * A change of an existing record is durable (a coordinator's save, a note, a participant's end):
   * the shadow follows, the table's stream hears it, and a terminal one is ended and announced.
   */
  private madeDurable(prev: TxRecord | undefined, next: TxRecord): void {
    this.durable.set(next.txId, next);
    this.world.streamed(prev, next);
    if (!isTerminal(next.state)) return;
    this.undecidedOrLive.delete(next.txId);
    this.ended(next.txId);
    if (this.core.plan.events) this.unpublished.add(next.txId);
  }

  /** A transaction became terminal: note when, and let its record expire (TTL) when the plan says. */
  private ended(txId: string): void {
    this.terminalAt.set(txId, this.core.now);
    if (this.core.plan.ttlAfterMs > 0)
      this.core.at(this.core.now + this.core.plan.ttlAfterMs, () => this.world.expire(txId));
  }

  /** A one-phase commit wrote the record and applied every operation in one step: account for it. */
  afterOnePhase(record: TxRecord): void {
    this.afterCreate(record);
    for (const participant of record.participants) {
      const { kind } = this.world.kinds.get(participant.id)!;
      const key = `${record.txId}#${participant.id}`;
      if (this.applied.has(key))
        this.core.violation(`exactly-once (6): ${participant.id} applied ${record.txId} twice`);
      this.applied.add(key);
      for (const op of reservedOps(kind.parseOperations(participant.operations))) {
        const entity = `${kind.definition.counter!.entity}:${op.id}`;
        const delta = op.action === 'take' ? -op.amount : op.amount;
        this.appliedDelta.set(entity, (this.appliedDelta.get(entity) ?? 0) + delta);
        this.expectationOf(participant.id).add(op.id);
      }
    }
    for (const participant of record.participants) this.checkEntities(participant.id);
  }

  afterSlotWrite(next: SlotRow, writer: CoordinatorView): void {
    const prev = this.slotRows.get(next.slot);
    if (prev && next.epoch < prev.epoch) {
      this.core.violation(
        `fencing (7): slot ${next.slot} epoch went back from ${prev.epoch} to ${next.epoch}`,
      );
    }
    const key = `${next.slot}:${next.epoch}`;
    const owner = this.ownerOfEpoch.get(key);
    if (owner !== undefined && owner !== next.owner) {
      this.core.violation(
        `fencing (7): slot ${next.slot} epoch ${next.epoch} has two owners, ${owner} and ${next.owner}`,
      );
    }
    if (next.owner !== null) this.ownerOfEpoch.set(key, next.owner);
    if (prev && prev.owner !== null && prev.owner !== next.owner) {
      this.core.stats.takeovers++;
      this.core.log(
        `   ↳ takeover of slot ${next.slot}: ${prev.owner}@${prev.epoch} → ${next.owner}@${next.epoch}`,
      );
      // Ping-pong: a live invocation working on the slot's batch holds the group (FIFO), so only
      // a zombie can take the slot from it. A zombie may land one such write — the one it had in
      // flight when it stalled; past its deadline it takes no slot, so never a second one.
      const holder = this.world.coordinators.find(
        (env) =>
          env.owner === prev.owner &&
          env.current !== null &&
          env.batch?.group === groupOf(next.slot) &&
          this.core.now - env.batch.startedAtMs < FUNCTION_TIMEOUT_MS,
      );
      const zombie = writer.current;
      if (
        holder &&
        zombie &&
        writer.batch &&
        this.core.now - writer.batch.startedAtMs >= FUNCTION_TIMEOUT_MS
      ) {
        const count = (this.zombieTakeovers.get(zombie.id) ?? 0) + 1;
        this.zombieTakeovers.set(zombie.id, count);
        if (count > 1) {
          this.core.violation(
            `liveness (ping-pong): ${zombie.name}, past its deadline, took slot ${next.slot} from ${prev.owner} ` +
              `(working on the group's batch) for the ${count}th time`,
          );
        }
      }
    }
    this.slotRows.set(next.slot, next);
  }

  afterSave(prev: TxRecord | undefined, next: TxRecord, fence: Fence, row: SlotRow | undefined): void {
    const { txId } = next;
    const mechanisms = !this.core.options.outcomesOnly;
    if (mechanisms && (!row || row.owner !== fence.owner || row.epoch !== fence.epoch)) {
      this.core.violation(
        `fencing (7): write of ${txId} (${next.state}) accepted from ${fence.owner} at epoch ${fence.epoch}, ` +
          `but slot ${fence.slot} is ${row ? `${row.owner}'s at epoch ${row.epoch}` : 'unowned'}`,
      );
    }
    const last = this.acceptedEpoch.get(fence.slot) ?? 0;
    if (mechanisms && fence.epoch < last) {
      this.core.violation(
        `fencing (7): slot ${fence.slot} accepted epoch ${fence.epoch} after epoch ${last}`,
      );
    }
    this.acceptedEpoch.set(fence.slot, Math.max(last, fence.epoch));
    if (!prev) {
      this.core.violation(`saved ${txId}, which was never created`);
    } else {
      if (mechanisms && next.version !== prev.version + 1) {
        this.core.violation(`${txId}: version ${prev.version} → ${next.version}`);
      }
      const before = decisionOf(prev.state);
      const after = decisionOf(next.state);
      if (before !== null && after !== before) {
        this.core.violation(`agreement (2): ${txId} decided ${before}, then ${after}`);
      }
      if (before === null && after === 'COMMIT') {
        for (const participant of next.participants) {
          if (participant.kind !== 'ledger') continue;
          for (const op of reservedOps(LEDGER.parseOperations(participant.operations))) {
            this.ledgerInFlight += op.action === 'take' ? -op.amount : op.amount;
          }
        }
        for (const participant of next.participants) {
          const barrier = this.world.participantStores.get(participant.id)?.barrier(txId, participant.id);
          if (barrier?.state !== 'PREPARED' || next.votes[participant.id]?.vote !== 'YES') {
            this.core.violation(
              `validity (3): ${txId} decided COMMIT but ${participant.id} is ${barrier?.state ?? 'unprepared'} ` +
                `(vote ${next.votes[participant.id]?.vote ?? 'none'})`,
            );
          }
        }
      }
    }
    this.madeDurable(prev, next);
    this.core.log(
      `   ↳ durable: ${txId} v${next.version} ${next.state}${next.reason ? ` (${next.reason})` : ''}`,
    );
  }

  /**
   * A participant noted its vote or ack on the record, after its barrier write: the note must say
   * what the barrier says, and land on the record as last made durable (+1 version).
   */
  afterNote(participantId: string, note: RecordNote): void {
    const prev = this.durable.get(note.txId);
    const next = prev ? applyNote(prev, note) : null;
    if (!prev || !next) {
      this.core.violation(
        `${participantId} noted ${note.reply.type} on ${note.txId}, which refuses it (${prev?.state})`,
      );
      return;
    }
    const { reply } = note;
    const barrier = this.world.participantStores.get(participantId)?.barrier(note.txId, participantId);
    const agrees =
      barrier !== undefined &&
      (reply.type === 'Vote'
        ? reply.vote === barrier.vote && (barrier.state === 'PREPARED' || barrier.state === 'VOTED_NO')
        : reply.outcome === barrier.state);
    if (!agrees) {
      this.core.violation(
        `${participantId} noted ${JSON.stringify(reply)} on ${note.txId} with barrier ${barrier?.state ?? 'none'}`,
      );
    }
    this.madeDurable(prev, next);
    this.core.log(`   ↳ noted on ${note.txId}: v${next.version} ${timelineOf(next).at(-1)?.event}`);
  }

  /**
   * A participant ended a transaction its ack completed: what it wrote must be exactly the end of
   * the record as last made durable (endOf: every ack there, the decision's outcome, +1 version).
   */
  afterEnd(participantId: string, ended: TxRecord): void {
    const prev = this.durable.get(ended.txId);
    const expected = prev && ended.completedAtMs !== null ? endOf(prev, ended.completedAtMs) : null;
    if (
      !prev ||
      expected === null ||
      canonicalJson(expected as unknown as JsonValue) !== canonicalJson(ended as unknown as JsonValue)
    ) {
      this.core.violation(
        `${participantId} ended ${ended.txId} as ${ended.state} v${ended.version}, but the record is ${prev?.state} v${prev?.version}`,
      );
      return;
    }
    this.madeDurable(prev, ended);
    this.core.stats.endedByParticipants++;
    this.core.log(`   ↳ durable: ${ended.txId} v${ended.version} ${ended.state} (ended by ${participantId})`);
  }

  afterParticipantWrite(participantId: string, next: ParticipantBarrier, action: ParticipantAction): void {
    const record = this.durable.get(next.txId);
    const decision = record ? decisionOf(record.state) : null;
    this.core.log(`   ↳ ${participantId} barrier ${next.txId} ${next.state} (${action.type})`);
    if (!record) {
      this.core.violation(`${participantId} wrote a barrier for ${next.txId}, which does not exist`);
    } else if (next.state === 'COMMITTED' && decision !== 'COMMIT') {
      this.core.violation(
        `decision before effect (4): ${participantId} applied ${next.txId} while its durable state is ${record.state}`,
      );
    } else if (next.state === 'ABORTED' && decision !== 'ABORT') {
      this.core.violation(
        `decision before effect (4): ${participantId} aborted ${next.txId} while its durable state is ${record.state}`,
      );
    }
    this.account(participantId, next, action);
    this.checkEntities(participantId);
  }

  /**
   * Every entity: total = opening + the deltas of the barriers that applied it (each at most once),
   * held = the holds of its PREPARED barriers, available = total − held ≥ 0. And the ledger's sum,
   * counting committed transfers whose other half is still in flight, never changes.
   *
   * Only the entities that changed since the participant's last check are checked — in the table
   * or in what is expected of them — as a rescan of every entity would find nothing new in the
   * others; the ledger's sum is each table's running total (CheckedParticipantStore).
   */
  private checkEntities(participantId: string): void {
    const store = this.world.participantStores.get(participantId)!;
    const entityKind = participantId === 'inventory' ? 'item' : 'account';
    const expected = this.expectationChanged.get(participantId);
    const ids = store.takeChanged(expected);
    expected?.clear();
    for (const id of ids) {
      const entity = store.entity(id)!;
      this.checkEntity(participantId, entity);
      const key = `${entityKind}:${entity.id}`;
      const want = (this.opening.get(key) ?? 0) + (this.appliedDelta.get(key) ?? 0);
      if (entity.total !== want) {
        this.core.violation(
          `exactly-once (6): ${participantId} '${entity.id}' has ${entity.total}, opening + applied deltas = ${want}`,
        );
      }
      const held = this.expectedHeld.get(key) ?? 0;
      if (entity.held !== held) {
        this.core.violation(
          `${participantId} '${entity.id}' holds ${entity.held}, its prepared barriers hold ${held}`,
        );
      }
    }
    if (participantId.startsWith('ledger-')) {
      let total = 0;
      for (const [id, other] of this.world.participantStores) {
        if (id.startsWith('ledger-')) total += other.totalSum;
      }
      if (total + this.ledgerInFlight !== this.ledgerTotal) {
        this.core.violation(
          `conservation (5): the ledger holds ${total} with ${this.ledgerInFlight} committed in flight; it opened with ${this.ledgerTotal}`,
        );
      }
    }
  }

  /** The entities of `participantId` whose expectations changed since its last check. */
  private expectationOf(participantId: string): Set<string> {
    let ids = this.expectationChanged.get(participantId);
    if (!ids) {
      ids = new Set();
      this.expectationChanged.set(participantId, ids);
    }
    return ids;
  }

  /** Bookkeeping of a successful barrier write, for checkEntities. */
  private account(participantId: string, next: ParticipantBarrier, action: ParticipantAction): void {
    if (action.type === 'none') return;
    const entityKind = participantId === 'inventory' ? 'item' : 'account';
    const key = `${next.txId}#${participantId}`;
    if (action.type === 'apply') {
      if (this.applied.has(key))
        this.core.violation(`exactly-once (6): ${participantId} applied ${next.txId} twice`);
      this.applied.add(key);
    }
    for (const op of reservedOps(action.reservation)) {
      const entity = `${entityKind}:${op.id}`;
      this.expectationOf(participantId).add(op.id);
      const take = op.action === 'take' ? op.amount : 0;
      if (action.type === 'reserve')
        this.expectedHeld.set(entity, (this.expectedHeld.get(entity) ?? 0) + take);
      if (action.type === 'apply' || action.type === 'release') {
        this.expectedHeld.set(entity, (this.expectedHeld.get(entity) ?? 0) - take);
      }
      if (action.type === 'apply') {
        const delta = op.action === 'take' ? -op.amount : op.amount;
        this.appliedDelta.set(entity, (this.appliedDelta.get(entity) ?? 0) + delta);
        if (entityKind === 'account') this.ledgerInFlight -= delta;
      }
    }
  }

  private checkEntity(participantId: string, entity: EntityRecord): void {
    if (entity.available < 0 || entity.held < 0 || entity.total < 0) {
      this.core.violation(`conservation (5): ${participantId} '${entity.id}' is ${JSON.stringify(entity)}`);
    }
    if (entity.available !== entity.total - entity.held) {
      this.core.violation(
        `${participantId} '${entity.id}': available ≠ total − held: ${JSON.stringify(entity)}`,
      );
    }
  }

  /** At quiescence: terminal, agreeing, no holds, exactly-once totals, queues drained. */
  finalChecks(queues: readonly SimQueue[]): void {
    this.core.log('── quiescence: final checks ──');
    // Termination (8), with a bound: once faults stop (or the transaction begins, if later), it
    // ends within TERMINATION_BOUND_MS — unless a message of it waited in a DLQ for the operator.
    for (const [txId, terminalAtMs] of this.terminalAt) {
      if (this.deadLetteredTx.has(txId)) continue;
      const lagMs = terminalAtMs - Math.max(this.core.faultsStopAtMs, this.createdAt.get(txId) ?? T0_MS);
      this.core.stats.maxTerminalLagMs = Math.max(this.core.stats.maxTerminalLagMs, lagMs);
      if (lagMs > TERMINATION_BOUND_MS) {
        this.core.violation(
          `termination (8): ${txId} ended ${lagMs} ms after faults stopped or it began (bound ${TERMINATION_BOUND_MS} ms)`,
        );
      }
    }
    const expected = new Map(this.opening);
    // Every transaction ever created — also those whose record expired (TTL) since.
    for (const record of this.durable.values()) {
      const { txId, state } = record;
      if (!isTerminal(state)) {
        this.core.violation(`termination (8): ${txId} is ${state} at quiescence`);
        continue;
      }
      if (state === 'COMMITTED') this.core.stats.committed++;
      else this.core.stats.aborted++;
      if (record.reason === 'prepare timeout') this.core.stats.timeouts++;
      if (this.core.plan.events && this.published.get(txId) !== state) {
        this.core.violation(
          `events: ${txId} is ${state} but announced ${this.published.get(txId) ?? 'nothing'}`,
        );
      }
      for (const participant of record.participants) {
        const barrier = this.world.participantStores.get(participant.id)?.barrier(txId, participant.id);
        if (record.mode === 'one-phase') {
          // One atomic write applied it (or nothing): no participant ever saw it.
          if (barrier !== undefined) {
            this.core.violation(`atomicity (1): one-phase ${txId} has a barrier at ${participant.id}`);
          }
        } else if (barrier?.state !== state) {
          this.core.violation(
            `atomicity/agreement (1, 2): ${txId} is ${state} but ${participant.id}'s barrier is ${barrier?.state ?? 'missing'}`,
          );
        }
        if (state !== 'COMMITTED') continue;
        const { kind } = this.world.kinds.get(participant.id)!;
        const entityKind = kind.definition.counter!.entity;
        for (const op of reservedOps(kind.parseOperations(participant.operations))) {
          const key = `${entityKind}:${op.id}`;
          expected.set(key, (expected.get(key) ?? 0) + (op.action === 'take' ? -op.amount : op.amount));
        }
      }
    }
    for (const [participantId, store] of this.world.participantStores) {
      for (const barrier of store.barriers()) {
        const record = this.durable.get(barrier.txId);
        if (!record || record.state !== barrier.state) {
          this.core.violation(
            `agreement (2): ${participantId} barrier of ${barrier.txId} is ${barrier.state}, the coordinator says ${record?.state ?? 'nothing'}`,
          );
        }
      }
      const entityKind = participantId === 'inventory' ? 'item' : 'account';
      for (const entity of store.entities()) {
        this.checkEntity(participantId, entity);
        if (entity.held !== 0)
          this.core.violation(`termination (8): ${participantId} '${entity.id}' still holds ${entity.held}`);
        const want = expected.get(`${entityKind}:${entity.id}`);
        if (entity.total !== want) {
          this.core.violation(
            `exactly-once (6): ${participantId} '${entity.id}' has ${entity.total}, opening + committed deltas = ${want}`,
          );
        }
      }
    }
    // A try the relay gave up on sent no vote, maybe after it took effect unseen: the barrier ends
    // as the transaction did (a re-sent try's answer, or the prepare timeout's abort and its
    // cancel), and no hold is left (checked above with every entity's).
    const https = this.core.plan.https?.participant;
    for (const txId of this.triesGivenUp) {
      const record = this.durable.get(txId);
      const barrier =
        https === undefined ? undefined : this.world.participantStores.get(https)?.barrier(txId, https);
      if (record === undefined || !isTerminal(record.state) || barrier?.state !== record.state) {
        this.core.violation(
          `https: the relay gave up on the try of ${txId}, which is ${record?.state ?? 'unknown'} with ${https}'s barrier ${barrier?.state ?? 'missing'}`,
        );
      }
    }
    const parked = queues.reduce((sum, queue) => sum + queue.dlq.length, 0);
    if (parked > 0)
      this.core.violation(`nothing lost (9): ${parked} message(s) still dead-lettered after the redrive`);
  }

  /**
   * What the relay tells the coordinator must be what the endpoint's barrier says: a YES only for
   * a try that reserved (the barrier may have moved on since), a refusal only for a NO, an ack
   * only for a finish done. A try given up on may have taken effect unseen: no check then (its
   * cancel must undo it: see finalChecks).
   */
  checkRelayReply(reply: ParticipantReply): void {
    if (this.core.options.outcomesOnly) return;
    const store = this.world.participantStores.get(reply.participantId)!;
    const state = store.barrier(reply.txId, reply.participantId)?.state;
    const allowed: readonly (string | undefined)[] =
      reply.type === 'Ack'
        ? [reply.outcome]
        : reply.vote === 'YES'
          ? ['PREPARED', 'COMMITTED', 'ABORTED']
          : ['VOTED_NO', 'ABORTED'];
    if (!allowed.includes(state)) {
      this.core.violation(
        `https: the relay sends ${JSON.stringify(reply)} while ${reply.participantId}'s barrier of ${reply.txId} is ${state ?? 'missing'}`,
      );
    }
  }
}

import type { EntityRecord } from '../entities';
import {
  type CounterSpec,
  canReserve,
  type ParticipantAction,
  type ParticipantBarrier,
  type ParticipantStore,
  type ReservedOp,
  rejectionReason,
  type WriteOutcome,
} from '../participant';
import { assert, type RecordNote, type TxRecord } from '../protocol';
import { assertOneBarrier } from './barrier-write';

/** Where notes go: the coordinator's transaction records (MemoryTxStore). */
export interface NoteTarget {
  /** Applies the note if its condition holds (applyNote): the record it left, or null. */
  note(note: RecordNote): TxRecord | null;
  /** Writes `ended` if the stored record is still at the version before it. */
  end(ended: TxRecord): boolean;
}

const barrierKey = (txId: string, participantId: string) => `${txId}#${participantId}`;

/**
 * ParticipantStore of a counter participant (shared/participant/counter.ts) in memory, with the
 * DynamoDB adapter's semantics for a counter's writes (counterWrite): the barrier (conditioned on
 * the state read, or absence) and the business change happen together or not at all; a reserve
 * that cannot be made is `rejected` with the same reason; a barrier race is `barrier-conflict` and
 * takes precedence over a rejection. Deterministic (no clock, no randomness; iteration in insertion
 * order) and copy-on-read, so it can serve the deterministic simulation. One instance is one
 * participant table.
 */
export class MemoryParticipantStore implements ParticipantStore {
  private readonly entityMap = new Map<string, EntityRecord>();
  private readonly barrierMap = new Map<string, ParticipantBarrier>();
  /** Successful writes so far (for assertions: a duplicate must not add one). */
  writes = 0;

  /**
   * `notes`: the transaction records this participant may note its votes and acks on (in the
   * deployment, the Transactions table shared in one account); without it, notes are ignored.
   */
  constructor(
    /** The counter's nouns, for reasons (and `entity`, for messages). */
    readonly counter: Pick<CounterSpec, 'entity' | 'quantity'>,
    entities: readonly EntityRecord[] = [],
    private readonly notes?: NoteTarget,
  ) {
    for (const entity of entities) this.seed(entity);
  }

  /** Adds (or replaces) an entity, as if created through the entity API. */
  seed(entity: EntityRecord): void {
    assert(
      entity.available === entity.total - entity.held,
      `entity '${entity.id}': available ≠ total − held`,
    );
    this.entityMap.set(entity.id, { ...entity });
  }

  entity(id: string): EntityRecord | undefined {
    const found = this.entityMap.get(id);
    return found ? { ...found } : undefined;
  }

  /** Every entity, in insertion order. */
  entities(): EntityRecord[] {
    return [...this.entityMap.values()].map((entity) => ({ ...entity }));
  }

  barrier(txId: string, participantId: string): ParticipantBarrier | undefined {
    const found = this.barrierMap.get(barrierKey(txId, participantId));
    return found ? structuredClone(found) : undefined;
  }

  /** Every barrier, in the order they were first written. */
  barriers(): ParticipantBarrier[] {
    return [...this.barrierMap.values()].map((barrier) => structuredClone(barrier));
  }

  async loadBarrier(txId: string, participantId: string): Promise<ParticipantBarrier | undefined> {
    return this.barrier(txId, participantId);
  }

  async write(
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
  ): Promise<WriteOutcome> {
    assertOneBarrier(prev, next);
    const key = barrierKey(next.txId, next.participantId);
    const stored = this.barrierMap.get(key);
    if (prev === undefined ? stored !== undefined : stored?.state !== prev.state) {
      return { ok: false, kind: 'barrier-conflict' };
    }

    const updated: EntityRecord[] = [];
    // A counter's barrier keeps its operations as take/give entity operations (counterParticipant).
    const ops = (action.type === 'none' ? [] : action.reservation) as readonly ReservedOp[];
    assert(new Set(ops.map((op) => op.id)).size === ops.length, `${key}: two operations on one entity`);
    for (const op of ops) {
      const entity = this.entityMap.get(op.id);
      if (action.type === 'reserve') {
        if (!canReserve(op, entity)) {
          return { ok: false, kind: 'rejected', reason: rejectionReason(this.counter, op, entity) };
        }
      } else {
        assert(entity !== undefined, `${key}: ${action.type} of unknown ${this.counter.entity} '${op.id}'`);
        assert(
          op.action === 'give' || entity.held >= op.amount,
          `${key}: ${action.type} of ${op.amount} on '${op.id}', which holds only ${entity.held}`,
        );
      }
      if (entity !== undefined && action.type !== 'none') updated.push(applyOp(entity, op, action.type));
    }

    // Every condition held: commit barrier and entities together.
    for (const entity of updated) this.entityMap.set(entity.id, entity);
    this.barrierMap.set(key, structuredClone(next));
    this.writes += 1;
    return { ok: true };
  }

  async note(note: RecordNote): Promise<TxRecord | null> {
    return this.notes?.note(note) ?? null;
  }

  async end(ended: TxRecord): Promise<boolean> {
    return this.notes?.end(ended) ?? false;
  }
}

/**
 * The one-phase fast path's part on this table (see DynamoOnePhaseCommitter): the operations that
 * would be refused, each with the entity as the condition sees it (undefined: it does not exist) —
 * take: exists and `available >= amount`; give: exists. Synchronous, so that a caller checking
 * several stores and then applying to all of them does it in one atomic step.
 */
export function refusedDirect(
  store: MemoryParticipantStore,
  ops: readonly ReservedOp[],
): Array<{ op: ReservedOp; entity: EntityRecord | undefined }> {
  return ops
    .map((op) => ({ op, entity: store.entity(op.id) }))
    .filter(({ op, entity }) => !canReserve(op, entity));
}

/** Applies operations checked by refusedDirect: take removes from total and available, give adds. */
export function applyDirect(store: MemoryParticipantStore, ops: readonly ReservedOp[]): void {
  for (const op of ops) {
    const entity = store.entity(op.id);
    assert(entity !== undefined, `direct ${op.action} on unknown ${store.counter.entity} '${op.id}'`);
    const delta = op.action === 'take' ? -op.amount : op.amount;
    store.seed({ ...entity, total: entity.total + delta, available: entity.available + delta });
  }
}

/** The same arithmetic as the DynamoDB update expressions (see dynamo-participant-store.ts). */
function applyOp(entity: EntityRecord, op: ReservedOp, type: 'reserve' | 'apply' | 'release'): EntityRecord {
  const a = op.amount;
  const { total, held, available } = entity;
  if (op.action === 'take') {
    switch (type) {
      case 'reserve':
        return { ...entity, held: held + a, available: available - a };
      case 'apply':
        return { ...entity, total: total - a, held: held - a };
      case 'release':
        return { ...entity, held: held - a, available: available + a };
    }
  }
  return type === 'apply' ? { ...entity, total: total + a, available: available + a } : entity;
}

import { MemoryParticipantStore, type NoteTarget } from '../shared/adapters/memory-participant-store';
import type { EntityRecord } from '../shared/entities';
import type {
  CounterSpec,
  ParticipantAction,
  ParticipantBarrier,
  ReservedOp,
  WriteOutcome,
} from '../shared/participant';

/**
 * A participant table of the simulation: the memory adapter, which also notes the entities it
 * changed since the checker last took them, and keeps the sum of every entity's total. An entity
 * changes only through `seed` (also the one-phase path's applyDirect) and `write`, so the checker
 * can check the entities that changed instead of rescanning the table after every write, and the
 * ledger's sum without adding it up again.
 */
export class CheckedParticipantStore extends MemoryParticipantStore {
  /** Entities changed since the last `takeChanged`. */
  private readonly changed = new Set<string>();
  /** Each entity's place in the table's order (its first seed), to report in the order a scan would. */
  private readonly place = new Map<string, number>();
  /** The sum of every entity's total. */
  private sum = 0;

  /** An empty table (entities come by `seed`, once this object's own fields exist). */
  constructor(counter: Pick<CounterSpec, 'entity' | 'quantity'>, notes?: NoteTarget) {
    super(counter, [], notes);
  }

  /** The sum of every entity's `total`, as a scan of the table would add it up. */
  get totalSum(): number {
    return this.sum;
  }

  override seed(entity: EntityRecord): void {
    const before = this.entity(entity.id)?.total ?? 0;
    super.seed(entity);
    this.sum += entity.total - before;
    if (!this.place.has(entity.id)) this.place.set(entity.id, this.place.size);
    this.changed.add(entity.id);
  }

  override write(
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
  ): Promise<WriteOutcome> {
    const ids =
      action.type === 'none' ? [] : (action.reservation as readonly ReservedOp[]).map((op) => op.id);
    const before = ids.map((id) => this.entity(id)?.total ?? 0);
    // The memory adapter does all its work before it returns (it never awaits): the table has changed.
    const outcome = super.write(prev, next, action);
    ids.forEach((id, index) => {
      this.sum += (this.entity(id)?.total ?? 0) - before[index]!;
      this.changed.add(id);
    });
    return outcome;
  }

  /** The entities changed since the last call, with `also` (ids the caller adds), in table order. */
  takeChanged(also: Iterable<string> = []): string[] {
    for (const id of also) this.changed.add(id);
    const ids = [...this.changed].filter((id) => this.place.has(id));
    this.changed.clear();
    return ids.sort((a, b) => this.place.get(a)! - this.place.get(b)!);
  }
}

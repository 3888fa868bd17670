import { FenceLostError, VersionConflictError } from '../errors';
import type { DueTx, Fence, StoredTx, TxStore } from '../ports';
import { applyNote, type RecordNote } from '../protocol';
import type { NoteTarget } from './memory-participant-store';

/** Decides whether a write's fence still holds (the slot's owner and epoch are still `fence`). */
export type FenceCheck = (fence: Fence) => boolean;

/**
 * TxStore in memory: for unit tests and the deterministic simulation. Behaves like the DynamoDB
 * adapter: conditional create, consistent reads, `save` conditioned on the version and on the
 * fence (fence failure wins when both fail; nothing is half-applied), `due` ordered by next check
 * time as the `due` index is. Records are copied in and out, so callers cannot alias stored state.
 *
 * The fence check is synchronous on purpose: it runs in the same turn as the version check and
 * the write, which is what makes the three one atomic step, like a TransactWriteItems.
 */
export class MemoryTxStore implements TxStore, NoteTarget {
  private readonly items = new Map<string, StoredTx>();

  /** `fenceHolds` defaults to accepting every fence (for callers that never save, like the API). */
  constructor(private readonly fenceHolds: FenceCheck = () => true) {}

  async create(tx: StoredTx): Promise<{ created: true } | { created: false; existing: StoredTx }> {
    const existing = this.items.get(tx.record.txId);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.items.set(tx.record.txId, structuredClone(tx));
    return { created: true };
  }

  async load(txId: string): Promise<StoredTx | undefined> {
    const found = this.items.get(txId);
    return found ? structuredClone(found) : undefined;
  }

  async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const { txId } = next.record;
    if (!this.fenceHolds(fence)) throw new FenceLostError(fence);
    if (this.items.get(txId)?.record.version !== expectedVersion) {
      throw new VersionConflictError(txId, expectedVersion);
    }
    this.items.set(txId, structuredClone(next));
  }

  async due(slot: number, nowMs: number, limit: number): Promise<DueTx[]> {
    const due: DueTx[] = [];
    for (const { record } of this.items.values()) {
      const at = record.nextCheckAtMs;
      if (record.slot === slot && at !== null && at <= nowMs)
        due.push({ txId: record.txId, nextCheckAtMs: at });
    }
    due.sort((a, b) => a.nextCheckAtMs - b.nextCheckAtMs || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0));
    return due.slice(0, Math.max(0, limit));
  }

  /** A participant's note (see RecordNote), checked now and applied when the returned function runs. */
  planNote(note: RecordNote): (() => void) | null {
    const found = this.items.get(note.txId);
    const noted = found ? applyNote(found.record, note) : null;
    if (!found || noted === null) return null;
    return () => {
      this.items.set(note.txId, { ...found, record: structuredClone(noted) });
    };
  }

  /** True when a record with this id exists (synchronous, for atomic compound steps in tests). */
  has(txId: string): boolean {
    return this.items.has(txId);
  }

  /** Every stored transaction, ordered by txId, for assertions. */
  all(): StoredTx[] {
    return [...this.items.values()]
      .map((tx) => structuredClone(tx))
      .sort((a, b) => (a.record.txId < b.record.txId ? -1 : a.record.txId > b.record.txId ? 1 : 0));
  }
}

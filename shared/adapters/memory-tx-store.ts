import { FenceLostError, VersionConflictError } from '../errors';
import {
  type DueReport,
  type DueTx,
  type Fence,
  mostOverdueFirst,
  type StoredTx,
  type TxStore,
} from '../ports';
import { applyNote, type RecordNote, type TxRecord } from '../protocol';
import { recordKeyOf } from '../txid';
import type { NoteTarget } from './memory-participant-store';

/** Decides whether a write's fence still holds (the slot's owner and epoch are still `fence`). */
export type FenceCheck = (fence: Fence) => boolean;

/**
 * TxStore in memory: for unit tests and the deterministic simulation. Behaves like the DynamoDB
 * adapter: records at their record keys (shared/txid.ts), conditional create, consistent reads,
 * `save` conditioned on the same transaction at the version and on the fence (fence failure wins
 * when both fail; nothing is half-applied), `due` most overdue first. Records are copied in and
 * out, so callers cannot alias stored state.
 *
 * The fence check is synchronous on purpose: it runs in the same turn as the version check and
 * the write, which is what makes the three one atomic step, like a TransactWriteItems.
 */
export class MemoryTxStore implements TxStore, NoteTarget {
  private readonly items = new Map<string, StoredTx>();

  /**
   * `fenceHolds` defaults to accepting every fence (for callers that never save, like the API).
   * `versionCheck: false` is for the simulation's teeth only: `save` then ignores the version.
   */
  constructor(
    private readonly fenceHolds: FenceCheck = () => true,
    private readonly options: { readonly versionCheck: boolean } = { versionCheck: true },
  ) {}

  async create(tx: StoredTx): Promise<{ created: true } | { created: false; existing: StoredTx }> {
    const key = recordKeyOf(tx.record.txId);
    const existing = this.items.get(key);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.items.set(key, structuredClone(tx));
    return { created: true };
  }

  async load(txId: string): Promise<StoredTx | undefined> {
    const found = this.items.get(recordKeyOf(txId));
    return found?.record.txId === txId ? structuredClone(found) : undefined;
  }

  async loadAt(recordKey: string): Promise<StoredTx | undefined> {
    const found = this.items.get(recordKey);
    return found ? structuredClone(found) : undefined;
  }

  async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const { txId } = next.record;
    if (!this.fenceHolds(fence)) throw new FenceLostError(fence);
    const stored = this.items.get(recordKeyOf(txId))?.record;
    if (stored?.txId !== txId || (this.options.versionCheck && stored.version !== expectedVersion)) {
      throw new VersionConflictError(txId, expectedVersion);
    }
    this.items.set(recordKeyOf(txId), structuredClone(next));
  }

  async due(nowMs: number, limit: number): Promise<DueReport> {
    const due: DueTx[] = [];
    let live = 0;
    for (const [recordKey, { record }] of this.items) {
      const at = record.nextCheckAtMs;
      if (at === null) continue;
      live++;
      if (at <= nowMs) due.push({ recordKey, slot: record.slot, nextCheckAtMs: at });
    }
    return { due: mostOverdueFirst(due).slice(0, Math.max(0, limit)), live };
  }

  /** A participant's note (see RecordNote): applied if its condition holds; the record it left. */
  note(note: RecordNote): TxRecord | null {
    const key = recordKeyOf(note.txId);
    const found = this.items.get(key);
    const noted = found ? applyNote(found.record, note) : null;
    if (!found || noted === null) return null;
    this.items.set(key, { ...found, record: structuredClone(noted) });
    return structuredClone(noted);
  }

  /** A participant ends a record (endOf): written if the record is still at the version before it. */
  end(ended: TxRecord): boolean {
    const key = recordKeyOf(ended.txId);
    const found = this.items.get(key);
    if (found?.record.txId !== ended.txId || found.record.version !== ended.version - 1) return false;
    this.items.set(key, { ...found, record: structuredClone(ended) });
    return true;
  }

  /** True when a record is stored at the key of `txId` (synchronous, for atomic compound steps). */
  has(txId: string): boolean {
    return this.items.has(recordKeyOf(txId));
  }

  /** Deletes the record at `recordKey`, as DynamoDB's TTL does once a terminal record expires. */
  expire(recordKey: string): void {
    this.items.delete(recordKey);
  }

  /** Every stored transaction, ordered by txId, for assertions. */
  all(): StoredTx[] {
    return [...this.items.values()]
      .map((tx) => structuredClone(tx))
      .sort((a, b) => (a.record.txId < b.record.txId ? -1 : a.record.txId > b.record.txId ? 1 : 0));
  }
}

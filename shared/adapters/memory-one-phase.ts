import type { ParticipantKind } from '../participant';
import { rejectionReason } from '../participant';
import type { OnePhaseCommitter, OnePhaseResult, StoredTx } from '../ports';
import type { TxParticipant } from '../protocol';
import { applyDirect, type MemoryParticipantStore, refusedDirect } from './memory-participant-store';
import type { MemoryTxStore } from './memory-tx-store';

/**
 * The one-phase fast path in memory, with DynamoOnePhaseCommitter's semantics: the record is
 * created and every operation applied in one synchronous step — or nothing happens: the txId
 * exists (`exists`), an entity does not (`unknown-entity`, which wins over a refusal), or a
 * condition refused an operation (`refused`, the first one). For unit tests and the simulation.
 */
export class MemoryOnePhaseCommitter implements OnePhaseCommitter {
  constructor(
    private readonly txs: MemoryTxStore,
    private readonly participants: ReadonlyMap<
      string,
      { readonly store: MemoryParticipantStore; readonly kind: ParticipantKind }
    >,
  ) {}

  covers(participants: readonly TxParticipant[]): boolean {
    return participants.every((p) => this.participants.get(p.id)?.kind.kind === p.kind);
  }

  async commit(tx: StoredTx): Promise<OnePhaseResult> {
    // No await before the writes below: the check and the writes are one atomic step.
    if (this.txs.has(tx.record.txId)) return { kind: 'exists' };
    const plan = tx.record.participants.map((p) => {
      const direct = this.participants.get(p.id);
      if (!direct) throw new Error(`participant ${p.id} is not written directly`);
      return { id: p.id, direct, ops: direct.kind.parseOperations(p.operations) };
    });
    let refused: OnePhaseResult | undefined;
    for (const { id, direct, ops } of plan) {
      for (const { op, entity } of refusedDirect(direct.store, ops)) {
        if (entity === undefined) return { kind: 'unknown-entity' };
        refused ??= {
          kind: 'refused',
          participantId: id,
          reason: rejectionReason(direct.kind.entityKind, op, entity),
        };
      }
    }
    if (refused) return refused;
    for (const { direct, ops } of plan) applyDirect(direct.store, ops);
    void this.txs.create(tx); // synchronous in memory; its answer is known: created
    return { kind: 'committed' };
  }
}

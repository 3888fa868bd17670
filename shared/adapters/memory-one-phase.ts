import { type ParticipantKind, type ReservedOp, rejectionReason } from '../participant';
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
    return participants.every((p) => {
      const direct = this.participants.get(p.id);
      return direct?.kind.kind === p.kind && direct.kind.definition.counter !== undefined;
    });
  }

  async commit(tx: StoredTx): Promise<OnePhaseResult> {
    // No await before the writes below: the check and the writes are one atomic step.
    if (this.txs.has(tx.record.txId)) return { kind: 'exists' };
    const plan = tx.record.participants.map((p) => {
      const direct = this.participants.get(p.id);
      if (!direct) throw new Error(`participant ${p.id} is not written directly`);
      // A counter's schema parses its operations into take/give entity operations.
      return { id: p.id, direct, ops: direct.kind.parseOperations(p.operations) as readonly ReservedOp[] };
    });
    let refused: OnePhaseResult | undefined;
    for (const { id, direct, ops } of plan) {
      for (const { op, entity } of refusedDirect(direct.store, ops)) {
        if (entity === undefined) return { kind: 'unknown-entity' };
        refused ??= {
          kind: 'refused',
          participantId: id,
          reason: rejectionReason(direct.store.counter, op, entity),
        };
      }
    }
    if (refused) return refused;
    for (const { direct, ops } of plan) applyDirect(direct.store, ops);
    void this.txs.create(tx); // synchronous in memory; its answer is known: created
    return { kind: 'committed' };
  }
}

import { describe, expect, it } from 'vitest';
import { MemoryOnePhaseCommitter } from '../../../shared/adapters/memory-one-phase';
import { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { LEDGER } from '../../../shared/bank-and-shop';
import { newEntity } from '../../../shared/entities';
import { LEDGER_COUNTER } from '../../../shared/ledger/participant';
import { onePhaseRecord, type TxParticipant } from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 100, resendCapMs: 1_600 };

function world() {
  const txs = new MemoryTxStore();
  const shard0 = new MemoryParticipantStore(LEDGER_COUNTER, [newEntity('alice', 100, 0)]);
  const shard1 = new MemoryParticipantStore(LEDGER_COUNTER, [newEntity('bob', 0, 0)]);
  const committer = new MemoryOnePhaseCommitter(
    txs,
    new Map([
      ['ledger-0', { store: shard0, kind: LEDGER }],
      ['ledger-1', { store: shard1, kind: LEDGER }],
    ]),
  );
  const tx = (txId: string, amount: number, to = 'bob') => {
    const participants: TxParticipant[] = [
      { id: 'ledger-0', kind: 'ledger', operations: [{ action: 'debit', accountId: 'alice', amount }] },
      { id: 'ledger-1', kind: 'ledger', operations: [{ action: 'credit', accountId: to, amount }] },
    ];
    return {
      record: onePhaseRecord({ txId, slot: 0, participants }, 1_000, config, { decision: 'COMMIT' }),
      requestHash: 'h',
    };
  };
  return { txs, shard0, shard1, committer, tx };
}

describe('MemoryOnePhaseCommitter', () => {
  it('writes the record and applies every operation at once, and only once', async () => {
    const { txs, shard0, shard1, committer, tx } = world();
    expect(await committer.commit(tx('tx_1', 30))).toEqual({ kind: 'committed' });
    expect(await committer.commit(tx('tx_1', 30))).toEqual({ kind: 'exists' });
    expect(txs.has('tx_1')).toBe(true);
    expect(shard0.entity('alice')).toMatchObject({ total: 70, available: 70, held: 0 });
    expect(shard1.entity('bob')).toMatchObject({ total: 30, available: 30 });
  });

  it('writes nothing when a condition refuses, and reports an unknown entity before a refusal', async () => {
    const { txs, shard0, committer, tx } = world();
    expect(await committer.commit(tx('tx_2', 500))).toMatchObject({
      kind: 'refused',
      participantId: 'ledger-0',
    });
    expect(await committer.commit(tx('tx_3', 500, 'ghost'))).toEqual({ kind: 'unknown-entity' });
    expect(txs.all()).toEqual([]);
    expect(shard0.entity('alice')).toMatchObject({ total: 100, available: 100 });
    expect(committer.covers([{ id: 'inventory', kind: 'inventory', operations: [] }])).toBe(false);
  });
});

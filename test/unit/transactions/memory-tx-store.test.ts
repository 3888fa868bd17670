import { describe, expect, it } from 'vitest';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { FenceLostError, VersionConflictError } from '../../../shared/errors';
import type { Fence, StoredTx } from '../../../shared/ports';
import { coordinatorStep, newTransaction } from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 100, resendCapMs: 1_600 };
const participants = [
  { id: 'ledger-0', kind: 'ledger', operations: [{ id: 'a', action: 'take', amount: 1 }] },
];
const fence: Fence = { slot: 3, owner: 'me', epoch: 2 };

function tx(txId: string, slot = 3, nowMs = 1_000): StoredTx {
  return { record: newTransaction({ txId, slot, participants }, nowMs, config), requestHash: `hash-${txId}` };
}

/** The record after its first check re-sent Prepare, one version on. */
function begun(stored: StoredTx, nowMs = 1_100): StoredTx {
  return {
    ...stored,
    record: coordinatorStep(stored.record, { type: 'Check', txId: stored.record.txId }, nowMs, config).state,
  };
}

describe('MemoryTxStore', () => {
  it('creates once and returns the existing transaction on a second create', async () => {
    const store = new MemoryTxStore();
    expect(await store.create(tx('t1'))).toEqual({ created: true });
    const second = await store.create({ ...tx('t1'), requestHash: 'other' });
    expect(second).toEqual({ created: false, existing: tx('t1') });
    expect(await store.load('t1')).toEqual(tx('t1'));
    expect(await store.load('t2')).toBeUndefined();
  });

  it('copies records in and out', async () => {
    const store = new MemoryTxStore();
    const original = tx('t1');
    await store.create(original);
    const loaded = (await store.load('t1')) as { record: { state: string } };
    loaded.record.state = 'COMMITTED';
    (original.record as { state: string }).state = 'ABORTED';
    expect((await store.load('t1'))?.record.state).toBe('PREPARING');
  });

  it('saves a change conditioned on the version it read', async () => {
    const store = new MemoryTxStore();
    await store.create(tx('t1'));
    const next = begun(tx('t1'));
    await store.save(next, 1, fence);
    expect(await store.load('t1')).toEqual(next);
    // A second writer that also read version 1 loses.
    await expect(store.save(next, 1, fence)).rejects.toThrow(VersionConflictError);
    await expect(store.save(begun(tx('nope')), 1, fence)).rejects.toThrow(VersionConflictError);
  });

  it('refuses a write whose fence no longer holds, even when the version is also stale', async () => {
    const current: Fence[] = [fence];
    const store = new MemoryTxStore((f) =>
      current.some((c) => c.slot === f.slot && c.owner === f.owner && c.epoch === f.epoch),
    );
    await store.create(tx('t1'));
    const stale = { ...fence, epoch: 1 };
    await expect(store.save(begun(tx('t1')), 1, stale)).rejects.toThrow(FenceLostError);
    await expect(store.save(begun(tx('t1')), 7, stale)).rejects.toThrow(FenceLostError);
    expect((await store.load('t1'))?.record.version).toBe(1);
    await store.save(begun(tx('t1')), 1, fence);
    expect((await store.load('t1'))?.record.version).toBe(2);
  });

  it('lists due transactions of every slot, most overdue first, up to the limit', async () => {
    const store = new MemoryTxStore();
    await store.create(tx('late', 3, 2_000)); // next check 2_100
    await store.create(tx('early', 3, 1_000)); // next check 1_100
    await store.create(tx('other-slot', 4, 1_000));
    await store.create(tx('future', 3, 9_000));
    expect(await store.due(2_100, 10)).toEqual({
      due: [
        { recordKey: 'early', slot: 3, nextCheckAtMs: 1_100 },
        { recordKey: 'other-slot', slot: 4, nextCheckAtMs: 1_100 },
        { recordKey: 'late', slot: 3, nextCheckAtMs: 2_100 },
      ],
      live: 4,
    });
    expect((await store.due(2_100, 1)).due).toEqual([{ recordKey: 'early', slot: 3, nextCheckAtMs: 1_100 }]);
    expect(await store.due(1_099, 10)).toEqual({ due: [], live: 4 });
  });

  it('keeps a record at its record key: one transaction per key, the exact id to load it', async () => {
    const store = new MemoryTxStore();
    const first = tx('tx_key.aaaaaaaa');
    expect(await store.create(first)).toEqual({ created: true });
    expect(await store.create(tx('tx_key.bbbbbbbb'))).toMatchObject({ created: false, existing: first });
    expect((await store.load('tx_key.aaaaaaaa'))?.record.txId).toBe('tx_key.aaaaaaaa');
    expect(await store.load('tx_key.bbbbbbbb')).toBeUndefined();
    expect(await store.load('tx_key')).toBeUndefined();
    expect((await store.loadAt('tx_key'))?.record.txId).toBe('tx_key.aaaaaaaa');
    // The TTL frees the key; a later transaction there is another one, under another id.
    store.expire('tx_key');
    expect(await store.create(tx('tx_key.bbbbbbbb'))).toEqual({ created: true });
    expect(await store.load('tx_key.aaaaaaaa')).toBeUndefined();
    await expect(store.save(begun(tx('tx_key.aaaaaaaa')), 1, fence)).rejects.toThrow(VersionConflictError);
  });

  it('leaves terminal records out of due', async () => {
    const store = new MemoryTxStore();
    await store.create(tx('t1'));
    let stored = (await store.load('t1')) as StoredTx;
    for (const input of [
      { type: 'Vote', txId: 't1', participantId: 'ledger-0', vote: 'YES' },
      { type: 'Ack', txId: 't1', participantId: 'ledger-0', outcome: 'COMMITTED' },
    ] as const) {
      const next = { ...stored, record: coordinatorStep(stored.record, input, 1_010, config).state };
      await store.save(next, stored.record.version, fence);
      stored = next;
    }
    expect(stored.record.state).toBe('COMMITTED');
    expect(await store.due(Number.MAX_SAFE_INTEGER, 10)).toEqual({ due: [], live: 0 });
  });
});

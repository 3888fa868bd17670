import { beforeEach, describe, expect, it } from 'vitest';
import { MemorySlotStore } from '../../../shared/adapters/memory-slots';
import { BatchLostError, LeaseBusyError, LeaseManager } from '../../../shared/coordinator/leases';
import type { SlotStore } from '../../../shared/ports';

const config = { leaseDurationMs: 10_000, skewMarginMs: 1_000 };

/** Counts the requests a manager makes, to check that cached leases cost nothing. */
class CountingStore implements SlotStore {
  reads = 0;
  writes = 0;
  constructor(readonly inner: MemorySlotStore) {}
  read(slot: number) {
    this.reads++;
    return this.inner.read(slot);
  }
  write(...args: Parameters<SlotStore['write']>) {
    this.writes++;
    return this.inner.write(...args);
  }
}

describe('LeaseManager', () => {
  let now: number;
  let slots: MemorySlotStore;
  let store: CountingStore;
  const clock = { nowMs: () => now };

  beforeEach(() => {
    now = 50_000;
    slots = new MemorySlotStore();
    store = new CountingStore(slots);
  });

  it('acquires a free slot at epoch 1 and then serves the fence from its cache', async () => {
    const leases = new LeaseManager(store, 'a', clock, config);
    expect(await leases.fence(3)).toEqual({ slot: 3, owner: 'a', epoch: 1 });
    now += 4_000; // more than half the lease left: no request
    expect(await leases.fence(3)).toEqual({ slot: 3, owner: 'a', epoch: 1 });
    expect([store.reads, store.writes]).toEqual([1, 1]);
  });

  it('renews without reading once less than half the lease is left, keeping the epoch', async () => {
    const leases = new LeaseManager(store, 'a', clock, config);
    await leases.fence(3);
    now += 6_000;
    expect(await leases.fence(3)).toEqual({ slot: 3, owner: 'a', epoch: 1 });
    expect([store.reads, store.writes]).toEqual([1, 2]);
    expect((await slots.read(3))?.leaseExpiresAtMs).toBe(now + config.leaseDurationMs);
  });

  it('hands a live lease off to a FIFO consumer with a new epoch, fencing the previous holder', async () => {
    const a = new LeaseManager(slots, 'a', clock, config);
    const b = new LeaseManager(slots, 'b', clock, config);
    const fenceA = await a.fence(1);
    const fenceB = await b.fence(1);
    expect(fenceB).toEqual({ slot: 1, owner: 'b', epoch: 2 });
    expect(slots.fenceHolds(fenceA)).toBe(false);
    expect(slots.fenceHolds(fenceB)).toBe(true);
  });

  it('changes the owner only while the batch is held; renewing needs no hold', async () => {
    const a = new LeaseManager(slots, 'a', clock, config);
    const b = new LeaseManager(slots, 'b', clock, config);
    await a.fence(1, { heldUntilMs: now + 1 });

    await expect(b.fence(1, { heldUntilMs: now })).rejects.toBeInstanceOf(BatchLostError);
    expect(await slots.read(1)).toMatchObject({ owner: 'a', epoch: 1 });
    now += 6_000; // a's lease wants renewing; its batch hold is long over
    expect(await a.fence(1, { heldUntilMs: 0 })).toEqual({ slot: 1, owner: 'a', epoch: 1 });
    expect(await b.fence(1, { heldUntilMs: now + 1 })).toEqual({ slot: 1, owner: 'b', epoch: 2 });
  });

  it('waits for expiry plus the skew margin when handoff is off', async () => {
    const a = new LeaseManager(slots, 'a', clock, config);
    const b = new LeaseManager(slots, 'b', clock, config, { handoff: false });
    await a.fence(1);
    await expect(b.fence(1)).rejects.toBeInstanceOf(LeaseBusyError);
    now += config.leaseDurationMs + config.skewMarginMs - 1;
    await expect(b.fence(1)).rejects.toBeInstanceOf(LeaseBusyError);
    now += 1;
    expect(await b.fence(1)).toEqual({ slot: 1, owner: 'b', epoch: 2 });
  });

  it('stops trusting its cache near expiry, re-reads, and learns a takeover happened', async () => {
    const a = new LeaseManager(slots, 'a', clock, config, { handoff: false });
    await a.fence(1);
    now += config.leaseDurationMs + config.skewMarginMs; // A was paused past its lease
    await new LeaseManager(slots, 'b', clock, config, { handoff: false }).fence(1);
    await expect(a.fence(1)).rejects.toMatchObject({ name: 'LeaseBusyError', holder: 'b' });
  });

  it('re-plans when a racing writer wins, and gives up after a bounded number of attempts', async () => {
    const losing: SlotStore = { read: (slot) => slots.read(slot), write: async () => false };
    const leases = new LeaseManager(losing, 'a', clock, config, { handoff: true, maxAttempts: 3 });
    await expect(leases.fence(0)).rejects.toThrow(/after 3 attempts/);
  });
});

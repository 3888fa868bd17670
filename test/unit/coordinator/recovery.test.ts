import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import type { Timer } from '../../../shared/coordinator/messages';
import { type CheckForwarder, handleTimer, sweep } from '../../../shared/coordinator/recovery';
import { type CoordinatorConfig, newTransaction, type TxRecord } from '../../../shared/protocol';

const config: CoordinatorConfig = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };

class RecordingForwarder implements CheckForwarder {
  forwarded: Array<[string, number, number]> = [];
  rearmed: Timer[] = [];
  async forwardCheck(txId: string, slot: number, dueAtMs: number) {
    this.forwarded.push([txId, slot, dueAtMs]);
  }
  async rearm(timer: Timer) {
    this.rearmed.push(timer);
  }
}

describe('timers and the sweeper', () => {
  let now: number;
  let txs: MemoryTxStore;
  let forwarder: RecordingForwarder;
  const clock = { nowMs: () => now };

  async function put(txId: string, slot: number, patch: Partial<TxRecord> = {}) {
    const record = newTransaction(
      { txId, slot, participants: [{ id: 'p', kind: 'k', operations: [] }] },
      0,
      config,
    );
    await txs.create({ record: { ...record, ...patch }, requestHash: 'h' });
  }

  beforeEach(() => {
    now = 5_000;
    txs = new MemoryTxStore();
    forwarder = new RecordingForwarder();
  });

  it('forwards a due timer as a Check in the slot of its transaction', async () => {
    await put('t1', 3, { nextCheckAtMs: 4_000 });
    const result = await handleTimer(
      { type: 'Timer', txId: 't1', slot: 3, atMs: 4_000 },
      { txs, clock, forwarder },
    );
    expect(result).toBe('forwarded');
    expect(forwarder.forwarded).toEqual([['t1', 3, 4_000]]);
  });

  it('drops a timer whose transaction is terminal, unknown or has moved its check on', async () => {
    await put('done', 0, { state: 'COMMITTED', nextCheckAtMs: null });
    await put('moved', 0, { nextCheckAtMs: 9_000 });
    for (const txId of ['done', 'moved', 'unknown']) {
      expect(
        await handleTimer({ type: 'Timer', txId, slot: 0, atMs: 4_000 }, { txs, clock, forwarder }),
      ).toBe('dropped');
    }
    expect(forwarder.forwarded).toEqual([]);
  });

  it('re-arms a timer that fired before its time (delays beyond 15 minutes)', async () => {
    const timer: Timer = { type: 'Timer', txId: 't1', slot: 0, atMs: now + 3_600_000 };
    expect(await handleTimer(timer, { txs, clock, forwarder })).toBe('rearmed');
    expect(forwarder.rearmed).toEqual([timer]);
  });

  it('sweeps every slot and forwards each due transaction once, leaving the rest', async () => {
    await put('due-a', 0, { nextCheckAtMs: 1_000 });
    await put('due-b', 2, { nextCheckAtMs: 5_000 });
    await put('later', 2, { nextCheckAtMs: 5_001 });
    await put('terminal', 1, { state: 'ABORTED', nextCheckAtMs: null });
    const report = await sweep({ txs, clock, forwarder, limit: 10, concurrency: 2 });
    expect(report).toEqual({ live: 3, checksForwarded: 2, oldestOverdueMs: 4_000 });
    expect(forwarder.forwarded.sort()).toEqual([
      ['due-a', 0, 1_000],
      ['due-b', 2, 5_000],
    ]);
  });

  it('drives records in every slot they hold, also beyond a slot count that went down (regression)', async () => {
    // Before: the sweeper queried slots 0..slotCount-1, so after a redeploy from 64 slots to 4, a
    // record in slot 37 was never checked again and kept its holds forever.
    await put('kept-its-slot', 37, { nextCheckAtMs: 1_000 });
    const report = await sweep({ txs, clock, forwarder, limit: 10, concurrency: 1 });
    expect(report.checksForwarded).toBe(1);
    expect(forwarder.forwarded).toEqual([['kept-its-slot', 37, 1_000]]);
  });

  it('bounds the work per sweep, the most overdue first', async () => {
    for (let i = 0; i < 5; i++) await put(`t${i}`, i % 2, { nextCheckAtMs: 1_005 - i });
    const report = await sweep({ txs, clock, forwarder, limit: 3, concurrency: 1 });
    expect(report.checksForwarded).toBe(3);
    expect(forwarder.forwarded.map(([id]) => id)).toEqual(['t4', 't3', 't2']);
  });
});

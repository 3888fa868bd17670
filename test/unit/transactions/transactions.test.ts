import { describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import type { CoordinatorTransport } from '../../../shared/coordinator/effects';
import { noteOf } from '../../../shared/protocol';
import { Transactions, toTransactionView } from '../../../shared/transactions';

/** Prepares and timers go nowhere: these tests watch the record. */
const SILENT: CoordinatorTransport = { toParticipant: async () => {}, scheduleCheck: async () => {} };

const config = {
  registry: bankAndShopRegistry(2),
  slotCount: 8,
  coordinator: { prepareTimeoutMs: 10_000, resendBaseMs: 100, resendCapMs: 1_600 },
};

class CountingStore extends MemoryTxStore {
  loads = 0;
  override async load(txId: string) {
    this.loads++;
    return super.load(txId);
  }
}

function setup(sleep: (ms: number) => Promise<void>) {
  const counting = new CountingStore();
  const transactions = new Transactions(
    {
      store: counting,
      transport: SILENT,
      directory: { missing: async () => [] },
      clock: { nowMs: () => 5_000 },
      sleep,
      newTxId: () => 'tx_fixed',
    },
    config,
  );
  return { transactions, loads: () => counting.loads };
}

const transfer = [
  { participant: 'ledger', action: 'debit', accountId: 'a', amount: 1 },
  { participant: 'ledger', action: 'credit', accountId: 'b', amount: 1 },
] as const;

describe('Transactions', () => {
  it('bounds a wait by the sum of its poll intervals even when the clock stands still', async () => {
    const sleeps: number[] = [];
    const { transactions, loads } = setup(async (ms) => {
      sleeps.push(ms);
    });
    const { record } = await transactions.submit({ operations: transfer, waitMs: 1_000 });
    expect(record.state).toBe('PREPARING');
    // Ten reads 20 ms apart, then doubling to 200 ms, until the sleeps add up to the wait; each a
    // sleep and a consistent read.
    expect(sleeps).toEqual([...Array(10).fill(20), 40, 80, 160, 200, 200, 200]);
    expect(loads()).toBe(16);
  });

  it('does not sleep without a wait', async () => {
    const sleeps: number[] = [];
    const { transactions } = setup(async (ms) => {
      sleeps.push(ms);
    });
    await transactions.submit({ operations: transfer });
    expect((await transactions.get('tx_fixed')).txId).toBe('tx_fixed');
    expect(sleeps).toEqual([]);
  });

  it('refuses a poll interval that is not a positive integer', () => {
    const deps = {
      store: new MemoryTxStore(),
      transport: SILENT,
      directory: { missing: async () => [] },
      clock: { nowMs: () => 0 },
      sleep: async () => {},
    };
    expect(() => new Transactions(deps, { ...config, pollIntervalMs: 0 })).toThrow(RangeError);
    expect(() => new Transactions(deps, { ...config, pollIntervalMs: 1.5 })).toThrow(RangeError);
  });
});

describe('Transactions.onCreated', () => {
  it('fires once per created transaction, not for a replay with the same key', async () => {
    const created: string[] = [];
    const transactions = new Transactions(
      {
        store: new MemoryTxStore(),
        transport: SILENT,
        directory: { missing: async () => [] },
        clock: { nowMs: () => 5_000 },
        sleep: async () => {},
        onCreated: (record) => created.push(record.txId),
      },
      config,
    );
    const first = await transactions.submit({ operations: transfer, idempotencyKey: 'k1' });
    await transactions.submit({ operations: transfer, idempotencyKey: 'k1' });
    await transactions.submit({ operations: transfer, idempotencyKey: 'k2' });
    expect(created).toHaveLength(2);
    expect(created[0]).toBe(first.record.txId);
  });
});

describe('the outcome', () => {
  it('is shown, final, from the decision on; a wait still holds until every participant applied it', async () => {
    const store = new MemoryTxStore();
    const sleeps: number[] = [];
    const transactions = new Transactions(
      {
        store,
        transport: SILENT,
        directory: { missing: async () => [] },
        clock: { nowMs: () => 5_000 },
        sleep: async (ms) => void sleeps.push(ms),
        newTxId: () => 'tx_decided',
      },
      config,
    );
    const { record } = await transactions.submit({ operations: transfer });
    const fence = { slot: record.slot, owner: 'test', epoch: 1 };
    await store.save({ record: { ...record, state: 'COMMITTING', version: 2 }, requestHash: 'h' }, 1, fence);

    const decided = await transactions.get('tx_decided', 300);
    expect(decided.state).toBe('COMMITTING');
    expect(sleeps).toEqual([...Array(10).fill(20), 40, 80]);
    expect(toTransactionView(decided)).toMatchObject({ state: 'COMMITTING', outcome: 'COMMITTED' });
    expect(toTransactionView(record)).not.toHaveProperty('outcome');
  });

  it('is settled once every participant noted its ack: a wait ends without the coordinator’s last step', async () => {
    const store = new MemoryTxStore();
    const sleeps: number[] = [];
    let acksLand = () => {};
    const transactions = new Transactions(
      {
        store,
        transport: SILENT,
        directory: { missing: async () => [] },
        clock: { nowMs: () => 5_000 },
        sleep: async (ms) => {
          sleeps.push(ms);
          acksLand();
        },
        newTxId: () => 'tx_acked',
      },
      config,
    );
    const { record } = await transactions.submit({ operations: transfer, commit: 'two-phase' });
    const fence = { slot: record.slot, owner: 'test', epoch: 1 };
    await store.save({ record: { ...record, state: 'COMMITTING', version: 2 }, requestHash: 'h' }, 1, fence);
    // The participants' commit writes land during the first poll interval.
    acksLand = () => {
      acksLand = () => {};
      for (const [index, participant] of record.participants.entries()) {
        const reply = {
          type: 'Ack',
          txId: 'tx_acked',
          participantId: participant.id,
          outcome: 'COMMITTED',
        } as const;
        store.note(noteOf(reply, 6_000 + index));
      }
    };

    const settled = await transactions.get('tx_acked', 300);
    expect(settled.state).toBe('COMMITTING'); // as stored: the coordinator has not ended it yet
    expect(sleeps).toEqual([20]);
    expect(toTransactionView(settled)).toMatchObject({
      state: 'COMMITTED',
      outcome: 'COMMITTED',
      completedAtMs: 6_000 + record.participants.length - 1,
    });
  });
});

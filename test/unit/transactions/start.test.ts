import { describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import type { CoordinatorTransport } from '../../../shared/coordinator/effects';
import { timelineOf } from '../../../shared/protocol';
import { Transactions } from '../../../shared/transactions';

const config = {
  registry: bankAndShopRegistry(2),
  slotCount: 8,
  coordinator: { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 },
};
const T0 = 5_000;

// a (shard 0) and b (shard 1): a two-participant transaction.
const transfer = [
  { participant: 'ledger', action: 'debit', accountId: 'a', amount: 5 },
  { participant: 'ledger', action: 'credit', accountId: 'b', amount: 5 },
] as const;

/**
 * The API starting a two-phase transaction itself, with a clock that the wait's sleeps advance and
 * an optional decision written behind its back at `decideAtMs`.
 */
function setup(decideAtMs?: number) {
  const store = new MemoryTxStore();
  let now = T0;
  const sent: string[] = [];
  const timers: number[] = [];
  const transport: CoordinatorTransport = {
    toParticipant: async (participant, message) => void sent.push(`${message.type}->${participant.id}`),
    scheduleCheck: async (_txId, _slot, atMs) => void timers.push(atMs),
  };
  const transactions = new Transactions(
    {
      store,
      directory: { missing: async () => [] },
      clock: { nowMs: () => now },
      sleep: async (ms) => {
        now += ms;
        const stored = store.all()[0];
        if (decideAtMs !== undefined && now >= decideAtMs && stored?.record.state === 'PREPARING') {
          const { record } = stored;
          const fence = { slot: record.slot, owner: 'c', epoch: 1 };
          await store.save(
            { ...stored, record: { ...record, state: 'COMMITTED', version: record.version + 1 } },
            record.version,
            fence,
          );
        }
      },
      newTxId: () => 'tx_lean',
      transport,
    },
    config,
  );
  return { store, transactions, sent, timers, now: () => now };
}

describe('the API starts a two-phase transaction itself', () => {
  it('writes the record PREPARING and sends Prepare to every participant', async () => {
    const { store, transactions, sent, timers } = setup();
    const { record } = await transactions.submit({ operations: transfer });
    expect(record.state).toBe('PREPARING');
    const stored = (await store.load('tx_lean'))!.record;
    expect(stored.timeline).toEqual([]);
    expect(timelineOf(stored).map((e) => e.event)).toEqual([
      'created',
      'begin: Prepare sent to 2 participant(s)',
    ]);
    expect(sent.sort()).toEqual(['Prepare->ledger-0', 'Prepare->ledger-1']);
    // Without a wait the prepare phase's timer is armed at once.
    expect(timers).toEqual([T0 + 1_000]);
  });

  it('arms no timer when the transaction is decided while the request waits', async () => {
    const { transactions, timers } = setup(T0 + 300);
    const { record } = await transactions.submit({ operations: transfer, waitMs: 5_000 });
    expect(record.state).toBe('COMMITTED');
    expect(timers).toEqual([]);
  });

  it('arms the timer when its check comes due during the wait, once', async () => {
    const { transactions, timers } = setup(T0 + 3_000);
    const { record } = await transactions.submit({ operations: transfer, waitMs: 5_000 });
    expect(record.state).toBe('COMMITTED');
    expect(timers).toEqual([T0 + 1_000]);
  });

  it('arms the timer when the wait ends undecided', async () => {
    const { transactions, timers, now } = setup();
    const { record } = await transactions.submit({ operations: transfer, waitMs: 500 });
    expect(record.state).toBe('PREPARING');
    expect(now()).toBe(T0 + 500);
    expect(timers).toEqual([T0 + 1_000]);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { MemorySlotStore } from '../../../shared/adapters/memory-slots';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { LeaseManager } from '../../../shared/coordinator/leases';
import { sweep } from '../../../shared/coordinator/recovery';
import { type CoordinatorDeps, handleCoordinatorInput } from '../../../shared/coordinator/shell';
import type { EventPublisher, TransactionEvent } from '../../../shared/events';
import { NO_FAULTS } from '../../../shared/faults';
import { newTransaction, slotOf } from '../../../shared/protocol';

const config = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
const txId = 'tx-events';

class Events implements EventPublisher {
  readonly published: TransactionEvent[] = [];
  failing = false;
  async publish(event: TransactionEvent) {
    if (this.failing) throw new Error('bus unavailable');
    this.published.push(event);
  }
}

describe('events out', () => {
  let now: number;
  let txs: MemoryTxStore;
  let events: Events;
  let deps: CoordinatorDeps;
  const clock = { nowMs: () => now };
  const transport = { toParticipant: async () => {}, scheduleCheck: async () => {} };

  beforeEach(async () => {
    now = 10_000;
    const slots = new MemorySlotStore();
    txs = new MemoryTxStore(slots.fenceHolds);
    events = new Events();
    deps = {
      txs,
      leases: new LeaseManager(slots, 'env', clock, { leaseDurationMs: 30_000, skewMarginMs: 1_000 }),
      clock,
      transport,
      config,
      faults: NO_FAULTS,
      events,
    };
    const participants = [
      { id: 'ledger-0', kind: 'ledger', operations: [{ id: 'a', action: 'take', amount: 1 }] },
    ];
    await txs.create({
      record: newTransaction({ txId, slot: slotOf(txId, 4), participants }, now, config),
      requestHash: 'h',
    });
  });

  async function runToAbort() {
    await handleCoordinatorInput({ type: 'Begin', txId }, deps);
    await handleCoordinatorInput(
      { type: 'Vote', txId, participantId: 'ledger-0', vote: 'NO', reason: 'no' },
      deps,
    );
    await handleCoordinatorInput({ type: 'Ack', txId, participantId: 'ledger-0', outcome: 'ABORTED' }, deps);
  }

  it('publishes a terminal outcome once, with a stable event id and no operations', async () => {
    await runToAbort();
    await handleCoordinatorInput({ type: 'Ack', txId, participantId: 'ledger-0', outcome: 'ABORTED' }, deps);
    expect(events.published).toEqual([
      {
        eventId: `${txId}/ABORTED`,
        txId,
        outcome: 'ABORTED',
        reason: 'participant ledger-0 voted NO: no',
        participants: [{ id: 'ledger-0', kind: 'ledger' }],
        createdAtMs: 10_000,
        decidedAtMs: 10_000,
        completedAtMs: 10_000,
      },
    ]);
    expect((await txs.load(txId))?.published).toBe(true);
    expect(await txs.due(slotOf(txId, 4), now + 1_000_000, 10)).toEqual([]);
  });

  it('keeps an unpublished outcome due, so the sweeper re-drives the publication until it succeeds', async () => {
    events.failing = true;
    await runToAbort();
    expect(events.published).toEqual([]);
    expect((await txs.load(txId))?.published).toBe(false);

    events.failing = false;
    const forwarded: string[] = [];
    await sweep({
      txs,
      clock,
      forwarder: { forwardCheck: async (id) => void forwarded.push(id), rearm: async () => {} },
      slotCount: 4,
      perSlotLimit: 10,
      concurrency: 1,
    });
    expect(forwarded).toEqual([txId]);
    await handleCoordinatorInput({ type: 'Check', txId }, deps);
    expect(events.published.map((e) => e.eventId)).toEqual([`${txId}/ABORTED`]);
    expect((await txs.load(txId))?.published).toBe(true);
  });

  it('tracks nothing when the deployment publishes no events', async () => {
    deps = { ...deps, events: undefined };
    await runToAbort();
    expect((await txs.load(txId))?.published).toBeUndefined();
    expect(await txs.due(slotOf(txId, 4), now + 1_000_000, 10)).toEqual([]);
  });
});

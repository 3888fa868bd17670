import { describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../dev/bank-and-shop';
import { LEDGER } from '../../shared/bank-and-shop';
import { newEntity } from '../../shared/entities';
import type { ParticipantAction, ParticipantBarrier, ReservedOp } from '../../shared/participant';
import type { TxRecord } from '../../shared/protocol';
import { CheckedParticipantStore } from '../../sim/checked-store';
import { InvariantChecker } from '../../sim/checker';
import { SimCore, T0_MS } from '../../sim/core';

/**
 * The checker checks, after a participant's write, only the entities that changed since that
 * participant's last check, and the ledger's sum from each table's running total. These tests
 * break an entity behind the checker's back (a write it never heard of) and expect the next check
 * to say so, with the messages a rescan of every entity gives.
 */
function ledgerWorld() {
  const core = new SimCore({ seed: 1 });
  const stores = new Map([
    ['ledger-0', new CheckedParticipantStore(LEDGER.definition.counter!)],
    ['ledger-1', new CheckedParticipantStore(LEDGER.definition.counter!)],
  ]);
  const checker = new InvariantChecker(core, {
    participantStores: stores,
    kinds: new Map([...stores.keys()].map((id) => [id, { kind: LEDGER }])),
    coordinators: [],
    registry: bankAndShopRegistry(2),
    streamed: () => {},
    expire: () => {},
  });
  const open = (participantId: string, id: string, total: number) => {
    stores.get(participantId)!.seed(newEntity(id, total, T0_MS));
    checker.opening.set(`account:${id}`, total);
    checker.ledgerTotal += total;
  };
  open('ledger-0', 'a', 100);
  open('ledger-0', 'b', 100);
  open('ledger-1', 'c', 100);
  /** A participant's write, as the world makes it: through the store, then the checker's turn. */
  const write = async (
    participantId: string,
    txId: string,
    state: ParticipantBarrier['state'],
    action: ParticipantAction,
  ) => {
    const store = stores.get(participantId)!;
    const prev = store.barrier(txId, participantId);
    const next: ParticipantBarrier = {
      txId,
      participantId,
      state,
      vote: 'YES',
      reason: null,
      reservation: action.type === 'none' ? null : action.reservation,
      createdAtMs: T0_MS,
      updatedAtMs: T0_MS,
    };
    const outcome = await store.write(prev, next, action);
    expect(outcome).toEqual({ ok: true });
    checker.afterParticipantWrite(participantId, next, action);
  };
  const decided = (txId: string, state: TxRecord['state']) =>
    checker.durable.set(txId, { txId, state, participants: [], votes: {} } as unknown as TxRecord);
  return { core, stores, checker, write, decided };
}

const take = (id: string, amount: number): ReservedOp[] => [{ id, action: 'take', amount }];

describe('the invariant checker, incremental', () => {
  it('finds nothing wrong in a reserve and an apply it followed', async () => {
    // Prepare
    const { core, write, decided } = ledgerWorld();
    decided('tx1', 'PREPARING');

    // Act
    await write('ledger-0', 'tx1', 'PREPARED', { type: 'reserve', reservation: take('a', 10) });
    decided('tx1', 'COMMITTING');
    await write('ledger-0', 'tx1', 'COMMITTED', { type: 'apply', reservation: take('a', 10) });

    // Assess: the debit applied counts as the half of a transfer whose credit is in flight.
    expect(core.violations).toEqual([]);
  });

  it("catches an entity changed by a write it never heard of, at the participant's next write", async () => {
    // Prepare
    const { core, stores, write, decided } = ledgerWorld();
    decided('tx1', 'PREPARING');
    await write('ledger-0', 'tx1', 'PREPARED', { type: 'none' });
    expect(core.violations).toEqual([]);

    // Act: 'a' loses 7 behind the checker's back; then a write that touches only 'b'.
    const a = stores.get('ledger-0')!.entity('a')!;
    stores.get('ledger-0')!.seed({ ...a, total: 93, available: 93 });
    decided('tx2', 'PREPARING');
    await write('ledger-0', 'tx2', 'PREPARED', { type: 'reserve', reservation: take('b', 5) });

    // Assess
    expect(core.violations).toEqual([
      "exactly-once (6): ledger-0 'a' has 93, opening + applied deltas = 100",
      'conservation (5): the ledger holds 293 with 0 committed in flight; it opened with 300',
    ]);
  });

  it("sums the other table's change into the ledger's total at this table's write", async () => {
    // Prepare
    const { core, stores, write, decided } = ledgerWorld();
    const c = stores.get('ledger-1')!.entity('c')!;

    // Act: 'c' (the other shard) gains 3 behind the checker's back.
    stores.get('ledger-1')!.seed({ ...c, total: 103, available: 103 });
    decided('tx1', 'PREPARING');
    await write('ledger-0', 'tx1', 'PREPARED', { type: 'none' });

    // Assess
    expect(core.violations).toEqual([
      'conservation (5): the ledger holds 303 with 0 committed in flight; it opened with 300',
    ]);
  });

  it('catches a hold no prepared barrier explains, and reports entities in table order', async () => {
    // Prepare
    const { core, stores, write, decided } = ledgerWorld();
    const store = stores.get('ledger-0')!;

    // Act: 'b' holds 4 it was never asked to, then 'a' loses 1; then a write to neither.
    store.seed({ ...store.entity('b')!, held: 4, available: 96 });
    store.seed({ ...store.entity('a')!, total: 99, available: 99 });
    decided('tx1', 'PREPARING');
    await write('ledger-0', 'tx1', 'PREPARED', { type: 'none' });

    // Assess: 'a' first (its place in the table), then 'b', then the sum.
    expect(core.violations).toEqual([
      "exactly-once (6): ledger-0 'a' has 99, opening + applied deltas = 100",
      "ledger-0 'b' holds 4, its prepared barriers hold 0",
      'conservation (5): the ledger holds 299 with 0 committed in flight; it opened with 300',
    ]);
  });
});

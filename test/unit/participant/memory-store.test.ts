import { describe, expect, it } from 'vitest';
import { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { newEntity } from '../../../shared/entities';
import { LEDGER_COUNTER } from '../../../shared/ledger/participant';
import type { ParticipantBarrier, Reservation } from '../../../shared/participant';
import { ProtocolAssertionError } from '../../../shared/protocol';
import { balances, give, P, T0, TX, take } from './helpers';

const prepared = (reservation: Reservation): ParticipantBarrier => ({
  txId: TX,
  participantId: P,
  state: 'PREPARED',
  vote: 'YES',
  reason: null,
  reservation,
  createdAtMs: T0,
  updatedAtMs: T0,
});
const moved = (barrier: ParticipantBarrier, state: 'COMMITTED' | 'ABORTED'): ParticipantBarrier => ({
  ...barrier,
  state,
  updatedAtMs: T0 + 1,
});

function store() {
  return new MemoryParticipantStore(LEDGER_COUNTER, [newEntity('alice', 100, 0), newEntity('bob', 50, 0)]);
}

describe('MemoryParticipantStore', () => {
  it('a reserve that fails on its second entity changes nothing at all (atomicity)', async () => {
    // Prepare
    const s = store();
    const reservation = [take('alice', 10), take('bob', 60)];

    // Act
    const outcome = await s.write(undefined, prepared(reservation), { type: 'reserve', reservation });

    // Assess
    expect(outcome).toEqual({
      ok: false,
      kind: 'rejected',
      reason: "insufficient funds on account 'bob' (available 50, needed 60)",
    });
    expect(s.entities().map(balances)).toEqual([
      { total: 100, held: 0, available: 100 },
      { total: 50, held: 0, available: 50 },
    ]);
    expect(s.barriers()).toEqual([]);
    expect(s.writes).toBe(0);
  });

  it('a second write with the same prev is a barrier-conflict, even when it would also be rejected', async () => {
    // Prepare
    const s = store();
    const reservation = [take('alice', 60)];
    await s.write(undefined, prepared(reservation), { type: 'reserve', reservation });

    // Act
    const again = await s.write(undefined, prepared(reservation), { type: 'reserve', reservation });
    const commit = await s.write(prepared(reservation), moved(prepared(reservation), 'COMMITTED'), {
      type: 'apply',
      reservation,
    });
    const abortAfterCommit = await s.write(prepared(reservation), moved(prepared(reservation), 'ABORTED'), {
      type: 'release',
      reservation,
    });

    // Assess
    expect([again, commit, abortAfterCommit]).toEqual([
      { ok: false, kind: 'barrier-conflict' },
      { ok: true },
      { ok: false, kind: 'barrier-conflict' },
    ]);
    expect(balances(s.entity('alice'))).toEqual({ total: 40, held: 0, available: 40 });
  });

  it('copies on read and write: callers cannot change its state behind its back', async () => {
    // Prepare
    const s = store();
    const barrier = { ...prepared([give('bob', 5)]) };
    await s.write(undefined, barrier, { type: 'reserve', reservation: [give('bob', 5)] });

    // Act
    (barrier as { state: string }).state = 'ABORTED';
    const entity = s.entity('bob')!;
    (entity as { total: number }).total = 0;

    // Assess
    expect(s.barrier(TX, P)?.state).toBe('PREPARED');
    expect(s.entity('bob')?.total).toBe(50);
  });

  it('asserts that a hold being applied or released still exists', async () => {
    // Prepare: a PREPARED barrier whose hold was never made.
    const s = store();
    const reservation = [take('alice', 30)];
    await s.write(undefined, prepared(reservation), { type: 'none' });

    // Act
    const apply = s.write(prepared(reservation), moved(prepared(reservation), 'COMMITTED'), {
      type: 'apply',
      reservation,
    });

    // Assess
    await expect(apply).rejects.toBeInstanceOf(ProtocolAssertionError);
    expect(s.barrier(TX, P)?.state).toBe('PREPARED');
  });

  it('asserts one operation per entity', async () => {
    // Prepare
    const s = store();
    const reservation = [take('alice', 1), give('alice', 1)];

    // Act
    const attempt = s.write(undefined, prepared(reservation), { type: 'reserve', reservation });

    // Assess
    await expect(attempt).rejects.toThrow(/two operations on one entity/);
  });

  it('refuses to seed an inconsistent entity', () => {
    expect(() => store().seed({ id: 'x', total: 10, held: 5, available: 10, createdAtMs: 0 })).toThrow(
      ProtocolAssertionError,
    );
  });
});

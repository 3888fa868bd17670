import { describe, expect, it, vi } from 'vitest';
import {
  type Barrier,
  type BarrierState,
  type Decide,
  type JsonValue,
  type ParticipantMessage,
  ProtocolAssertionError,
  participantStep,
  TOMBSTONE_REASON,
} from '../../../shared/protocol';
import { deepFreeze } from './helpers';

// A tiny example participant: an account with 100 units; Prepare asks to hold `amount`.
type Hold = { readonly accountId: string; readonly amount: number };
const AVAILABLE = 100;
const decide: Decide<Hold> = (operations) => {
  const op = operations[0] as { accountId: string; amount: number };
  return op.amount <= AVAILABLE
    ? { ok: true, reservation: { accountId: op.accountId, amount: op.amount } }
    : { ok: false, reason: 'insufficient funds' };
};

const TX = 'tx-9';
const P = 'ledger-1';
const T0 = 5_000;
const HOLD: Hold = { accountId: 'acc-1', amount: 30 };

const prepare = (amount = 30): ParticipantMessage => ({
  type: 'Prepare',
  txId: TX,
  participantId: P,
  operations: [{ accountId: 'acc-1', amount }],
});
const commit: ParticipantMessage = { type: 'Commit', txId: TX, participantId: P };
const abort: ParticipantMessage = { type: 'Abort', txId: TX, participantId: P };

function barrier(state: BarrierState, overrides: Partial<Barrier<Hold>> = {}): Barrier<Hold> {
  const byState: Record<BarrierState, Pick<Barrier<Hold>, 'vote' | 'reason' | 'reservation'>> = {
    PREPARED: { vote: 'YES', reason: null, reservation: HOLD },
    VOTED_NO: { vote: 'NO', reason: 'insufficient funds', reservation: null },
    COMMITTED: { vote: 'YES', reason: null, reservation: HOLD },
    ABORTED: { vote: 'YES', reason: null, reservation: HOLD },
  };
  return deepFreeze({
    txId: TX,
    participantId: P,
    state,
    ...byState[state],
    createdAtMs: T0,
    updatedAtMs: T0,
    ...overrides,
  });
}
const tombstone = () => barrier('ABORTED', { vote: null, reservation: null });

const voteYes = { type: 'Vote', txId: TX, participantId: P, vote: 'YES' };
const ackOf = (outcome: 'COMMITTED' | 'ABORTED') => ({ type: 'Ack', txId: TX, participantId: P, outcome });

describe('participantStep: the transition table', () => {
  it('(none, Prepare) with room: PREPARED, reserve, Vote YES', () => {
    // Act
    const result = participantStep(undefined, prepare(30), T0 + 1, decide);

    // Assess
    expect(result.changed).toBe(true);
    expect(result.barrier).toEqual({
      txId: TX,
      participantId: P,
      state: 'PREPARED',
      vote: 'YES',
      reason: null,
      reservation: HOLD,
      createdAtMs: T0 + 1,
      updatedAtMs: T0 + 1,
    });
    expect(result.action).toEqual({ type: 'reserve', reservation: HOLD });
    expect(result.reply).toEqual(voteYes);
  });

  it('(none, Prepare) without room: VOTED_NO, nothing reserved, Vote NO with the reason', () => {
    const result = participantStep(undefined, prepare(500), T0, decide);
    expect(result.changed).toBe(true);
    expect(result.barrier).toMatchObject({ state: 'VOTED_NO', vote: 'NO', reason: 'insufficient funds' });
    expect(result.barrier.reservation).toBeNull();
    expect(result.action).toEqual({ type: 'none' });
    expect(result.reply).toEqual({ ...voteYes, vote: 'NO', reason: 'insufficient funds' });
  });

  it('(none, Commit): a protocol violation', () => {
    expect(() => participantStep(undefined, commit, T0, decide)).toThrow(ProtocolAssertionError);
  });

  it('(none, Abort): the ABORTED tombstone, nothing to release, Ack ABORTED', () => {
    const result = participantStep(undefined, abort, T0 + 2, decide);
    expect(result.changed).toBe(true);
    expect(result.barrier).toEqual({
      txId: TX,
      participantId: P,
      state: 'ABORTED',
      vote: null,
      reason: null,
      reservation: null,
      createdAtMs: T0 + 2,
      updatedAtMs: T0 + 2,
    });
    expect(result.action).toEqual({ type: 'none' });
    expect(result.reply).toEqual(ackOf('ABORTED'));
  });

  type Cell = {
    state: BarrierState;
    message: ParticipantMessage;
    next: BarrierState | 'throws';
    action?: string;
    reply?: object;
  };
  const cells: Cell[] = [
    { state: 'PREPARED', message: prepare(), next: 'PREPARED', action: 'none', reply: voteYes },
    { state: 'PREPARED', message: commit, next: 'COMMITTED', action: 'apply', reply: ackOf('COMMITTED') },
    { state: 'PREPARED', message: abort, next: 'ABORTED', action: 'release', reply: ackOf('ABORTED') },
    {
      state: 'VOTED_NO',
      message: prepare(),
      next: 'VOTED_NO',
      action: 'none',
      reply: { ...voteYes, vote: 'NO', reason: 'insufficient funds' },
    },
    { state: 'VOTED_NO', message: commit, next: 'throws' },
    { state: 'VOTED_NO', message: abort, next: 'ABORTED', action: 'none', reply: ackOf('ABORTED') },
    { state: 'COMMITTED', message: prepare(), next: 'COMMITTED', action: 'none', reply: voteYes },
    { state: 'COMMITTED', message: commit, next: 'COMMITTED', action: 'none', reply: ackOf('COMMITTED') },
    { state: 'COMMITTED', message: abort, next: 'throws' },
    {
      state: 'ABORTED',
      message: prepare(),
      next: 'ABORTED',
      action: 'none',
      reply: { ...voteYes, vote: 'NO', reason: TOMBSTONE_REASON },
    },
    { state: 'ABORTED', message: commit, next: 'throws' },
    { state: 'ABORTED', message: abort, next: 'ABORTED', action: 'none', reply: ackOf('ABORTED') },
  ];

  it.each(cells)('($state, $message.type) → $next, $action', ({ state, message, next, action, reply }) => {
    // Prepare
    const before = barrier(state);

    if (next === 'throws') {
      expect(() => participantStep(before, message, T0 + 9, decide)).toThrow(ProtocolAssertionError);
      return;
    }

    // Act
    const result = participantStep(before, message, T0 + 9, decide);

    // Assess
    expect(result.barrier.state).toBe(next);
    expect(result.action.type).toBe(action);
    if (action === 'apply' || action === 'release') {
      expect(result.action).toEqual({ type: action, reservation: HOLD });
    }
    expect(result.reply).toEqual(reply);
    expect(result.changed).toBe(next !== state);
    if (next === state) {
      expect(result.barrier).toBe(before); // unchanged: the very same object
    } else {
      expect(result.barrier).toEqual({ ...before, state: next, updatedAtMs: T0 + 9 });
    }
  });
});

describe('participantStep: duplicates and order', () => {
  it('decides only once: a duplicate Prepare re-sends the same vote without asking decide again', () => {
    // Prepare
    const spy = vi.fn(decide);
    const first = participantStep(undefined, prepare(30), T0, spy);

    // Act
    const second = participantStep(first.barrier, prepare(30), T0 + 1, spy);

    // Assess
    expect(spy).toHaveBeenCalledTimes(1);
    expect(second.reply).toEqual(first.reply);
    expect(second.changed).toBe(false);
    expect(second.action).toEqual({ type: 'none' });
  });

  it('re-sends the same NO, with its reason, for a duplicate Prepare after a NO', () => {
    const first = participantStep(undefined, prepare(500), T0, decide);
    const second = participantStep(first.barrier, prepare(500), T0 + 1, decide);
    expect(second.reply).toEqual(first.reply);
  });

  it('lets a tombstone turn a late Prepare into a NO that reserves nothing', () => {
    // Prepare: the Abort overtook the Prepare
    const spy = vi.fn(decide);
    const aborted = participantStep(undefined, abort, T0, spy);

    // Act
    const late = participantStep(aborted.barrier, prepare(30), T0 + 1, spy);

    // Assess
    expect(spy).not.toHaveBeenCalled();
    expect(late.action).toEqual({ type: 'none' });
    expect(late.reply).toEqual({ ...voteYes, vote: 'NO', reason: TOMBSTONE_REASON });
    expect(late.barrier).toBe(aborted.barrier);
  });

  it('keeps the original NO reason when a Prepare repeats after VOTED_NO was aborted', () => {
    const voted = participantStep(undefined, prepare(500), T0, decide);
    const aborted = participantStep(voted.barrier, abort, T0 + 1, decide);
    const again = participantStep(aborted.barrier, prepare(500), T0 + 2, decide);
    expect(again.reply).toEqual({ ...voteYes, vote: 'NO', reason: 'insufficient funds' });
  });

  it('re-acks a duplicate Commit and a duplicate Abort', () => {
    const committed = participantStep(barrier('PREPARED'), commit, T0, decide);
    const again = participantStep(committed.barrier, commit, T0 + 1, decide);
    expect(again).toEqual({
      barrier: committed.barrier,
      changed: false,
      action: { type: 'none' },
      reply: committed.reply,
    });

    const aborted = participantStep(tombstone(), abort, T0, decide);
    expect(aborted.changed).toBe(false);
    expect(aborted.reply).toEqual(ackOf('ABORTED'));
  });

  it('asserts when handed the barrier of another transaction or participant', () => {
    const other = barrier('PREPARED', { txId: 'tx-other' });
    expect(() => participantStep(other, commit, T0, decide)).toThrow(ProtocolAssertionError);
    const otherParticipant = barrier('PREPARED', { participantId: 'ledger-2' });
    expect(() => participantStep(otherParticipant, abort, T0, decide)).toThrow(ProtocolAssertionError);
  });

  it('passes the operations and the transaction to decide', () => {
    const spy = vi.fn<Decide<JsonValue>>(() => ({ ok: true, reservation: 'r' }));
    participantStep(undefined, prepare(7), T0, spy);
    expect(spy).toHaveBeenCalledWith([{ accountId: 'acc-1', amount: 7 }], { txId: TX, participantId: P });
  });

  it('produces JSON-round-trippable barriers', () => {
    const { barrier: next } = participantStep(undefined, prepare(30), T0, decide);
    expect(JSON.parse(JSON.stringify(next))).toEqual(next);
  });
});

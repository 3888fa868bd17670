import { describe, expect, it } from 'vitest';
import {
  afterNote,
  applyNote,
  type CoordinatorInput,
  coordinatorStep,
  endOf,
  noteOf,
  type ParticipantReply,
  ProtocolAssertionError,
  settledState,
  type TxRecord,
  timelineOf,
} from '../../../shared/protocol';
import { aborting, ack, check, committing, config, deepFreeze, no, preparing, T0, yes } from './helpers';

const step = (record: TxRecord, input: CoordinatorInput, nowMs = T0) =>
  coordinatorStep(record, input, nowMs, config);

/** The record after participants noted these replies on it (each note must be accepted). */
function noted(record: TxRecord, replies: readonly ParticipantReply[], atMs = T0 + 5): TxRecord {
  let current = record;
  for (const reply of replies) {
    const next = applyNote(current, noteOf(reply, atMs));
    expect(next, `${reply.type} from ${reply.participantId} refused`).not.toBeNull();
    current = deepFreeze(next as TxRecord);
  }
  return current;
}

describe('applyNote', () => {
  it('records a vote while PREPARING: entry and version + 1, nothing else; the timeline tells it', () => {
    const record = preparing(2);
    const next = applyNote(record, noteOf(no(1, 'insufficient funds'), T0 + 7));
    expect(next).toEqual({
      ...record,
      version: record.version + 1,
      votes: { 'ledger-1': { vote: 'NO', reason: 'insufficient funds', atMs: T0 + 7 } },
    });
    expect(timelineOf(next as TxRecord).at(-1)).toEqual({
      atMs: T0 + 7,
      event: 'vote NO from ledger-1: insufficient funds',
    });
  });

  it('refuses a vote once decided, and a second vote from the same participant', () => {
    expect(applyNote(aborting(2), noteOf(yes(1), T0))).toBeNull();
    expect(applyNote(committing(2), noteOf(yes(1), T0))).toBeNull();
    const once = noted(preparing(2), [yes(0)]);
    expect(applyNote(once, noteOf(yes(0), T0))).toBeNull();
  });

  it('records an ack only under the decision it acknowledges', () => {
    const next = applyNote(committing(2), noteOf(ack(0, 'COMMITTED'), T0 + 9));
    expect(next?.acks).toEqual({ 'ledger-0': { outcome: 'COMMITTED', atMs: T0 + 9 } });
    expect(next?.timeline).toEqual([]);
    expect(timelineOf(next as TxRecord).at(-1)?.event).toBe('ack COMMITTED from ledger-0');
    expect(applyNote(committing(2), noteOf(ack(0, 'ABORTED'), T0))).toBeNull();
    expect(applyNote(aborting(2), noteOf(ack(0, 'COMMITTED'), T0))).toBeNull();
    expect(applyNote(preparing(2), noteOf(ack(0, 'ABORTED'), T0))).toBeNull();
    expect(applyNote(next as TxRecord, noteOf(ack(0, 'COMMITTED'), T0))).toBeNull();
  });

  it('refuses a note for another transaction', () => {
    expect(applyNote(preparing(2), noteOf({ ...yes(0), txId: 'other' }, T0))).toBeNull();
  });
});

describe('the coordinator with noted votes', () => {
  it('decides COMMIT on the first vote message when every YES is already on the record', () => {
    const record = noted(preparing(2), [yes(0), yes(1)]);
    const { state, effects } = step(record, yes(1), T0 + 20);
    expect(state.state).toBe('COMMITTING');
    expect(state.version).toBe(record.version + 1);
    expect(effects).toEqual([
      { type: 'SendCommit', participantId: 'ledger-0' },
      { type: 'SendCommit', participantId: 'ledger-1' },
    ]);
    // The second message is a no-op.
    expect(step(state, yes(0), T0 + 21).state).toBe(state);
  });

  it('decides COMMIT when the message completes a set another participant noted', () => {
    const record = noted(preparing(2), [yes(0)]);
    const { state } = step(record, yes(1), T0 + 20);
    expect(state.state).toBe('COMMITTING');
    expect(state.votes['ledger-1']).toEqual({ vote: 'YES', atMs: T0 + 20 });
    expect(timelineOf(state).slice(-3)).toEqual([
      { atMs: T0 + 5, event: 'vote YES from ledger-0' },
      { atMs: T0 + 20, event: 'vote YES from ledger-1' },
      { atMs: T0 + 20, event: 'decision COMMIT' },
    ]);
  });

  it('aborts on a noted NO, whichever message comes first, with that participant as the reason', () => {
    const record = noted(preparing(2), [yes(0), no(1, 'insufficient funds')]);
    const { state, effects } = step(record, yes(0), T0 + 20);
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('participant ledger-1 voted NO: insufficient funds');
    expect(effects.map((e) => e.type)).toEqual(['SendAbort', 'SendAbort']);
  });

  it('does nothing for a noted vote while others are missing', () => {
    const record = noted(preparing(3), [yes(0)]);
    const result = step(record, yes(0), T0 + 20);
    expect(result.state).toBe(record);
    expect(result.effects).toEqual([]);
  });

  it('still fails loudly when a message contradicts the noted vote', () => {
    const record = noted(preparing(3), [yes(0)]);
    expect(() => step(record, no(0), T0 + 20)).toThrow(ProtocolAssertionError);
  });

  it('aborts at the deadline even when every YES was noted in time (the deadline is strict)', () => {
    const record = noted(preparing(2), [yes(0), yes(1)]);
    const { state } = step(record, yes(0), T0 + config.prepareTimeoutMs);
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('prepare timeout');
  });

  it('decides on a due Check when the vote messages were lost', () => {
    const record = noted(preparing(2), [yes(0), yes(1)]);
    const due = record.nextCheckAtMs as number;
    const { state, effects } = step(record, check, due);
    expect(state.state).toBe('COMMITTING');
    expect(effects.map((e) => e.type)).toEqual(['SendCommit', 'SendCommit']);
  });

  it('re-sends Prepare on a due Check only to participants with no vote on the record', () => {
    const record = noted(preparing(3), [yes(1)]);
    const { effects } = step(record, check, record.nextCheckAtMs as number);
    expect(effects.filter((e) => e.type === 'SendPrepare')).toEqual([
      { type: 'SendPrepare', participantId: 'ledger-0' },
      { type: 'SendPrepare', participantId: 'ledger-2' },
    ]);
  });
});

describe('the coordinator with noted acks', () => {
  it('ends the transaction on the first ack message when every ack is on the record', () => {
    const record = noted(committing(2), [ack(0, 'COMMITTED'), ack(1, 'COMMITTED')]);
    const { state, effects } = step(record, ack(0, 'COMMITTED'), T0 + 30);
    expect(state).toMatchObject({ state: 'COMMITTED', completedAtMs: T0 + 30, nextCheckAtMs: null });
    expect(effects).toEqual([{ type: 'Terminal', outcome: 'COMMITTED', reason: null }]);
    expect(step(state, ack(1, 'COMMITTED'), T0 + 31).state).toBe(state);
  });

  it('ends it on a due Check when the ack messages were lost (the sweeper)', () => {
    const record = noted(aborting(2), [ack(0, 'ABORTED'), ack(1, 'ABORTED')]);
    const { state, effects } = step(record, check, record.nextCheckAtMs as number);
    expect(state.state).toBe('ABORTED');
    expect(effects).toEqual([{ type: 'Terminal', outcome: 'ABORTED', reason: record.reason }]);
  });

  it('re-sends the decision only to participants with no ack on the record', () => {
    const record = noted(committing(2), [ack(1, 'COMMITTED')]);
    const { state, effects } = step(record, check, record.nextCheckAtMs as number);
    expect(state.state).toBe('COMMITTING');
    expect(effects).toEqual([{ type: 'SendCommit', participantId: 'ledger-0' }]);
  });
});

describe('afterNote: what the participant does with the record its note left', () => {
  it('sends a YES only when its note completed the votes; a NO always', () => {
    const first = noteOf(yes(0), T0 + 5);
    expect(afterNote(noted(preparing(2), [yes(0)]), first)).toEqual({ send: false, end: null });
    expect(afterNote(noted(preparing(2), [yes(1), yes(0)]), first)).toEqual({ send: true, end: null });
    expect(afterNote(noted(preparing(3), [no(0)]), noteOf(no(0), T0 + 5))).toEqual({ send: true, end: null });
  });

  it('never sends an ack; the one that completes the set ends the transaction (endOf)', () => {
    const last = noteOf(ack(0, 'COMMITTED'), T0 + 9);
    expect(afterNote(noted(committing(2), [ack(0, 'COMMITTED')]), last)).toEqual({ send: false, end: null });
    const complete = noted(committing(2), [ack(1, 'COMMITTED'), ack(0, 'COMMITTED')]);
    expect(afterNote(complete, last)).toEqual({ send: false, end: endOf(complete, T0 + 9) });
  });
});

describe('endOf', () => {
  it('ends a decided record with every ack in: the outcome, completed now, no further check, version + 1', () => {
    const record = noted(aborting(2), [ack(0, 'ABORTED'), ack(1, 'ABORTED')]);
    expect(endOf(record, T0 + 40)).toEqual({
      ...record,
      state: 'ABORTED',
      completedAtMs: T0 + 40,
      nextCheckAtMs: null,
      version: record.version + 1,
    });
    // the very record the coordinator's step ends it as
    expect(step(record, check, record.nextCheckAtMs as number).state).toEqual(
      endOf(record, record.nextCheckAtMs as number),
    );
  });

  it('ends nothing while an ack is missing, undecided or already ended', () => {
    const ended = endOf(
      noted(committing(2), [ack(0, 'COMMITTED'), ack(1, 'COMMITTED')]),
      T0 + 40,
    ) as TxRecord;
    expect(endOf(noted(committing(2), [ack(0, 'COMMITTED')]), T0 + 40)).toBeNull();
    expect(endOf(preparing(2), T0 + 40)).toBeNull();
    expect(endOf(ended, T0 + 41)).toBeNull();
  });
});

describe('settledState', () => {
  it('is the terminal outcome once every participant has acknowledged the decision', () => {
    expect(settledState(noted(committing(2), [ack(0, 'COMMITTED')]))).toBe('COMMITTING');
    expect(settledState(noted(committing(2), [ack(0, 'COMMITTED'), ack(1, 'COMMITTED')]))).toBe('COMMITTED');
    expect(settledState(noted(aborting(2), [ack(0, 'ABORTED'), ack(1, 'ABORTED')]))).toBe('ABORTED');
  });

  it('is the stored state otherwise', () => {
    expect(settledState(preparing(2))).toBe('PREPARING');
    expect(settledState(aborting(2))).toBe('ABORTING');
  });
});

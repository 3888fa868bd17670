import { describe, expect, it } from 'vitest';
import {
  applyNote,
  coordinatorStep,
  noteOf,
  onePhaseRecord,
  type TxRecord,
  timelineOf,
} from '../../../shared/protocol';
import { ack, check, config, no, participants, preparing, T0, TX, yes } from './helpers';

const step = (record: TxRecord, input: Parameters<typeof coordinatorStep>[1], nowMs: number) =>
  coordinatorStep(record, input, nowMs, config).state;

describe('timelineOf', () => {
  it('tells a committed transaction from its fields, oldest first, with the fence of its decision', () => {
    // Prepare: votes and acks noted by the participants, the decision and the end by the coordinator
    let record = preparing(2);
    record = applyNote(record, noteOf(yes(1), T0 + 10))!;
    record = applyNote(record, noteOf(yes(0), T0 + 20))!;
    record = { ...step(record, yes(0), T0 + 30), decidedEpoch: 17 };
    record = applyNote(record, noteOf(ack(0, 'COMMITTED'), T0 + 40))!;
    record = applyNote(record, noteOf(ack(1, 'COMMITTED'), T0 + 50))!;
    record = step(record, ack(1, 'COMMITTED'), T0 + 60);

    // Act
    const timeline = timelineOf(record);

    // Assess
    expect(record.timeline).toEqual([]);
    expect(timeline).toEqual([
      { atMs: T0, event: 'created' },
      { atMs: T0, event: 'begin: Prepare sent to 2 participant(s)' },
      { atMs: T0 + 10, event: 'vote YES from ledger-1' },
      { atMs: T0 + 20, event: 'vote YES from ledger-0' },
      { atMs: T0 + 30, event: 'decision COMMIT (slot 7, epoch 17)' },
      { atMs: T0 + 40, event: 'ack COMMITTED from ledger-0' },
      { atMs: T0 + 50, event: 'ack COMMITTED from ledger-1' },
      { atMs: T0 + 60, event: 'COMMITTED' },
    ]);
  });

  it('puts a vote before the decision it completed at the same instant, and tells the NO reason', () => {
    // Act
    const record = step(preparing(2), no(1, 'insufficient funds'), T0 + 5);

    // Assess
    expect(timelineOf(record).map((e) => [e.atMs - T0, e.event])).toEqual([
      [0, 'created'],
      [0, 'begin: Prepare sent to 2 participant(s)'],
      [5, 'vote NO from ledger-1: insufficient funds'],
      [5, 'decision ABORT: participant ledger-1 voted NO: insufficient funds'],
    ]);
  });

  it('keeps the re-sends, which no field tells, between the steps they came between', () => {
    // Prepare: the first check re-sends Prepare; the deadline then aborts
    let record = preparing(2);
    record = step(record, yes(0), T0 + 10);
    record = step(record, check, record.nextCheckAtMs!);
    const resentAtMs = T0 + config.resendBaseMs;
    record = step(record, check, record.prepareDeadlineMs);

    // Act
    const events = timelineOf(record).map((e) => [e.atMs, e.event]);

    // Assess
    expect(record.timeline).toEqual([{ atMs: resentAtMs, event: 're-sent Prepare to ledger-1 (round 1)' }]);
    expect(events).toEqual([
      [T0, 'created'],
      [T0, 'begin: Prepare sent to 2 participant(s)'],
      [T0 + 10, 'vote YES from ledger-0'],
      [resentAtMs, 're-sent Prepare to ledger-1 (round 1)'],
      [record.prepareDeadlineMs, 'decision ABORT: prepare timeout'],
    ]);
  });

  it('tells an operator abort by its reason', () => {
    const record = step(preparing(1), { type: 'OperatorAbort', txId: TX, note: 'stuck' }, T0 + 3);
    expect(timelineOf(record).at(-1)).toEqual({
      atMs: T0 + 3,
      event: 'decision ABORT: aborted by operator: stuck',
    });
  });

  it('tells a one-phase transaction in two steps, committed or refused', () => {
    const tx = { txId: TX, slot: 1, participants: participants(2) };
    const committed = onePhaseRecord(tx, T0, config, { decision: 'COMMIT' });
    const refused = onePhaseRecord(tx, T0, config, {
      decision: 'ABORT',
      participantId: 'ledger-0',
      reason: 'insufficient funds',
    });
    expect(timelineOf(committed)).toEqual([
      { atMs: T0, event: 'created' },
      { atMs: T0, event: 'committed in one phase' },
    ]);
    expect(timelineOf(refused).map((e) => e.event)).toEqual([
      'created',
      'aborted in one phase: participant ledger-0 refused: insufficient funds',
    ]);
  });

  it('shows each step once for a record that stored every event (written before the timeline was told)', () => {
    // Prepare: a record as earlier versions stored it, every step in its timeline
    let record = preparing(1);
    record = step(record, yes(0), T0 + 10);
    const told = timelineOf(record);
    const legacy: TxRecord = {
      ...record,
      timeline: [
        ...told.map((e) =>
          e.event.startsWith('decision ') ? { ...e, event: `${e.event} (slot 7, epoch 3)` } : e,
        ),
        { atMs: T0 + 200, event: 're-sent Commit to ledger-0 (round 1)' },
      ],
    };

    // Act
    const events = timelineOf(legacy).map((e) => e.event);

    // Assess
    expect(events).toEqual([
      'created',
      'begin: Prepare sent to 1 participant(s)',
      'vote YES from ledger-0',
      'decision COMMIT',
      're-sent Commit to ledger-0 (round 1)',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  type CoordinatorInput,
  coordinatorStep,
  decisionOf,
  isTerminal,
  newTransaction,
  PARTICIPANTS_MAX,
  ProtocolAssertionError,
  resendDelayMs,
  startTransaction,
  TIMELINE_MAX,
  type TxRecord,
  type TxState,
  timelineOf,
} from '../../../shared/protocol';
import {
  aborting,
  ack,
  check,
  committing,
  config,
  deepFreeze,
  feed,
  no,
  participants,
  preparing,
  T0,
  TX,
  yes,
} from './helpers';

const step = (record: TxRecord, input: CoordinatorInput, nowMs = T0) =>
  coordinatorStep(record, input, nowMs, config);

/** The same input a second time must be a no-op: same record, no effects. */
function expectNoOp(record: TxRecord, input: CoordinatorInput, nowMs = T0) {
  const result = step(record, input, nowMs);
  expect(result.state).toBe(record);
  expect(result.effects).toEqual([]);
  expect(result.rejection).toBeNull();
}

const DEADLINE = T0 + config.prepareTimeoutMs;

describe('newTransaction', () => {
  it('builds a PREPARING record of plain JSON data', () => {
    // Act
    const record = newTransaction({ txId: TX, slot: 7, participants: participants(2) }, T0, config);

    // Assess
    expect(record).toMatchObject({
      txId: TX,
      slot: 7,
      version: 1,
      mode: 'two-phase',
      state: 'PREPARING',
      votes: {},
      acks: {},
      reason: null,
      createdAtMs: T0,
      prepareDeadlineMs: DEADLINE,
      decidedAtMs: null,
      completedAtMs: null,
      nextCheckAtMs: T0 + config.resendBaseMs,
      resendAttempt: 0,
      timeline: [],
      timelineDroppedCount: 0,
    });
    expect(record.participants.map((p) => p.id)).toEqual(['ledger-0', 'ledger-1']);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('never schedules the first check past the deadline', () => {
    const record = newTransaction({ txId: TX, slot: 0, participants: participants(1) }, T0, {
      ...config,
      prepareTimeoutMs: 50,
    });
    expect(record.nextCheckAtMs).toBe(T0 + 50);
  });

  it.each([
    ['no participants', { txId: TX, slot: 0, participants: [] }],
    [
      'duplicate participant ids',
      { txId: TX, slot: 0, participants: [...participants(1), ...participants(1)] },
    ],
    ['too many participants', { txId: TX, slot: 0, participants: participants(PARTICIPANTS_MAX + 1) }],
    ['an empty txId', { txId: '', slot: 0, participants: participants(1) }],
    ['a negative slot', { txId: TX, slot: -1, participants: participants(1) }],
  ])('asserts on %s', (_, tx) => {
    expect(() => newTransaction(tx, T0, config)).toThrow(ProtocolAssertionError);
  });

  it('accepts exactly PARTICIPANTS_MAX participants', () => {
    const record = newTransaction(
      { txId: TX, slot: 0, participants: participants(PARTICIPANTS_MAX) },
      T0,
      config,
    );
    expect(record.participants).toHaveLength(PARTICIPANTS_MAX);
  });

  it.each([
    ['base above cap', { ...config, resendBaseMs: 2_000, resendCapMs: 1_000 }],
    ['zero timeout', { ...config, prepareTimeoutMs: 0 }],
    ['fractional base', { ...config, resendBaseMs: 1.5 }],
  ])('asserts on a bad config: %s', (_, bad) => {
    expect(() => newTransaction({ txId: TX, slot: 0, participants: participants(1) }, T0, bad)).toThrow(
      ProtocolAssertionError,
    );
  });

  it('asserts on a non-integer clock', () => {
    expect(() => newTransaction({ txId: TX, slot: 0, participants: participants(1) }, 1.5, config)).toThrow(
      ProtocolAssertionError,
    );
  });
});

describe('startTransaction', () => {
  it('creates the record PREPARING and sends Prepare to every participant, with a timer', () => {
    // Act
    const { state, effects, rejection } = startTransaction(
      { txId: TX, slot: 7, participants: participants(3) },
      T0 + 5,
      config,
    );

    // Assess
    expect(state).toMatchObject({
      state: 'PREPARING',
      version: 1,
      nextCheckAtMs: T0 + 5 + config.resendBaseMs,
    });
    expect(timelineOf(state)).toEqual([
      { atMs: T0 + 5, event: 'created' },
      { atMs: T0 + 5, event: 'begin: Prepare sent to 3 participant(s)' },
    ]);
    expect(state.timeline).toEqual([]);
    expect(effects).toEqual([
      { type: 'SendPrepare', participantId: 'ledger-0' },
      { type: 'SendPrepare', participantId: 'ledger-1' },
      { type: 'SendPrepare', participantId: 'ledger-2' },
      { type: 'ScheduleCheck', atMs: T0 + 5 + config.resendBaseMs },
    ]);
    expect(rejection).toBeNull();
  });
});

describe('Vote', () => {
  it('records a YES that is not the last one, with no effects', () => {
    // Act
    const { state, effects } = step(preparing(3), yes(1), T0 + 10);

    // Assess
    expect(state.state).toBe('PREPARING');
    expect(state.version).toBe(2);
    expect(state.votes).toEqual({ 'ledger-1': { vote: 'YES', atMs: T0 + 10 } });
    expect(effects).toEqual([]);
  });

  it('commits on the last YES and sends Commit to every participant', () => {
    // Prepare
    const record = feed(preparing(2), [yes(1)], T0);

    // Act
    const { state, effects } = step(record, yes(0), T0 + 20);

    // Assess
    expect(state.state).toBe('COMMITTING');
    expect(state.reason).toBeNull();
    expect(state.decidedAtMs).toBe(T0 + 20);
    expect(state.resendAttempt).toBe(0);
    expect(effects).toEqual([
      { type: 'SendCommit', participantId: 'ledger-0' },
      { type: 'SendCommit', participantId: 'ledger-1' },
    ]);
    // No timer after the decision: the sweeper finds it on the due index if an ack is missing. The
    // check pending since the creation is 80 ms away, more than half a delay: it stays.
    expect(state.nextCheckAtMs).toBe(T0 + config.resendBaseMs);
  });

  it.each([
    ['keeps the pending check half a delay or more away (its due-index entry stays)', 0, 50, 100],
    ['moves a pending check less than half a delay away to one delay from now', 0, 51, 151],
    ['moves a pending check more than a delay away (after re-sends) to one delay from now', 101, 30, 130],
  ])(
    'starts the decision’s re-sends within one delay: %s',
    (_, pendingPastBaseMs, decidedAtMs, expectedMs) => {
      // Prepare: config.resendBaseMs is 100; the pending check is at T0 + 100 + pendingPastBaseMs
      const record = {
        ...feed(preparing(2), [yes(1)], T0),
        nextCheckAtMs: T0 + config.resendBaseMs + pendingPastBaseMs,
      };

      // Act
      const { state } = step(record, yes(0), T0 + decidedAtMs);

      // Assess
      expect(state.state).toBe('COMMITTING');
      expect(state.nextCheckAtMs).toBe(T0 + expectedMs);
    },
  );

  it('aborts on the first NO and sends Abort to every participant, voted or not', () => {
    // Prepare
    const record = feed(preparing(3), [yes(0)], T0);

    // Act
    const { state, effects } = step(record, no(1, 'insufficient funds'), T0 + 30);

    // Assess
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('participant ledger-1 voted NO: insufficient funds');
    expect(state.votes['ledger-1']).toEqual({ vote: 'NO', reason: 'insufficient funds', atMs: T0 + 30 });
    expect(effects).toEqual([
      { type: 'SendAbort', participantId: 'ledger-0' },
      { type: 'SendAbort', participantId: 'ledger-1' },
      { type: 'SendAbort', participantId: 'ledger-2' },
    ]);
  });

  it('words the reason without a colon when the NO gave none', () => {
    const { state } = step(preparing(2), no(0));
    expect(state.reason).toBe('participant ledger-0 voted NO');
    expect(state.votes['ledger-0']).toEqual({ vote: 'NO', atMs: T0 });
    expect(Object.hasOwn(state.votes['ledger-0'] ?? {}, 'reason')).toBe(false);
  });

  it('ignores a duplicate YES', () => {
    expectNoOp(feed(preparing(3), [yes(0)], T0), yes(0));
  });

  it('asserts on a vote that contradicts the recorded one before the decision', () => {
    const record = feed(preparing(3), [yes(0)], T0);
    expect(() => step(record, no(0, 'changed my mind'))).toThrow(ProtocolAssertionError);
  });

  it.each([
    ['a YES after ABORTING (re-sends still reach that participant)', aborting, yes(1)],
    ['a NO after ABORTING', aborting, no(1, 'late')],
    ['a duplicate NO after ABORTING', aborting, no(0, 'insufficient funds')],
    ['a NO after COMMITTING', committing, no(0, 'too late')],
    ['a YES after COMMITTING', committing, yes(0)],
  ])('ignores %s', (_, make, vote) => {
    expectNoOp(make(), vote);
  });

  it('ignores votes once terminal', () => {
    const committed = feed(committing(2), [ack(0, 'COMMITTED'), ack(1, 'COMMITTED')], T0);
    expect(committed.state).toBe('COMMITTED');
    expectNoOp(committed, no(1, 'late'));
  });

  it('aborts with prepare timeout when the deciding YES arrives at the deadline', () => {
    // Prepare
    const record = feed(preparing(2), [yes(0)], T0);

    // Act
    const { state, effects } = step(record, yes(1), DEADLINE);

    // Assess
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('prepare timeout');
    expect(state.votes['ledger-1']?.vote).toBe('YES'); // recorded, for the record's readers
    expect(effects.map((e) => e.type)).toEqual(['SendAbort', 'SendAbort']);
  });

  it('commits when the deciding YES arrives one millisecond before the deadline', () => {
    const record = feed(preparing(2), [yes(0)], T0);
    expect(step(record, yes(1), DEADLINE - 1).state.state).toBe('COMMITTING');
  });

  it('reports a timeout, not the NO, when a NO arrives after the deadline', () => {
    const { state } = step(preparing(2), no(0, 'insufficient funds'), DEADLINE + 1);
    expect(state.reason).toBe('prepare timeout');
  });

  it('asserts on a vote from a participant that is not in the transaction', () => {
    const stranger = { type: 'Vote', txId: TX, participantId: 'ledger-9', vote: 'YES' } as const;
    expect(() => step(preparing(2), stranger)).toThrow(ProtocolAssertionError);
  });

  it('handles participant ids that collide with Object.prototype members', () => {
    // Prepare
    const names = ['constructor', 'toString'];
    const record = deepFreeze(
      startTransaction(
        { txId: TX, slot: 0, participants: names.map((id) => ({ id, kind: 'x', operations: [] })) },
        T0,
        config,
      ).state,
    );

    // Act
    const first = step(record, { type: 'Vote', txId: TX, participantId: 'constructor', vote: 'YES' });
    const second = step(first.state, { type: 'Vote', txId: TX, participantId: 'toString', vote: 'YES' });

    // Assess
    expect(first.state.state).toBe('PREPARING');
    expect(second.state.state).toBe('COMMITTING');
  });
});

describe('Ack', () => {
  it('ignores an ack before the decision (stale read)', () => {
    expectNoOp(preparing(2), ack(0, 'COMMITTED'));
    expectNoOp(preparing(2), ack(0, 'ABORTED'));
  });

  it('records an ack that is not the last one, with no effects', () => {
    const { state, effects } = step(committing(2), ack(1, 'COMMITTED'), T0 + 40);
    expect(state.state).toBe('COMMITTING');
    expect(state.acks).toEqual({ 'ledger-1': { outcome: 'COMMITTED', atMs: T0 + 40 } });
    expect(effects).toEqual([]);
  });

  it('completes COMMITTING on the last ack', () => {
    // Prepare
    const record = feed(committing(2), [ack(0, 'COMMITTED')], T0);

    // Act
    const { state, effects } = step(record, ack(1, 'COMMITTED'), T0 + 50);

    // Assess
    expect(state.state).toBe('COMMITTED');
    expect(state.completedAtMs).toBe(T0 + 50);
    expect(state.nextCheckAtMs).toBeNull();
    expect(effects).toEqual([{ type: 'Terminal', outcome: 'COMMITTED', reason: null }]);
    expect(timelineOf(state).at(-1)).toEqual({ atMs: T0 + 50, event: 'COMMITTED' });
  });

  it('completes ABORTING on the last ack, needing an ack from every participant', () => {
    // Prepare
    const record = feed(aborting(2), [ack(0, 'ABORTED')], T0);

    // Act
    const { state, effects } = step(record, ack(1, 'ABORTED'), T0 + 50);

    // Assess
    expect(state.state).toBe('ABORTED');
    expect(effects).toEqual([
      { type: 'Terminal', outcome: 'ABORTED', reason: 'participant ledger-0 voted NO: insufficient funds' },
    ]);
  });

  it('ignores a duplicate ack', () => {
    expectNoOp(feed(committing(3), [ack(0, 'COMMITTED')], T0), ack(0, 'COMMITTED'));
  });

  it('ignores a late ack after the end', () => {
    const committed = feed(committing(2), [ack(0, 'COMMITTED'), ack(1, 'COMMITTED')], T0);
    expectNoOp(committed, ack(1, 'COMMITTED'));
  });

  it.each([
    ['ABORTED while COMMITTING', () => committing(2), ack(0, 'ABORTED')],
    ['COMMITTED while ABORTING', () => aborting(2), ack(0, 'COMMITTED')],
    ['ABORTED once COMMITTED', () => feed(committing(1), [ack(0, 'COMMITTED')], T0), ack(0, 'ABORTED')],
  ])('asserts on an ack that contradicts the decision: %s', (_, make, input) => {
    expect(() => step(make(), input)).toThrow(ProtocolAssertionError);
  });

  it('asserts on an ack from a participant that is not in the transaction', () => {
    const stranger = { type: 'Ack', txId: TX, participantId: 'nobody', outcome: 'COMMITTED' } as const;
    expect(() => step(committing(2), stranger)).toThrow(ProtocolAssertionError);
  });
});

describe('Check', () => {
  it('asserts when it names another transaction', () => {
    expect(() => step(preparing(), { type: 'Check', txId: 'tx-other' })).toThrow(ProtocolAssertionError);
  });

  it('does nothing before nextCheckAtMs', () => {
    const record = preparing(2);
    expectNoOp(record, check, (record.nextCheckAtMs ?? 0) - 1);
  });

  it.each([
    ['COMMITTED', () => feed(committing(1), [ack(0, 'COMMITTED')], T0)],
    ['ABORTED', () => feed(aborting(1), [ack(0, 'ABORTED')], T0)],
  ])('does nothing once %s, however late', (_, make) => {
    expectNoOp(make(), check, DEADLINE * 10);
  });

  it('re-sends Prepare to every participant when the first Prepares were lost', () => {
    // Prepare
    const record = preparing(2);
    const due = record.nextCheckAtMs ?? 0;

    // Act
    const { state, effects } = step(record, check, due);

    // Assess
    expect(state.state).toBe('PREPARING');
    expect(effects).toEqual([
      { type: 'SendPrepare', participantId: 'ledger-0' },
      { type: 'SendPrepare', participantId: 'ledger-1' },
      { type: 'ScheduleCheck', atMs: due + 2 * config.resendBaseMs },
    ]);
    expect(state.timeline.at(-1)?.event).toBe('re-sent Prepare to ledger-0, ledger-1 (round 1)');
  });

  it('aborts a transaction no participant answered, found past its deadline', () => {
    const { state, effects } = step(preparing(2), check, DEADLINE + 5);
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('prepare timeout');
    expect(effects.filter((e) => e.type === 'SendAbort')).toHaveLength(2);
  });

  it('re-sends Prepare only to participants that have not voted, then backs off', () => {
    // Prepare
    const record = feed(preparing(3), [yes(1)], T0);
    const due = record.nextCheckAtMs ?? 0;

    // Act
    const { state, effects } = step(record, check, due);

    // Assess
    expect(state.state).toBe('PREPARING');
    expect(state.resendAttempt).toBe(1);
    expect(state.nextCheckAtMs).toBe(due + 2 * config.resendBaseMs);
    expect(effects).toEqual([
      { type: 'SendPrepare', participantId: 'ledger-0' },
      { type: 'SendPrepare', participantId: 'ledger-2' },
      { type: 'ScheduleCheck', atMs: due + 2 * config.resendBaseMs },
    ]);
  });

  it('does not re-send twice for a duplicated timer', () => {
    const record = preparing(2);
    const due = record.nextCheckAtMs ?? 0;
    const once = step(record, check, due).state;
    expectNoOp(once, check, due);
  });

  it('never schedules a Prepare re-send past the deadline', () => {
    // Prepare: a check due 150 ms before the deadline; round 1 would wait 200 ms
    const record = { ...preparing(2), nextCheckAtMs: DEADLINE - 150 };

    // Act
    const { state, effects } = step(record, check, DEADLINE - 150);

    // Assess
    expect(state.nextCheckAtMs).toBe(DEADLINE);
    expect(effects.at(-1)).toEqual({ type: 'ScheduleCheck', atMs: DEADLINE });
  });

  it('aborts with prepare timeout at the deadline and sends Abort to everyone, YES voters included', () => {
    // Prepare
    const record = { ...feed(preparing(2), [yes(0)], T0), nextCheckAtMs: DEADLINE };

    // Act
    const before = step(record, check, DEADLINE - 1);
    const at = step(record, check, DEADLINE);

    // Assess
    expect(before.state).toBe(record);
    expect(at.state.state).toBe('ABORTING');
    expect(at.state.reason).toBe('prepare timeout');
    expect(at.effects).toEqual([
      { type: 'SendAbort', participantId: 'ledger-0' },
      { type: 'SendAbort', participantId: 'ledger-1' },
    ]);
    expect(at.state.nextCheckAtMs).toBe(DEADLINE + config.resendBaseMs);
  });

  it('never times out after the decision: COMMITTING past the deadline only re-sends Commit', () => {
    // Prepare
    const record = feed(committing(2), [ack(0, 'COMMITTED')], T0);

    // Act
    const { state, effects } = step(record, check, DEADLINE * 2);

    // Assess
    expect(state.state).toBe('COMMITTING');
    expect(effects).toEqual([{ type: 'SendCommit', participantId: 'ledger-1' }]);
    expect(state.nextCheckAtMs).toBe(DEADLINE * 2 + 2 * config.resendBaseMs);
  });

  it('keeps re-sending Abort to a participant whose YES arrived after ABORTING', () => {
    // Prepare: ledger-0 said NO and acked; ledger-1's YES arrives late
    const record = feed(aborting(2), [ack(0, 'ABORTED'), yes(1)], T0);
    const due = record.nextCheckAtMs ?? 0;

    // Act: the first re-send round is due
    const { effects } = step(record, check, due);

    // Assess
    expect(effects).toEqual([{ type: 'SendAbort', participantId: 'ledger-1' }]);
  });

  it('backs off exponentially, capped: base·2, base·4, … up to the cap', () => {
    // Prepare
    let record = committing(2);
    const delays: number[] = [];

    // Act
    for (let round = 0; round < 8; round += 1) {
      const due = record.nextCheckAtMs ?? 0;
      record = step(record, check, due).state;
      delays.push((record.nextCheckAtMs ?? 0) - due);
    }

    // Assess
    expect(delays).toEqual([200, 400, 800, 1_600, 1_600, 1_600, 1_600, 1_600]);
    expect(record.resendAttempt).toBe(8);
  });

  it('resets the backoff when the decision is made', () => {
    // Prepare: three Prepare re-send rounds
    let record = preparing(2);
    for (let round = 0; round < 3; round += 1) record = step(record, check, record.nextCheckAtMs ?? 0).state;
    expect(record.resendAttempt).toBe(3);

    // Act
    const decided = feed(record, [yes(0), yes(1)], (record.nextCheckAtMs ?? 0) - 1);

    // Assess
    expect(decided.state).toBe('COMMITTING');
    expect(decided.resendAttempt).toBe(0);
  });

  it('keeps the stored re-sends bounded, the newest ones, and the derived steps all', () => {
    // Prepare
    let record = committing(2);
    const entriesBefore = record.timeline.length;
    const rounds = 200;

    // Act
    for (let round = 0; round < rounds; round += 1)
      record = step(record, check, record.nextCheckAtMs ?? 0).state;

    // Assess
    expect(record.timeline).toHaveLength(TIMELINE_MAX);
    expect(record.timeline[0]?.event).toBe(
      `re-sent Commit to ledger-0, ledger-1 (round ${rounds - TIMELINE_MAX + 1})`,
    );
    expect(record.timeline.at(-1)?.event).toBe(`re-sent Commit to ledger-0, ledger-1 (round ${rounds})`);
    expect(record.timelineDroppedCount).toBe(entriesBefore + rounds - TIMELINE_MAX);
    const told = timelineOf(record).map((e) => e.event);
    expect(told.slice(0, 2)).toEqual(['created', 'begin: Prepare sent to 2 participant(s)']);
    expect(told.filter((e) => e.startsWith('decision COMMIT'))).toHaveLength(1);
    expect(told).toHaveLength(TIMELINE_MAX + 5); // created, begin, two votes, the decision
  });
});

describe('OperatorAbort', () => {
  const operatorAbort = { type: 'OperatorAbort', txId: TX } as const;

  it('aborts a PREPARING transaction', () => {
    const { state, effects, rejection } = step(preparing(2), operatorAbort, T0 + 1);
    expect(rejection).toBeNull();
    expect(state.state).toBe('ABORTING');
    expect(state.reason).toBe('aborted by operator');
    expect(effects.filter((e) => e.type === 'SendAbort')).toHaveLength(2);
  });

  it('appends the note to the reason', () => {
    const { state } = step(preparing(1), { ...operatorAbort, note: 'stuck participant' });
    expect(state.reason).toBe('aborted by operator: stuck participant');
  });

  it.each([
    ['COMMITTING', () => committing(2), 'COMMIT'],
    ['COMMITTED', () => feed(committing(1), [ack(0, 'COMMITTED')], T0), 'COMMIT'],
    ['ABORTING', () => aborting(2), 'ABORT'],
    ['ABORTED', () => feed(aborting(1), [ack(0, 'ABORTED')], T0), 'ABORT'],
  ])('is rejected once %s, leaving the decision as it is', (_, make, decision) => {
    // Prepare
    const record = make();

    // Act
    const result = step(record, operatorAbort, T0 + 1);

    // Assess
    expect(result.state).toBe(record);
    expect(result.effects).toEqual([]);
    expect(result.rejection).toMatchObject({ code: 'ALREADY_DECIDED', decision });
  });
});

describe('queries', () => {
  const cases: [TxState, boolean, 'COMMIT' | 'ABORT' | null][] = [
    ['PREPARING', false, null],
    ['COMMITTING', false, 'COMMIT'],
    ['COMMITTED', true, 'COMMIT'],
    ['ABORTING', false, 'ABORT'],
    ['ABORTED', true, 'ABORT'],
  ];
  it.each(cases)('%s: terminal %s, decision %s', (state, terminal, decision) => {
    expect(isTerminal(state)).toBe(terminal);
    expect(decisionOf(state)).toBe(decision);
  });

  it('computes the capped exponential backoff', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => resendDelayMs(n, config))).toEqual([
      100, 200, 400, 800, 1_600, 1_600,
    ]);
    expect(resendDelayMs(5_000, config)).toBe(1_600); // 2 ** 5000 is Infinity; still capped
    expect(() => resendDelayMs(-1, config)).toThrow(ProtocolAssertionError);
  });
});

describe('purity', () => {
  it('never mutates its input and returns JSON-round-trippable records', () => {
    // Prepare: every record handed to a step is deep-frozen by the helpers
    const script: [CoordinatorInput, number][] = [
      [yes(0), T0 + 1],
      [check, T0 + 200],
      [yes(1), T0 + 300],
      [ack(1, 'COMMITTED'), T0 + 301],
      [check, T0 + 500],
      [ack(0, 'COMMITTED'), T0 + 600],
    ];
    let record = preparing(2);

    // Act & Assess
    for (const [input, nowMs] of script) {
      const before = JSON.stringify(record);
      const next = deepFreeze(step(record, input, nowMs).state);
      expect(JSON.stringify(record)).toBe(before);
      expect(JSON.parse(JSON.stringify(next))).toEqual(next);
      record = next;
    }
    expect(record.state).toBe('COMMITTED');
  });
});

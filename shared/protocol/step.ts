import { assert, assertNever, assertTime } from './assert';
import { ackEntryOf, voteEntryOf } from './entries';
import { ownEntry } from './json';
import type { AckMessage, Outcome, ParticipantMessage, VoteMessage } from './messages';
import { endOf } from './notes';
import {
  assertCoordinatorConfig,
  type CoordinatorConfig,
  type Decision,
  decisionOf,
  isTerminal,
  type NewTransaction,
  newTransaction,
  outcomeOf,
  participantOf,
  resendDelayMs,
  TIMELINE_MAX,
  type TxParticipant,
  type TxRecord,
} from './record';

/**
 * The coordinator of one transaction, as a pure state machine (in the style of etcd raft):
 *
 *     coordinatorStep(record, input, nowMs, config) → { state, effects, rejection }
 *
 * No clock, no I/O, no randomness: time and ids come in as arguments, messages to send come out
 * as data. The async shell loads the record, calls the step, makes the new record durable (one
 * TransactWriteItems: the record conditioned on its previous `version`, plus a ConditionCheck on
 * the slot's lease epoch) and only then performs the effects, in order (`performEffects`).
 *
 * The states and the decision are drawn in `record.ts`. Once the decision is durable, every input
 * either records an Ack or is ignored.
 *
 * The prepare deadline is strict: a Vote or Check handled at or after `prepareDeadlineMs`
 * while undecided aborts with `prepare timeout`, even if it is the last YES. So "COMMIT iff every
 * participant voted YES before the deadline" holds however late the timer or sweeper runs.
 */

// ─── Inputs ──────────────────────────────────────────────────────────────────────────────────

/** A timer (delayed message) or the sweeper fired for this record. */
export interface CheckInput {
  readonly type: 'Check';
  readonly txId: string;
}

export interface OperatorAbortInput {
  readonly type: 'OperatorAbort';
  readonly txId: string;
  /** Free text appended to the reason (`aborted by operator: <note>`). */
  readonly note?: string;
}

export type CoordinatorInput = VoteMessage | AckMessage | CheckInput | OperatorAbortInput;

// ─── Effects ─────────────────────────────────────────────────────────────────────────────────

/**
 * What the shell does after the new record is durable. Messages carry only the participant id:
 * the shell finds the participant's kind (its queue) and operations in `record.participants`.
 */
export type CoordinatorEffect =
  | { readonly type: 'SendPrepare'; readonly participantId: string }
  | { readonly type: 'SendCommit'; readonly participantId: string }
  | { readonly type: 'SendAbort'; readonly participantId: string }
  /** Deliver a `Check` for this transaction at (not before) `atMs`. */
  | { readonly type: 'ScheduleCheck'; readonly atMs: number }
  /** The transaction just became terminal; publish it (e.g. wake `?wait=N` pollers). */
  | { readonly type: 'Terminal'; readonly outcome: Outcome; readonly reason: string | null };

export interface Rejection {
  readonly code: 'ALREADY_DECIDED';
  readonly decision: Decision;
  readonly message: string;
}

export interface CoordinatorStepResult {
  /** The next record; the very same object as the input record when nothing changed. */
  readonly state: TxRecord;
  readonly effects: readonly CoordinatorEffect[];
  /** Set when the input asked for something no longer allowed (OperatorAbort after the decision). */
  readonly rejection: Rejection | null;
}

/** The message a Send effect stands for, and the participant it goes to. */
export function participantMessageOf(
  record: TxRecord,
  effect: Extract<CoordinatorEffect, { participantId: string }>,
): { participant: TxParticipant; message: ParticipantMessage } {
  const participant = participantOf(record, effect.participantId);
  assert(participant !== undefined, `no participant ${effect.participantId} in ${record.txId}`);
  const base = { txId: record.txId, participantId: participant.id, slot: record.slot };
  const message: ParticipantMessage =
    effect.type === 'SendPrepare'
      ? { type: 'Prepare', ...base, operations: participant.operations }
      : { type: effect.type === 'SendCommit' ? 'Commit' : 'Abort', ...base };
  return { participant, message };
}

// ─── The first step ──────────────────────────────────────────────────────────────────────────

/**
 * Creates a two-phase transaction: the record as the API writes it (born PREPARING, see
 * `newTransaction`) and, once it is durable, Prepare to every participant and a timer for its
 * first check. A Prepare that is lost is re-sent by that check (or by the sweeper, which finds the
 * record by `nextCheckAtMs` if the timer is lost too).
 */
export function startTransaction(
  tx: NewTransaction,
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  const state = newTransaction(tx, nowMs, config);
  assert(state.nextCheckAtMs !== null, `${state.txId} is created without a first check`);
  const effects: CoordinatorEffect[] = state.participants.map((p) => ({
    type: 'SendPrepare',
    participantId: p.id,
  }));
  effects.push({ type: 'ScheduleCheck', atMs: state.nextCheckAtMs });
  return { state, effects, rejection: null };
}

// ─── The step ────────────────────────────────────────────────────────────────────────────────

/**
 * Computes the coordinator's reaction to one input.
 *
 * CONTRACT WITH THE SHELL: perform `effects` only after `state` is durable (written with the
 * condition `version = <version read>` and the slot-epoch ConditionCheck). If the write fails,
 * drop the effects and retry from a fresh read. This is what makes "no participant sees Commit
 * before the decision is durable" (invariant 4) hold. When `state` is the input object itself,
 * nothing changed: write nothing (and there are no effects).
 *
 * Duplicate, late and reordered inputs are no-ops (same record, no effects):
 *   - Vote after the decision;
 *   - Ack before the decision (only possible from a stale read — the decision's re-sends will
 *     produce it again), or after the end;
 *   - Check before `nextCheckAtMs` (a duplicate or early timer) or when terminal;
 *   - a Vote or Ack already on the record, unless the record's votes (acks) are now complete:
 *     participants note their own votes and acks on the record (RecordNote), so the message of a
 *     recorded vote may be the first the coordinator hears of a complete set — it decides (ends).
 * Re-sends happen only on a due Check, which also moves `nextCheckAtMs` on (capped exponential
 * backoff), so a duplicated Check never re-sends twice.
 *
 * Assertions (throw ProtocolAssertionError; the message lands in the DLQ for an operator):
 *   - the input's txId is not this record's, or its participant is not in the transaction
 *     (a misrouted message — we chose to fail loudly rather than drop it silently);
 *   - a vote contradicting the recorded vote while PREPARING (the participant barrier makes
 *     re-votes identical, so this is a broken participant);
 *   - an Ack whose outcome contradicts the durable decision (atomicity is already lost).
 */
export function coordinatorStep(
  record: TxRecord,
  input: CoordinatorInput,
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  assertCoordinatorConfig(config);
  assertTime(nowMs);
  assert(input.txId === record.txId, `input for ${input.txId} delivered to transaction ${record.txId}`);
  switch (input.type) {
    case 'Vote':
      return onVote(record, input, nowMs, config);
    case 'Ack':
      return onAck(record, input, nowMs);
    case 'Check':
      return onCheck(record, nowMs, config);
    case 'OperatorAbort':
      return onOperatorAbort(record, input, nowMs, config);
    default:
      return assertNever(input, 'coordinator input');
  }
}

function onVote(
  record: TxRecord,
  input: VoteMessage,
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  assertParticipant(record, input.participantId);
  // Decided: the vote can change nothing. A YES voter after ABORTING still gets its Abort: it
  // has not acked, so the decision re-sends (on Check) keep reaching it.
  if (record.state !== 'PREPARING') return unchanged(record);

  const recorded = ownEntry(record.votes, input.participantId);
  if (recorded !== undefined) {
    assert(
      recorded.vote === input.vote,
      `participant ${input.participantId} of ${record.txId} voted ${recorded.vote}, now ${input.vote}`,
    );
    // A duplicate, or the message of a vote the participant noted on the record itself: it may be
    // the one that completes the set.
    return judgeVotes(record, nowMs, config, false);
  }
  const votes = { ...record.votes, [input.participantId]: voteEntryOf(input, nowMs) };
  return judgeVotes({ ...record, votes }, nowMs, config, true);
}

/**
 * Decides once the votes on `record` allow it: at or after the deadline → ABORT (prepare timeout;
 * the deadline is strict, whatever arrives then finds the timeout already due); any NO → ABORT;
 * every participant YES → COMMIT (invariant 3). Otherwise writes `record` if it carries a newly
 * recorded vote (`recorded`).
 */
function judgeVotes(
  record: TxRecord,
  nowMs: number,
  config: CoordinatorConfig,
  recorded: boolean,
): CoordinatorStepResult {
  if (nowMs >= record.prepareDeadlineMs) {
    return decide(record, 'ABORT', 'prepare timeout', nowMs, config);
  }
  const no = record.participants.find((p) => ownEntry(record.votes, p.id)?.vote === 'NO');
  if (no !== undefined) {
    const reason = ownEntry(record.votes, no.id)?.reason;
    return decide(
      record,
      'ABORT',
      `participant ${no.id} voted NO${reason ? `: ${reason}` : ''}`,
      nowMs,
      config,
    );
  }
  if (record.participants.every((p) => ownEntry(record.votes, p.id)?.vote === 'YES')) {
    return decide(record, 'COMMIT', null, nowMs, config);
  }
  if (!recorded) return unchanged(record);
  return { state: changed(record, {}, nowMs), effects: [], rejection: null };
}

function onAck(record: TxRecord, input: AckMessage, nowMs: number): CoordinatorStepResult {
  assertParticipant(record, input.participantId);
  const decision = decisionOf(record.state);
  if (decision === null) return unchanged(record); // stale read; the re-sent decision will re-ack
  const expected: Outcome = decision === 'COMMIT' ? 'COMMITTED' : 'ABORTED';
  assert(
    input.outcome === expected,
    `participant ${input.participantId} acked ${input.outcome} but ${record.txId} decided ${decision}`,
  );
  if (isTerminal(record.state)) return unchanged(record); // late ack
  if (ownEntry(record.acks, input.participantId) !== undefined) {
    // A duplicate, or the message of an ack the participant noted on the record itself: it may be
    // the one that completes the set.
    return complete(record, nowMs, false);
  }
  const acks = { ...record.acks, [input.participantId]: ackEntryOf(input, nowMs) };
  return complete({ ...record, acks }, nowMs, true);
}

/**
 * Ends a decided transaction once every participant's ack is on `record`; otherwise writes
 * `record` if it carries a newly recorded ack (`recorded`).
 */
function complete(record: TxRecord, nowMs: number, recorded: boolean): CoordinatorStepResult {
  const expected = outcomeOf(record.state);
  assert(expected !== null && !isTerminal(record.state), `${record.txId} completed from ${record.state}`);
  for (const [participantId, ack] of Object.entries(record.acks)) {
    assert(
      ack.outcome === expected,
      `participant ${participantId} acked ${ack.outcome} but ${record.txId} decided ${decisionOf(record.state)}`,
    );
  }
  const ended = endOf(record, nowMs);
  if (ended === null) {
    if (!recorded) return unchanged(record);
    return { state: changed(record, {}, nowMs), effects: [], rejection: null };
  }
  return {
    state: ended,
    effects: [{ type: 'Terminal', outcome: expected, reason: record.reason }],
    rejection: null,
  };
}

/**
 * A timer or the sweeper fired. Nothing happens before `nextCheckAtMs`; when due:
 *
 *     PREPARING    at/after the deadline: abort (prepare timeout); before it: re-send Prepare to
 *                  the participants that have not voted
 *     COMMITTING / re-send the decision to the participants that have not acked
 *     ABORTING
 *
 * Re-send round n (1, 2, …) moves the next check min(cap, base·2^n) later; before the decision it
 * is also pulled in to the deadline so the timeout fires on time, and a timer is armed for it.
 * After the decision no timer is armed: the sweeper finds the record on the `due` index.
 *
 *   created            round 1        round 2              deadline
 *   ───┼──── base ────────┼──── 2·base ───┼──── 4·base ─ ─ ─ ─┼──▶ abort (prepare timeout)
 *                                                              (next check = min(…, deadline))
 */
function onCheck(record: TxRecord, nowMs: number, config: CoordinatorConfig): CoordinatorStepResult {
  if (isTerminal(record.state)) return unchanged(record);
  assert(record.nextCheckAtMs !== null, `${record.txId} is ${record.state} without a next check`);
  if (nowMs < record.nextCheckAtMs) return unchanged(record); // early or duplicate timer

  switch (record.state) {
    case 'PREPARING': {
      // Votes the participants noted on the record whose messages were lost decide here.
      const judged = judgeVotes(record, nowMs, config, false);
      if (judged.state !== record) return judged;
      const missing = record.participants.filter((p) => ownEntry(record.votes, p.id) === undefined);
      return resend(record, 'SendPrepare', missing, nowMs, config);
    }
    case 'COMMITTING':
    case 'ABORTING': {
      const completed = complete(record, nowMs, false);
      if (completed.state !== record) return completed;
      const missing = record.participants.filter((p) => ownEntry(record.acks, p.id) === undefined);
      return resend(
        record,
        record.state === 'COMMITTING' ? 'SendCommit' : 'SendAbort',
        missing,
        nowMs,
        config,
      );
    }
    default:
      return assertNever(record.state, 'transaction state');
  }
}

function onOperatorAbort(
  record: TxRecord,
  input: OperatorAbortInput,
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  const decision = decisionOf(record.state);
  if (decision !== null) {
    return {
      state: record,
      effects: [],
      rejection: {
        code: 'ALREADY_DECIDED',
        decision,
        message: `transaction ${record.txId} is already decided (${decision}); the decision stands`,
      },
    };
  }
  const reason = input.note ? `aborted by operator: ${input.note}` : 'aborted by operator';
  return decide(record, 'ABORT', reason, nowMs, config);
}

// ─── Transitions ─────────────────────────────────────────────────────────────────────────────

/** Makes the decision, once (invariant 2). `record` may already carry the vote that triggered it. */
function decide(
  record: TxRecord,
  decision: Decision,
  reason: string | null,
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  assert(decisionOf(record.state) === null, `${record.txId} decided twice`);
  assert((decision === 'ABORT') === (reason !== null), 'an abort needs a reason, a commit has none');
  const nextCheckAtMs = firstCheckAfterDecision(record, nowMs, config);
  const state = changed(
    record,
    {
      state: decision === 'COMMIT' ? 'COMMITTING' : 'ABORTING',
      reason,
      decidedAtMs: nowMs,
      resendAttempt: 0,
      nextCheckAtMs,
    },
    nowMs,
  );
  // Abort goes to every participant, voted or not: an Abort that overtakes its Prepare leaves a
  // tombstone at the participant, so the late Prepare votes NO and reserves nothing.
  const send = decision === 'COMMIT' ? 'SendCommit' : 'SendAbort';
  // No timer after the decision: the outcome is final and the client has it; completing it is not
  // urgent, and a timer per transaction would cost a send, a receive, a delete, an invocation and a
  // read for a re-send that is almost never needed. The record stays on the `due` index at
  // `nextCheckAtMs`, so the sweeper re-sends to whoever has not acknowledged.
  const effects: CoordinatorEffect[] = record.participants.map((p) => ({ type: send, participantId: p.id }));
  return { state, effects, rejection: null };
}

/**
 * When the decision's re-sends start: one re-send delay from now — or at the check already pending,
 * when that is between half a delay and a delay away (the usual case: the votes came soon after the
 * creation, whose first check is one delay after it). Keeping it keeps the record's entry on the
 * `due` index (slot, nextCheckAtMs) where it is; moving it costs a delete and an insert there, two
 * write units on every transaction. Either way the first re-send comes within one delay.
 */
function firstCheckAfterDecision(record: TxRecord, nowMs: number, config: CoordinatorConfig): number {
  const delayMs = resendDelayMs(0, config);
  const pending = record.nextCheckAtMs;
  const keep = pending !== null && pending >= nowMs + delayMs / 2 && pending <= nowMs + delayMs;
  return keep ? pending : nowMs + delayMs;
}

function resend(
  record: TxRecord,
  send: 'SendPrepare' | 'SendCommit' | 'SendAbort',
  missing: readonly TxParticipant[],
  nowMs: number,
  config: CoordinatorConfig,
): CoordinatorStepResult {
  const resendAttempt = record.resendAttempt + 1;
  let nextCheckAtMs = nowMs + resendDelayMs(resendAttempt, config);
  if (decisionOf(record.state) === null) nextCheckAtMs = Math.min(nextCheckAtMs, record.prepareDeadlineMs);
  const what = send.slice('Send'.length);
  const event = `re-sent ${what} to ${missing.map((p) => p.id).join(', ')} (round ${resendAttempt})`;
  const state = changed(record, { resendAttempt, nextCheckAtMs }, nowMs, event);
  const effects: CoordinatorEffect[] = missing.map((p) => ({ type: send, participantId: p.id }));
  // Before the decision a timer keeps the prepare deadline on time; after it, the sweeper drives
  // the re-sends (see `decide`).
  if (decisionOf(record.state) === null) effects.push({ type: 'ScheduleCheck', atMs: nextCheckAtMs });
  return { state, effects, rejection: null };
}

// ─── Helpers ─────────────────────────────────────────────────────────────────────────────────

function unchanged(record: TxRecord): CoordinatorStepResult {
  return { state: record, effects: [], rejection: null };
}

/**
 * A durable change: applies `patch` and bumps the version. The timeline's steps are told from the
 * fields (timeline.ts); only an `event` they cannot tell (a re-send) is stored, the newest
 * TIMELINE_MAX kept.
 */
function changed(
  record: TxRecord,
  patch: Partial<Omit<TxRecord, 'version' | 'timeline' | 'timelineDroppedCount'>>,
  nowMs: number,
  event?: string,
): TxRecord {
  if (event === undefined) return { ...record, ...patch, version: record.version + 1 };
  const appended = [...record.timeline, { atMs: nowMs, event }];
  const excess = Math.max(0, appended.length - TIMELINE_MAX);
  const timeline = appended.slice(excess);
  return {
    ...record,
    ...patch,
    version: record.version + 1,
    timeline,
    timelineDroppedCount: record.timelineDroppedCount + excess,
  };
}

function assertParticipant(record: TxRecord, participantId: string): void {
  assert(
    participantOf(record, participantId) !== undefined,
    `participant ${participantId} is not part of transaction ${record.txId}`,
  );
}

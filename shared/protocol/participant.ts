import { assert, assertNever, fail } from './assert';
import type { JsonValue } from './json';
import type { AckMessage, ParticipantMessage, VoteMessage, VoteValue } from './messages';

/**
 * The participant barrier: one item per (txId, participantId), written in the SAME
 * TransactWriteItems as the business change it guards (conditioned on the barrier's previous
 * state, or on its absence). It makes Prepare, Commit and Abort idempotent and order-proof,
 * whatever the business logic is — that logic comes in as a pure `decide` function.
 *
 * Transition table (→ next state, business action, reply). `✗` is a protocol violation:
 * the coordinator only sends Commit after a YES, and never Abort after deciding COMMIT.
 *
 *              │ Prepare                          │ Commit                    │ Abort
 *   ───────────┼──────────────────────────────────┼───────────────────────────┼──────────────────────────
 *   (none)     │ decide ok → PREPARED, reserve,   │ ✗                         │ → ABORTED (tombstone),
 *              │   Vote YES                       │                           │   none, Ack ABORTED
 *              │ decide no → VOTED_NO, none,      │                           │
 *              │   Vote NO (reason)               │                           │
 *   PREPARED   │ same, none, Vote YES             │ → COMMITTED, apply,       │ → ABORTED, release,
 *              │                                  │   Ack COMMITTED           │   Ack ABORTED
 *   VOTED_NO   │ same, none, Vote NO (same reason)│ ✗                         │ → ABORTED, none, Ack ABORTED
 *   COMMITTED  │ same, none, Vote YES             │ same, none, Ack COMMITTED │ ✗
 *   ABORTED    │ same, none, Vote NO              │ ✗                         │ same, none, Ack ABORTED
 *
 * The tombstone, on a timeline (the Abort overtook its Prepare, e.g. after a prepare timeout):
 *
 *   coordinator  ──Prepare─────────────────╮ (slow)      ──Abort──╮
 *   participant                 Abort ◀────┼──────────────────────╯ → ABORTED tombstone, Ack
 *                               Prepare ◀──╯                        → Vote NO, reserves nothing
 *
 * Without the tombstone the late Prepare would reserve funds that no Abort will ever release.
 */

export type BarrierState = 'PREPARED' | 'VOTED_NO' | 'COMMITTED' | 'ABORTED';

/** The barrier item. Plain JSON (given a JSON reservation): stored as a DynamoDB item. */
export interface Barrier<R extends JsonValue = JsonValue> {
  readonly txId: string;
  readonly participantId: string;
  readonly state: BarrierState;
  /** The vote this participant cast; null when the Abort came first (a tombstone). */
  readonly vote: VoteValue | null;
  /** The NO vote's reason; null otherwise. */
  readonly reason: string | null;
  /** What `decide` reserved on YES, kept after commit/release for audit; null if none. */
  readonly reservation: R | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export type DecideResult<R extends JsonValue = JsonValue> =
  | { readonly ok: true; readonly reservation: R }
  | { readonly ok: false; readonly reason: string };

export interface DecideContext {
  readonly txId: string;
  readonly participantId: string;
}

/**
 * The participant's pure business check, run once per transaction on the first Prepare: can it
 * promise to apply `operations`? (Ledger: is the available balance enough? → hold it.) The shell
 * must make the reservation conditional on the data `decide` saw, in the same write as the
 * barrier, so a concurrent change makes the write fail and the Prepare retry.
 */
export type Decide<R extends JsonValue = JsonValue> = (
  operations: readonly JsonValue[],
  context: DecideContext,
) => DecideResult<R>;

/** The business change to apply atomically with the barrier write. */
export type BusinessAction<R extends JsonValue = JsonValue> =
  | { readonly type: 'none' }
  | { readonly type: 'reserve'; readonly reservation: R }
  | { readonly type: 'apply'; readonly reservation: R }
  | { readonly type: 'release'; readonly reservation: R };

export interface ParticipantStepResult<R extends JsonValue = JsonValue> {
  /** The next barrier; the very same object as the input one when nothing changed. */
  readonly barrier: Barrier<R>;
  /** True when `barrier` (and the action) must be written; false for a duplicate. */
  readonly changed: boolean;
  readonly action: BusinessAction<R>;
  /** Send to the coordinator after the write is durable (re-sent for duplicates, too). */
  readonly reply: VoteMessage | AckMessage;
}

export const TOMBSTONE_REASON = 'transaction already aborted';

/**
 * One message to one participant. `barrier` is the item read for (message.txId,
 * message.participantId), or undefined if there is none.
 *
 * CONTRACT WITH THE SHELL: when `changed`, write the barrier (condition: the state read, or
 * attribute_not_exists) together with `action` in one TransactWriteItems; send `reply` only
 * after that succeeds. When not `changed`, write nothing and send `reply` (a duplicate re-sends
 * the same vote or re-acks, since the first reply may have been lost).
 *
 * Throws ProtocolAssertionError on the ✗ cells of the table above and on a barrier that belongs
 * to another (txId, participantId).
 */
export function participantStep<R extends JsonValue>(
  barrier: Barrier<R> | undefined,
  message: ParticipantMessage,
  nowMs: number,
  decide: Decide<R>,
): ParticipantStepResult<R> {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, `nowMs must be a natural number of ms, got ${nowMs}`);
  if (barrier !== undefined) {
    assert(
      barrier.txId === message.txId && barrier.participantId === message.participantId,
      `barrier of ${barrier.txId}/${barrier.participantId} used for ${message.txId}/${message.participantId}`,
    );
  }
  switch (message.type) {
    case 'Prepare':
      return onPrepare(barrier, message.operations, message, nowMs, decide);
    case 'Commit':
      return onCommit(barrier, message, nowMs);
    case 'Abort':
      return onAbort(barrier, message, nowMs);
    default:
      return assertNever(message, 'participant message');
  }
}

function onPrepare<R extends JsonValue>(
  barrier: Barrier<R> | undefined,
  operations: readonly JsonValue[],
  at: DecideContext,
  nowMs: number,
  decide: Decide<R>,
): ParticipantStepResult<R> {
  if (barrier === undefined) {
    const decision = decide(operations, { txId: at.txId, participantId: at.participantId });
    const fresh = { txId: at.txId, participantId: at.participantId, createdAtMs: nowMs, updatedAtMs: nowMs };
    if (decision.ok) {
      const next: Barrier<R> = {
        ...fresh,
        state: 'PREPARED',
        vote: 'YES',
        reason: null,
        reservation: decision.reservation,
      };
      return result(next, true, { type: 'reserve', reservation: decision.reservation }, vote(next));
    }
    const next: Barrier<R> = {
      ...fresh,
      state: 'VOTED_NO',
      vote: 'NO',
      reason: decision.reason,
      reservation: null,
    };
    return result(next, true, NONE, vote(next));
  }
  // A duplicate or late Prepare: re-send the vote already cast, never decide again.
  return result(barrier, false, NONE, vote(barrier));
}

function onCommit<R extends JsonValue>(
  barrier: Barrier<R> | undefined,
  at: DecideContext,
  nowMs: number,
): ParticipantStepResult<R> {
  assert(barrier !== undefined, `Commit for ${at.txId}/${at.participantId}, which never prepared`);
  switch (barrier.state) {
    case 'PREPARED': {
      const reservation = barrier.reservation;
      assert(reservation !== null, `PREPARED barrier ${at.txId}/${at.participantId} without reservation`);
      const next: Barrier<R> = { ...barrier, state: 'COMMITTED', updatedAtMs: nowMs };
      return result(next, true, { type: 'apply', reservation }, ack(next, 'COMMITTED'));
    }
    case 'COMMITTED':
      return result(barrier, false, NONE, ack(barrier, 'COMMITTED'));
    case 'VOTED_NO':
    case 'ABORTED':
      return fail(
        `Commit for ${at.txId}/${at.participantId}, which is ${barrier.state} (only a YES commits)`,
      );
    default:
      return assertNever(barrier.state, 'barrier state');
  }
}

function onAbort<R extends JsonValue>(
  barrier: Barrier<R> | undefined,
  at: DecideContext,
  nowMs: number,
): ParticipantStepResult<R> {
  if (barrier === undefined) {
    const tombstone: Barrier<R> = {
      txId: at.txId,
      participantId: at.participantId,
      state: 'ABORTED',
      vote: null,
      reason: null,
      reservation: null,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    return result(tombstone, true, NONE, ack(tombstone, 'ABORTED'));
  }
  switch (barrier.state) {
    case 'PREPARED': {
      const reservation = barrier.reservation;
      assert(reservation !== null, `PREPARED barrier ${at.txId}/${at.participantId} without reservation`);
      const next: Barrier<R> = { ...barrier, state: 'ABORTED', updatedAtMs: nowMs };
      return result(next, true, { type: 'release', reservation }, ack(next, 'ABORTED'));
    }
    case 'VOTED_NO': {
      const next: Barrier<R> = { ...barrier, state: 'ABORTED', updatedAtMs: nowMs };
      return result(next, true, NONE, ack(next, 'ABORTED'));
    }
    case 'ABORTED':
      return result(barrier, false, NONE, ack(barrier, 'ABORTED'));
    case 'COMMITTED':
      return fail(`Abort for ${at.txId}/${at.participantId}, which already COMMITTED`);
    default:
      return assertNever(barrier.state, 'barrier state');
  }
}

const NONE = { type: 'none' } as const;

function result<R extends JsonValue>(
  barrier: Barrier<R>,
  changed: boolean,
  action: BusinessAction<R>,
  reply: VoteMessage | AckMessage,
): ParticipantStepResult<R> {
  return { barrier, changed, action, reply };
}

/**
 * The vote this barrier stands for. PREPARED and COMMITTED voted YES; VOTED_NO re-sends its NO
 * with the same reason; ABORTED answers NO (with its NO reason if it had one, else
 * TOMBSTONE_REASON). The coordinator has decided ABORT by then and ignores that vote; for a
 * tombstone this is exactly the "late Prepare votes NO and reserves nothing" rule.
 */
function vote<R extends JsonValue>(barrier: Barrier<R>): VoteMessage {
  const base = { type: 'Vote', txId: barrier.txId, participantId: barrier.participantId } as const;
  switch (barrier.state) {
    case 'PREPARED':
    case 'COMMITTED':
      return { ...base, vote: 'YES' };
    case 'VOTED_NO':
      return barrier.reason === null
        ? { ...base, vote: 'NO' }
        : { ...base, vote: 'NO', reason: barrier.reason };
    case 'ABORTED':
      return { ...base, vote: 'NO', reason: barrier.reason ?? TOMBSTONE_REASON };
    default:
      return assertNever(barrier.state, 'barrier state');
  }
}

function ack<R extends JsonValue>(barrier: Barrier<R>, outcome: 'COMMITTED' | 'ABORTED'): AckMessage {
  return { type: 'Ack', txId: barrier.txId, participantId: barrier.participantId, outcome };
}

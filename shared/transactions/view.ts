import type { CommitMode, JsonValue, Outcome, TxRecord, TxState, VoteValue } from '../protocol';
import { outcomeOf, settledState, timelineOf } from '../protocol';
import { ownEntry } from '../protocol/json';

/** What `POST /transfers` and `POST /transactions` answer while the transaction is under way. */
export interface AcceptedView {
  readonly txId: string;
  readonly state: TxState;
  readonly href: string;
}

export interface ParticipantView {
  readonly id: string;
  readonly kind: string;
  readonly operations: readonly JsonValue[];
  readonly vote?: VoteValue;
  readonly voteReason?: string;
  /** The outcome the participant acknowledged having applied. */
  readonly ack?: Outcome;
}

/** What `GET /transactions/{txId}` answers (and a POST, once the transaction is terminal). */
export interface TransactionView {
  readonly txId: string;
  readonly state: TxState;
  readonly mode: CommitMode;
  /** Present once decided: final from then on (state COMMITTING or ABORTING: still being applied). */
  readonly outcome?: Outcome;
  readonly reason?: string;
  readonly participants: readonly ParticipantView[];
  readonly createdAtMs: number;
  readonly decidedAtMs?: number;
  readonly completedAtMs?: number;
  /** Every step, oldest first: told from the record's fields and its stored events (`timelineOf`). */
  readonly timeline: ReadonlyArray<{ readonly atMs: number; readonly event: string }>;
}

export const transactionHref = (txId: string) => `/transactions/${encodeURIComponent(txId)}`;

export function toAcceptedView(record: TxRecord): AcceptedView {
  return { txId: record.txId, state: settledState(record), href: transactionHref(record.txId) };
}

/** The public view of a record: internal bookkeeping (version, slot, timers) stays inside. */
export function toTransactionView(record: TxRecord): TransactionView {
  const participants = record.participants.map((p): ParticipantView => {
    const vote = ownEntry(record.votes, p.id);
    const ack = ownEntry(record.acks, p.id);
    return {
      id: p.id,
      kind: p.kind,
      operations: p.operations,
      ...(vote ? { vote: vote.vote } : {}),
      ...(vote?.reason !== undefined ? { voteReason: vote.reason } : {}),
      ...(ack ? { ack: ack.outcome } : {}),
    };
  });
  // Every participant's ack on the record: the outcome is applied, whether or not the coordinator
  // has written the terminal state yet (see settledState).
  const state = settledState(record);
  const settledAtMs =
    state !== record.state ? Math.max(...Object.values(record.acks).map((a) => a.atMs)) : null;
  const completedAtMs = record.completedAtMs ?? settledAtMs;
  return {
    txId: record.txId,
    state,
    mode: record.mode,
    ...(outcomeOf(record.state) !== null ? { outcome: outcomeOf(record.state) as Outcome } : {}),
    ...(record.reason !== null ? { reason: record.reason } : {}),
    participants,
    createdAtMs: record.createdAtMs,
    ...(record.decidedAtMs !== null ? { decidedAtMs: record.decidedAtMs } : {}),
    ...(completedAtMs !== null ? { completedAtMs } : {}),
    timeline: timelineOf(record),
  };
}

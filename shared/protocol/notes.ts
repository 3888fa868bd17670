import { ackEntryOf, voteEntryOf } from './entries';
import { ownEntry } from './json';
import type { ParticipantReply } from './messages';
import { type AckEntry, isTerminal, outcomeOf, type TxRecord, type TxState, type VoteEntry } from './record';

/**
 * A participant's vote or ack, written by the participant itself onto the transaction record, right
 * after its barrier write (a plain conditional update of the record, which returns the record as it
 * left it). What the participant then does depends on that record (`afterNote`):
 *   - a vote: its Vote message is sent only when the noted record holds every vote (or the vote is
 *     NO). Updates of one item are serialised, so exactly one participant's note completes the set:
 *     that participant sends the one Vote message the coordinator decides on, the others send none;
 *   - an ack: no Ack message. The participant whose note completes the set ends the transaction
 *     itself (`endOf`: a terminal state is a function of the decision and the acks, no choice is
 *     made), conditioned on the version its note left; if that write loses a race, whoever changed
 *     the record ended it or will (the coordinator's check finds every ack and ends it).
 * When the note is refused (the transaction was decided, say by timeout, or has ended) or the store
 * cannot reach the record, the reply is sent as a message, exactly as without notes; so is the
 * reply to a duplicate (the barrier already holds it: the note may have been lost with a crash).
 *
 * A note is a fact, not a decision: only the coordinator decides (fenced), and it re-checks the
 * deadline when it does. The note is conditioned so it can never contradict the record:
 *   - a vote only while PREPARING and not yet recorded for that participant;
 *   - an ack only while the decision it acknowledges stands (COMMITTING for COMMITTED, ABORTING
 *     for ABORTED) and not yet recorded.
 * It follows the barrier write, so it never says more than the barrier does. Every note bumps the
 * record's version, so a coordinator write computed before it fails its version check and re-reads.
 *
 * Why a separate write and not one more item of the barrier's TransactWriteItems (as before): a
 * transactional item costs twice a plain write's units, and only a plain update can return the record
 * — which is what lets all but one Vote message, every Ack message, and the coordinator's own end
 * write (a fenced TransactWriteItems) go.
 */
export interface RecordNote {
  readonly txId: string;
  readonly participantId: string;
  readonly reply: ParticipantReply;
  readonly atMs: number;
}

export function noteOf(reply: ParticipantReply, atMs: number): RecordNote {
  return { txId: reply.txId, participantId: reply.participantId, reply, atMs };
}

/** What a note writes: the entry, under `votes` or `acks`, and the state that must hold. */
export function noteEntry(
  note: RecordNote,
):
  | { readonly field: 'votes'; readonly entry: VoteEntry; readonly requires: TxState }
  | { readonly field: 'acks'; readonly entry: AckEntry; readonly requires: TxState } {
  const { reply, atMs } = note;
  if (reply.type === 'Vote')
    return { field: 'votes', entry: voteEntryOf(reply, atMs), requires: 'PREPARING' };
  const requires: TxState = reply.outcome === 'COMMITTED' ? 'COMMITTING' : 'ABORTING';
  return { field: 'acks', entry: ackEntryOf(reply, atMs), requires };
}

/**
 * The record with `note` applied, or null when its condition refuses it (see RecordNote). Like the
 * DynamoDB update: the entry is set and the version goes up by one. The timeline tells the vote or
 * ack from its entry (timeline.ts): nothing else is written.
 */
export function applyNote(record: TxRecord, note: RecordNote): TxRecord | null {
  if (record.txId !== note.txId) return null;
  const { field, entry, requires } = noteEntry(note);
  const entries: { readonly [participantId: string]: unknown } = record[field];
  if (record.state !== requires || ownEntry(entries, note.participantId) !== undefined) return null;
  return {
    ...record,
    [field]: { ...entries, [note.participantId]: entry },
    version: record.version + 1,
  };
}

/** Whether every participant of `record` has an entry in `field`. */
function everyone(record: TxRecord, field: 'votes' | 'acks'): boolean {
  const entries: { readonly [participantId: string]: unknown } = record[field];
  return record.participants.every((p) => ownEntry(entries, p.id) !== undefined);
}

/**
 * The decided record ended: every participant acknowledged the decision, so it moves to the
 * outcome (COMMITTING → COMMITTED, ABORTING → ABORTED), completed now, with no further check; null
 * while an ack is missing (or when the record is undecided or ended). The coordinator's step ends a
 * record with it (step.ts), and so does the participant whose ack note completed the set.
 */
export function endOf(record: TxRecord, nowMs: number): TxRecord | null {
  const outcome = outcomeOf(record.state);
  if (outcome === null || isTerminal(record.state) || !everyone(record, 'acks')) return null;
  return {
    ...record,
    state: outcome,
    completedAtMs: nowMs,
    nextCheckAtMs: null,
    version: record.version + 1,
  };
}

/** What a participant does once its note landed and left `noted` (see RecordNote). */
export interface AfterNote {
  /** Send the reply as a message: a vote that completed the set, or a NO. */
  readonly send: boolean;
  /** The record to end, when the participant's ack completed the set (endOf); else null. */
  readonly end: TxRecord | null;
}

export function afterNote(noted: TxRecord, note: RecordNote): AfterNote {
  const { reply } = note;
  if (reply.type === 'Vote') return { send: reply.vote === 'NO' || everyone(noted, 'votes'), end: null };
  return { send: false, end: endOf(noted, note.atMs) };
}

/**
 * The state as the client sees it: a decided transaction every participant has acknowledged is
 * COMMITTED (or ABORTED) as soon as the last ack is on the record — the write of the terminal state
 * (endOf) may come a little later.
 */
export function settledState(record: TxRecord): TxState {
  if (record.state !== 'COMMITTING' && record.state !== 'ABORTING') return record.state;
  const outcome = outcomeOf(record.state);
  const settled = record.participants.every((p) => ownEntry(record.acks, p.id)?.outcome === outcome);
  return settled && outcome !== null ? outcome : record.state;
}

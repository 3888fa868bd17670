import { ackEntryOf, voteEntryOf } from './entries';
import { ownEntry } from './json';
import type { ParticipantReply } from './messages';
import { type AckEntry, outcomeOf, type TxRecord, type TxState, type VoteEntry } from './record';

/**
 * A participant's vote or ack, written by the participant itself onto the transaction record, in
 * the SAME atomic write as its barrier (one more item in its TransactWriteItems: no extra request).
 * The Vote/Ack message still follows; whichever of the coordinator's steps first finds the set
 * complete on the record decides (or ends the transaction). So the first vote message to arrive
 * usually finds every vote already there and decides at once, instead of the slot's FIFO group
 * handing the coordinator one vote per step; and the client sees the outcome applied as soon as
 * the last participant's commit write lands (`settledState`).
 *
 * A note is a fact, not a decision: only the coordinator decides (fenced), and it re-checks the
 * deadline when it does. The note is conditioned so it can never contradict the record:
 *   - a vote only while PREPARING and not yet recorded for that participant;
 *   - an ack only while the decision it acknowledges stands (COMMITTING for COMMITTED, ABORTING
 *     for ABORTED) and not yet recorded.
 * When the condition refuses (the transaction was decided, say by timeout, or has ended), the
 * participant writes its barrier without the note, exactly as without notes. Every note bumps the
 * record's version, so a coordinator write computed before it fails its version check and re-reads.
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

/**
 * The state as the client sees it: a decided transaction every participant has acknowledged is
 * COMMITTED (or ABORTED) as soon as the last ack is on the record — the coordinator's step that
 * writes the terminal state is bookkeeping that may come a little later.
 */
export function settledState(record: TxRecord): TxState {
  if (record.state !== 'COMMITTING' && record.state !== 'ABORTING') return record.state;
  const outcome = outcomeOf(record.state);
  const settled = record.participants.every((p) => ownEntry(record.acks, p.id)?.outcome === outcome);
  return settled && outcome !== null ? outcome : record.state;
}

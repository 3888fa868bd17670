import type { AckMessage, VoteMessage } from './messages';
import type { AckEntry, VoteEntry } from './record';

/*
 * How a vote or an ack is recorded on the transaction record: the same entry whether the
 * coordinator's step records it (step.ts) or its participant notes it (notes.ts); and the timeline
 * event it is told as (timeline.ts).
 */

/** The entry a vote is recorded as (by the coordinator, or noted by its participant). */
export function voteEntryOf(vote: VoteMessage, atMs: number): VoteEntry {
  return vote.reason === undefined
    ? { vote: vote.vote, atMs }
    : { vote: vote.vote, reason: vote.reason, atMs };
}

export function ackEntryOf(ack: AckMessage, atMs: number): AckEntry {
  return { outcome: ack.outcome, atMs };
}

export function voteEvent(participantId: string, entry: VoteEntry): string {
  return `vote ${entry.vote} from ${participantId}${entry.reason ? `: ${entry.reason}` : ''}`;
}

export function ackEvent(participantId: string, entry: AckEntry): string {
  return `ack ${entry.outcome} from ${participantId}`;
}

import { ackEvent, voteEvent } from './entries';
import { ownEntry } from './json';
import { isTerminal, type TimelineEntry, type TxRecord } from './record';

/**
 * A transaction's timeline, told from its record. Most of it is in the record's fields already —
 * when it was created, each vote and ack with its time, the decision with its reason and time, the
 * end — so the record stores only what they cannot tell (`TxRecord.timeline`: the re-sends) and
 * this puts the two together, oldest first:
 *
 *     created · begin: Prepare sent to N participant(s)   createdAtMs (two-phase)
 *     committed in one phase | aborted in one phase: …     createdAtMs (one-phase)
 *     vote YES from ledger-0 · vote NO from ledger-1: …    votes[p].atMs
 *     re-sent Prepare to ledger-1 (round 1)                stored
 *     decision COMMIT (slot 3, epoch 17) | decision ABORT: …   decidedAtMs
 *     ack COMMITTED from ledger-0                          acks[p].atMs
 *     COMMITTED | ABORTED                                  completedAtMs (two-phase)
 *
 * Entries of one instant keep that order (a vote before the decision it completed). Pure: the API,
 * the console and the operator's CLI show the same steps.
 */
export function timelineOf(record: TxRecord): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ atMs: record.createdAtMs, event: 'created' }];
  if (record.mode === 'one-phase') {
    const event =
      record.reason === null ? 'committed in one phase' : `aborted in one phase: ${record.reason}`;
    entries.push({ atMs: record.decidedAtMs ?? record.createdAtMs, event });
    entries.push(...storedEvents(record));
    return byTime(entries);
  }
  const begin = `begin: Prepare sent to ${record.participants.length} participant(s)`;
  entries.push({ atMs: record.createdAtMs, event: begin });
  for (const p of record.participants) {
    const vote = ownEntry(record.votes, p.id);
    if (vote !== undefined) entries.push({ atMs: vote.atMs, event: voteEvent(p.id, vote) });
  }
  entries.push(...storedEvents(record));
  if (record.decidedAtMs !== null) {
    entries.push({ atMs: record.decidedAtMs, event: decisionEvent(record) });
  }
  for (const p of record.participants) {
    const ack = ownEntry(record.acks, p.id);
    if (ack !== undefined) entries.push({ atMs: ack.atMs, event: ackEvent(p.id, ack) });
  }
  if (isTerminal(record.state) && record.completedAtMs !== null) {
    entries.push({ atMs: record.completedAtMs, event: record.state });
  }
  return byTime(entries);
}

/** `decision COMMIT`, `decision ABORT: <reason>`, with the fence it was written under if known. */
function decisionEvent(record: TxRecord): string {
  const what = record.reason === null ? 'decision COMMIT' : `decision ABORT: ${record.reason}`;
  return record.decidedEpoch === undefined
    ? what
    : `${what} (slot ${record.slot}, epoch ${record.decidedEpoch})`;
}

/**
 * What only the stored events tell. Records written before the timeline was derived stored every
 * event; the ones the fields tell are left out here, so that such a record shows each step once.
 */
function storedEvents(record: TxRecord): TimelineEntry[] {
  return record.timeline.filter((entry) => !DERIVED.test(entry.event));
}

const DERIVED =
  /^(created|COMMITTED|ABORTED|committed in one phase|aborted in one phase: |begin: |vote (YES|NO) from |decision (COMMIT|ABORT)|ack (COMMITTED|ABORTED) from )/;

/** Oldest first; entries of one instant in the order they were listed (Array.sort is stable). */
function byTime(entries: TimelineEntry[]): TimelineEntry[] {
  return entries.sort((a, b) => a.atMs - b.atMs);
}

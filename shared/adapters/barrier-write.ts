import type { ParticipantBarrier } from '../participant';
import { assert, type RecordNote } from '../protocol';

/**
 * What every ParticipantStore asserts before a write: the barrier it replaces and the note written
 * with it are of the same transaction and participant as the barrier written.
 */
export function assertOneBarrier(
  prev: ParticipantBarrier | undefined,
  next: ParticipantBarrier,
  note: RecordNote | undefined,
): void {
  const where = `${next.txId}/${next.participantId}`;
  if (prev !== undefined) {
    assert(
      prev.txId === next.txId && prev.participantId === next.participantId,
      `prev barrier ${prev.txId}/${prev.participantId} written as ${where}`,
    );
  }
  if (note !== undefined) {
    assert(
      note.txId === next.txId && note.participantId === next.participantId,
      `note of ${note.txId}/${note.participantId} written with the barrier of ${where}`,
    );
  }
}

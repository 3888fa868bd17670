import type { ParticipantBarrier } from '../participant';
import { assert } from '../protocol';

/**
 * What every ParticipantStore asserts before a write: the barrier it replaces is of the same
 * transaction and participant as the barrier written.
 */
export function assertOneBarrier(prev: ParticipantBarrier | undefined, next: ParticipantBarrier): void {
  const where = `${next.txId}/${next.participantId}`;
  if (prev !== undefined) {
    assert(
      prev.txId === next.txId && prev.participantId === next.participantId,
      `prev barrier ${prev.txId}/${prev.participantId} written as ${where}`,
    );
  }
}

import type { Barrier, BusinessAction, RecordNote } from '../protocol';
import type { Reservation } from './operations';

export type ParticipantBarrier = Barrier<Reservation>;
export type ParticipantAction = BusinessAction<Reservation>;

/**
 * The result of a ParticipantStore write, as data:
 * - `ok`: the barrier and the business change are durable, together;
 * - `barrier-conflict`: the write lost a race and changed nothing — someone else wrote the barrier
 *   first (or, rarely, an entity changed between the evaluation and the explanation): re-load the
 *   barrier and re-step;
 * - `rejected`: a business condition of a `reserve` failed (not enough available, unknown entity);
 *   nothing was written. `reason` is for the NO vote.
 * - `note-refused`: the note's condition on the transaction record failed (see RecordNote: the
 *   transaction was decided or ended meanwhile); nothing was written. Write again without the note.
 * Contention (another transaction held one of the items, or a throttle) throws ContentionError:
 * nothing was written or judged, retry after a backoff. Other infrastructure failures throw
 * InfrastructureError; a broken invariant (an `apply` or `release` whose hold is gone) throws
 * ProtocolAssertionError.
 */
export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'barrier-conflict' }
  | { readonly ok: false; readonly kind: 'rejected'; readonly reason: string }
  | { readonly ok: false; readonly kind: 'note-refused' };

/** Where a participant's barrier items and its entities live (one table). */
export interface ParticipantStore {
  loadBarrier(txId: string, participantId: string): Promise<ParticipantBarrier | undefined>;
  /**
   * Atomically: writes `next` (conditioned on the stored barrier still being in `prev.state`, or
   * absent when `prev` is undefined) and performs `action` on the entities.
   *
   * Conditioning on the state alone is enough: barrier states never repeat (PREPARED/VOTED_NO →
   * COMMITTED/ABORTED, terminal states never change), so there is no ABA.
   *
   * With `note`, a store that can reach the coordinator's transaction record in the same atomic
   * write also applies the note there (conditioned as RecordNote says); a store that cannot
   * ignores it — the Vote/Ack message alone is enough for the protocol, the note only saves time.
   * Precedence when several conditions fail: barrier-conflict, then rejected, then note-refused.
   */
  write(
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
    note?: RecordNote,
  ): Promise<WriteOutcome>;
}

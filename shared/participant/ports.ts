import type { Barrier, BusinessAction, RecordNote, TxRecord } from '../protocol';
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
 * Contention (another transaction held one of the items, or a throttle) throws ContentionError:
 * nothing was written or judged, retry after a backoff. Other infrastructure failures throw
 * InfrastructureError; a broken invariant (an `apply` or `release` whose hold is gone) throws
 * ProtocolAssertionError.
 */
export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'barrier-conflict' }
  | { readonly ok: false; readonly kind: 'rejected'; readonly reason: string };

/** Where a participant's barrier items and its entities live (one table). */
export interface ParticipantStore {
  loadBarrier(txId: string, participantId: string): Promise<ParticipantBarrier | undefined>;
  /**
   * Atomically: writes `next` (conditioned on the stored barrier still being in `prev.state`, or
   * absent when `prev` is undefined) and performs `action` on the entities.
   *
   * Conditioning on the state alone is enough: barrier states never repeat (PREPARED/VOTED_NO →
   * COMMITTED/ABORTED, terminal states never change), so there is no ABA.
   */
  write(
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
  ): Promise<WriteOutcome>;
  /**
   * Notes the participant's reply on the coordinator's transaction record, after its barrier write
   * (RecordNote: a conditional update of the record): the record as the note left it, or null when
   * the note's condition refused it. A store that cannot reach the Transactions table leaves this
   * out (or returns null): the replies then all go as messages, which is enough for the protocol.
   */
  note?(note: RecordNote): Promise<TxRecord | null>;
  /**
   * Writes `ended` — `endOf` of the record a note returned — if the stored record is still at the
   * version before it; false when the record moved on (whoever moved it ends it, or the
   * coordinator's next check does).
   */
  end?(ended: TxRecord): Promise<boolean>;
}

/**
 * The participant side of 2PC: the async shell around the pure barrier core
 * (shared/protocol/participant.ts), its store port, and the participant kinds of the entity shape.
 * Adapters: shared/adapters/dynamo-participant-store.ts and memory-participant-store.ts.
 */
export { entityParticipantKind, INVENTORY, LEDGER, type ParticipantKind } from './kinds';
export {
  canReserve,
  ENTITY_NOUNS,
  type EntityKind,
  OPERATIONS_MAX,
  parseReservation,
  type Reservation,
  type ReservedOp,
  rejectionReason,
} from './operations';
export type { ParticipantAction, ParticipantBarrier, ParticipantStore, WriteOutcome } from './ports';
export {
  handleParticipantMessage,
  MalformedParticipantMessageError,
  type ParticipantDeps,
  type ParticipantOutcome,
  parseParticipantMessage,
  REASON_LENGTH_MAX,
  type ReplySender,
  WRITE_ATTEMPTS_MAX,
} from './shell';

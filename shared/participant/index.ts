/**
 * The participant side of 2PC: the async shell around the pure barrier core
 * (shared/protocol/participant.ts), its store port, participant definitions (the SDK: sdk.ts) and
 * counters. Adapters: shared/adapters/dynamo-participant-store.ts and memory-participant-store.ts.
 */
export {
  canReserve,
  counterOpOf,
  counterParticipant,
  counterWrite,
  rejectionReason,
} from './counter';
export type { CounterSpec } from './counter-spec';
export {
  defineParticipant,
  type OperationContext,
  type ParticipantDefinition,
  type TransactItem,
  type Write,
} from './definition';
export { type ParticipantKind, participantKind } from './kinds';
export { OPERATIONS_MAX, type Reservation, type ReservedOp } from './operations';
export type { ParticipantAction, ParticipantBarrier, ParticipantStore, WriteOutcome } from './ports';
export {
  handleParticipantMessage,
  MalformedParticipantMessageError,
  type ParticipantDeps,
  parseParticipantMessage,
  REASON_LENGTH_MAX,
  type ReplySender,
  WRITE_ATTEMPTS_MAX,
} from './shell';

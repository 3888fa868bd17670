/**
 * Tandem's protocol core: pure state machines for the 2PC coordinator, the participant barrier
 * and the leader-slot lease. No AWS, no clock, no I/O — the async shells drive these functions,
 * persist what they return, and only then perform the effects.
 *
 * The coordinator is five files: `record.ts` (the record and its queries), `step.ts` (the rules:
 * votes, acks, checks, the decision), `notes.ts` (the participants' notes on the record, an
 * optimisation beside the rules), `one-phase.ts` (the record of a one-phase commit) and
 * `timeline.ts` (the timeline, told from the record's fields).
 * INVARIANTS.md says where each of the design's invariants is asserted and tested.
 */
export { assert, assertNever, ProtocolAssertionError } from './assert';
export { bucketOf, fnv1a32 } from './hash';
export type { JsonValue } from './json';
export { canonicalJson } from './json';
export {
  type AcquirePlan,
  type LeaseConfig,
  mayAct,
  planAcquire,
  type SlotRow,
  shouldRenew,
  slotOf,
} from './lease';
export type {
  AckMessage,
  Outcome,
  ParticipantMessage,
  ParticipantReply,
  VoteMessage,
  VoteValue,
} from './messages';
export {
  afterNote,
  applyNote,
  endOf,
  noteEntry,
  noteOf,
  type RecordNote,
  settledState,
} from './notes';
export { onePhaseRecord } from './one-phase';
export {
  type Barrier,
  type BarrierState,
  type BusinessAction,
  type Decide,
  type ParticipantStepResult,
  participantStep,
  TOMBSTONE_REASON,
} from './participant';
export * from './record';
export {
  type CheckInput,
  type CoordinatorEffect,
  type CoordinatorInput,
  coordinatorStep,
  type OperatorAbortInput,
  participantMessageOf,
  type Rejection,
  startTransaction,
} from './step';
export { timelineOf } from './timeline';

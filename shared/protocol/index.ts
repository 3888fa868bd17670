/**
 * Tandem's protocol core: pure state machines for the 2PC coordinator, the participant barrier
 * and the leader-slot lease. No AWS, no clock, no I/O — the async shells drive these functions,
 * persist what they return, and only then perform the effects.
 */
export { assert, ProtocolAssertionError } from './assert';
export {
  type AckEntry,
  applyNote,
  assertCoordinatorConfig,
  type BeginInput,
  type CheckInput,
  type CommitMode,
  type CoordinatorConfig,
  type CoordinatorEffect,
  type CoordinatorInput,
  type CoordinatorStepResult,
  coordinatorStep,
  type Decision,
  decisionOf,
  isTerminal,
  type NewTransaction,
  newTransaction,
  noteEntry,
  noteOf,
  type OnePhaseOutcome,
  type OperatorAbortInput,
  onePhaseRecord,
  outcomeOf,
  PARTICIPANTS_MAX,
  participantMessageOf,
  participantOf,
  type RecordNote,
  type Rejection,
  resendDelayMs,
  settledState,
  TIMELINE_MAX,
  type TimelineEntry,
  type TxParticipant,
  type TxRecord,
  type TxState,
  type VoteEntry,
} from './coordinator';
export { bucketOf, fnv1a32 } from './hash';
export type { JsonPrimitive, JsonValue } from './json';
export { canonicalJson } from './json';
export {
  type AcquirePlan,
  assertLeaseConfig,
  type LeaseCondition,
  type LeaseConfig,
  mayAct,
  planAcquire,
  type SlotRow,
  shouldRenew,
  slotOf,
} from './lease';
export type {
  AbortMessage,
  AckMessage,
  CommitMessage,
  Outcome,
  ParticipantMessage,
  ParticipantReply,
  PrepareMessage,
  VoteMessage,
  VoteValue,
} from './messages';
export {
  type Barrier,
  type BarrierState,
  type BusinessAction,
  type Decide,
  type DecideContext,
  type DecideResult,
  type ParticipantStepResult,
  participantStep,
  TOMBSTONE_REASON,
} from './participant';

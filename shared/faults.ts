/**
 * Fault injection for crash-recovery tests and the chaos workload. Off unless the deployment sets
 * TANDEM_FAULTS (from the deploy-time context `faults`, which the default synth never sets).
 *
 * - A crash point throws InjectedCrashError at a named place in a handler, as if the Lambda died
 *   there: everything before it is durable, nothing after it happened, and SQS redelivers.
 * - A drop point makes a handler skip one send, as if the message were lost for good.
 */
export const CRASH_POINTS = [
  /** Coordinator: a new record is durable, no message that follows from it was sent. */
  'coordinator.after-save',
  /** Coordinator: the decision (COMMIT or ABORT) is durable, no Commit/Abort was sent. */
  'coordinator.after-decision',
  /** Participant: barrier and business change are durable, the reply was not sent. */
  'participant.after-write',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const DROP_POINTS = [
  /** Participant: the Vote is never sent (so the coordinator must time out and presume abort). */
  'participant.vote',
] as const;
export type DropPoint = (typeof DROP_POINTS)[number];

export class InjectedCrashError extends Error {
  override readonly name = 'InjectedCrashError';
  constructor(
    readonly point: CrashPoint,
    readonly txId: string,
  ) {
    super(`injected crash at ${point} (transaction ${txId})`);
  }
}

export interface Faults {
  /** Throws InjectedCrashError when a crash is due at `point` for this transaction. */
  crashPoint(point: CrashPoint, txId: string): void;
  /** True when the send at `point` for this transaction must be skipped. */
  drop(point: DropPoint, txId: string): boolean;
}

export const NO_FAULTS: Faults = {
  crashPoint: () => {},
  drop: () => false,
};

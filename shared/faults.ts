/**
 * Fault injection for crash-recovery tests and the chaos workload. Off unless the deployment has a
 * Faults table (FAULTS_TABLE, from the deploy-time context `faults`, which the default synth never
 * sets); then a test arms faults per transaction (see DynamoFaultSource).
 *
 * - A crash point throws InjectedCrashError at a named place in a handler, as if the Lambda died
 *   there: everything before it is durable, nothing after it happened, and SQS redelivers.
 * - A drop point makes a handler skip one send, as if the message were lost for good.
 * - `duplicate` makes every message a handler sends for the transaction go out twice, as if SQS
 *   delivered it twice (at-least-once delivery).
 * - A conflict point cancels a handler's `TransactWriteItems` the way DynamoDB does when another
 *   transaction holds one of its items (`TransactionConflict`): nothing is written, and the
 *   adapter and the shell handle it as they would on AWS (see shared/adapters/dynamo-conflicts.ts).
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
  /**
   * Participant: the vote never reaches the coordinator — neither its message nor its note on the
   * record — so the coordinator must time out and presume abort.
   */
  'participant.vote',
] as const;
export type DropPoint = (typeof DROP_POINTS)[number];

export const CONFLICT_POINTS = [
  /** Coordinator: its save, the TransactWriteItems of the transaction record and the slot's fence. */
  'coordinator.save',
  /** Participant: its barrier TransactWriteItems (barrier, business change, note on the record). */
  'participant.write',
] as const;
export type ConflictPoint = (typeof CONFLICT_POINTS)[number];

/**
 * Most conflicts a plan may ask for at one point. More than one delivery's backoff waits out
 * (CONTENTION_BACKOFF: 10), so a plan can also make a handler give up and leave it to redelivery.
 */
export const CONFLICTS_MAX = 20;

/** What a fault plan can ask for, per transaction. */
export interface FaultPlan {
  readonly crash?: readonly CrashPoint[];
  readonly drop?: readonly DropPoint[];
  readonly duplicate?: boolean;
  /**
   * Per conflict point, how many of the transaction's writes there are cancelled with
   * `TransactionConflict`: the first n of the whole transaction (all deliveries, all participants),
   * each claimed on the plan item's `hits.conflict.<point>` (1 to CONFLICTS_MAX).
   */
  readonly conflict?: Readonly<Partial<Record<ConflictPoint, number>>>;
}

/**
 * The name of a fault that actually fired, as counted on the plan item (`hits.<name>`): a crash
 * or drop point, `conflict.<point>` for a cancelled write, or `duplicate.<message type>` for a
 * message sent twice.
 */
export type FaultHit = CrashPoint | DropPoint | ConflictHit | `duplicate.${string}`;
export type ConflictHit = `conflict.${ConflictPoint}`;

export const conflictHit = (point: ConflictPoint): ConflictHit => `conflict.${point}`;

/** The plan item attribute that counts the injections of `hit` (a name with dots, not a path). */
export const hitAttribute = (hit: FaultHit) => `hits.${hit}`;

export class InjectedCrashError extends Error {
  override readonly name = 'InjectedCrashError';
  constructor(
    readonly point: CrashPoint,
    readonly txId: string,
  ) {
    super(`injected crash at ${point} (transaction ${txId})`);
  }
}

/** A fault plan that asks for something no handler can do (a conflict count out of range). */
export class FaultPlanError extends Error {
  override readonly name = 'FaultPlanError';
}

/** A valid number of conflicts at one point (an integer from 1 to CONFLICTS_MAX), or undefined. */
export function conflictCountOf(value: unknown): number | undefined {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= CONFLICTS_MAX
    ? (value as number)
    : undefined;
}

/** Throws FaultPlanError naming every conflict count of `plan` that is not a valid count. */
export function checkFaultPlan(plan: FaultPlan): void {
  const bad = Object.entries(plan.conflict ?? {})
    .filter(([, n]) => conflictCountOf(n) === undefined)
    .map(([point, n]) => `conflict at ${point}: ${JSON.stringify(n)}`);
  if (bad.length > 0) {
    throw new FaultPlanError(
      `a conflict count must be an integer from 1 to ${CONFLICTS_MAX} (${bad.join('; ')})`,
    );
  }
}

export interface Faults {
  /** Throws InjectedCrashError when a crash is due at `point` for this transaction. */
  crashPoint(point: CrashPoint, txId: string): void;
  /** True when the send at `point` for this transaction must be skipped. */
  drop(point: DropPoint, txId: string): boolean;
  /** True when every message sent for this transaction must be sent twice. */
  readonly duplicate?: boolean;
}

export const NO_FAULTS: Faults = {
  crashPoint: () => {},
  drop: () => false,
};

/**
 * The faults a plan asks for while handling one delivery of a message of `txId`. Crash points fire
 * on the first delivery only (`receiveCount <= 1`: the redelivery then succeeds, like a Lambda that
 * died once); drop points fire every time. `onHit` hears of every fault that fires.
 */
export function plannedFaults(
  txId: string,
  receiveCount: number,
  plan: FaultPlan,
  onHit: (hit: FaultHit) => void = () => {},
): Faults {
  const crash = new Set(plan.crash ?? []);
  const drop = new Set(plan.drop ?? []);
  return {
    crashPoint: (point, forTx) => {
      if (forTx !== txId || receiveCount > 1 || !crash.has(point)) return;
      onHit(point);
      throw new InjectedCrashError(point, txId);
    },
    drop: (point, forTx) => {
      if (forTx !== txId || !drop.has(point)) return false;
      onHit(point);
      return true;
    },
    duplicate: plan.duplicate === true,
  };
}

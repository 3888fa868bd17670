import { assert, assertNever, assertTime } from './assert';
import type { JsonValue } from './json';
import type { Outcome, VoteValue } from './messages';

/**
 * The coordinator's durable record of one transaction, and the queries on it. The rules that move
 * it are in `step.ts`; the participants' notes on it in `notes.ts`; the one-phase record in
 * `one-phase.ts`.
 *
 * States (presumed abort: anything undecided that times out aborts):
 *
 *     created ──▶ PREPARING ──all YES──▶ COMMITTING ──all acks──▶ COMMITTED
 *                   │
 *                   │ first NO · prepare timeout · operator abort
 *                   ▼
 *               ABORTING ──all acks──▶ ABORTED
 *
 * A two-phase record is born PREPARING: the API writes it and sends Prepare itself
 * (`startTransaction` in `step.ts`). The decision is the move out of PREPARING. Once durable it is
 * only ever re-sent, never changed (invariant 2).
 */

export type TxState = 'PREPARING' | 'COMMITTING' | 'COMMITTED' | 'ABORTING' | 'ABORTED';
export type Decision = 'COMMIT' | 'ABORT';

/**
 * How the transaction is driven:
 * - `two-phase`: the API sends the first Prepares, the coordinator decides and completes (`step.ts`);
 * - `one-phase`: every operation lives in tables one TransactWriteItems can reach, so the API
 *   wrote the record and all the operations in ONE atomic write (see `onePhaseRecord`). Such a
 *   record is born terminal: no message is ever sent for it and every input leaves it unchanged.
 */
export type CommitMode = 'two-phase' | 'one-phase';

export interface TxParticipant {
  /** Unique within the transaction, e.g. `ledger-0`; also the key of `votes` and `acks`. */
  readonly id: string;
  /** Which participant service handles it, e.g. `ledger`, `inventory`. */
  readonly kind: string;
  /** Opaque to the coordinator; sent verbatim in Prepare. */
  readonly operations: readonly JsonValue[];
}

export interface VoteEntry {
  readonly vote: VoteValue;
  /** Only present on a NO vote that gave one. */
  readonly reason?: string;
  readonly atMs: number;
}

export interface AckEntry {
  readonly outcome: Outcome;
  readonly atMs: number;
}

export interface TimelineEntry {
  readonly atMs: number;
  readonly event: string;
}

/** The durable coordinator record of one transaction. Plain JSON: stored as a DynamoDB item. */
export interface TxRecord {
  readonly txId: string;
  readonly slot: number;
  /** +1 on every durable change; the shell conditions its write on the version it read. */
  readonly version: number;
  readonly mode: CommitMode;
  readonly state: TxState;
  readonly participants: readonly TxParticipant[];
  readonly votes: { readonly [participantId: string]: VoteEntry };
  readonly acks: { readonly [participantId: string]: AckEntry };
  /** Why it aborted (e.g. `participant ledger-1 voted NO: insufficient funds`); null otherwise. */
  readonly reason: string | null;
  readonly createdAtMs: number;
  /** Undecided at or after this instant means abort (`prepare timeout`). */
  readonly prepareDeadlineMs: number;
  readonly decidedAtMs: number | null;
  readonly completedAtMs: number | null;
  /** When a timer or the sweeper must look at the record again; null once terminal. */
  readonly nextCheckAtMs: number | null;
  /** Re-send rounds in the current phase (Prepare before the decision, the decision after). */
  readonly resendAttempt: number;
  /**
   * The slot lease epoch the decision was written under (the shell's fence, which only it knows):
   * an operator can tell which lease holder decided. Absent before the decision, on a one-phase
   * record, and on records written before it existed.
   */
  readonly decidedEpoch?: number;
  /**
   * The events the other fields cannot tell (the re-sends), newest TIMELINE_MAX. The rest of the
   * timeline — created, votes, decision, acks, end — is told from the fields (`timelineOf` in
   * timeline.ts), not stored: the record is rewritten several times per transaction, and a write
   * costs a unit per started kilobyte of it.
   */
  readonly timeline: readonly TimelineEntry[];
  /** How many stored events were dropped to respect the bound. */
  readonly timelineDroppedCount: number;
}

export interface CoordinatorConfig {
  /** The decision must be reached within this long after creation, or the transaction aborts. */
  readonly prepareTimeoutMs: number;
  /** First re-send delay; doubles each round (factor 2) ... */
  readonly resendBaseMs: number;
  /** ... up to this cap. */
  readonly resendCapMs: number;
}

/** A bound on the stored events (re-send rounds; see `TxRecord.timeline`). */
export const TIMELINE_MAX = 16;
/** A bound on participants per transaction (DynamoDB items are ≤ 400 KB; keep records small). */
export const PARTICIPANTS_MAX = 32;

// ─── Queries ─────────────────────────────────────────────────────────────────────────────────

export function isTerminal(state: TxState): state is 'COMMITTED' | 'ABORTED' {
  return state === 'COMMITTED' || state === 'ABORTED';
}

/** The durable decision, or null while PREPARING. */
export function decisionOf(state: TxState): Decision | null {
  switch (state) {
    case 'PREPARING':
      return null;
    case 'COMMITTING':
    case 'COMMITTED':
      return 'COMMIT';
    case 'ABORTING':
    case 'ABORTED':
      return 'ABORT';
    default:
      return assertNever(state, 'transaction state');
  }
}

/**
 * The outcome as the client sees it: final from the moment the decision is durable (COMMITTING
 * already means COMMITTED — the participants are applying it), null while undecided.
 */
export function outcomeOf(state: TxState): Outcome | null {
  const decision = decisionOf(state);
  return decision === null ? null : decision === 'COMMIT' ? 'COMMITTED' : 'ABORTED';
}

/** Delay before re-send round `attempt` (0-based): min(cap, base · 2^attempt). */
export function resendDelayMs(attempt: number, config: CoordinatorConfig): number {
  assert(Number.isInteger(attempt) && attempt >= 0, `resend attempt must be a natural number: ${attempt}`);
  // 2 ** attempt overflows to Infinity for huge attempts, which Math.min caps correctly.
  return Math.min(config.resendCapMs, config.resendBaseMs * 2 ** attempt);
}

export function participantOf(record: TxRecord, participantId: string): TxParticipant | undefined {
  return record.participants.find((p) => p.id === participantId);
}

export function assertCoordinatorConfig(config: CoordinatorConfig): void {
  const { prepareTimeoutMs, resendBaseMs, resendCapMs } = config;
  for (const [name, value] of Object.entries({ prepareTimeoutMs, resendBaseMs, resendCapMs })) {
    assert(Number.isSafeInteger(value) && value > 0, `${name} must be a positive integer, got ${value}`);
  }
  assert(resendBaseMs <= resendCapMs, `resendBaseMs (${resendBaseMs}) exceeds resendCapMs (${resendCapMs})`);
}

// ─── Construction ────────────────────────────────────────────────────────────────────────────

export interface NewTransaction {
  readonly txId: string;
  /** `slotOf(txId, slotCount)`; passed in because the slot count is deployment configuration. */
  readonly slot: number;
  readonly participants: readonly TxParticipant[];
}

/**
 * The record the API writes (a conditional put) when it creates a two-phase transaction: already
 * PREPARING, its first check due after one re-send delay. `startTransaction` (step.ts) adds the
 * Prepare messages; if they are lost, the check at `nextCheckAtMs` re-sends them (a timer, or the
 * sweeper that queries records by `nextCheckAtMs`). Input validation is the API's job; a bad call
 * here is a programmer error.
 */
export function newTransaction(tx: NewTransaction, nowMs: number, config: CoordinatorConfig): TxRecord {
  assertCoordinatorConfig(config);
  assertTime(nowMs);
  assert(tx.txId.length > 0, 'txId must not be empty');
  assert(Number.isInteger(tx.slot) && tx.slot >= 0, `slot must be a natural number, got ${tx.slot}`);
  assert(
    tx.participants.length >= 1 && tx.participants.length <= PARTICIPANTS_MAX,
    `a transaction needs 1..${PARTICIPANTS_MAX} participants, got ${tx.participants.length}`,
  );
  const ids = new Set(tx.participants.map((p) => p.id));
  assert(ids.size === tx.participants.length, 'participant ids must be unique within a transaction');
  assert(!ids.has(''), 'participant ids must not be empty');
  const prepareDeadlineMs = nowMs + config.prepareTimeoutMs;
  return {
    txId: tx.txId,
    slot: tx.slot,
    version: 1,
    mode: 'two-phase',
    state: 'PREPARING',
    participants: tx.participants.map((p) => ({ id: p.id, kind: p.kind, operations: p.operations })),
    votes: {},
    acks: {},
    reason: null,
    createdAtMs: nowMs,
    prepareDeadlineMs,
    decidedAtMs: null,
    completedAtMs: null,
    nextCheckAtMs: Math.min(prepareDeadlineMs, nowMs + resendDelayMs(0, config)),
    resendAttempt: 0,
    timeline: [],
    timelineDroppedCount: 0,
  };
}

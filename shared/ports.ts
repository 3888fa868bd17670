import type { SlotRow, TxParticipant, TxRecord } from './protocol';
import type { LeaseCondition } from './protocol/lease';

/**
 * Ports of the protocol shells. Each has a DynamoDB/SQS adapter (Lambda, integration tests) and an
 * in-memory one (unit tests, the deterministic simulation). Pass them in; never import adapters
 * from use cases.
 *
 * Every write below may throw ContentionError (a conflict with another transaction on one of its
 * items, or a throttle): nothing was written, no condition was judged, and the caller retries the
 * step after a backoff (shared/backoff.ts). Other infrastructure failures throw InfrastructureError.
 */

/** The fencing token a coordinator write carries: the slot's owner and epoch it believes in. */
export interface Fence {
  readonly slot: number;
  readonly owner: string;
  readonly epoch: number;
}

/** A stored transaction: the protocol record plus what the API needs for idempotency. */
export interface StoredTx {
  readonly record: TxRecord;
  /** SHA-256 of the canonical request, to tell a retry from a different request with the same key. */
  readonly requestHash: string;
}

export interface TxStore {
  /** Writes a new PENDING record unless the txId exists; returns the existing one if it does. */
  create(tx: StoredTx): Promise<{ created: true } | { created: false; existing: StoredTx }>;
  load(txId: string): Promise<StoredTx | undefined>;
  /**
   * One TransactWriteItems: `next`, conditioned on the stored version being `expectedVersion`, and a
   * ConditionCheck that the slot's owner and epoch are still `fence`. Throws VersionConflictError or
   * FenceLostError (both can hold at once; fence wins), or ContentionError — never half-applies.
   */
  save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void>;
  /** Transactions of `slot` whose next check time is at or before `nowMs` (at most `limit`). */
  due(slot: number, nowMs: number, limit: number): Promise<DueTx[]>;
}

export interface DueTx {
  readonly txId: string;
  readonly nextCheckAtMs: number;
}

export interface SlotStore {
  read(slot: number): Promise<SlotRow | undefined>;
  /** Writes `next` if the row still matches `condition`; false when someone else won the race. */
  write(next: SlotRow, condition: LeaseCondition): Promise<boolean>;
}

export interface Clock {
  nowMs(): number;
}

/** The coordinator's FIFO inbox, as the API sees it: enqueue `Begin` for a freshly written record. */
export interface CoordinatorInbox {
  begin(txId: string, slot: number): Promise<void>;
}

/** Looks up which entities exist, to refuse a transaction naming an unknown one before writing it. */
export interface EntityDirectory {
  /** Of `refs`, the ones that do not exist (in input order). */
  missing(refs: readonly EntityRef[]): Promise<EntityRef[]>;
}

export interface EntityRef {
  /** `account` or `item`. */
  readonly kind: string;
  readonly shard: number;
  readonly id: string;
}

/**
 * The one-phase fast path: commits a transaction whose operations all live in tables one
 * TransactWriteItems reaches, together with its record, in ONE atomic write.
 */
export interface OnePhaseCommitter {
  /** True when this committer can write every participant's operations (and they fit one write). */
  covers(participants: readonly TxParticipant[]): boolean;
  /**
   * Creates `tx` (a COMMITTED one-phase record, only if its txId is new) and applies every
   * participant's operations — all of it, or nothing.
   */
  commit(tx: StoredTx): Promise<OnePhaseResult>;
}

export type OnePhaseResult =
  | { readonly kind: 'committed' }
  /** Nothing written: a transaction with this txId exists (an earlier request with the same key). */
  | { readonly kind: 'exists' }
  /** Nothing written: a participant's condition refused its operations (e.g. insufficient funds). */
  | { readonly kind: 'refused'; readonly participantId: string; readonly reason: string }
  /** Nothing written: an entity does not exist. */
  | { readonly kind: 'unknown-entity' }
  /**
   * Nothing written: a refused condition that the entity as read afterwards does not explain (a
   * concurrent transaction changed it in between); two-phase will queue it.
   */
  | { readonly kind: 'contended' };

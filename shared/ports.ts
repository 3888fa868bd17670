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

/**
 * Where a transaction's request came from, so a subscriber can match its outcome event to the
 * request: `api`, `events:<intake id>` (an EventBridge intake) or `queue:<intake id>` (a requests
 * queue); the idempotency key it was submitted with, and the EventBridge event's id.
 */
export interface TxOrigin {
  readonly source: string;
  readonly key?: string;
  readonly eventId?: string;
}

/** A stored transaction: the protocol record plus what the API needs for idempotency. */
export interface StoredTx {
  readonly record: TxRecord;
  /** SHA-256 of the canonical request, to tell a retry from a different request with the same key. */
  readonly requestHash: string;
  /** Where the request came from; absent when there is nothing to tell (an API request without a key). */
  readonly origin?: TxOrigin;
}

/**
 * The transaction log. A record is stored at its record key (shared/txid.ts): a transaction id
 * without its incarnation. While a record lives, its key holds it; once it expired, a later
 * transaction with the same idempotency key may hold the key, under another id.
 */
export interface TxStore {
  /** Writes a new record unless its record key holds one; returns the one it holds if it does. */
  create(tx: StoredTx): Promise<{ created: true } | { created: false; existing: StoredTx }>;
  /** The transaction `txId`; undefined when there is none — also when its key holds another now. */
  load(txId: string): Promise<StoredTx | undefined>;
  /** Whatever transaction the record key `recordKey` holds now (a Check is about the key). */
  loadAt(recordKey: string): Promise<StoredTx | undefined>;
  /**
   * One TransactWriteItems: `next`, conditioned on the stored record being the same transaction at
   * version `expectedVersion`, and a ConditionCheck that the slot's owner and epoch are still
   * `fence`. Throws VersionConflictError or FenceLostError (both can hold at once; fence wins), or
   * ContentionError — never half-applies.
   */
  save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void>;
  /**
   * Live transactions whose next check time is at or before `nowMs`, in every slot, most overdue
   * first (at most `limit`); and how many live transactions were read to find them.
   */
  due(nowMs: number, limit: number): Promise<DueReport>;
}

/** A transaction due for a check, by its record key (the check is about whatever the key holds). */
export interface DueTx {
  readonly recordKey: string;
  readonly slot: number;
  readonly nextCheckAtMs: number;
}

/** The order `due` promises: oldest next check first (then by key, for equal times). */
export function mostOverdueFirst(due: readonly DueTx[]): DueTx[] {
  return [...due].sort(
    (a, b) =>
      a.nextCheckAtMs - b.nextCheckAtMs ||
      (a.recordKey < b.recordKey ? -1 : a.recordKey > b.recordKey ? 1 : 0),
  );
}

export interface DueReport {
  readonly due: readonly DueTx[];
  /** Live transactions read (the due index's entries), due or not. */
  readonly live: number;
}

export interface SlotStore {
  read(slot: number): Promise<SlotRow | undefined>;
  /** Writes `next` if the row still matches `condition`; false when someone else won the race. */
  write(next: SlotRow, condition: LeaseCondition): Promise<boolean>;
}

export interface Clock {
  nowMs(): number;
}

/** Looks up which entities exist, to refuse a transaction naming an unknown one before writing it. */
export interface EntityDirectory {
  /** Of `refs`, the ones that do not exist (in input order). */
  missing(refs: readonly EntityRef[]): Promise<EntityRef[]>;
}

/** A counter's entity a transaction names (shared/participant/counter.ts). */
export interface EntityRef {
  /** The counter participant (shard) that keeps it, e.g. `ledger-1`. */
  readonly participantId: string;
  /** The counter's entity kind, e.g. `account`. */
  readonly entity: string;
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

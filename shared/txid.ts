import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Transaction ids, and where a transaction's record is stored (its record key).
 *
 *   without an idempotency key   tx_<32 hex>                      random; the record key is the id
 *   with one                     tx_<26 base64url>.<incarnation>  the record key, then 8 base64url
 *                                                                 characters drawn at creation
 *
 * The record key of a keyed transaction is SHA-256 of the caller's scope and the key, so every retry
 * with the key finds the record there (the create is conditioned on the key being free). The key is
 * remembered as long as that record lives: terminal records expire 30 days after they end (TTL).
 * A request with the key after that creates a NEW transaction at the same record key, with a new
 * incarnation — so a transaction id names one transaction, ever: the participants' barrier items
 * (kept for good), the outcome event's `eventId` and every message name the whole id, and what the
 * first transaction left behind can never answer for the second.
 *
 * Ids written before incarnations existed (`tx_<26>` alone) stay valid: an id without a `.` is its
 * own record key.
 */

const INCARNATION_BYTES = 6;

/** The record key of an idempotency key used by `scope` (the caller; '' when the API has none). */
export function keyedRecordKey(idempotencyKey: string, scope = ''): string {
  const input = scope === '' ? `idem:${idempotencyKey}` : `idem:${JSON.stringify([scope, idempotencyKey])}`;
  return `tx_${createHash('sha256').update(input, 'utf8').digest('base64url').slice(0, 26)}`;
}

/** A fresh incarnation: 8 base64url characters (48 random bits). */
export function newIncarnation(): string {
  return randomBytes(INCARNATION_BYTES).toString('base64url');
}

/** The id of the transaction created at `recordKey` with `incarnation`. */
export function incarnatedTxId(recordKey: string, incarnation: string): string {
  return `${recordKey}.${incarnation}`;
}

/** Where the record of `txId` is stored: the id up to its incarnation (the whole id without one). */
export function recordKeyOf(txId: string): string {
  const dot = txId.indexOf('.');
  return dot === -1 ? txId : txId.slice(0, dot);
}

/** The incarnation of `txId`, or null for an id that has none (random, or written before them). */
export function incarnationOf(txId: string): string | null {
  const dot = txId.indexOf('.');
  return dot === -1 ? null : txId.slice(dot + 1);
}

/**
 * A fresh transaction id for a request without a key: `tx_` + 32 hex characters (a random UUID
 * without dashes). Its length differs from a record key's, so the two can never collide.
 */
export function randomTxId(): string {
  return `tx_${randomUUID().replaceAll('-', '')}`;
}

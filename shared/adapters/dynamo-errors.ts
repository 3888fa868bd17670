import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ContentionError, type ContentionReason } from '../errors';

/**
 * How a refused DynamoDB write is read, in one place for every writer (the coordinator's save, the
 * participants' barrier writes, the one-phase commit, the API's create, the slot leases).
 *
 * A `TransactWriteItems` cancelled with `TransactionCanceledException` carries one reason per
 * action, in order. Reading them:
 *
 *   ConditionalCheckFailed          the action's condition was judged false: a protocol answer
 *                                   (version moved on, fence lost, funds short, …) — the caller's
 *   TransactionConflict             another transaction held the item: nothing was judged
 *   ThrottlingError,                the table or account throttled it: nothing was judged
 *   ProvisionedThroughputExceeded,
 *   RequestLimitExceeded
 *   None                            this action was fine (another one cancelled the transaction)
 *
 * A failed condition wins: when any action's condition was judged false, the caller explains the
 * refusal from the conditions. Otherwise a conflict or a throttle is contention, retried after a
 * backoff. A single-item write (PutItem, UpdateItem) refused because a transaction holds its item
 * gets `TransactionConflictException`, and throttles that outlast the SDK's own retries end as
 * `ThrottlingException` / `ProvisionedThroughputExceededException` / `RequestLimitExceeded`: the SDK
 * retries none of `TransactionCanceledException` and `TransactionConflictException` itself.
 */

const THROTTLE_REASONS = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
const THROTTLE_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** The cancellation reasons' codes, by action index (`None` where the action was fine). */
export function cancellationCodes(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/**
 * Contention behind `error`, if that is all it is: a cancelled transaction none of whose conditions
 * failed, with a conflict or a throttle among its reasons; a single-item write that met a
 * transaction; a throttle. Null for anything else (a failed condition, a validation error, …).
 */
export function contentionOf(error: unknown): ContentionReason | null {
  if (error instanceof TransactionCanceledException) {
    const codes = cancellationCodes(error);
    if (codes.includes('ConditionalCheckFailed')) return null;
    if (codes.includes('TransactionConflict')) return 'conflict';
    if (codes.some((code) => THROTTLE_REASONS.has(code))) return 'throttle';
    return null;
  }
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TransactionConflictException') return 'conflict';
  if (name !== undefined && THROTTLE_ERRORS.has(name)) return 'throttle';
  return null;
}

/** Throws ContentionError when `error` is contention (see contentionOf); returns otherwise. */
export function throwIfContention(error: unknown, what: string): void {
  const reason = contentionOf(error);
  if (reason === null) return;
  throw new ContentionError(
    reason,
    `${what}: ${reason === 'conflict' ? 'transaction conflict' : 'throttled'}`,
    {
      cause: error,
    },
  );
}

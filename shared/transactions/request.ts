import { ValidationError } from '../errors';
import type { Operation, ParticipantRegistry } from '../registry';
import { issuesOf, TransactionRequest } from '../schemas';

/** `origin.source` of a transaction submitted through the HTTP API. */
export const API_ORIGIN = 'api';

/**
 * A transaction request (`POST /transactions`'s body, a requests queue's message, an event
 * intake's mapping): the envelope (TransactionRequest) and each operation against its
 * participant's schema, every issue of both in one ValidationError. The one validation every way
 * in shares; `Transactions.submit` then checks the entities.
 */
export function parseTransactionRequest(
  body: unknown,
  registry: ParticipantRegistry,
): { request: TransactionRequest; operations: Operation[] } {
  const envelope = TransactionRequest.safeParse(body);
  const raw = (body as { operations?: unknown } | null)?.operations;
  const issues = [
    ...(envelope.success ? [] : issuesOf(envelope.error)),
    ...(Array.isArray(raw) ? registry.issuesOf(raw) : []),
  ];
  if (!envelope.success || issues.length > 0) {
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ValidationError(`transaction is invalid: ${summary}`, issues);
  }
  return { request: envelope.data, operations: envelope.data.operations as Operation[] };
}

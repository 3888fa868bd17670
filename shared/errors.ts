/**
 * Tandem's error classes. Expected business outcomes (a NO vote, a timeout) are data, not errors;
 * these are for requests that cannot be served and for infrastructure failures. Each class carries
 * the HTTP status and problem type it maps to, so the mapping lives in one place.
 */
/** One validation issue of a 400, by path in the request (`operations.1.amount`, `(root)`). */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export abstract class TandemError extends Error {
  abstract readonly status: number;
  /** Short slug used in the problem `type` URI (`urn:tandem:problem:<slug>`). */
  abstract readonly slug: string;
  abstract readonly title: string;
}

/** 400: the request is malformed or fails validation. Nothing was written. */
export class ValidationError extends TandemError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly slug = 'invalid-request';
  readonly title = 'Invalid request';
  constructor(
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** 404: the addressed resource does not exist. */
export class NotFoundError extends TandemError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly slug = 'not-found';
  readonly title = 'Not found';
}

/** 409: the request conflicts with what already exists (a duplicate id, a reused idempotency key). */
export class ConflictError extends TandemError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly slug = 'conflict';
  readonly title = 'Conflict';
}

/** 422: well-formed, but refers to something that cannot be used (e.g. an unknown participant). */
export class UnprocessableError extends TandemError {
  override readonly name = 'UnprocessableError';
  readonly status = 422;
  readonly slug = 'unprocessable';
  readonly title = 'Unprocessable request';
}

/** 503: a dependency failed or throttled; the request may be retried. On queues: retry the record. */
export class InfrastructureError extends TandemError {
  override readonly name: string = 'InfrastructureError';
  readonly status = 503;
  readonly slug = 'unavailable';
  readonly title = 'Service unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Why DynamoDB refused a write without judging it: another transaction held one of its items
 * (`TransactionConflict`), or the table or account throttled it (after the SDK's own retries).
 */
export type ContentionReason = 'conflict' | 'throttle';

/**
 * A write DynamoDB cancelled for a transient reason (ContentionReason): nothing was written and no
 * condition was found false, so the same step may simply be tried again after a jittered backoff
 * (see `shared/backoff.ts`). Every caller of a conditional write retries it that way within its
 * invocation's time budget; past the budget it surfaces as the InfrastructureError it also is, and
 * the queue redelivers the message (or the API answers 503).
 */
export class ContentionError extends InfrastructureError {
  override readonly name = 'ContentionError';
  constructor(
    readonly reason: ContentionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A deployment is misconfigured (missing or invalid environment variable); fails at cold start. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** A coordinator write lost the race with another write of the same record (re-read and re-step). */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly txId: string,
    readonly expectedVersion: number,
  ) {
    super(`transaction ${txId} is no longer at version ${expectedVersion}`);
  }
}

/**
 * A coordinator write was refused because the slot's lease moved on (another owner or a newer
 * epoch): this process is a zombie for that slot and must stop acting on it.
 */
export class FenceLostError extends Error {
  override readonly name = 'FenceLostError';
  constructor(
    readonly fence: { readonly slot: number; readonly owner: string; readonly epoch: number },
    options?: { cause?: unknown },
  ) {
    super(`lost the lease of slot ${fence.slot} (epoch ${fence.epoch}, owner ${fence.owner})`, options);
  }
}

/** A queue message that can never be processed (not JSON, wrong shape): it belongs in the DLQ. */
export class MalformedMessageError extends Error {
  override readonly name: string = 'MalformedMessageError';
}

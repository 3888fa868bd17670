/**
 * RFC 9457 problem details: every error the console's API answers. One class; `api.ts` maps the
 * operator library's errors to it in one place (problemOf).
 */

import { AwsCallError, NotFoundError, RefusedError, UsageError } from '../ops/errors';

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [extension: string]: unknown;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Session token missing or expired',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request too large',
  502: 'AWS call failed',
  500: 'Internal error',
};

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    detail: string,
    /** Extra members: `field` for a bad filter, `current` for a transaction that moved on. */
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
  }

  body(): ProblemBody {
    return {
      type: 'about:blank',
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }
}

/** A 400 that names the query parameter or body field at fault. */
export const badField = (field: string, detail: string) =>
  new ProblemError(400, `${field}: ${detail}`, { field });

/** Maps anything thrown while answering to a problem: never a crash, never a stack trace. */
export function problemOf(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof NotFoundError) return new ProblemError(404, error.message);
  if (error instanceof RefusedError) return new ProblemError(409, error.message);
  if (error instanceof UsageError) return new ProblemError(400, error.message);
  if (error instanceof AwsCallError) return new ProblemError(502, error.message);
  return new ProblemError(500, error instanceof Error ? error.message : String(error));
}

/**
 * What `TandemClient` throws. An answer with an error status becomes a `TandemApiError` of the
 * subclass for its meaning (a problem+json document read into fields; any other body, such as API
 * Gateway's own `{"message": …}`, read as well as it can be); a request that got no answer at all
 * becomes a `TandemNetworkError` naming the URL.
 */

import type { FieldIssue } from '../shared/errors';

export type { FieldIssue };

/** The fields of an RFC 9457 problem document, as the API answers every failure. */
export interface ProblemFields {
  /** `urn:tandem:problem:<slug>` for Tandem's own problems; `about:blank` for any other answer. */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance?: string;
  /** Every validation issue (a 400 of Tandem's own); empty otherwise. */
  readonly errors: readonly FieldIssue[];
}

/** Where an answer came from: the request, and what came back (`body`: JSON if it parsed, else text). */
export interface AnswerContext {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** The status line's reason phrase (`Forbidden`), when the server sent one. */
  readonly statusText: string;
  readonly body: unknown;
}

/** An answer with an error status (4xx, 5xx), or a success answer the client could not read. */
export class TandemApiError extends Error {
  override readonly name: string = 'TandemApiError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance: string | undefined;
  readonly errors: readonly FieldIssue[];
  readonly method: string;
  readonly url: string;
  /** The answer's body: the parsed JSON, or the text when it was not JSON. */
  readonly body: unknown;

  constructor(problem: ProblemFields, context: AnswerContext) {
    super(
      `${context.method} ${context.url} answered ${context.status} (${problem.title}): ${problem.detail}`,
    );
    this.status = context.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.errors = problem.errors;
    this.method = context.method;
    this.url = context.url;
    this.body = context.body;
  }
}

/** 400: the request is malformed or fails validation (`errors` lists every issue). Nothing was written. */
export class TandemValidationError extends TandemApiError {
  override readonly name = 'TandemValidationError';
}

/** 401 or 403: API Gateway refused the caller (no or a bad signature or token, or no permission). */
export class TandemAuthError extends TandemApiError {
  override readonly name = 'TandemAuthError';
}

/** 404: no such account, item or transaction (or no such route). */
export class TandemNotFoundError extends TandemApiError {
  override readonly name = 'TandemNotFoundError';
}

/** 409: a duplicate id, or an idempotency key used before with a different request. */
export class TandemConflictError extends TandemApiError {
  override readonly name = 'TandemConflictError';
}

/** 422: well-formed, but names something that cannot be used (an unknown account or sku). Nothing was written. */
export class TandemUnprocessableError extends TandemApiError {
  override readonly name = 'TandemUnprocessableError';
}

/** 429: throttled by API Gateway; retry later (with the same idempotency key). */
export class TandemThrottledError extends TandemApiError {
  override readonly name = 'TandemThrottledError';
}

/** 5xx: the API or a dependency failed; safe to retry with the same idempotency key. */
export class TandemServerError extends TandemApiError {
  override readonly name = 'TandemServerError';
}

/** The request got no answer (connection refused or reset, DNS, TLS, an abort). */
export class TandemNetworkError extends Error {
  override readonly name = 'TandemNetworkError';

  constructor(
    readonly method: string,
    readonly url: string,
    cause: unknown,
  ) {
    super(`${method} ${url} got no answer: ${reasonOf(cause)}`, { cause });
  }
}

/** The error's message, with the reason Node's fetch keeps in `cause` (`fetch failed` says little). */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && cause !== error.message ? `${error.message} (${cause})` : error.message;
}

type ApiErrorClass = new (problem: ProblemFields, context: AnswerContext) => TandemApiError;

const CLASS_BY_STATUS: Readonly<Record<number, ApiErrorClass>> = {
  400: TandemValidationError,
  401: TandemAuthError,
  403: TandemAuthError,
  404: TandemNotFoundError,
  409: TandemConflictError,
  422: TandemUnprocessableError,
  429: TandemThrottledError,
};

/** The typed error of an answer with an error status, whatever its body. */
export function apiErrorOf(context: AnswerContext, contentType: string | null): TandemApiError {
  const ErrorClass =
    CLASS_BY_STATUS[context.status] ?? (context.status >= 500 ? TandemServerError : TandemApiError);
  return new ErrorClass(problemOf(context, contentType), context);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Longest part of a non-JSON body kept in an error's detail (an HTML error page can be long). */
const DETAIL_CHARS_MAX = 500;

/** The problem an answer describes: its own problem document, else what its body says. */
function problemOf({ statusText, body }: AnswerContext, contentType: string | null): ProblemFields {
  const fallbackTitle = statusText || 'error';
  if (isRecord(body)) {
    const isProblem = /^application\/problem\+json\b/i.test(contentType ?? '') || 'type' in body;
    if (isProblem) {
      const title = textOf(body.title) ?? fallbackTitle;
      const instance = textOf(body.instance);
      return {
        type: textOf(body.type) ?? 'about:blank',
        title,
        detail: textOf(body.detail) ?? '',
        ...(instance !== undefined ? { instance } : {}),
        errors: Array.isArray(body.errors) ? body.errors.filter(isIssue) : [],
      };
    }
    // API Gateway's own answers (`{"message":"Forbidden"}`) and anything else in JSON.
    const message = textOf(body.message) ?? textOf(body.Message) ?? JSON.stringify(body);
    return { type: 'about:blank', title: fallbackTitle, detail: message, errors: [] };
  }
  const text = typeof body === 'string' ? body.trim() : body === undefined ? '' : JSON.stringify(body);
  const detail = text.length > DETAIL_CHARS_MAX ? `${text.slice(0, DETAIL_CHARS_MAX)}…` : text;
  return { type: 'about:blank', title: fallbackTitle, detail: detail || '(empty body)', errors: [] };
}

function isIssue(value: unknown): value is FieldIssue {
  return isRecord(value) && typeof value.path === 'string' && typeof value.message === 'string';
}

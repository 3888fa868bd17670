import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type FieldIssue, TandemError, ValidationError } from '../errors';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** Largest body the API reads; larger ones are refused before parsing. */
const MAX_BODY_BYTES = 64 * 1024;

/** Reads the request body as JSON (decoding base64 first when API Gateway encoded it). */
export function readJsonBody(event: HttpEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw new ValidationError('request body is required (a JSON object)');
  }
  const contentType = headerOf(event, 'content-type');
  if (contentType !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType)) {
    throw new ValidationError(`content-type must be application/json, got '${contentType}'`);
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new ValidationError(`request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function headerOf(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly errors?: readonly FieldIssue[];
}

/** An RFC 9457 problem document. */
export function problem(
  status: number,
  slug: string,
  title: string,
  detail: string,
  instance?: string,
  errors?: readonly FieldIssue[],
): HttpResult {
  const body: Problem = {
    type: `urn:tandem:problem:${slug}`,
    title,
    status,
    detail,
    ...(instance ? { instance } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (status === 503) headers['retry-after'] = '1';
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

/** Maps any thrown value to a problem response; unknown errors become a 500 without internals. */
export function problemFromError(error: unknown, instance?: string): HttpResult {
  if (error instanceof TandemError) {
    const issues = error instanceof ValidationError ? error.issues : undefined;
    return problem(error.status, error.slug, error.title, error.message, instance, issues);
  }
  return problem(
    500,
    'internal',
    'Internal error',
    'the request failed unexpectedly; it is safe to retry',
    instance,
  );
}

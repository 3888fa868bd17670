import type { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { dynamoDocumentClient } from '../adapters/aws-clients';
import { DynamoParticipantStore } from '../adapters/dynamo-participant-store';
import { DynamoReplayGuard } from '../adapters/dynamo-replay-guard';
import { type Pacing, REAL_PACING } from '../backoff';
import { ConfigurationError, type FieldIssue, InfrastructureError } from '../errors';
import { NO_FAULTS } from '../faults';
import type { ParticipantDefinition } from '../participant/definition';
import { participantKind } from '../participant/kinds';
import type { ParticipantStore } from '../participant/ports';
import { handleParticipantMessage } from '../participant/shell';
import type { Clock } from '../ports';
import { type ParticipantReply, ProtocolAssertionError } from '../protocol';
import {
  answerOf,
  BranchCall,
  messageOfCall,
  PHASES,
  type Phase,
  SIGNATURE_MAX_AGE_MS,
  verifyCall,
} from './contract';
import type { ReplayGuard } from './replay-guard';
import { type Secrets, secretsSourceOf } from './secrets';

/**
 * The participant side of the HTTPS contract (shared/https/contract.ts): a team's endpoint that
 * Tandem's relay calls with `POST {base}/try`, `/confirm` and `/cancel`. One call, in order —
 *
 *   POST? ─▶ path ends /try|/confirm|/cancel? ─▶ body ≤ limit? ─▶ signed with a secret, in time?
 *   405        404                                413              401 (a mismatch reads the
 *                                                                  secrets afresh once, for a rotation)
 *     ─▶ signature new? (ReplayGuard) ─▶ JSON of the path's phase? ─▶ the participant's barrier
 *        401                             400 problem+json, issues     (handleParticipantMessage)
 *
 * and the barrier's reply is the answer (`answerOf`): 200 for a YES or an ack, 409 `{reason}` for
 * a NO. The barrier makes every call idempotent and order-proof exactly as for a Lambda participant:
 * the definition's writes and the barrier go in one TransactWriteItems on the team's table.
 *
 * Refusals never answer 409 (on a try that means NO) nor 200: a replayed call answers 401, like a
 * bad signature — the relay calls again later, signed afresh, and counts the 401 as a violation
 * (a secret out of step, or someone replaying calls, is for an operator to look at).
 *
 * Failures: an infrastructure error (DynamoDB, Secrets Manager) → 503 with Retry-After (the relay
 * calls again); a broken protocol invariant (a confirm for a branch that voted NO or was cancelled,
 * a cancel after a confirm — the coordinator never sends them) → 500, logged as an error; anything
 * else thrown → 500, logged.
 */

/** Largest body read: a try carries at most what one SQS message (a Prepare) carries. */
export const BODY_LIMIT_BYTES = 256 * 1024;

export interface HttpsParticipantOptions {
  /** The participant's DynamoDB table (partition key `pk`, a string): barriers and replay marks. */
  readonly table: string;
  /**
   * The shared secrets calls are signed with: a list (current first, then the previous one during a
   * rotation), or a source such as `secretsManagerSecrets(secretId)`.
   */
  readonly secrets: Secrets;
  /**
   * The branch this endpoint serves (its participant id in Tandem); a call for another branch is a
   * 400. Unset: any branch (an endpoint serving several participant ids).
   */
  readonly participantId?: string;
  /** The document client to use; one per process by default (AWS_REGION, AWS_ENDPOINT_URL, …). */
  readonly client?: DynamoDBDocumentClient;
  /** The barrier store; DynamoParticipantStore on `table` by default (no transaction notes). */
  readonly store?: ParticipantStore;
  /** Remembers accepted signatures; DynamoReplayGuard on `table` by default (TTL `expiresAtS`). */
  readonly replayGuard?: ReplayGuard;
  readonly clock?: Clock;
  /** How contention on the barrier's write is waited out; real timers by default. */
  readonly pacing?: Pacing;
  readonly maxAgeMs?: number;
  readonly bodyLimitBytes?: number;
  /** Where refusals and failures are logged; a Powertools Logger by default. */
  readonly logger?: EndpointLogger;
}

export interface EndpointLogger {
  error(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A call as the endpoint reads it, whatever server received it. */
export interface EndpointRequest {
  readonly method: string;
  /** Path and query, as signed (`/base/try?x=1`). */
  readonly path: string;
  /** Header lookup by lower-case name. */
  readonly header: (name: string) => string | undefined;
  readonly body: string;
}

export interface EndpointResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Node's `http` request handler (also Express's and Connect's). */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** A Lambda function URL's (or an HTTP API's payload 2.0) handler. */
export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context?: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpsParticipant {
  /** `http.createServer(participant.node)`, or `app.use('/tandem', participant.node)` before any body parser. */
  readonly node: NodeHandler;
  /** `export const handler = participant.functionUrl;` */
  readonly functionUrl: FunctionUrlHandler;
  /** The server-neutral core both use. */
  handle(request: EndpointRequest): Promise<EndpointResponse>;
}

/**
 * An HTTPS participant of `definition`: the endpoint Tandem's relay calls, as a Node handler and a
 * Lambda function URL handler. AWS clients and the logger are made on the first call.
 *
 * ```ts
 * const seats = httpsParticipant(seatBooking, {
 *   table: 'seats',
 *   secrets: secretsManagerSecrets('tandem/seats'),
 *   participantId: 'seats',
 * });
 * http.createServer(seats.node).listen(8080);   // or: export const handler = seats.functionUrl;
 * ```
 */
export function httpsParticipant(
  definition: ParticipantDefinition,
  options: HttpsParticipantOptions,
): HttpsParticipant {
  if (typeof options.table !== 'string' || options.table.trim() === '') {
    throw new ConfigurationError('an HTTPS participant needs `table`: the DynamoDB table of its barriers');
  }
  if (
    typeof options.secrets !== 'function' &&
    (options.secrets.length === 0 || options.secrets.some((s) => !s))
  ) {
    throw new ConfigurationError(
      'an HTTPS participant needs `secrets`: the shared signing secret(s), none blank, or a source of them',
    );
  }
  let wired: ((request: EndpointRequest) => Promise<EndpointResponse>) | undefined;
  const handle = (request: EndpointRequest) => {
    wired ??= wire(definition, options);
    return wired(request);
  };
  const bodyLimitBytes = options.bodyLimitBytes ?? BODY_LIMIT_BYTES;
  return {
    handle,
    node: nodeHandler(handle, bodyLimitBytes),
    functionUrl: functionUrlHandler(handle, bodyLimitBytes),
  };
}

function wire(
  definition: ParticipantDefinition,
  options: HttpsParticipantOptions,
): (request: EndpointRequest) => Promise<EndpointResponse> {
  const client =
    options.client ?? (options.store && options.replayGuard ? undefined : dynamoDocumentClient());
  const store = options.store ?? new DynamoParticipantStore(client!, { table: options.table, definition });
  const replayGuard = options.replayGuard ?? new DynamoReplayGuard(client!, { table: options.table });
  const kind = participantKind(options.participantId ?? 'participant', definition);
  const clock = options.clock ?? { nowMs: Date.now };
  const secrets = secretsSourceOf(options.secrets);
  const refreshable = typeof options.secrets === 'function';
  const maxAgeMs = options.maxAgeMs ?? SIGNATURE_MAX_AGE_MS;
  const logger =
    options.logger ?? new Logger({ serviceName: `tandem-https-${options.participantId ?? 'participant'}` });

  return async (request) => {
    try {
      const phase = phaseOfPath(request.path);
      if (request.method.toUpperCase() !== 'POST') {
        return problem(405, 'method-not-allowed', 'Method not allowed', 'calls are POSTs', { allow: 'POST' });
      }
      if (phase === undefined) {
        return problem(
          404,
          'not-found',
          'Not found',
          `no phase at ${request.path}: POST …/try, …/confirm or …/cancel`,
        );
      }

      const verify = (list: readonly string[]) =>
        verifyCall({ ...request, secrets: list, nowMs: clock.nowMs(), maxAgeMs });
      let verification = verify(await secrets());
      if (!verification.ok && verification.code === 'mismatch' && refreshable) {
        verification = verify(await secrets({ fresh: true }));
      }
      if (!verification.ok) {
        logger.warn('refused a call: bad signature', { path: request.path, reason: verification.reason });
        return problem(401, 'invalid-signature', 'Invalid signature', verification.reason);
      }
      const fresh = await replayGuard.remember(
        verification.signature,
        verification.timestampMs + maxAgeMs,
        clock.nowMs(),
      );
      if (!fresh) {
        logger.warn('refused a replayed call', { path: request.path });
        return problem(
          401,
          'replayed-signature',
          'Replayed call',
          'this signature was already used: sign each call afresh',
        );
      }

      const call = parseCall(request.body, phase, options.participantId);
      if ('issues' in call) {
        return problem(400, 'invalid-request', 'Invalid request', call.detail, {}, call.issues);
      }

      let captured: ParticipantReply | undefined;
      await handleParticipantMessage(messageOfCall(call), {
        store,
        kind,
        clock,
        replies: {
          send: async (reply) => {
            captured = reply;
          },
        },
        faults: NO_FAULTS,
        pacing: options.pacing ?? REAL_PACING,
      });
      if (captured === undefined) throw new Error('the participant gave no reply');
      const answer = answerOf(captured);
      return { status: answer.status, headers: { 'content-type': 'application/json' }, body: answer.body };
    } catch (error) {
      return failure(error, request, logger);
    }
  };
}

/** The phase the path ends with (its last segment, before any query). */
export function phaseOfPath(path: string): Phase | undefined {
  const pathname = path.split('?')[0]!.replace(/\/+$/, '');
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  return (PHASES as readonly string[]).includes(last) ? (last as Phase) : undefined;
}

/** The call in `body`, for `phase`: or why it cannot be read, issue by issue. */
function parseCall(
  body: string,
  phase: Phase,
  participantId?: string,
): BranchCall | { readonly detail: string; readonly issues: readonly FieldIssue[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    const detail = `the body is not JSON: ${(error as Error).message}`;
    return { detail, issues: [{ path: '(root)', message: detail }] };
  }
  const parsed = BranchCall.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue.message,
    }));
    return {
      detail: `malformed ${phase}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    };
  }
  const call = parsed.data as BranchCall;
  if (call.phase !== phase) {
    const message = `is '${call.phase}', but the call was POSTed to /${phase}`;
    return { detail: `phase ${message}`, issues: [{ path: 'phase', message }] };
  }
  if (participantId !== undefined && call.branch !== participantId) {
    const message = `is '${call.branch}', but this endpoint serves '${participantId}'`;
    return { detail: `branch ${message}`, issues: [{ path: 'branch', message }] };
  }
  return call;
}

function failure(error: unknown, request: EndpointRequest, logger: EndpointLogger): EndpointResponse {
  if (error instanceof InfrastructureError) {
    logger.warn('call failed on infrastructure; the relay will call again', { path: request.path, error });
    return problem(503, 'unavailable', 'Service unavailable', error.message, { 'retry-after': '1' });
  }
  if (error instanceof ProtocolAssertionError) {
    logger.error('protocol violation: the call contradicts what this branch already did', {
      path: request.path,
      error,
    });
    return problem(500, 'protocol-violation', 'Protocol violation', error.message);
  }
  logger.error('call failed unexpectedly', { path: request.path, error });
  return problem(500, 'internal', 'Internal error', 'the call failed unexpectedly; it is safe to call again');
}

/** An RFC 9457 problem answer. */
function problem(
  status: number,
  slug: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
  errors: readonly FieldIssue[] = [],
): EndpointResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({
      type: `urn:tandem:problem:${slug}`,
      title,
      status,
      detail,
      ...(errors.length > 0 ? { errors } : {}),
    }),
  };
}

const tooLarge = (limit: number) =>
  problem(413, 'too-large', 'Payload too large', `the body is larger than ${limit} bytes`);

// ─── Node (http, Express, Connect) ──────────────────────────────────────────────────────────

/** What Express and its body parsers add to a request, when they ran. */
interface ParsedRequest extends IncomingMessage {
  readonly originalUrl?: string;
  readonly rawBody?: Buffer | string;
  readonly body?: unknown;
  /** Set by body-parser once it has read the stream. */
  readonly _body?: boolean;
}

function nodeHandler(
  handle: (request: EndpointRequest) => Promise<EndpointResponse>,
  limit: number,
): NodeHandler {
  return (req, res) => {
    const send = (response: EndpointResponse) => {
      if (res.headersSent) return;
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    };
    readNodeBody(req as ParsedRequest, limit)
      .then((body) => {
        if (body === 'too-large') {
          send({ ...tooLarge(limit), headers: { ...tooLarge(limit).headers, connection: 'close' } });
          return;
        }
        if (body === 'consumed') {
          send(
            problem(
              500,
              'misconfigured',
              'Endpoint misconfigured',
              'a body parser read the request before the participant: mount it before express.json(), or use express.raw()',
            ),
          );
          return;
        }
        const { headers } = req;
        return handle({
          method: req.method ?? 'GET',
          path: (req as ParsedRequest).originalUrl ?? req.url ?? '/',
          header: (name) => {
            const value = headers[name];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          body,
        }).then(send);
      })
      .catch((error: unknown) => {
        send(
          problem(500, 'internal', 'Internal error', `could not read the call: ${(error as Error).message}`),
        );
      });
  };
}

/**
 * The raw body: as a body parser kept it (`rawBody`, or `express.raw()`/`express.text()`'s `body`),
 * or read from the stream — 'too-large' past the limit; 'consumed' when a parser read it and kept
 * only its parse, so the bytes that were signed are gone.
 */
function readNodeBody(req: ParsedRequest, limit: number): Promise<string | 'too-large' | 'consumed'> {
  const kept =
    req.rawBody ?? (Buffer.isBuffer(req.body) || typeof req.body === 'string' ? req.body : undefined);
  if (kept !== undefined) {
    const bytes = Buffer.isBuffer(kept) ? kept : Buffer.from(kept, 'utf8');
    return Promise.resolve(bytes.length > limit ? 'too-large' : bytes.toString('utf8'));
  }
  // body-parser sets `body` to {} even when it skips a request (another content type): only a read
  // stream means the signed bytes are gone.
  if (req._body === true || req.readableEnded) return Promise.resolve('consumed');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume(); // drain and drop the rest
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ─── Lambda function URL ────────────────────────────────────────────────────────────────────

function functionUrlHandler(
  handle: (request: EndpointRequest) => Promise<EndpointResponse>,
  limit: number,
): FunctionUrlHandler {
  return async (event) => {
    const raw = event.body ?? '';
    const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    const response =
      bytes.length > limit
        ? tooLarge(limit)
        : await handle({
            method: event.requestContext?.http?.method ?? 'GET',
            path: `${event.rawPath ?? '/'}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`,
            header: (name) => headerOf(event.headers, name),
            body: bytes.toString('utf8'),
          });
    return { statusCode: response.status, headers: { ...response.headers }, body: response.body };
  };
}

function headerOf(headers: APIGatewayProxyEventV2['headers'] | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

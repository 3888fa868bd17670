import { NotFoundError, ValidationError } from '../errors';
import type { Items } from '../inventory/items';
import type { Accounts } from '../ledger/accounts';
import { isTerminal, settledState } from '../protocol';
import type { ParticipantRegistry } from '../registry';
import {
  CreateAccountRequest,
  CreateItemRequest,
  IdempotencyKey,
  parseOrThrow,
  TransferRequest,
  TxId,
  WaitSeconds,
} from '../schemas';
import {
  API_ORIGIN,
  parseTransactionRequest,
  type SubmitRequest,
  type SubmitResult,
  type Transactions,
  toAcceptedView,
  toTransactionView,
  transactionHref,
  transferOperations,
} from '../transactions';
import type { ApiAuth } from './auth';
import {
  type HttpEvent,
  type HttpResult,
  headerOf,
  json,
  problem,
  problemFromError,
  readJsonBody,
} from './http';
import { type OpenApiDocument, openApiDocument } from './openapi';
import { ROUTE_KEYS, type RouteKey, splitRouteKey } from './routes';

export interface ApiDeps {
  /** The deployment's participants: what operations are valid and where they go. */
  readonly registry: ParticipantRegistry;
  /** The bank's accounts (the `ledger` counter); absent when the deployment has no ledger. */
  readonly accounts?: Accounts;
  /** The shop's items (the `inventory` counter); absent when the deployment has none. */
  readonly items?: Items;
  readonly transactions: Transactions;
  /** The stage's auth, as its authorizer checks it: what `GET /openapi.json` declares. */
  readonly auth: ApiAuth;
  readonly nowMs: () => number;
  /** Called with every error that maps to a 5xx, for logging. */
  readonly onServerError?: (error: unknown, event: HttpEvent) => void;
}

/** What the API needs of the Lambda context: how long this invocation may still run. */
export interface TimeBudget {
  getRemainingTimeInMillis(): number;
}

/**
 * Time kept back from a `?wait=N` hold so the answer leaves before the function times out (the
 * API function runs for at most 29 s; a wait is at most 20 s).
 */
export const WAIT_SAFETY_MARGIN_MS = 3_000;

/** Each route's path template as a pattern (`{param}`: one segment, as API Gateway matches it). */
const ROUTE_PATTERNS = ROUTE_KEYS.map((routeKey) => {
  const { method, path } = splitRouteKey(routeKey);
  const pattern = path
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('');
  return { method, pattern: new RegExp(`^${pattern}$`) };
});

/** The methods the API takes on `path` (none: it has no such path). */
function methodsOn(path: string): string[] {
  return ROUTE_PATTERNS.filter((route) => route.pattern.test(path)).map((route) => route.method);
}

/**
 * A request no route of the table (routes.ts) matched (API Gateway sends those to the `$default` route): 405
 * with `Allow` for a path the API has, else 404 — a problem document like every other error.
 */
function noRoute(event: HttpEvent): HttpResult {
  const method = event.requestContext?.http?.method ?? '?';
  const path = event.rawPath;
  const allowed = methodsOn(path);
  if (allowed.length > 0 && !allowed.includes(method)) {
    const answer = problem(
      405,
      'method-not-allowed',
      'Method not allowed',
      `${path} takes ${allowed.join(', ')}, not ${method}`,
      path,
    );
    return { ...answer, headers: { ...answer.headers, allow: allowed.join(', ') } };
  }
  return problem(404, 'not-found', 'Not found', `no route for ${method} ${path}`, path);
}

type Route = (event: HttpEvent, budget: TimeBudget | undefined) => Promise<HttpResult>;

/** `?wait=N` in ms (0 when absent), capped by what is left of the invocation. */
function waitMsOf(event: HttpEvent, budget: TimeBudget | undefined): number {
  const raw = event.queryStringParameters?.wait;
  if (raw === undefined) return 0;
  const waitMs = parseOrThrow(WaitSeconds, raw, 'query parameter wait') * 1000;
  if (!budget) return waitMs;
  return Math.max(0, Math.min(waitMs, budget.getRemainingTimeInMillis() - WAIT_SAFETY_MARGIN_MS));
}

/**
 * Who calls, as the API's authorizer established it; idempotency keys are scoped to it, so one
 * caller's key never finds — nor reveals the id of — another caller's transaction.
 *   IAM (SigV4)  the principal's ARN; for an assumed role without its session name (every session
 *                of a role, e.g. each task of a service, is one caller)
 *   JWT          the issuer and the subject (`sub`, else `client_id`)
 *   none         '' — one scope for all (the local stage without auth)
 */
function callerScopeOf(event: HttpEvent): string {
  const authorizer = (
    event.requestContext as {
      authorizer?: { iam?: { userArn?: unknown }; jwt?: { claims?: Record<string, unknown> } };
    }
  ).authorizer;
  const arn = authorizer?.iam?.userArn;
  if (typeof arn === 'string' && arn !== '') {
    const session = /^(arn:[^:]+:sts::\d+:assumed-role\/[^/]+)\/[^/]+$/.exec(arn);
    return `iam:${session ? session[1] : arn}`;
  }
  const claims = authorizer?.jwt?.claims;
  if (claims !== undefined) {
    const subject = claims.sub ?? claims.client_id;
    return `jwt:${JSON.stringify([claims.iss ?? '', subject ?? ''])}`;
  }
  return '';
}

/** The idempotency key from the body or the `Idempotency-Key` header; both given must agree. */
function idempotencyKeyOf(event: HttpEvent, fromBody: string | undefined): string | undefined {
  const raw = headerOf(event, 'idempotency-key');
  const fromHeader =
    raw === undefined ? undefined : parseOrThrow(IdempotencyKey, raw, 'Idempotency-Key header');
  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
    throw new ValidationError('the Idempotency-Key header and the body field idempotencyKey differ', [
      { path: 'idempotencyKey', message: 'differs from the Idempotency-Key header' },
    ]);
  }
  return fromBody ?? fromHeader;
}

/** The entity routes of a counter participant the deployment may lack (a 404 if it does). */
function need<T>(routes: T | undefined, participant: string): T {
  if (routes === undefined) throw new NotFoundError(`this deployment has no participant '${participant}'`);
  return routes;
}

/** 200 with the full view once terminal, else 202 with a link to poll. */
function submitted({ record, replayed }: SubmitResult): HttpResult {
  const headers: Record<string, string> = { location: transactionHref(record.txId) };
  if (replayed) headers['idempotent-replayed'] = 'true';
  return isTerminal(settledState(record))
    ? json(200, toTransactionView(record), headers)
    : json(202, toAcceptedView(record), headers);
}

/**
 * The HTTP API as a function of the event: routes by API Gateway's `routeKey` (the `$default`
 * route, and any key it does not know, only ever gets a 404 or 405), parses and validates, calls the
 * use case, maps the answer. Every failure is an application/problem+json.
 * Pass the Lambda context as `budget` so a `?wait=N` hold never outlives the invocation.
 */
export function createApi(deps: ApiDeps): (event: HttpEvent, budget?: TimeBudget) => Promise<HttpResult> {
  const submit = async (event: HttpEvent, budget: TimeBudget | undefined, request: SubmitRequest) =>
    submitted(
      await deps.transactions.submit({
        ...request,
        scope: callerScopeOf(event),
        waitMs: waitMsOf(event, budget),
        // Remembered with the record and repeated on its outcome event (nothing to tell without a key).
        ...(request.idempotencyKey !== undefined
          ? { origin: { source: API_ORIGIN, key: request.idempotencyKey } }
          : {}),
      }),
    );

  let document: OpenApiDocument | undefined;
  const routes: Record<RouteKey, Route> = {
    'GET /health': async () => json(200, { status: 'ok' }),
    'GET /openapi.json': async () => {
      document ??= openApiDocument(deps.registry, deps.auth);
      return json(200, document);
    },
    'POST /accounts': async (event) => {
      const request = parseOrThrow(CreateAccountRequest, readJsonBody(event), 'account');
      const account = await need(deps.accounts, 'ledger').create(request, deps.nowMs());
      return json(201, account, { location: `/accounts/${encodeURIComponent(account.accountId)}` });
    },
    'GET /accounts/{accountId}': async (event) =>
      json(200, await need(deps.accounts, 'ledger').get(event.pathParameters?.accountId ?? '')),
    'POST /inventory/items': async (event) => {
      const request = parseOrThrow(CreateItemRequest, readJsonBody(event), 'item');
      const item = await need(deps.items, 'inventory').create(request, deps.nowMs());
      return json(201, item, { location: `/inventory/items/${encodeURIComponent(item.sku)}` });
    },
    'GET /inventory/items/{sku}': async (event) =>
      json(200, await need(deps.items, 'inventory').get(event.pathParameters?.sku ?? '')),
    'POST /transfers': async (event, budget) => {
      const transfer = parseOrThrow(TransferRequest, readJsonBody(event), 'transfer');
      const idempotencyKey = idempotencyKeyOf(event, transfer.idempotencyKey);
      return submit(event, budget, {
        operations: transferOperations(transfer, deps.registry),
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(transfer.commit !== undefined ? { commit: transfer.commit } : {}),
      });
    },
    'POST /transactions': async (event, budget) => {
      const { request, operations } = parseTransactionRequest(readJsonBody(event), deps.registry);
      const idempotencyKey = idempotencyKeyOf(event, request.idempotencyKey);
      return submit(event, budget, {
        operations,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(request.commit !== undefined ? { commit: request.commit } : {}),
      });
    },
    'GET /transactions/{txId}': async (event, budget) => {
      const txId = parseOrThrow(TxId, event.pathParameters?.txId ?? '', 'txId');
      const waitMs = waitMsOf(event, budget);
      return json(200, toTransactionView(await deps.transactions.get(txId, waitMs)));
    },
  };

  return async (event, budget) => {
    const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey as RouteKey] : undefined;
    if (!route) return noRoute(event);
    const instance = event.rawPath;
    try {
      return await route(event, budget);
    } catch (error) {
      const result = problemFromError(error, instance);
      if ((result.statusCode ?? 500) >= 500) deps.onServerError?.(error, event);
      return result;
    }
  };
}

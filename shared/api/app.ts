import type { Items } from '../inventory/items';
import type { Accounts } from '../ledger/accounts';
import { CreateAccountRequest, CreateItemRequest, parseOrThrow } from '../schemas';
import { type HttpEvent, type HttpResult, json, problem, problemFromError, readJsonBody } from './http';

export interface ApiDeps {
  readonly accounts: Accounts;
  readonly items: Items;
  readonly nowMs: () => number;
  /** Called with every error that maps to a 5xx, for logging. */
  readonly onServerError?: (error: unknown, event: HttpEvent) => void;
}

type Route = (event: HttpEvent) => Promise<HttpResult>;

/**
 * The HTTP API as a function of the event: routes by API Gateway's `routeKey`, parses and
 * validates, calls the use case, maps the answer. Every failure is an application/problem+json.
 */
export function createApi(deps: ApiDeps): (event: HttpEvent) => Promise<HttpResult> {
  const routes: Record<string, Route> = {
    'GET /health': async () => json(200, { status: 'ok' }),
    'POST /accounts': async (event) => {
      const request = parseOrThrow(CreateAccountRequest, readJsonBody(event), 'account');
      const account = await deps.accounts.create(request, deps.nowMs());
      return json(201, account, { location: `/accounts/${encodeURIComponent(account.accountId)}` });
    },
    'GET /accounts/{accountId}': async (event) =>
      json(200, await deps.accounts.get(event.pathParameters?.accountId ?? '')),
    'POST /inventory/items': async (event) => {
      const request = parseOrThrow(CreateItemRequest, readJsonBody(event), 'item');
      const item = await deps.items.create(request, deps.nowMs());
      return json(201, item, { location: `/inventory/items/${encodeURIComponent(item.sku)}` });
    },
    'GET /inventory/items/{sku}': async (event) =>
      json(200, await deps.items.get(event.pathParameters?.sku ?? '')),
  };

  return async (event) => {
    const route = routes[event.routeKey];
    const instance = event.rawPath;
    if (!route) {
      return problem(
        404,
        'not-found',
        'Not found',
        `no route for ${event.requestContext?.http?.method ?? '?'} ${instance}`,
        instance,
      );
    }
    try {
      return await route(event);
    } catch (error) {
      const result = problemFromError(error, instance);
      if ((result.statusCode ?? 500) >= 500) deps.onServerError?.(error, event);
      return result;
    }
  };
}

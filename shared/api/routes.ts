/**
 * THE route table of Tandem's HTTP API, one line per route. The router (app.ts) must have a handler
 * for every key, the OpenAPI document (openapi.ts) an operation for every key (both are typed
 * `Record<RouteKey, …>`), and the CDK construct (infra/tandem.ts) adds exactly these routes, with
 * the authorizer on every one that is not public and the grants named here. It imports nothing, so
 * infra can read it without the API's code.
 *
 *   public   no authorizer: the liveness probe and the API's own description
 *   grants   the Tandem grants (`grantSubmit`, `grantRead`) whose `execute-api:Invoke` covers it
 */
export const ROUTES = {
  'GET /health': { public: true, grants: [], operationId: 'health' },
  'GET /openapi.json': { public: true, grants: [], operationId: 'openapi' },
  'POST /accounts': { public: false, grants: [], operationId: 'createAccount' },
  'GET /accounts/{accountId}': { public: false, grants: [], operationId: 'getAccount' },
  'POST /inventory/items': { public: false, grants: [], operationId: 'createItem' },
  'GET /inventory/items/{sku}': { public: false, grants: [], operationId: 'getItem' },
  'POST /transfers': { public: false, grants: ['submit'], operationId: 'transfer' },
  'POST /transactions': { public: false, grants: ['submit'], operationId: 'submitTransaction' },
  'GET /transactions/{txId}': { public: false, grants: ['read'], operationId: 'getTransaction' },
} as const satisfies Record<`${RouteMethod} /${string}`, RouteSpec>;

/** The methods the API's routes use. */
export type RouteMethod = 'GET' | 'POST';

/** A grant of the Tandem construct that lets a principal invoke some routes. */
export type RouteGrant = 'submit' | 'read';

export interface RouteSpec {
  readonly public: boolean;
  readonly grants: readonly RouteGrant[];
  /** The OpenAPI `operationId` (unique). */
  readonly operationId: string;
}

/** A route as API Gateway names it: `METHOD /path/{param}`. */
export type RouteKey = keyof typeof ROUTES;

/** Every route, in the table's order. */
export const ROUTE_KEYS = Object.keys(ROUTES) as RouteKey[];

/** The method and the path template of a route (`{param}`: one path segment). */
export function splitRouteKey(routeKey: string): { method: RouteMethod; path: string } {
  const [method, path] = routeKey.split(' ') as [RouteMethod, string];
  return { method, path };
}

/** The routes a grant covers. */
export function routesGranted(grant: RouteGrant): RouteKey[] {
  return ROUTE_KEYS.filter((routeKey) => (ROUTES[routeKey].grants as readonly RouteGrant[]).includes(grant));
}

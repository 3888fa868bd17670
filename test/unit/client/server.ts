import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResult } from '../../../shared/api/http';
import { ROUTE_KEYS } from '../../../shared/api/routes';

/** A request as the in-process server received it. */
export interface Received {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface TestServer {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** An HTTP server on a free loopback port that answers each request with `handler`. */
export async function serve(handler: (request: Received) => Reply | Promise<Reply>): Promise<TestServer> {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? '',
      target: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    received.push(request);
    const reply = await handler(request);
    res.writeHead(reply.status, { ...reply.headers });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

const ROUTES = ROUTE_KEYS.map((routeKey) => {
  const [method, template] = routeKey.split(' ') as [string, string];
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { routeKey, method, pattern: new RegExp(`^${source}$`), names };
});

/**
 * Serves the API's handler (shared/api/app.ts) the way API Gateway does: the route key, path
 * parameters and query of each request, and the answer as it is.
 */
export function asApiGateway(
  api: (event: APIGatewayProxyEventV2) => Promise<HttpResult>,
): (request: Received) => Promise<Reply> {
  return async ({ method, target, headers, body }) => {
    const url = new URL(target, 'http://api');
    let routeKey = '$default';
    let pathParameters: Record<string, string> | undefined;
    for (const route of ROUTES) {
      const match = route.method === method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      routeKey = route.routeKey;
      pathParameters = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1] as string)]),
      );
    }
    const query = Object.fromEntries(url.searchParams);
    const result = await api({
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)])),
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      ...(pathParameters ? { pathParameters } : {}),
      ...(body !== '' ? { body } : {}),
      isBase64Encoded: false,
      requestContext: { http: { method, path: url.pathname } } as APIGatewayProxyEventV2['requestContext'],
    });
    return {
      status: result.statusCode ?? 200,
      headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
      ...(result.body !== undefined ? { body: result.body } : {}),
    };
  };
}

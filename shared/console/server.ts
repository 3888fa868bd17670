import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UsageError } from '../ops/errors';
import type { OpsDeps } from '../ops/ports';
import type { StackNames } from '../ops/target';
import { type ApiContext, answer, describeRoutes } from './api';
import { type AuditTrail, auditTrail, DEFAULT_AUDIT_PATH } from './audit';
import { ProblemError, problemOf } from './problem';

/**
 * The operator console's local server: loopback only, one session token per start.
 *
 *   GET  /               the page (console/src, bundled at build time into `assetsDir`); with
 *                        ?token=… it sets the token as an HttpOnly SameSite=Strict cookie and
 *                        redirects to / (the token leaves the address bar and the history)
 *   GET  /assets/app.js, /assets/app.css   the bundle
 *   GET  /api/…          needs the token (cookie or header)
 *   POST /api/…          needs the token in `x-tandem-console-token` (a cookie is not enough), and
 *                        an Origin, if any, of the console itself; audited
 *
 * Every request must name the console as its Host (127.0.0.1:PORT or localhost:PORT), so a page
 * of another site that re-points its DNS name at 127.0.0.1 gets nothing (DNS rebinding).
 */

export const TOKEN_HEADER = 'x-tandem-console-token';
const TOKEN_COOKIE = 'tandem_console_token';
const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];
const BODY_MAX_BYTES = 16 * 1024;

export interface ConsoleOptions {
  readonly deps: OpsDeps;
  readonly names: StackNames;
  /** Loopback only: 127.0.0.1 (default), ::1 or localhost; anything else is refused. */
  readonly host?: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  readonly auditPath?: string;
  /** Who acts, for the audit trail: the local AWS identity, or `local`. */
  readonly who?: string;
  /** Fixed in tests; random (32 bytes) otherwise. */
  readonly token?: string;
  /** How long a session lasts from the start; 12 h by default. */
  readonly sessionTtlMs?: number;
  /** Where the page's bundle is (app.js, app.css): see dev/console-assets.ts. */
  readonly assetsDir?: string;
}

export interface RunningConsole {
  readonly url: string;
  /** The URL with the session token: open it once, the page keeps the cookie. */
  readonly sessionUrl: string;
  readonly token: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Throws a UsageError for any host but loopback's. */
export function assertLoopback(host: string): void {
  if (!LOOPBACK_HOSTS.includes(host)) {
    throw new UsageError(`the console binds to loopback only (127.0.0.1, ::1, localhost), not '${host}'`);
  }
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const host = options.host ?? '127.0.0.1';
  assertLoopback(host);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const expiresAtMs = options.deps.clock.nowMs() + (options.sessionTtlMs ?? 12 * 3_600_000);
  const ctx: ApiContext = { deps: options.deps, names: options.names };
  const audit = auditTrail({
    path: options.auditPath ?? DEFAULT_AUDIT_PATH,
    publisher: options.names.eventBusName ? options.deps.publisher(options.names.eventBusName) : undefined,
  });
  const who = options.who ?? 'local';
  let port = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendProblem(response, problemOf(error)));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${host}`);
    checkHost(request.headers.host, port);
    if (url.pathname === '/' && request.method === 'GET') {
      const given = url.searchParams.get('token');
      if (given !== null && !sameToken(given, token)) {
        throw new ProblemError(
          401,
          'this link has an unknown or expired session token: open the URL `npm run console` printed',
        );
      }
      if (given !== null) {
        response.writeHead(303, {
          location: '/',
          'set-cookie': `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
          'cache-control': 'no-store',
        });
        response.end();
        return;
      }
      const authorised = sameToken(cookieOf(request), token);
      return send(
        response,
        200,
        'text/html; charset=utf-8',
        await pageOf(options.assetsDir, authorised ? token : undefined),
      );
    }
    const asset = ASSETS[url.pathname];
    if (asset && request.method === 'GET') {
      const body = options.assetsDir
        ? await readFile(join(options.assetsDir, asset.file)).catch(() => null)
        : null;
      if (body === null) throw new ProblemError(404, `the page's bundle is not built (${asset.file})`);
      return send(response, 200, asset.type, body);
    }
    if (!url.pathname.startsWith('/api/')) throw new ProblemError(404, `nothing at ${url.pathname}`);

    const method = request.method ?? 'GET';
    const header = request.headers[TOKEN_HEADER];
    const headerToken = typeof header === 'string' ? header : undefined;
    if (method === 'POST') {
      checkOrigin(request.headers.origin, port);
      if (headerToken === undefined) {
        throw new ProblemError(
          403,
          `a state-changing request must carry the session token in the ${TOKEN_HEADER} header`,
        );
      }
    }
    const presented = headerToken ?? cookieOf(request);
    if (presented === undefined) {
      throw new ProblemError(401, 'no session token: open the URL `npm run console` printed');
    }
    if (!sameToken(presented, token) || options.deps.clock.nowMs() > expiresAtMs) {
      throw new ProblemError(
        401,
        'the session token is unknown or expired: restart `npm run console` and open the URL it prints',
      );
    }

    const body = method === 'POST' ? await readJson(request) : {};
    const apiRequest = { method, path: url.pathname, query: url.searchParams, body };
    let status: number;
    let payload: unknown;
    try {
      ({ status, body: payload } = await answer(ctx, apiRequest));
    } catch (error) {
      const problem = problemOf(error);
      status = problem.status;
      payload = problem.body();
    }
    const preview = url.searchParams.get('preview');
    if (method === 'POST' && !(preview === '1' || preview === 'true' || preview === '')) {
      await recordAction(audit, who, options.deps.clock.nowMs(), apiRequest, status, payload);
    }
    return status >= 400
      ? send(response, status, 'application/problem+json', JSON.stringify(payload))
      : send(response, status, 'application/json', JSON.stringify(payload));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  return {
    url: base,
    sessionUrl: `${base}?token=${token}`,
    token,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function recordAction(
  audit: AuditTrail,
  who: string,
  atMs: number,
  request: { method: string; path: string; query: URLSearchParams; body: unknown },
  status: number,
  answer: unknown,
): Promise<void> {
  try {
    await audit.record({
      atMs,
      who,
      what: `${request.method} ${request.path}`,
      request: { query: Object.fromEntries(request.query), body: request.body },
      status,
      answer,
    });
  } catch (error) {
    // The action is done: its answer goes out even when the audit file cannot be written.
    process.stderr.write(`console: could not write the audit trail: ${String(error)}\n`);
  }
}

function checkHost(hostHeader: string | undefined, port: number): void {
  const allowed = LOOPBACK_HOSTS.map((h) => (h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`));
  if (!hostHeader || !allowed.includes(hostHeader.toLowerCase())) {
    throw new ProblemError(
      403,
      `the console answers requests to itself only (Host ${allowed[0]}), not to '${hostHeader ?? ''}'`,
    );
  }
}

function checkOrigin(origin: string | undefined, port: number): void {
  if (origin === undefined) return; // not a browser's cross-site request: the token header decides
  const allowed = LOOPBACK_HOSTS.map((h) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`);
  if (!allowed.includes(origin.toLowerCase())) {
    throw new ProblemError(
      403,
      `cross-site request refused: Origin '${origin}' is not the console (${allowed[0]})`,
    );
  }
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieOf(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > BODY_MAX_BYTES) throw new ProblemError(413, `the body is limited to ${BODY_MAX_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProblemError(400, 'the body is not JSON', { field: 'body' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProblemError(400, 'the body must be a JSON object', { field: 'body' });
  }
  return parsed as Record<string, unknown>;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
  });
  response.end(body);
}

function sendProblem(response: ServerResponse, problem: ProblemError): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  send(response, problem.status, 'application/problem+json', JSON.stringify(problem.body()));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * The page: the bundle's shell, with this session's token in a meta element for the page's POSTs
 * (only when the request carried the session cookie). Without a bundle, the API's routes.
 */
async function pageOf(assetsDir: string | undefined, sessionToken: string | undefined): Promise<string> {
  const built = assetsDir !== undefined && (await stat(join(assetsDir, 'app.js')).catch(() => null)) !== null;
  const body = built
    ? `<div id="root"></div>
<noscript>The Tandem console needs JavaScript.</noscript>
<script type="module" src="/assets/app.js"></script>`
    : `<main>
<h1>Tandem operator console</h1>
<p role="alert">The page's bundle is not built: start the console with <code>npm run console</code>, which builds it.
The JSON API answers meanwhile:</p>
<ul>
${describeRoutes()
  .map((r) => `<li><code>${escapeHtml(r)}</code></li>`)
  .join('\n')}
</ul>
</main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tandem console</title>
${sessionToken ? `<meta name="tandem-console-token" content="${escapeHtml(sessionToken)}">` : ''}
${built ? '<link rel="stylesheet" href="/assets/app.css">' : ''}
</head>
<body>
${body}
</body>
</html>
`;
}

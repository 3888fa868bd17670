import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthOf, percentile } from '../../../shared/console/api';
import { type RunningConsole, startConsole, TOKEN_HEADER } from '../../../shared/console/server';
import { stackNamesOf } from '../../../shared/ops/target';
import {
  ackOf,
  COORDINATOR_URL,
  LEDGER0_DLQ_URL,
  STACK,
  T0,
  tx,
  vote,
  type World,
  world,
} from '../ops/fakes';

const S = 1_000;
const TOKEN = 'test-token-0123456789';

interface Answer {
  status: number;
  type: string;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: the answers' JSON, read field by field in assertions
  body: any;
  text: string;
}

let w: World;
let consoleServer: RunningConsole;
let auditPath: string;

/** One request with full control of the headers (fetch would set Host and refuse some). */
function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<Answer> {
  const token = options.token === undefined ? TOKEN : options.token;
  const headers: Record<string, string> = {
    host: `127.0.0.1:${consoleServer.port}`,
    ...(token !== null ? { [TOKEN_HEADER]: token } : {}),
    ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: consoleServer.port, method, path, headers, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const type = String(res.headers['content-type'] ?? '');
          resolve({
            status: res.statusCode ?? 0,
            type,
            headers: res.headers,
            text,
            body: type.includes('json') ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const records = () => [
  tx('t-committed', T0 - 120 * S, [
    vote('ledger-0', 'YES', T0 - 119 * S),
    vote('ledger-1', 'YES', T0 - 119 * S),
    ['Ack', T0 - 118 * S, { participantId: 'ledger-0', outcome: 'COMMITTED' }],
    ackOf('ledger-1', 'COMMITTED', T0 - 118 * S),
    ['Check', T0 - 117 * S],
  ]),
  tx('t-aborted', T0 - 60 * S, [vote('ledger-0', 'NO', T0 - 59 * S)]),
  tx('t-preparing', T0 - 200 * S, [vote('ledger-0', 'YES', T0 - 199 * S)]),
  tx('t-one-phase', T0 - 10 * S, [], ['ledger-2']),
];

beforeEach(async () => {
  // Prepare
  w = world(records());
  w.stack.outputsByStack[STACK] = { ...w.stack.outputsByStack[STACK], EventBusName: 'Tandem-test-Bus' };
  auditPath = join(await mkdtemp(join(tmpdir(), 'tandem-console-')), 'audit.jsonl');
  consoleServer = await startConsole({
    deps: w.deps,
    names: stackNamesOf(STACK, await w.stack.outputs(STACK)),
    auditPath,
    token: TOKEN,
    who: 'tester',
  });
});

afterEach(async () => {
  await consoleServer.close();
});

const auditLines = async () =>
  (await readFile(auditPath, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('the console server: host, token and origin', () => {
  it('refuses to bind anywhere but loopback', async () => {
    await expect(
      startConsole({
        deps: w.deps,
        names: stackNamesOf(STACK, await w.stack.outputs(STACK)),
        host: '0.0.0.0',
      }),
    ).rejects.toThrow(/loopback only/);
  });

  it('prints a URL with the token; opening it sets a SameSite=Strict cookie and redirects to /', async () => {
    expect(consoleServer.sessionUrl).toBe(`http://127.0.0.1:${consoleServer.port}/?token=${TOKEN}`);
    const opened = await call('GET', `/?token=${TOKEN}`, { token: null });
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/');
    expect(opened.headers['set-cookie']?.[0]).toMatch(
      /^tandem_console_token=test-token-0123456789; .*HttpOnly; SameSite=Strict/,
    );
    const page = await call('GET', '/', {
      token: null,
      headers: { cookie: `tandem_console_token=${TOKEN}` },
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<meta name="tandem-console-token" content="${TOKEN}">`);
    // No bundle given: the page says so and lists the API.
    expect(page.text).toContain("The page's bundle is not built");
    expect(page.text).toContain('POST /api/transactions/:id/abort?preview');
    const stranger = await call('GET', '/', { token: null });
    expect(stranger.text).not.toContain(TOKEN);
    const badLink = await call('GET', '/?token=stale', { token: null });
    expect(badLink.status).toBe(401);
    expect(badLink.headers['set-cookie']).toBeUndefined();
  });

  it('serves the bundle the page loads, and 404 when it is not built', async () => {
    // Prepare
    const assetsDir = await mkdtemp(join(tmpdir(), 'tandem-console-assets-'));
    await writeFile(join(assetsDir, 'app.js'), 'console.log("app")');
    await writeFile(join(assetsDir, 'app.css'), 'body{}');
    const withAssets = await startConsole({
      deps: w.deps,
      names: stackNamesOf(STACK, await w.stack.outputs(STACK)),
      auditPath,
      token: TOKEN,
      assetsDir,
    });
    const get = (path: string) =>
      fetch(`${withAssets.url}${path.slice(1)}`, { headers: { cookie: `tandem_console_token=${TOKEN}` } });
    try {
      // Act
      const page = await (await get('/')).text();
      const script = await get('/assets/app.js');
      const style = await get('/assets/app.css');
      const other = await get('/assets/../package.json');

      // Assess
      expect(page).toContain('<script type="module" src="/assets/app.js"></script>');
      expect(page).toContain('<link rel="stylesheet" href="/assets/app.css">');
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(await script.text()).toBe('console.log("app")');
      expect(style.headers.get('content-type')).toMatch(/^text\/css/);
      expect(other.status).toBe(404);
      expect((await get('/assets/app.js')).headers.get('content-security-policy')).toMatch(
        /default-src 'self'/,
      );
    } finally {
      await withAssets.close();
    }
    const missing = await call('GET', '/assets/app.js', { token: null });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/bundle is not built/);
  });

  it('answers a GET with the cookie, and 401 problem+json without or with a wrong token', async () => {
    const withCookie = await call('GET', '/api/stuck', {
      token: null,
      headers: { cookie: `tandem_console_token=${TOKEN}` },
    });
    expect(withCookie.status).toBe(200);
    const none = await call('GET', '/api/stuck', { token: null });
    expect(none.status).toBe(401);
    expect(none.type).toBe('application/problem+json');
    expect(none.body.detail).toMatch(/no session token/);
    const wrong = await call('GET', '/api/stuck', { token: 'stale' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toMatch(/unknown or expired/);
  });

  it('refuses a POST that carries the token only as a cookie (403), and changes nothing', async () => {
    const answer = await call('POST', '/api/transactions/t-preparing/abort', {
      token: null,
      headers: { cookie: `tandem_console_token=${TOKEN}` },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain(TOKEN_HEADER);
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
  });

  it('refuses a cross-site POST (another Origin) and a foreign Host with 403', async () => {
    const crossSite = await call('POST', '/api/transactions/t-preparing/abort', {
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.detail).toMatch(/cross-site request refused/);
    const rebound = await call('GET', '/api/stuck', {
      headers: { host: `evil.example:${consoleServer.port}` },
    });
    expect(rebound.status).toBe(403);
    const sameOrigin = await call('POST', '/api/transactions/t-preparing/abort?preview=1', {
      headers: { origin: `http://127.0.0.1:${consoleServer.port}` },
    });
    expect(sameOrigin.status).toBe(200);
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
  });

  it('refuses an expired session with 401', async () => {
    w.clock.now += 13 * 3_600_000;
    const answer = await call('GET', '/api/stuck');
    expect(answer.status).toBe(401);
  });
});

describe('the console API: transactions', () => {
  it('lists newest first with counts by state, and pages with a cursor', async () => {
    const first = await call('GET', '/api/transactions?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { txId: string }) => i.txId)).toEqual(['t-one-phase', 't-aborted']);
    expect(first.body.countsByState).toMatchObject({ PREPARING: 2, COMMITTED: 1, ABORTING: 1 });
    expect(first.body.scan.how).toMatch(/bounded Scan/);
    const second = await call('GET', `/api/transactions?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i: { txId: string }) => i.txId)).toEqual(['t-committed', 't-preparing']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('filters by state, outcome, participant, time and q', async () => {
    const ids = async (query: string) =>
      (await call('GET', `/api/transactions?${query}`)).body.items.map((i: { txId: string }) => i.txId);
    expect(await ids('state=PREPARING')).toEqual(['t-one-phase', 't-preparing']);
    expect(await ids('outcome=COMMITTED')).toEqual(['t-committed']);
    expect(await ids('participant=ledger-2')).toEqual(['t-one-phase']);
    expect(await ids(`from=${new Date(T0 - 90 * S).toISOString()}&to=${T0 - 30 * S}`)).toEqual(['t-aborted']);
    expect(await ids('q=t-committed')).toEqual(['t-committed']);
    expect(await ids('q=nothing-like-it')).toEqual([]);
  });

  it('answers a malformed filter with 400 naming the field', async () => {
    for (const [query, field] of [
      ['state=DONE', 'state'],
      ['outcome=maybe', 'outcome'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['from=yesterday', 'from'],
      ['cursor=garbage', 'cursor'],
      ['colour=red', 'colour'],
    ] as const) {
      const answer = await call('GET', `/api/transactions?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.type).toBe('application/problem+json');
      expect(answer.body.field).toBe(field);
      expect(answer.body.detail).toMatch(new RegExp(`^${field}: `));
    }
    expect((await call('GET', '/api/health?window=forever')).body.field).toBe('window');
    expect((await call('GET', '/api/stuck?olderThan=-1')).body.field).toBe('olderThan');
  });

  it('shows one transaction with its participants, timeline and why it is not finished', async () => {
    const answer = await call('GET', '/api/transactions/t-preparing');
    expect(answer.status).toBe(200);
    expect(answer.body.participants.map((p: { id: string }) => p.id)).toEqual(['ledger-0', 'ledger-1']);
    expect(answer.body.participants[0].vote).toBe('YES');
    expect(answer.body.timeline[0].event).toBe('created');
    expect(answer.body.coordinator.slot).toBeTypeOf('number');
    expect(answer.body.whyNotFinished).toMatch(/^waiting for ledger-1's vote since 3m 20s/);
    expect((await call('GET', '/api/transactions/t-committed')).body.whyNotFinished).toBeNull();
  });

  it('answers 404 for an unknown transaction, route or DLQ, and 405 for a wrong method', async () => {
    expect((await call('GET', '/api/transactions/nope')).status).toBe(404);
    expect((await call('POST', '/api/transactions/nope/retry')).status).toBe(404);
    expect((await call('GET', '/api/nothing')).status).toBe(404);
    expect((await call('GET', '/api/dlq/nope')).status).toBe(404);
    expect((await call('GET', '/api/transactions/t-preparing/abort')).status).toBe(405);
    expect(await auditLines()).toHaveLength(1); // the refused retry is audited, with its 404
  });

  it('lists the stuck transactions', async () => {
    const answer = await call('GET', '/api/stuck?olderThan=90s');
    expect(answer.body.stuck.map((s: { txId: string }) => s.txId)).toEqual(['t-preparing']);
  });
});

describe('the console API: actions, preview and the audit trail', () => {
  it('previews an abort without doing it, then aborts and audits it (file and bus)', async () => {
    // Act: preview
    const preview = await call('POST', '/api/transactions/t-preparing/abort?preview=1');
    // Assess
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ action: 'abort', preview: true, done: false });
    expect(preview.body.message).toMatch(/^Would enqueue OperatorAbort for t-preparing/);
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
    expect(await auditLines()).toEqual([]);
    // Act: abort
    const done = await call('POST', '/api/transactions/t-preparing/abort', {
      body: '{"note":"stuck at 3 a.m."}',
    });
    // Assess
    expect(done.status).toBe(202);
    expect(done.body.message).toMatch(/^Enqueued OperatorAbort for t-preparing/);
    expect(w.queues.bodies(COORDINATOR_URL).map((b) => JSON.parse(b))).toEqual([
      { type: 'OperatorAbort', txId: 't-preparing', note: 'stuck at 3 a.m.' },
    ]);
    const [line] = await auditLines();
    expect(line).toMatchObject({
      who: 'tester',
      what: 'POST /api/transactions/t-preparing/abort',
      atMs: T0,
      status: 202,
      request: { body: { note: 'stuck at 3 a.m.' } },
      event: { put: true },
    });
    expect(w.bus.actions).toEqual([
      expect.objectContaining({
        detailType: 'ConsoleAction',
        who: 'tester',
        status: 202,
        eventId: line.event.eventId,
      }),
    ]);
  });

  it('refuses to abort a decided transaction with 409 saying what it is now; nothing changes', async () => {
    const preview = await call('POST', '/api/transactions/t-committed/abort?preview=1');
    expect(preview.status).toBe(409);
    const answer = await call('POST', '/api/transactions/t-committed/abort');
    expect(answer.status).toBe(409);
    expect(answer.type).toBe('application/problem+json');
    expect(answer.body.detail).toMatch(/decision COMMIT is recorded and stands/);
    expect(answer.body.current).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
    expect((await auditLines()).map((l) => l.status)).toEqual([409]);
  });

  it('retries with a preview first; a finished one is 409', async () => {
    const preview = await call('POST', '/api/transactions/t-preparing/retry?preview=1');
    expect(preview.body.message).toMatch(/^Would enqueue a Check for t-preparing/);
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
    const done = await call('POST', '/api/transactions/t-preparing/retry');
    expect(done.status).toBe(202);
    expect(w.queues.bodies(COORDINATOR_URL).map((b) => JSON.parse(b))).toEqual([
      { type: 'Check', txId: 't-preparing' },
    ]);
    expect((await call('POST', '/api/transactions/t-aborted/retry')).status).toBe(202); // ABORTING: acks missing
    expect((await call('POST', '/api/transactions/t-committed/retry')).status).toBe(409);
  });

  it('refuses a body that is not a JSON object, or a bad note, with 400', async () => {
    const notJson = await call('POST', '/api/transactions/t-preparing/abort', { body: '{nope' });
    expect(notJson.status).toBe(400);
    const badNote = await call('POST', '/api/transactions/t-preparing/abort', { body: '{"note":42}' });
    expect(badNote.body.field).toBe('note');
    expect(w.queues.bodies(COORDINATOR_URL)).toEqual([]);
  });

  it('records a bus that is down in the audit line, and still answers the action', async () => {
    w.bus.down = true;
    const answer = await call('POST', '/api/transactions/t-preparing/retry');
    expect(answer.status).toBe(202);
    const [line] = await auditLines();
    expect(line.event).toMatchObject({ put: false, error: 'the fake bus is down' });
  });
});

describe('the console API: queues, DLQs, slots and health', () => {
  it('lists every queue and DLQ with its depth, shows DLQ messages with their reason, and redrives', async () => {
    w.queues.put(LEDGER0_DLQ_URL, '{"type":"Prepare"}', {
      attributes: { error: { DataType: 'String', StringValue: 'boom' } },
    });
    const queues = await call('GET', '/api/queues');
    expect(queues.status).toBe(200);
    expect(queues.body.queues).toHaveLength(6);
    expect(queues.body.queues).toContainEqual(
      expect.objectContaining({ kind: 'dlq', dlqOf: 'ledger-0', messages: 1 }),
    );
    const shown = await call('GET', '/api/dlq/ledger-0');
    expect(shown.body.messages).toEqual([
      expect.objectContaining({ body: '{"type":"Prepare"}', error: 'boom' }),
    ]);
    const preview = await call('POST', '/api/dlq/ledger-0/redrive?preview=1');
    expect(preview.body.message).toMatch(/^Would move 1 of the 1 message/);
    expect(w.queues.bodies(LEDGER0_DLQ_URL)).toHaveLength(1);
    const redriven = await call('POST', '/api/dlq/ledger-0/redrive');
    expect(redriven.body).toMatchObject({ moved: 1, failed: 0 });
    expect(w.queues.bodies(LEDGER0_DLQ_URL)).toEqual([]);
    expect((await auditLines()).map((l) => l.what)).toEqual(['POST /api/dlq/ledger-0/redrive']);
  });

  it('shows each slot with owner, epoch, lease and backlog', async () => {
    w.slots.set(1, { slot: 1, owner: 'worker-a', epoch: 7, leaseExpiresAtMs: T0 + 5 * S });
    const answer = await call('GET', '/api/slots');
    expect(answer.body.slots).toHaveLength(4);
    expect(answer.body.slots[1]).toMatchObject({ owner: 'worker-a', epoch: 7, leaseLeftMs: 5 * S });
    const backlog = answer.body.slots.reduce((n: number, s: { backlog: number }) => n + s.backlog, 0);
    expect(backlog).toBe(3); // every unfinished one has a next check (t-committed does not)
  });

  it('health counts per minute, outcomes and latency percentiles over the window', async () => {
    const answer = await call('GET', '/api/health?window=1h');
    expect(answer.status).toBe(200);
    expect(answer.body.outcomes).toEqual({ COMMITTED: 1, ABORTED: 0, unfinished: 3 });
    expect(answer.body.latencyMs).toMatchObject({ p50: 2 * S, p99: 2 * S, count: 1 });
    expect(answer.body.perMinute.reduce((n: number, m: { created: number }) => n + m.created, 0)).toBe(4);
    const committedMinute = answer.body.perMinute.find((m: { committed: number }) => m.committed === 1);
    expect(committedMinute).toMatchObject({ p50Ms: 2 * S, p99Ms: 2 * S });
    expect(committedMinute.perSecond).toBeCloseTo(committedMinute.created / 60);
  });

  it('percentile and healthOf are plain functions', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(healthOf([], T0, 60_000).outcomes).toEqual({ COMMITTED: 0, ABORTED: 0, unfinished: 0 });
  });
});

import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningConsole, startConsole, TOKEN_HEADER } from '../../shared/console/server';
import { awsDeps } from '../../shared/ops/aws';
import { loadStackNames } from '../../shared/ops/cli';
import { resolveTarget } from '../../shared/ops/target';
import { ApiClient } from '../support/api-client';

// The operator console's server, in-process, against the deployed local stack: its JSON API (the
// page itself is driven in a browser by console-browser.test.ts).
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;

let running: RunningConsole;
let auditPath: string;

async function call(method: 'GET' | 'POST', path: string, payload?: unknown) {
  const response = await fetch(new URL(path, running.url), {
    method,
    headers: { [TOKEN_HEADER]: running.token, 'content-type': 'application/json' },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the answers' JSON, read field by field in assertions
  const body: any = await response.json();
  return { status: response.status, type: response.headers.get('content-type'), body };
}

beforeAll(async () => {
  const target = resolveTarget({ stack: deployment.stackName, endpoint: deployment.endpoint }, process.env);
  const deps = awsDeps(target, process.env);
  auditPath = join(await mkdtemp(join(tmpdir(), 'tandem-console-e2e-')), 'audit.jsonl');
  running = await startConsole({ deps, names: await loadStackNames(target, deps), auditPath });
});

afterAll(async () => {
  await running?.close();
});

describe('operator console server', () => {
  it('reads a committed and an aborted transaction, and refuses to abort the decided one', async () => {
    // Prepare: a committed transfer (with an idempotency key) and one the ledger votes NO on.
    const [a, b] = [id('conA'), id('conB')];
    await api.createAccount(a, 10);
    await api.createAccount(b, 0);
    const key = id('con-key');
    const committed = await api.client.transfer(
      { from: a, to: b, amount: 3, idempotencyKey: key, commit: 'two-phase' },
      { wait: 20 },
    );
    const aborted = await api.client.transfer(
      { from: a, to: b, amount: 500, commit: 'two-phase' },
      { wait: 20 },
    );
    expect((await api.waitTerminal(committed.txId)).state).toBe('COMMITTED');
    expect((await api.waitTerminal(aborted.txId)).state).toBe('ABORTED');

    // Act
    const byKey = await call('GET', `/api/transactions?q=${encodeURIComponent(key)}`);
    const shownCommitted = await call('GET', `/api/transactions/${committed.txId}`);
    const shownAborted = await call('GET', `/api/transactions/${aborted.txId}`);
    const refused = await call('POST', `/api/transactions/${committed.txId}/abort`);
    const unknown = await call('GET', `/api/transactions/${id('tx_nope')}`);

    // Assess
    expect(byKey.status).toBe(200);
    expect(byKey.body.items.map((i: { txId: string }) => i.txId)).toEqual([committed.txId]);
    expect(shownCommitted.body).toMatchObject({
      txId: committed.txId,
      state: 'COMMITTED',
      whyNotFinished: null,
    });
    expect(shownCommitted.body.timeline.map((e: { event: string }) => e.event)).toContain('created');
    expect(shownAborted.body).toMatchObject({ state: 'ABORTED', outcome: 'ABORTED' });
    expect(shownAborted.body.participants.some((p: { vote?: string }) => p.vote === 'NO')).toBe(true);
    expect(refused.status).toBe(409);
    expect(refused.type).toBe('application/problem+json');
    expect(refused.body.current).toMatchObject({ state: 'COMMITTED' });
    expect((await api.waitTerminal(committed.txId)).state).toBe('COMMITTED');
    expect(unknown.status).toBe(404);
    const lines = (await readFile(auditPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        what: `POST /api/transactions/${committed.txId}/abort`,
        status: 409,
        who: 'local',
      }),
    ]);
    expect(deployment.outputs.EventBusName).toBeTruthy();
    expect(lines[0].event).toMatchObject({ put: true });
  });

  it('lists the queues and redrives a message from a DLQ', async () => {
    // Prepare: a poison message put straight into the inventory participant's DLQ.
    const queues = await call('GET', '/api/queues');
    expect(queues.status).toBe(200);
    const dlqUrl = (queues.body.dlqs as Array<{ name: string; dlqUrl: string }>).find(
      (d) => d.name === 'inventory',
    )!.dlqUrl;
    const marker = id('console-poison');
    await new SQSClient({ endpoint: deployment.endpoint }).send(
      new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `{"type":"Prepare","poison":"${marker}"` }),
    );

    // Act
    const shown = await call('GET', '/api/dlq/inventory?max=10');
    const preview = await call('POST', '/api/dlq/inventory/redrive?preview=1');
    const redriven = await call('POST', '/api/dlq/inventory/redrive?max=10');

    // Assess
    expect(shown.body.messages.map((m: { body: string }) => m.body)).toContainEqual(
      expect.stringContaining(marker),
    );
    expect(preview.body.message).toMatch(/^Would move [1-9]/);
    expect(redriven.status).toBe(200);
    expect(redriven.body.moved).toBeGreaterThanOrEqual(1);
    expect(queues.body.queues.some((q: { kind: string }) => q.kind === 'dlq')).toBe(true);
  });

  it('aborts a transaction stuck before its decision, and reads the log, slots and health', async () => {
    // Prepare: a transfer whose votes a fault plan drops, so it stays PREPARING.
    const { txId } = await api.stuckTransfer(id('con-stuck'));

    // Act
    const shown = await call('GET', `/api/transactions/${txId}`);
    const preview = await call('POST', `/api/transactions/${txId}/abort?preview=1`);
    const abort = await call('POST', `/api/transactions/${txId}/abort`, { note: id('console') });
    const done = await api.waitTerminal(txId, Date.now() + 15_000);
    const list = await call('GET', '/api/transactions?limit=5&mode=two-phase');
    const slots = await call('GET', '/api/slots');
    const health = await call('GET', '/api/health?window=15m');
    const stuck = await call('GET', '/api/stuck?olderThan=1h');

    // Assess
    expect(shown.body.state).toBe('PREPARING');
    expect(shown.body.whyNotFinished).toMatch(
      /^waiting for (the votes of ledger-\d and ledger-\d|ledger-\d's vote) since/,
    );
    expect(preview.body.message).toMatch(`Would enqueue OperatorAbort for ${txId}`);
    expect(abort.status).toBe(202);
    expect(done).toMatchObject({ state: 'ABORTED', reason: `aborted by operator: ${id('console')}` });
    expect(list.status).toBe(200);
    const created = list.body.items.map((i: { createdAtMs: number }) => i.createdAtMs);
    expect(created).toEqual([...created].sort((x, y) => y - x));
    expect(list.body.countsByState.ABORTED).toBeGreaterThanOrEqual(2);
    expect(slots.body.slots.length).toBeGreaterThan(0);
    expect(slots.body.slots.some((s: { epoch: number | null }) => s.epoch !== null)).toBe(true);
    expect(health.body.outcomes.ABORTED).toBeGreaterThanOrEqual(2);
    expect(health.body.latencyMs.p50).toBeGreaterThan(0);
    expect(stuck.status).toBe(200);
  });

  it('runs as npm run console: prints the session URL, serves the page, refuses a non-loopback host', async () => {
    const root = resolve(import.meta.dirname, '..', '..');
    // tsx itself (not npx): it passes SIGTERM on to the console, which closes and exits.
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    const args = ['scripts/console.ts', '--stack', deployment.stackName, '--endpoint', deployment.endpoint];
    const child = spawn(tsx, [...args, '--audit', auditPath], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const deadline = Date.now() + 20_000;
      while (!/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(out) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const sessionUrl = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out)?.[0];
      expect(sessionUrl, out).toBeDefined();
      expect(out).toContain(`stack ${deployment.stackName} as local`);
      const opened = await fetch(sessionUrl!, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      const cookie = opened.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/SameSite=Strict/);
      const home = new URL('/', sessionUrl);
      const page = await fetch(home, { headers: { cookie: cookie.split(';')[0]! } });
      expect(await page.text()).toContain('<script type="module" src="/assets/app.js"></script>');
      const script = await fetch(new URL('/assets/app.js', home));
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(100_000); // React, Query and Recharts, bundled
    } finally {
      child.kill('SIGTERM');
    }
    const refused = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const bad = spawn(tsx, [...args, '--host', '0.0.0.0'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      bad.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      bad.on('close', (code) => done({ code, stderr }));
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('loopback only');
  });
});

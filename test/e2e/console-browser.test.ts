import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureChromium } from '../../dev/browser';
import { buildConsoleAssets } from '../../dev/console-assets';
import { STATE_DIR } from '../../dev/emulator';
import { type RunningConsole, startConsole } from '../../shared/console/server';
import { awsDeps } from '../../shared/ops/aws';
import { loadStackNames } from '../../shared/ops/cli';
import { resolveTarget } from '../../shared/ops/target';
import { ApiClient } from '../support/api-client';

// The operator console in a real headless Chromium (Debian's, driven by playwright-core) against
// the stack deployed on the emulator: each page shows what the records say, and its actions go
// through. Screenshots land in TANDEM_CONSOLE_SCREENSHOTS (the README's come from this test).
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;
const SHOTS = resolve(process.env.TANDEM_CONSOLE_SCREENSHOTS ?? join(STATE_DIR, 'console-screenshots'));
const UI_TIMEOUT_MS = 15_000;

let running: RunningConsole;
let browser: Browser;
let page: Page;
let auditPath: string;
let assetsDir: string;
const pageErrors: string[] = [];
let committed: { txId: string; key: string };
let aborted: string;

async function open(hash: string): Promise<void> {
  await page.goto(`${running.url}${hash}`);
}

const shot = (name: string, options: { fullPage?: boolean } = {}) =>
  page.screenshot({ path: join(SHOTS, `console-${name}.png`), ...options });

beforeAll(async () => {
  const executablePath = ensureChromium((line) => console.log(`[console-browser] ${line}`));
  assetsDir = await buildConsoleAssets(await mkdtemp(join(tmpdir(), 'tandem-console-assets-')));
  const target = resolveTarget({ stack: deployment.stackName, endpoint: deployment.endpoint }, process.env);
  const deps = awsDeps(target, process.env);
  auditPath = join(await mkdtemp(join(tmpdir(), 'tandem-console-browser-')), 'audit.jsonl');
  running = await startConsole({ deps, names: await loadStackNames(target, deps), auditPath, assetsDir });
  await mkdir(SHOTS, { recursive: true });

  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text()))
      pageErrors.push(message.text());
  });
  await page.goto(running.sessionUrl); // sets the session cookie, redirects to /

  // A committed transfer (with an idempotency key) and one the ledger votes NO on.
  const [a, b] = [id('webA'), id('webB')];
  await api.createAccount(a, 10);
  await api.createAccount(b, 0);
  const key = id('web-key');
  const ok = await api.client.transfer({
    from: a,
    to: b,
    amount: 3,
    idempotencyKey: key,
    commit: 'two-phase',
  });
  const no = await api.client.transfer({ from: a, to: b, amount: 500, commit: 'two-phase' });
  expect((await api.waitTerminal(ok.txId)).state).toBe('COMMITTED');
  expect((await api.waitTerminal(no.txId)).state).toBe('ABORTED');
  committed = { txId: ok.txId, key };
  aborted = no.txId;
});

afterAll(async () => {
  await browser?.close();
  await running?.close();
});

describe('operator console in a browser', () => {
  it('lists transactions newest first with counts, and finds one by its idempotency key', async () => {
    // Act
    await open('#/transactions');
    await page.locator(`tr[data-tx="${aborted}"]`).waitFor();
    await shot('list');
    await page.getByLabel('Id or idempotency key').fill(committed.key);
    await page.getByRole('button', { name: 'Apply' }).click();

    // Assess
    const rows = page.locator('table.list tbody tr');
    await page.locator('h2', { hasText: /^1 matching$/ }).waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-tx')).toBe(committed.txId);
    expect(await rows.first().locator('.badge').textContent()).toBe('COMMITTED');
    const committedCount = Number(await page.locator('[data-count="COMMITTED"]').textContent());
    expect(committedCount).toBeGreaterThanOrEqual(1);
    expect(page.url()).toContain(`q=${encodeURIComponent(committed.key)}`);
  });

  it('shows an aborted transaction: the NO vote with its reason, and its steps on a timeline', async () => {
    // Act
    await open('#/transactions?outcome=ABORTED');
    await page.locator(`tr[data-tx="${aborted}"] a`).click();
    await page.getByTestId('timeline-chart').locator('.recharts-scatter-symbol').first().waitFor();

    // Assess
    expect(page.url()).toContain(`#/tx/${aborted}`);
    expect(await page.getByTestId('tx-state').textContent()).toBe('ABORTED');
    expect(await page.getByTestId('tx-reason').textContent()).toMatch(/voted NO/);
    const noRow = page.locator('tr[data-participant]', { has: page.locator('.vote-no') });
    expect(await noRow.locator('.reason').textContent()).toMatch(/insufficient|funds|balance/i);
    expect(await page.getByTestId('why').textContent()).toBe('Finished: ABORTED.');
    // One symbol per step, on the coordinator's lane and each participant's.
    const steps = await page.locator('ol.steps li').allTextContents();
    const symbols = await page.getByTestId('timeline-chart').locator('.recharts-scatter-symbol').count();
    expect(symbols).toBe(steps.length);
    expect(steps.some((s) => /decision ABORT: .*\(slot \d+, epoch \d+\)/.test(s))).toBe(true);
    expect(steps.some((s) => /vote NO from/.test(s))).toBe(true);
    await page.locator('figure.timeline summary').click(); // every step as text, for the screenshot
    await shot('timeline', { fullPage: true });
  });

  it('aborts a transaction stuck before its decision, after a preview and a confirmation', async () => {
    // Prepare: a transfer whose votes a fault plan drops, so it waits in PREPARING (the test
    // stack's prepare timeout is 20 s; the page acts well before).
    const { txId } = await api.stuckTransfer(id('web-stuck'));
    await new Promise((r) => setTimeout(r, 2_500));

    // Act
    await open('#/stuck?olderThan=2s');
    const row = page.locator(`tr[data-tx="${txId}"]`);
    await row.waitFor();
    const state = await row.locator('.badge').textContent();
    const missing = await row.locator('td').nth(4).textContent();
    await shot('stuck');
    await row.getByRole('button', { name: 'Abort…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const preview = await dialog.locator('.preview').textContent();
    await dialog.getByRole('button', { name: 'Abort it' }).click();
    const done = await row.getByRole('status').textContent();

    // Assess
    expect(state).toBe('PREPARING');
    expect(missing).toMatch(/^votes: /);
    expect(preview).toContain(`Would enqueue OperatorAbort for ${txId}`);
    expect(done).toMatch(/OperatorAbort/);
    expect(await api.waitTerminal(txId, Date.now() + 15_000)).toMatchObject({
      state: 'ABORTED',
      reason: 'aborted by operator: from the console',
    });
    await open(`#/tx/${txId}`);
    await page.getByTestId('tx-state').getByText('ABORTED').waitFor();
    const audit = (await readFile(auditPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit).toContainEqual(
      expect.objectContaining({ what: `POST /api/transactions/${txId}/abort`, status: 202 }),
    );
  });

  it('refuses to abort a decided transaction, says what it is now, and changes nothing', async () => {
    // Act
    await open(`#/tx/${committed.txId}`);
    await page.getByRole('button', { name: 'Abort…' }).click();
    const alert = page.getByRole('alert');
    const text = await alert.textContent();

    // Assess
    expect(text).toContain('Conflict (409)');
    expect(text).toMatch(/the decision COMMIT is recorded and stands/);
    expect(text).toContain('It is now COMMITTED');
    expect(await page.getByRole('dialog').isVisible()).toBe(false);
    expect((await api.waitTerminal(committed.txId)).state).toBe('COMMITTED');
  });

  it('shows a DLQ message with its body and redrives it', async () => {
    // Prepare: a poison message put straight into the inventory participant's DLQ.
    const queues = await fetch(new URL('/api/queues', running.url), {
      headers: { 'x-tandem-console-token': running.token },
    }).then((r) => r.json() as Promise<{ dlqs: Array<{ name: string; dlqUrl: string }> }>);
    const dlqUrl = queues.dlqs.find((d) => d.name === 'inventory')!.dlqUrl;
    const marker = id('web-poison');
    await new SQSClient({ endpoint: deployment.endpoint }).send(
      new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: `{"type":"Prepare","poison":"${marker}"` }),
    );

    // Act
    await open('#/queues');
    await page.getByRole('link', { name: "Messages of inventory's DLQ" }).click();
    await page.locator('pre.body', { hasText: marker }).waitFor();
    await page.getByRole('button', { name: 'Redrive…' }).click();
    await page.getByRole('dialog').waitFor();
    const preview = await page.getByRole('dialog').locator('.preview').textContent();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive' }).click();
    const done = await page.getByRole('status').textContent();

    // Assess
    expect(preview).toMatch(/^Would move [1-9]\d* of the \d+ message\(s\)/);
    expect(done).toMatch(/^Moved [1-9]\d* message\(s\); 0 refused\.$/);
  });

  it('health draws throughput, outcomes and latency as charts', async () => {
    await open('#/health?window=1h');
    await page.locator('.chart .recharts-surface').nth(2).waitFor();
    expect(Number(await page.getByTestId('committed').textContent())).toBeGreaterThanOrEqual(1);
    expect(Number(await page.getByTestId('aborted').textContent())).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.chart figcaption').allTextContents()).toEqual([
      'Transactions per second (average per minute)',
      'Outcomes per minute',
      'Latency per minute (created → finished)',
    ]);
    await shot('health');
    await open('#/slots');
    await page.locator('table.list tbody tr').first().waitFor();
    expect(await page.locator('table.list tbody tr').count()).toBeGreaterThan(0);
  });

  it("passes axe's WCAG 2.1 AA checks on every view, and works from the keyboard", async () => {
    // Prepare: axe-core is injected as a script, which the console's CSP refuses: a second context
    // that bypasses CSP, for this check only.
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    const audited = await context.newPage();
    await audited.goto(running.sessionUrl);
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
    const views: Array<[string, string]> = [
      ['#/transactions', 'table.list tbody tr'],
      [`#/tx/${aborted}`, '.recharts-scatter-symbol'],
      ['#/stuck?olderThan=1s', 'table.list'],
      ['#/slots', 'table.list tbody tr'],
      ['#/queues/inventory', 'table.list tbody tr'],
      ['#/health', '.chart .recharts-surface'],
      [`#/tx/${id('tx_nope')}`, '[role="alert"]'],
    ];

    // Act
    const violations: string[] = [];
    for (const [hash, ready] of views) {
      await audited.goto(`${running.url}${hash}`);
      await audited.locator(ready).first().waitFor();
      await audited.addScriptTag({ path: axePath });
      // A string, run in the page (this file's types have no DOM).
      const found = (await audited.evaluate(`axe
        .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        .then((r) => r.violations.map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
      violations.push(...found.map((v) => `${hash}: ${v}`));
    }
    // Keyboard: the first Tab reaches the skip link; Enter on an action opens its dialog with the
    // focus inside it; Escape closes it and nothing is done.
    await audited.goto(`${running.url}#/queues/inventory`);
    await audited.getByRole('button', { name: 'Redrive…' }).waitFor();
    await audited.keyboard.press('Tab');
    const first = await audited.evaluate('document.activeElement?.textContent');
    await audited.getByRole('button', { name: 'Redrive…' }).focus();
    await audited.keyboard.press('Enter');
    await audited.getByRole('dialog').waitFor();
    const focusInDialog = await audited.evaluate("document.activeElement?.closest('dialog') !== null");
    await audited.keyboard.press('Escape');
    await audited.getByRole('dialog').waitFor({ state: 'hidden' });
    await context.close();

    // Assess
    expect(violations).toEqual([]);
    expect(first).toBe('Skip to content');
    expect(focusInDialog).toBe(true);
  });

  it('answers bad input with a message on the page: unknown id, malformed filter, expired session', async () => {
    await open(`#/tx/${id('tx_nope')}`);
    expect(await page.getByRole('alert').textContent()).toMatch(/Not found \(404\).*no transaction/);

    await open('#/transactions?from=yesterday');
    expect(await page.getByRole('alert').textContent()).toMatch(
      /Bad request \(400\).*from: 'yesterday' is not/,
    );

    await open('#/nowhere');
    expect(await page.getByRole('alert').textContent()).toMatch(/Nothing here/);

    // A console whose session has expired: the page loads, every answer is a 401 it explains.
    const target = resolveTarget({ stack: deployment.stackName, endpoint: deployment.endpoint }, process.env);
    const deps = awsDeps(target, process.env);
    const expired = await startConsole({
      deps,
      names: await loadStackNames(target, deps),
      auditPath,
      sessionTtlMs: 1,
      assetsDir,
    });
    try {
      const other = await browser.newPage();
      await other.goto(expired.sessionUrl);
      const text = await other.getByRole('alert').first().textContent({ timeout: UI_TIMEOUT_MS });
      expect(text).toMatch(
        /Session token missing or expired \(401\).*unknown or expired.*Restart npm run console/,
      );
      await other.close();
    } finally {
      await expired.close();
    }
    expect(pageErrors).toEqual([]);
  });
});

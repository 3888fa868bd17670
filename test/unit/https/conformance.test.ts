import { describe, expect, it } from 'vitest';
import { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { newEntity } from '../../../shared/entities';
import {
  checkConformance,
  formatReport,
  main,
  parseCheckArgs,
  RULES,
} from '../../../shared/https/conformance';
import { type EndpointResponse, httpsParticipant } from '../../../shared/https/endpoint';
import { MemoryReplayGuard, type ReplayGuard } from '../../../shared/https/replay-guard';
import { LEDGER } from '../../support/entity-shaped';

const SECRET = 'kit-secret';
const BASE = 'https://ledger.example/tandem';
const OPERATIONS = [{ id: 'alice', action: 'give', amount: 1 }];
const quiet = { error: () => {}, warn: () => {} };

/** A fetch that hands each call to `handle` in this process: no network. */
function fetchOf(
  handle: (request: {
    method: string;
    path: string;
    header: (name: string) => string | undefined;
    body: string;
  }) => Promise<EndpointResponse>,
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const response = await handle({
      method: init?.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      header: (name) => headers.get(name) ?? undefined,
      body: String(init?.body ?? ''),
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  }) as typeof fetch;
}

function sdkEndpoint(replayGuard: ReplayGuard = new MemoryReplayGuard()) {
  return httpsParticipant(LEDGER.definition, {
    table: 'unused',
    secrets: [SECRET],
    store: new MemoryParticipantStore(LEDGER.definition.counter!, [newEntity('alice', 100, 0)]),
    replayGuard,
    logger: quiet,
  });
}

const check = (handle: Parameters<typeof fetchOf>[0], operations: unknown[] = OPERATIONS) =>
  checkConformance({
    baseUrl: BASE,
    secret: SECRET,
    operations: operations as never,
    branch: 'ledger-0',
    fetch: fetchOf(handle),
  });
const broken = (results: Awaited<ReturnType<typeof check>>) =>
  results.filter((r) => r.status === 'broken').map((r) => r.rule);

describe('the conformance kit', () => {
  it('passes the SDK endpoint on every rule', async () => {
    const results = await check(sdkEndpoint().handle);

    expect(formatReport(BASE, results)).toContain(`all ${RULES.length} rules hold`);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
  });

  it('fails an endpoint without a replay guard on the replay rule alone', async () => {
    const results = await check(sdkEndpoint({ remember: async () => true }).handle);

    expect(broken(results)).toEqual(['replayed-call']);
    expect(results.find((r) => r.rule === 'replayed-call')?.lines).toEqual([
      expect.stringMatching(/^its replay \(same headers, same body\) answered 200 .*expected 401 or 403/),
    ]);
  });

  it('fails a naive endpoint (200 to everything) on every rule it breaks, by name', async () => {
    const results = await check(async () => ({ status: 200, headers: {}, body: '{"ok":true}' }));

    // A duplicate try answers 200 twice: the same answer, so that rule holds.
    expect(broken(results)).toEqual([
      'cancel-before-try',
      'try-after-cancel',
      'cancel-then-confirm',
      'confirm-then-cancel',
      'unsigned-call',
      'wrong-secret',
      'tampered-body',
      'expired-signature',
      'replayed-call',
      'malformed-body',
    ]);
    const report = formatReport(BASE, results);
    expect(report).toContain('✗ cancel-before-try');
    expect(report).toMatch(/a try after that cancel answered 200 .*; expected 409/);
    expect(report).toMatch(/a confirm after the cancel answered 200 .*a branch ends once/);
    expect(report).toMatch(/a try whose body is not JSON answered 200 .*; expected 400 or 422/);
  });

  it('fails an endpoint whose duplicate NO gives another reason', async () => {
    let calls = 0;
    const results = await check(async () => ({
      status: 409,
      headers: {},
      body: JSON.stringify({ reason: `no ${calls++}` }),
    }));

    expect(results.find((r) => r.rule === 'duplicate-try')?.lines).toEqual([
      'the first try answered 409 {"reason":"no 1"}, the duplicate answered 409 {"reason":"no 2"}',
    ]);
  });

  it('skips the rules that need a YES when the operations are refused, and says why', async () => {
    const results = await check(sdkEndpoint().handle, [{ id: 'nobody', action: 'take', amount: 1 }]);

    expect(broken(results)).toEqual(['try-accepted']);
    expect(results.filter((r) => r.status === 'skipped').map((r) => r.rule)).toEqual([
      'try-after-cancel',
      'confirm-twice',
      'cancel-twice',
      'cancel-then-confirm',
      'confirm-then-cancel',
    ]);
    expect(results[0]!.lines[0]).toMatch(/a try answered 409 .*pass --operations/);
  });

  it('says so when the endpoint does not answer', async () => {
    const results = await checkConformance({
      baseUrl: BASE,
      secret: SECRET,
      fetch: (async () => {
        throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
      }) as typeof fetch,
    });

    expect(results[0]!.lines[0]).toMatch(/a try got no answer \(fetch failed \(connect ECONNREFUSED/);
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });
});

describe('the participant-check command', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    };
  };

  it.each([
    [[], /--url is required/],
    [['--url', 'nope'], /--url is not a URL: nope/],
    [['--url', 'ftp://x'], /--url must be http\(s\)/],
    [['--url', BASE], /--secret is required/],
    [['--url', BASE, '--secret', 's', '--operations', '{bad'], /--operations is not JSON/],
    [['--url', BASE, '--secret', 's', '--operations', '{}'], /must be a JSON array/],
    [['--url', BASE, '--secret', 's', '--timeout-ms', 'soon'], /--timeout-ms must be a positive number/],
    [['--url', BASE, '--secret', 's', '--colour'], /Unknown option '--colour'/],
  ])('refuses %j readably, with exit code 2', async (argv, message) => {
    const { err, io: streams } = io();

    expect(await main(argv, streams, {})).toBe(2);
    expect(err.join('')).toMatch(message);
    expect(err.join('')).toContain('usage: npm run participant-check');
  });

  it('reads the secret from the environment and the operations as JSON', () => {
    expect(
      parseCheckArgs(['--url', BASE, '--operations', '[{"seat":"{{txId}}"}]'], {
        TANDEM_PARTICIPANT_SECRET: 'e',
      }),
    ).toEqual({ baseUrl: BASE, secret: 'e', operations: [{ seat: '{{txId}}' }] });
  });

  it('exits 0 when every rule holds and 1 when one is broken', async () => {
    const good = io();
    const argv = [
      '--url',
      BASE,
      '--secret',
      SECRET,
      '--operations',
      JSON.stringify(OPERATIONS),
      '--branch',
      'x',
    ];
    expect(await main(argv, good.io, {}, { fetch: fetchOf(sdkEndpoint().handle) })).toBe(0);
    expect(good.out.join('')).toContain('rules hold');

    const bad = io();
    const naive = fetchOf(async () => ({ status: 200, headers: {}, body: '' }));
    expect(await main(argv, bad.io, {}, { fetch: naive })).toBe(1);
    expect(bad.out.join('')).toMatch(/rules broken/);
  });
});

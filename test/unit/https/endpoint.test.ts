import { Readable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { newEntity } from '../../../shared/entities';
import { InfrastructureError } from '../../../shared/errors';
import { type BranchCall, type Phase, SIGNATURE_MAX_AGE_MS, signCall } from '../../../shared/https/contract';
import {
  type EndpointLogger,
  type EndpointRequest,
  type HttpsParticipantOptions,
  httpsParticipant,
  phaseOfPath,
} from '../../../shared/https/endpoint';
import { MemoryReplayGuard } from '../../../shared/https/replay-guard';
import type { ParticipantStore } from '../../../shared/participant';
import { LEDGER } from '../../support/entity-shaped';

const T0 = 1_750_000_000_000;
const SECRET = 'secret-now';
const BASE = '/hooks/ledger';

function endpoint(overrides: Partial<HttpsParticipantOptions> = {}) {
  const now = { ms: T0 };
  const store = new MemoryParticipantStore(LEDGER.definition.counter!, [newEntity('alice', 100, 0)]);
  const logged: { level: string; message: string }[] = [];
  const logger: EndpointLogger = {
    error: (message) => logged.push({ level: 'error', message }),
    warn: (message) => logged.push({ level: 'warn', message }),
  };
  const participant = httpsParticipant(LEDGER.definition, {
    table: 'unused',
    secrets: [SECRET, 'secret-before'],
    participantId: 'ledger-0',
    store,
    replayGuard: new MemoryReplayGuard(),
    clock: { nowMs: () => now.ms },
    logger,
    ...overrides,
  });
  return { participant, store, now, logged };
}

let n = 0;
const take = (amount: number) => [{ id: 'alice', action: 'take', amount }];

function callOf(phase: Phase, txId: string, operations: readonly unknown[] = take(10)): BranchCall {
  const base = { transactionId: txId, branch: 'ledger-0' };
  return (phase === 'try' ? { phase, ...base, operations } : { phase, ...base }) as BranchCall;
}

/** A request of `body` to `{BASE}/{phase}`, signed at `atMs` with `secret` (none: unsigned). */
function request(
  phase: Phase | string,
  body: string,
  options: { secret?: string | null; atMs?: number; method?: string } = {},
): EndpointRequest {
  const path = `${BASE}/${phase}`;
  const method = options.method ?? 'POST';
  const headers: Record<string, string> =
    options.secret === null
      ? {}
      : signCall(options.secret ?? SECRET, { method, path, body }, options.atMs ?? T0);
  return { method, path, body, header: (name) => headers[name] };
}

/** Each signed at its own millisecond, as the relay signs each attempt afresh. */
let stampMs = T0;
const signed = (phase: Phase, txId: string, operations?: readonly unknown[]) =>
  request(phase, JSON.stringify(callOf(phase, txId, operations)), { atMs: ++stampMs });
const fresh = () => `tx-${n++}`;
const bodyOf = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

describe('the HTTPS participant endpoint', () => {
  it('reserves on a try (200), and applies on a confirm (200) once, however often it comes', async () => {
    // Prepare
    const { participant, store } = endpoint();
    const tx = fresh();

    // Act
    const first = await participant.handle(signed('try', tx));
    const again = await participant.handle(signed('try', tx));
    const confirmed = await participant.handle(signed('confirm', tx));
    const twice = await participant.handle(signed('confirm', tx));

    // Assess
    expect([first.status, again.status, confirmed.status, twice.status]).toEqual([200, 200, 200, 200]);
    expect(store.entity('alice')).toMatchObject({ total: 90, held: 0, available: 90 });
    expect(store.barrier(tx, 'ledger-0')?.state).toBe('COMMITTED');
  });

  it('votes NO with 409 and the reason, the same on a duplicate, reserving nothing', async () => {
    const { participant, store } = endpoint();
    const tx = fresh();

    const first = await participant.handle(signed('try', tx, take(1000)));
    const again = await participant.handle(signed('try', tx, take(1000)));

    expect(first.status).toBe(409);
    expect(bodyOf(first).reason).toMatch(/insufficient funds/);
    expect(again).toEqual(first);
    expect(store.entity('alice')).toMatchObject({ held: 0, available: 100 });
  });

  it('remembers a cancel before the try: the try then answers 409 and reserves nothing', async () => {
    const { participant, store } = endpoint();
    const tx = fresh();

    const cancelled = await participant.handle(signed('cancel', tx));
    const late = await participant.handle(signed('try', tx));

    expect(cancelled.status).toBe(200);
    expect(late.status).toBe(409);
    expect(store.entity('alice')).toMatchObject({ held: 0, available: 100 });
  });

  it('releases on a cancel after a YES; a later try answers 409; a confirm then is a 500', async () => {
    const { participant, store, logged } = endpoint();
    const tx = fresh();

    await participant.handle(signed('try', tx));
    const cancelled = await participant.handle(signed('cancel', tx));
    const retried = await participant.handle(signed('try', tx));
    const confirm = await participant.handle(signed('confirm', tx));

    expect(cancelled.status).toBe(200);
    expect(retried.status).toBe(409);
    expect(confirm.status).toBe(500);
    expect(bodyOf(confirm)).toMatchObject({ type: 'urn:tandem:problem:protocol-violation' });
    expect(String(bodyOf(confirm).detail)).toMatch(/Commit for .* ABORTED/);
    expect(logged).toContainEqual({ level: 'error', message: expect.stringMatching(/protocol violation/) });
    expect(store.entity('alice')).toMatchObject({ total: 100, held: 0 });
  });

  it('refuses unsigned, badly signed and expired calls with 401, doing nothing', async () => {
    const { participant, store, now } = endpoint();
    const tx = fresh();
    const body = JSON.stringify(callOf('try', tx));

    const unsigned = await participant.handle(request('try', body, { secret: null }));
    const wrong = await participant.handle(request('try', body, { secret: 'guess' }));
    const expired = await participant.handle(request('try', body, { atMs: T0 - SIGNATURE_MAX_AGE_MS - 1 }));
    now.ms = T0 + 1;
    const previous = await participant.handle(request('try', body, { secret: 'secret-before' }));

    for (const response of [unsigned, wrong, expired]) {
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toBe('application/problem+json');
    }
    expect(bodyOf(expired).detail).toMatch(/expired/);
    expect(previous.status).toBe(200);
    expect(store.barriers()).toHaveLength(1);
  });

  it('refuses a replayed call with 401 — never 409, which would vote NO — and then takes a fresh one', async () => {
    const { participant } = endpoint();
    const tx = fresh();
    const call = signed('try', tx);

    const first = await participant.handle(call);
    const replayed = await participant.handle(call);
    const resigned = await participant.handle(signed('try', tx));

    expect(first.status).toBe(200);
    expect(replayed.status).toBe(401);
    expect(bodyOf(replayed).type).toBe('urn:tandem:problem:replayed-signature');
    expect(resigned.status).toBe(200);
  });

  it('reads the secrets afresh once when none matches (a rotation)', async () => {
    const reads: boolean[] = [];
    let secrets = ['old'];
    const { participant } = endpoint({
      secrets: async ({ fresh: asked = false } = {}) => {
        reads.push(asked);
        return secrets;
      },
    });
    secrets = [SECRET];

    const response = await participant.handle(signed('try', fresh()));

    expect(response.status).toBe(200);
    expect(reads).toEqual([false]);
    secrets = ['rotated'];
    const other = await participant.handle(signed('try', fresh()));
    expect(other.status).toBe(401);
    expect(reads).toEqual([false, false, true]);
  });

  it('answers malformed bodies with 400 problem+json listing the issues', async () => {
    const { participant, store } = endpoint();
    const tx = fresh();

    const notJson = await participant.handle(request('try', '{"phase":'));
    const missing = await participant.handle(
      request('try', JSON.stringify({ phase: 'try', branch: 'ledger-0' })),
    );
    const empty = await participant.handle(request('try', JSON.stringify(callOf('try', tx, []))));
    const elsewhere = await participant.handle(request('confirm', JSON.stringify(callOf('try', tx))));
    const otherBranch = await participant.handle(
      request('cancel', JSON.stringify({ ...callOf('cancel', tx), branch: 'ledger-9' })),
    );

    for (const response of [notJson, missing, empty, elsewhere, otherBranch]) {
      expect(response.status).toBe(400);
      expect(bodyOf(response)).toMatchObject({ type: 'urn:tandem:problem:invalid-request', status: 400 });
    }
    expect(bodyOf(missing).errors).toContainEqual({ path: 'transactionId', message: expect.any(String) });
    expect(bodyOf(elsewhere).errors).toEqual([
      { path: 'phase', message: expect.stringMatching(/\/confirm/) },
    ]);
    expect(bodyOf(otherBranch).errors).toEqual([
      { path: 'branch', message: expect.stringMatching(/ledger-0/) },
    ]);
    expect(store.barriers()).toEqual([]);
  });

  it('votes NO on operations its schema refuses (the protocol: bad data never throws)', async () => {
    const { participant } = endpoint();

    const response = await participant.handle(signed('try', fresh(), [{ id: 'alice', action: 'steal' }]));

    expect(response.status).toBe(409);
    expect(bodyOf(response).reason).toMatch(/action/);
  });

  it('answers 404 off the phases and 405 to anything but POST', async () => {
    const { participant } = endpoint();

    expect((await participant.handle(request('prepare', '{}'))).status).toBe(404);
    expect((await participant.handle(request('try', '{}', { method: 'GET' }))).status).toBe(405);
    expect(phaseOfPath('/a/b/confirm/?x=1')).toBe('confirm');
    expect(phaseOfPath('/a/try/b')).toBeUndefined();
  });

  it('answers 503 with Retry-After when the store fails, and the relay may call again', async () => {
    const failing: ParticipantStore = {
      loadBarrier: async () => {
        throw new InfrastructureError('DynamoDB is down');
      },
      write: async () => {
        throw new InfrastructureError('DynamoDB is down');
      },
    };
    const { participant } = endpoint({ store: failing });

    const response = await participant.handle(signed('confirm', fresh()));

    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(bodyOf(response).detail).toMatch(/DynamoDB is down/);
  });

  it('answers 503 when the replay guard cannot tell', async () => {
    const { participant } = endpoint({
      replayGuard: {
        remember: async () => {
          throw new InfrastructureError('cannot remember');
        },
      },
    });

    expect((await participant.handle(signed('try', fresh()))).status).toBe(503);
  });
});

describe('the configuration', () => {
  it('is checked when the participant is made, naming what is missing', () => {
    expect(() => httpsParticipant(LEDGER.definition, { table: '', secrets: ['s'] })).toThrow(/needs `table`/);
    expect(() => httpsParticipant(LEDGER.definition, { table: 't', secrets: [] })).toThrow(/needs `secrets`/);
    expect(() => httpsParticipant(LEDGER.definition, { table: 't', secrets: [''] })).toThrow(/none blank/);
  });
});

describe('the function URL handler', () => {
  const event = (req: EndpointRequest, base64: boolean): APIGatewayProxyEventV2 =>
    ({
      rawPath: req.path,
      rawQueryString: '',
      headers: {
        'tandem-timestamp': req.header('tandem-timestamp'),
        'tandem-signature': req.header('tandem-signature'),
      },
      body: base64 ? Buffer.from(req.body, 'utf8').toString('base64') : req.body,
      isBase64Encoded: base64,
      requestContext: { http: { method: req.method } },
    }) as unknown as APIGatewayProxyEventV2;

  it('verifies the body as sent, base64-encoded or not', async () => {
    const { participant } = endpoint();
    const tx = fresh();

    const tried = await participant.functionUrl(event(signed('try', tx), true));
    const confirmed = await participant.functionUrl(event(signed('confirm', tx), false));

    expect(tried).toMatchObject({ statusCode: 200, body: '{"ok":true}' });
    expect(confirmed.statusCode).toBe(200);
  });

  it('refuses a body over the limit with 413', async () => {
    const { participant } = endpoint({ bodyLimitBytes: 100 });
    const big = signed('try', fresh(), [{ id: 'alice', action: 'take', amount: 1, note: 'x'.repeat(200) }]);

    expect((await participant.functionUrl(event(big, true))).statusCode).toBe(413);
  });
});

describe('the Node handler', () => {
  /** Runs the handler on a request stream; resolves with what it wrote. */
  function serve(
    handler: ReturnType<typeof endpoint>['participant']['node'],
    req: EndpointRequest,
    extra: Record<string, unknown> = {},
  ) {
    const stream = Object.assign(Readable.from([Buffer.from(req.body, 'utf8')]), {
      method: req.method,
      url: req.path,
      headers: {
        'tandem-timestamp': req.header('tandem-timestamp'),
        'tandem-signature': req.header('tandem-signature'),
      },
      ...extra,
    });
    return new Promise<{ status: number; body: string }>((resolve) => {
      let status = 0;
      const res = {
        headersSent: false,
        writeHead: (code: number) => {
          status = code;
        },
        end: (body: string) => resolve({ status, body }),
      };
      handler(stream as never, res as never);
    });
  }

  it('reads the stream and answers', async () => {
    const { participant } = endpoint();

    expect(await serve(participant.node, signed('try', fresh()))).toEqual({
      status: 200,
      body: '{"ok":true}',
    });
  });

  it("uses Express's originalUrl and a raw body a parser kept", async () => {
    const { participant } = endpoint();
    const req = signed('try', fresh());

    const response = await serve(participant.node, req, {
      url: '/try',
      originalUrl: req.path,
      body: Buffer.from(req.body),
    });

    expect(response.status).toBe(200);
  });

  it('says so when a JSON body parser consumed the signed bytes', async () => {
    const { participant } = endpoint();
    const req = signed('try', fresh());

    const response = await serve(participant.node, req, { body: JSON.parse(req.body), _body: true });

    expect(response.status).toBe(500);
    expect(JSON.parse(response.body).detail).toMatch(/express\.raw/);
  });

  it('reads the stream when a parser skipped the request (body {} but nothing read)', async () => {
    const { participant } = endpoint();

    expect((await serve(participant.node, signed('try', fresh()), { body: {} })).status).toBe(200);
  });

  it('refuses a stream over the limit with 413', async () => {
    const { participant } = endpoint({ bodyLimitBytes: 64 });

    expect((await serve(participant.node, signed('try', fresh()))).status).toBe(413);
  });
});

describe('the in-memory replay guard', () => {
  it('remembers a signature until it expires, and refuses when full', async () => {
    const guard = new MemoryReplayGuard(2);

    expect(await guard.remember('a', 100, 0)).toBe(true);
    expect(await guard.remember('a', 100, 50)).toBe(false);
    expect(await guard.remember('b', 200, 50)).toBe(true);
    expect(await guard.remember('c', 300, 60)).toBe(false);
    expect(await guard.remember('a', 400, 101)).toBe(true);
    expect(guard.size).toBe(2);
  });
});

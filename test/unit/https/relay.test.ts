import { describe, expect, it } from 'vitest';
import type { Pacing } from '../../../shared/backoff';
import { HEADERS, verifyCall } from '../../../shared/https/contract';
import {
  type CallSigner,
  type HttpRequest,
  type HttpResponse,
  type RelayAttempt,
  type RelaySettings,
  relayMessage,
} from '../../../shared/https/relay';
import type { ParticipantMessage, ParticipantReply } from '../../../shared/protocol';

// The relay's core against a scripted endpoint and a virtual clock: each answer's verdict, the
// waits between calls, and when it gives up.

type Scripted = { status: number; body?: string; headers?: Record<string, string>; takesMs?: number } | Error;

/** A virtual world: the clock moves only when the relay sleeps or a call takes time. */
function world(script: Scripted[], options: { random?: number; deadlineMs?: number } = {}) {
  let nowMs = 1_000_000;
  const requests: HttpRequest[] = [];
  const sleeps: number[] = [];
  const replies: Array<{ reply: ParticipantReply; slot: number | undefined }> = [];
  const attempts: RelayAttempt[] = [];
  const http = {
    send: async (request: HttpRequest): Promise<HttpResponse> => {
      requests.push(request);
      const next = script.shift() ?? { status: 503 };
      if (next instanceof Error) {
        nowMs += request.timeoutMs;
        throw next;
      }
      nowMs += next.takesMs ?? 10;
      const headers = next.headers ?? {};
      return { status: next.status, body: next.body ?? '', header: (name) => headers[name] };
    },
  };
  const pacing: Pacing = {
    sleep: async (ms) => {
      sleeps.push(ms);
      nowMs += ms;
    },
    random: () => options.random ?? 0.5,
    deadlineMs: () => options.deadlineMs ?? Number.POSITIVE_INFINITY,
  };
  const signer: CallSigner = { headers: async () => ({ 'x-signed': 'yes' }) };
  const deps = {
    http,
    signer,
    clock: { nowMs: () => nowMs },
    pacing,
    replies: {
      send: async (reply: ParticipantReply, slot: number | undefined) => void replies.push({ reply, slot }),
    },
    onAttempt: (attempt: RelayAttempt) => void attempts.push(attempt),
  };
  return { deps, requests, sleeps, replies, attempts, now: () => nowMs };
}

const SETTINGS: RelaySettings = {
  baseUrl: 'https://pay.example.com/tandem',
  timeoutMs: 1_000,
  retry: { baseMs: 100, capMs: 1_000, attemptsMax: 5 },
  budgetMs: 30_000,
};

const base = { txId: 'tx-1', participantId: 'payments', slot: 7 } as const;
const prepare: ParticipantMessage = { type: 'Prepare', ...base, operations: [{ cardId: 'c', amount: 5 }] };
const commit: ParticipantMessage = { type: 'Commit', ...base };
const abort: ParticipantMessage = { type: 'Abort', ...base };

describe('relayMessage: verdicts', () => {
  it('votes YES on a 200 to try, to the slot of the message, after one call to {base}/try', async () => {
    // Prepare
    const w = world([{ status: 200 }]);

    // Act
    const outcome = await relayMessage(prepare, SETTINGS, w.deps);

    // Assess
    expect(outcome).toEqual({
      kind: 'replied',
      reply: { type: 'Vote', txId: 'tx-1', participantId: 'payments', vote: 'YES' },
      attempts: 1,
    });
    expect(w.replies).toEqual([{ reply: expect.objectContaining({ vote: 'YES' }), slot: 7 }]);
    expect(w.requests[0]).toMatchObject({
      url: 'https://pay.example.com/tandem/try',
      method: 'POST',
      timeoutMs: 1_000,
    });
    expect(JSON.parse(w.requests[0]!.body)).toEqual({
      phase: 'try',
      transactionId: 'tx-1',
      branch: 'payments',
      operations: [{ cardId: 'c', amount: 5 }],
    });
  });

  it('votes NO with the reason of a 409 to try', async () => {
    const w = world([{ status: 409, body: JSON.stringify({ reason: 'card declined' }) }]);
    const outcome = await relayMessage(prepare, SETTINGS, w.deps);
    expect(outcome).toMatchObject({ kind: 'replied', attempts: 1 });
    expect(w.replies[0]?.reply).toEqual({
      type: 'Vote',
      txId: 'tx-1',
      participantId: 'payments',
      vote: 'NO',
      reason: 'card declined',
    });
  });

  it('acks COMMITTED on a 200 to confirm and ABORTED on a 204 to cancel', async () => {
    const w = world([{ status: 200 }, { status: 204 }]);
    await relayMessage(commit, SETTINGS, w.deps);
    await relayMessage(abort, SETTINGS, w.deps);
    expect(w.requests.map((r) => r.url)).toEqual([
      'https://pay.example.com/tandem/confirm',
      'https://pay.example.com/tandem/cancel',
    ]);
    expect(w.replies.map((r) => r.reply)).toEqual([
      { type: 'Ack', txId: 'tx-1', participantId: 'payments', outcome: 'COMMITTED' },
      { type: 'Ack', txId: 'tx-1', participantId: 'payments', outcome: 'ABORTED' },
    ]);
  });

  it('calls again after a 503, a timeout and a refused connection, then replies', async () => {
    const w = world([
      { status: 503 },
      new Error('no answer within 1000 ms'),
      new Error('fetch failed (ECONNREFUSED)'),
      { status: 200 },
    ]);
    const outcome = await relayMessage(commit, SETTINGS, w.deps);
    expect(outcome).toMatchObject({ kind: 'replied', attempts: 4 });
    expect(w.attempts.map((a) => a.verdict.kind)).toEqual(['retry', 'retry', 'retry', 'done']);
    expect(w.attempts[2]?.verdict).toMatchObject({
      reason: 'confirm failed: fetch failed (ECONNREFUSED)',
      violation: false,
    });
  });

  it('counts a 409 to confirm as a violation and calls again; it never becomes a NO', async () => {
    const w = world([{ status: 409, body: '{"reason":"no"}' }, { status: 200 }]);
    const outcome = await relayMessage(commit, SETTINGS, w.deps);
    expect(outcome).toMatchObject({ kind: 'replied', reply: { type: 'Ack', outcome: 'COMMITTED' } });
    expect(w.attempts[0]?.verdict).toMatchObject({ kind: 'retry', violation: true });
  });

  it('counts a 400 or a 302 as a violation, a 429 or a 500 not', async () => {
    const w = world([{ status: 400 }, { status: 302 }, { status: 429 }, { status: 500 }, { status: 200 }]);
    await relayMessage(prepare, SETTINGS, w.deps);
    expect(w.attempts.map((a) => a.verdict.kind === 'retry' && a.verdict.violation)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('relayMessage: waits', () => {
  it('waits with full jitter under a doubling ceiling, capped', async () => {
    // random 0.99: each wait is just under its ceiling: 100, 200, 400, 800 → 99, 198, 396, 792
    const w = world([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }], {
      random: 0.99,
    });
    await relayMessage(commit, { ...SETTINGS, retry: { baseMs: 100, capMs: 500, attemptsMax: 5 } }, w.deps);
    expect(w.sleeps).toEqual([99, 198, 396, 495]);
  });

  it('waits at least Retry-After, but never past the cap', async () => {
    const w = world([
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 503, headers: { 'retry-after': '60' } },
      { status: 200 },
    ]);
    await relayMessage(commit, { ...SETTINGS, retry: { baseMs: 100, capMs: 5_000, attemptsMax: 5 } }, w.deps);
    expect(w.sleeps).toEqual([50, 1_000, 5_000]);
  });
});

describe('relayMessage: giving up', () => {
  it('gives a try up after attemptsMax calls without a vote: only the endpoint votes', async () => {
    // Regression (simulation seed 4116): a give-up NO could contradict the YES another delivery of
    // the same Prepare had recorded, which the coordinator refuses as a broken invariant. The
    // coordinator re-sends the Prepare, and its prepare timeout aborts if the endpoint stays away.
    const w = world([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const outcome = await relayMessage(
      prepare,
      { ...SETTINGS, retry: { ...SETTINGS.retry, attemptsMax: 3 } },
      w.deps,
    );
    expect(outcome).toEqual({ kind: 'gave-up', phase: 'try', attempts: 3, reason: 'try answered 503' });
    expect(w.requests).toHaveLength(3);
    expect(w.replies).toEqual([]);
  });

  it('gives a confirm up when the budget is spent: no reply, the coordinator re-sends it', async () => {
    // Each call takes its whole 1 s timeout; the budget fits only 3 calls and their waits.
    const w = world([new Error('t'), new Error('t'), new Error('t'), new Error('t'), new Error('t')], {
      random: 0,
    });
    const outcome = await relayMessage(commit, { ...SETTINGS, budgetMs: 3_000 }, w.deps);
    expect(outcome).toEqual({ kind: 'gave-up', phase: 'confirm', attempts: 3, reason: 'confirm failed: t' });
    expect(w.replies).toEqual([]);
    expect(w.now() - 1_000_000).toBeLessThanOrEqual(3_000);
  });

  it('gives a cancel up after attemptsMax calls without a reply', async () => {
    const w = world([{ status: 500 }, { status: 500 }]);
    const outcome = await relayMessage(
      abort,
      { ...SETTINGS, retry: { ...SETTINGS.retry, attemptsMax: 2 } },
      w.deps,
    );
    expect(outcome).toMatchObject({ kind: 'gave-up', phase: 'cancel', attempts: 2 });
    expect(w.replies).toEqual([]);
  });

  it("never starts a call that would end past the invocation's deadline", async () => {
    const w = world([{ status: 503 }, { status: 503 }], { deadlineMs: 1_000_000 + 1_000 });
    const outcome = await relayMessage(commit, SETTINGS, w.deps);
    expect(outcome).toMatchObject({ kind: 'gave-up', attempts: 1 });
  });
});

describe('relayMessage: signing', () => {
  it("sends the signer's headers with the JSON content type, over the exact body and path", async () => {
    const w = world([{ status: 200 }]);
    const seen: Array<{ url: string; path: string; body: string }> = [];
    await relayMessage(commit, SETTINGS, {
      ...w.deps,
      signer: {
        headers: async (call) => {
          seen.push(call);
          return { [HEADERS.signature]: 'v1=abc', [HEADERS.timestamp]: '1' };
        },
      },
    });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: 'https://pay.example.com/tandem/confirm',
        path: '/tandem/confirm',
        body: w.requests[0]!.body,
      },
    ]);
    expect(w.requests[0]!.headers).toEqual({
      'content-type': 'application/json',
      [HEADERS.signature]: 'v1=abc',
      [HEADERS.timestamp]: '1',
    });
  });

  it('signs with the HMAC signer so that the endpoint verifies the call', async () => {
    const { hmacSigner } = await import('../../../shared/https/adapters');
    const w = world([{ status: 200 }]);
    await relayMessage(prepare, SETTINGS, {
      ...w.deps,
      signer: hmacSigner({ current: async () => 'shh' }, () => 5_000),
    });
    const request = w.requests[0]!;
    expect(
      verifyCall({
        method: 'POST',
        path: '/tandem/try',
        body: request.body,
        header: (name) => request.headers[name],
        secrets: ['old', 'shh'],
        nowMs: 6_000,
      }),
    ).toMatchObject({ ok: true, timestampMs: 5_000 });
  });
});

import { describe, expect, it } from 'vitest';
import {
  answerOf,
  BranchCall,
  branchCallOf,
  HEADERS,
  messageOfCall,
  type Phase,
  pathOf,
  phaseUrl,
  refusalReason,
  retryAfterMsOf,
  SIGNATURE_MAX_AGE_MS,
  signCall,
  verdictOf,
  verifyCall,
} from '../../../shared/https/contract';
import type { ParticipantMessage } from '../../../shared/protocol';

const NOW = 1_750_000_000_000;
const SECRET = 'current-secret';
const PREVIOUS = 'previous-secret';
const call = { method: 'POST', path: '/tandem/seats/try', body: '{"phase":"try"}' };

/** Verifies `call` as received, with headers signed by `secret` at `signedAtMs`. */
function verify(
  options: {
    secret?: string;
    signedAtMs?: number;
    received?: Partial<typeof call>;
    secrets?: readonly string[];
    headers?: Record<string, string>;
  } = {},
) {
  const headers = options.headers ?? signCall(options.secret ?? SECRET, call, options.signedAtMs ?? NOW);
  return verifyCall({
    ...call,
    ...options.received,
    header: (name) => headers[name],
    secrets: options.secrets ?? [SECRET, PREVIOUS],
    nowMs: NOW,
  });
}

describe('signatures', () => {
  it('signs method, path, timestamp and body, and verifies them', () => {
    // Prepare
    const headers = signCall(SECRET, call, NOW);

    // Act
    const result = verify({ headers });

    // Assess
    expect(headers[HEADERS.timestamp]).toBe(String(NOW));
    expect(headers[HEADERS.signature]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(result).toEqual({ ok: true, signature: headers[HEADERS.signature]!.slice(3), timestampMs: NOW });
  });

  it('accepts the previous secret during a rotation, and refuses any other', () => {
    expect(verify({ secret: PREVIOUS }).ok).toBe(true);
    expect(verify({ secret: 'someone-else' })).toMatchObject({ ok: false, code: 'mismatch' });
    expect(verify({ secret: PREVIOUS, secrets: [SECRET] })).toMatchObject({ ok: false, code: 'mismatch' });
  });

  it('refuses a tampered body, path, method or timestamp', () => {
    expect(verify({ received: { body: '{"phase":"try","x":1}' } })).toMatchObject({ code: 'mismatch' });
    expect(verify({ received: { path: '/tandem/seats/confirm' } })).toMatchObject({ code: 'mismatch' });
    expect(verify({ received: { path: '/tandem/seats/try?x=1' } })).toMatchObject({ code: 'mismatch' });
    expect(verify({ received: { method: 'PUT' } })).toMatchObject({ code: 'mismatch' });
    const headers = { ...signCall(SECRET, call, NOW), [HEADERS.timestamp]: String(NOW - 1) };
    expect(verify({ headers })).toMatchObject({ code: 'mismatch' });
  });

  it('refuses a call signed too long ago or too far ahead, and accepts one at the limit', () => {
    expect(verify({ signedAtMs: NOW - SIGNATURE_MAX_AGE_MS - 1 })).toMatchObject({
      ok: false,
      code: 'expired',
    });
    expect(verify({ signedAtMs: NOW + SIGNATURE_MAX_AGE_MS + 1 })).toMatchObject({
      ok: false,
      code: 'expired',
    });
    expect(verify({ signedAtMs: NOW - SIGNATURE_MAX_AGE_MS }).ok).toBe(true);
  });

  it('refuses missing and malformed headers', () => {
    expect(verify({ headers: {} })).toMatchObject({ code: 'missing' });
    expect(verify({ headers: { [HEADERS.timestamp]: String(NOW) } })).toMatchObject({ code: 'missing' });
    const signed = signCall(SECRET, call, NOW);
    expect(verify({ headers: { ...signed, [HEADERS.timestamp]: 'yesterday' } })).toMatchObject({
      code: 'malformed',
    });
    expect(verify({ headers: { ...signed, [HEADERS.signature]: 'v2=abc' } })).toMatchObject({
      code: 'malformed',
    });
    expect(
      verify({ headers: { ...signed, [HEADERS.signature]: signed[HEADERS.signature]!.slice(3) } }).ok,
    ).toBe(false);
  });

  it('refuses everything when no secret is configured', () => {
    expect(verify({ secrets: [] })).toMatchObject({ ok: false, code: 'mismatch' });
  });
});

describe('verdicts', () => {
  const phases: readonly Phase[] = ['try', 'confirm', 'cancel'];

  it.each(phases)('%s: 200 and 204 are done', (phase) => {
    expect(verdictOf(phase, 200, '{"ok":true}')).toEqual({ kind: 'done' });
    expect(verdictOf(phase, 204, '')).toEqual({ kind: 'done' });
  });

  it('try: 409 is a NO with the reason (or a problem detail, or the text)', () => {
    expect(verdictOf('try', 409, '{"reason":"seat 12C is taken"}')).toEqual({
      kind: 'refused',
      reason: 'seat 12C is taken',
    });
    expect(verdictOf('try', 409, '{"type":"x","detail":"sold out"}')).toEqual({
      kind: 'refused',
      reason: 'sold out',
    });
    expect(verdictOf('try', 409, 'no way')).toEqual({ kind: 'refused', reason: 'no way' });
    expect(verdictOf('try', 409, '')).toEqual({ kind: 'refused', reason: 'refused by the participant' });
  });

  it.each(['confirm', 'cancel'] as const)('%s: 409 is not allowed: retried, as a violation', (phase) => {
    expect(verdictOf(phase, 409, '{"reason":"no"}')).toMatchObject({ kind: 'retry', violation: true });
  });

  it.each(phases)('%s: 408, 425, 429 and 5xx are retried without a violation', (phase) => {
    for (const status of [408, 425, 429, 500, 502, 503, 504, 599]) {
      expect(verdictOf(phase, status, '')).toMatchObject({ kind: 'retry', violation: false });
    }
  });

  it.each(phases)('%s: other statuses (400, 401, 404, 413, 3xx) are retried as violations', (phase) => {
    for (const status of [301, 400, 401, 403, 404, 405, 413, 422]) {
      expect(verdictOf(phase, status, '{"detail":"x"}')).toMatchObject({ kind: 'retry', violation: true });
    }
  });

  it('a refused signature or a replay (401) is never a NO nor done, on a try', () => {
    const verdict = verdictOf('try', 401, '{"type":"urn:tandem:problem:replayed-signature"}');
    expect(verdict.kind).toBe('retry');
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(verdictOf('try', 429, '', '3')).toMatchObject({ kind: 'retry', retryAfterMs: 3000 });
    const at = new Date(NOW + 10_000).toUTCString();
    expect(verdictOf('confirm', 503, '', at, NOW)).toMatchObject({ retryAfterMs: 10_000 });
    expect(retryAfterMsOf(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
    expect(retryAfterMsOf('soon', NOW)).toBeUndefined();
    expect(retryAfterMsOf(undefined)).toBeUndefined();
    expect(verdictOf('cancel', 503, '')).not.toHaveProperty('retryAfterMs');
  });

  it('cuts long reasons', () => {
    expect(refusalReason('x'.repeat(1000)).length).toBeLessThanOrEqual(200);
  });
});

describe('bodies and URLs', () => {
  const prepare: ParticipantMessage = {
    type: 'Prepare',
    txId: 'tx-1',
    participantId: 'seats',
    operations: [{ seat: '12C' }],
  };

  it('maps each message to its call and back', () => {
    for (const message of [
      prepare,
      { type: 'Commit', txId: 'tx-1', participantId: 'seats' },
      { type: 'Abort', txId: 'tx-1', participantId: 'seats' },
    ] as ParticipantMessage[]) {
      const call = branchCallOf(message);
      expect(BranchCall.parse(JSON.parse(JSON.stringify(call)))).toEqual(call);
      expect(messageOfCall(call)).toEqual(message);
    }
  });

  it('refuses a try without operations and a branch with #', () => {
    expect(
      BranchCall.safeParse({ phase: 'try', transactionId: 't', branch: 'b', operations: [] }).success,
    ).toBe(false);
    expect(BranchCall.safeParse({ phase: 'cancel', transactionId: 't', branch: 'a#b' }).success).toBe(false);
  });

  it('answers a YES or an ack with 200 and a NO with 409 and its reason', () => {
    const base = { txId: 'tx-1', participantId: 'seats' } as const;
    expect(answerOf({ type: 'Vote', ...base, vote: 'YES' }).status).toBe(200);
    expect(answerOf({ type: 'Ack', ...base, outcome: 'ABORTED' }).status).toBe(200);
    expect(answerOf({ type: 'Vote', ...base, vote: 'NO', reason: 'taken' })).toEqual({
      status: 409,
      body: '{"reason":"taken"}',
    });
  });

  it('appends the phase to the base URL, keeping its path and query', () => {
    expect(phaseUrl('https://example.com/tandem/', 'try')).toBe('https://example.com/tandem/try');
    expect(phaseUrl('https://example.com', 'cancel')).toBe('https://example.com/cancel');
    expect(pathOf(phaseUrl('https://example.com/a?k=1', 'confirm'))).toBe('/a/confirm?k=1');
  });
});

import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { JsonValue, ParticipantMessage, ParticipantReply } from '../protocol';

/**
 * The wire contract between Tandem's relay and an HTTPS participant (try / confirm / cancel).
 * Both sides use this module: the relay (shared/https/relay.ts) to build, sign and judge calls,
 * the SDK's participant handler to read and verify them, the conformance kit to check endpoints.
 * docs/https-participants.md explains it; docs/https-participant.openapi.json describes it.
 *
 *   coordinator ──Prepare──▶ relay ──POST {base}/try─────▶ endpoint   200 → Vote YES
 *                                                                     409 → Vote NO (reason)
 *   coordinator ──Commit───▶ relay ──POST {base}/confirm─▶ endpoint   200 → Ack COMMITTED
 *   coordinator ──Abort────▶ relay ──POST {base}/cancel──▶ endpoint   200 → Ack ABORTED
 *
 * Anything else — 425, 429, 5xx, a timeout, a refused connection, and also any status the
 * contract does not give (a 409 to confirm or cancel, a 400, a 404) — means "not done": the relay
 * calls again later. A confirm or cancel is never refused: once the coordinator decided, the
 * endpoint must eventually do it.
 *
 * Every call is idempotent on the endpoint's side, keyed by (transactionId, branch): a duplicate
 * try answers what the first one answered; a cancel before any try must be remembered so that a
 * later try answers 409 and reserves nothing; confirm and cancel repeat their 200. A branch ends
 * once: after a cancel, a confirm must not answer 200, nor a cancel after a confirm (the
 * coordinator never sends both; the SDK answers 500, a protocol violation).
 *
 * A call the endpoint does not take is refused without effect (REFUSALS): 401 when it is unsigned,
 * badly signed, expired or a replay — never 409, which on a try would vote NO for the real call's
 * transaction; the relay signs each attempt afresh, so its own retries are never replays.
 * The endpoint's side: shared/https/endpoint.ts; the conformance kit: shared/https/conformance.ts.
 */

export type Phase = 'try' | 'confirm' | 'cancel';
export const PHASES: readonly Phase[] = ['try', 'confirm', 'cancel'];

/** The phase each protocol message becomes on the wire. */
export const PHASE_OF: Readonly<Record<ParticipantMessage['type'], Phase>> = {
  Prepare: 'try',
  Commit: 'confirm',
  Abort: 'cancel',
};

/** Lower-case header names (Node's `IncomingMessage.headers` and function URLs lower-case them). */
export const HEADERS = {
  /** Milliseconds since the Unix epoch when the relay signed the call, as a decimal integer. */
  timestamp: 'tandem-timestamp',
  /** `v1=<hex HMAC-SHA256>` over `signingString(...)` with the participant's shared secret. */
  signature: 'tandem-signature',
} as const;

/** A signed call older (or further in the future) than this is refused by default. */
export const SIGNATURE_MAX_AGE_MS = 5 * 60_000;

const TransactionId = z.string().min(1).max(128);
const Branch = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^#]+$/, 'must not contain #');

/** The body of a try: the transaction, the branch (the participant's id) and its operations. */
export const TryBody = z.object({
  phase: z.literal('try'),
  transactionId: TransactionId,
  branch: Branch,
  operations: z.array(z.json()).min(1),
});
/** The body of a confirm or a cancel: the endpoint finds what it tried by (transactionId, branch). */
export const FinishBody = z.object({
  phase: z.enum(['confirm', 'cancel']),
  transactionId: TransactionId,
  branch: Branch,
});
export const BranchCall = z.discriminatedUnion('phase', [TryBody, FinishBody]);
/** A call's body as the endpoint reads it. */
export type BranchCall =
  | {
      readonly phase: 'try';
      readonly transactionId: string;
      readonly branch: string;
      readonly operations: readonly JsonValue[];
    }
  | { readonly phase: 'confirm' | 'cancel'; readonly transactionId: string; readonly branch: string };

/** A 409's body: why the try is refused (a problem+json `detail` is read too). */
export const Refusal = z.object({ reason: z.string().min(1).max(1000) });
/** A 200's body, as the SDK answers it (the relay reads only the status). */
export const Done = z.object({ ok: z.literal(true) });

/**
 * What an endpoint answers to a call it does not take. None is 200, nor 409 (on a try, a NO vote):
 * the relay calls again later, and counts each as a violation (a secret or clock out of step, a
 * replay, a bug) — except 503, a passing failure.
 */
export const REFUSALS = {
  /** The body is not JSON, not the call of the path's phase, or names another branch. */
  malformed: 400,
  /** No signature, a bad or expired one, or one already used (a replay). */
  unauthenticated: 401,
  /** The path does not end with /try, /confirm or /cancel. */
  notFound: 404,
  /** Not a POST. */
  notAllowed: 405,
  /** The body is larger than the endpoint reads. */
  tooLarge: 413,
  /** A confirm or cancel the branch's history forbids (a cancel after a confirm, …): a bug. */
  protocolViolation: 500,
  /** The endpoint's storage (or secret store) failed; Retry-After says when to call again. */
  unavailable: 503,
} as const;

/** The call a protocol message becomes (without its URL and headers). */
export function branchCallOf(message: ParticipantMessage): BranchCall {
  const base = { transactionId: message.txId, branch: message.participantId };
  return message.type === 'Prepare'
    ? { phase: 'try', ...base, operations: message.operations }
    : { phase: PHASE_OF[message.type] as 'confirm' | 'cancel', ...base };
}

/** The protocol message a call stands for, on the endpoint's side (its barrier takes it). */
export function messageOfCall(call: BranchCall): ParticipantMessage {
  const base = { txId: call.transactionId, participantId: call.branch };
  switch (call.phase) {
    case 'try':
      return { type: 'Prepare', ...base, operations: call.operations };
    case 'confirm':
      return { type: 'Commit', ...base };
    case 'cancel':
      return { type: 'Abort', ...base };
  }
}

/**
 * The endpoint's answer for the reply its barrier gave: a YES vote or an ack → 200, a NO vote →
 * 409 with the reason. (A NO can only answer a try: the barrier answers confirm/cancel with acks.)
 */
export function answerOf(reply: ParticipantReply): { readonly status: 200 | 409; readonly body: string } {
  if (reply.type === 'Vote' && reply.vote === 'NO') {
    return { status: 409, body: JSON.stringify({ reason: reply.reason ?? 'refused' }) };
  }
  return { status: 200, body: JSON.stringify({ ok: true }) };
}

/** The URL of a phase: the participant's base URL with `/try`, `/confirm` or `/cancel` appended. */
export function phaseUrl(baseUrl: string, phase: Phase): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${phase}`;
  return url.toString();
}

/** The path as the endpoint sees it: pathname and query. */
export function pathOf(url: string): string {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
}

// ─── Signatures ──────────────────────────────────────────────────────────────────────────────

/** What is signed: `METHOD\npath\ntimestamp\nbody` (path with its query; body byte-exact). */
function signingString(method: string, path: string, timestampMs: number, body: string): string {
  return `${method.toUpperCase()}\n${path}\n${timestampMs}\n${body}`;
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

/** The two signing headers of a call. */
export function signCall(
  secret: string,
  call: { readonly method: string; readonly path: string; readonly body: string },
  timestampMs: number,
): Record<string, string> {
  return {
    [HEADERS.timestamp]: String(timestampMs),
    [HEADERS.signature]: `v1=${hmacHex(secret, signingString(call.method, call.path, timestampMs, call.body))}`,
  };
}

export type Verification =
  | {
      readonly ok: true /** The signature, unique per call: what a replay guard remembers. */;
      readonly signature: string;
      readonly timestampMs: number;
    }
  | { readonly ok: false; readonly code: VerificationFailure; readonly reason: string };

/**
 * Why a call's signature is refused: a header is `missing` or `malformed`, the call is `expired`
 * (signed more than the maximum age ago, or as far in the future), or it `mismatch`es every secret.
 */
export type VerificationFailure = 'missing' | 'malformed' | 'expired' | 'mismatch';

export interface VerifyInput {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  /** Header lookup, case-insensitive names already lower-cased by the caller. */
  readonly header: (name: string) => string | undefined;
  /** Secrets accepted (the current one and, during a rotation, the previous one). */
  readonly secrets: readonly string[];
  readonly nowMs: number;
  readonly maxAgeMs?: number;
}

/**
 * Checks a call's signature (constant-time) and its age. It does not detect a replay within the
 * age window: remember `signature` for `maxAgeMs` and refuse it when seen again (ReplayGuard).
 */
export function verifyCall(input: VerifyInput): Verification {
  const maxAgeMs = input.maxAgeMs ?? SIGNATURE_MAX_AGE_MS;
  const stamp = input.header(HEADERS.timestamp);
  const signed = input.header(HEADERS.signature);
  if (stamp === undefined || signed === undefined) {
    return {
      ok: false,
      code: 'missing',
      reason: `missing ${HEADERS.timestamp} or ${HEADERS.signature} header`,
    };
  }
  if (!/^\d{1,16}$/.test(stamp)) {
    return { ok: false, code: 'malformed', reason: `${HEADERS.timestamp} is not a number of ms` };
  }
  const timestampMs = Number(stamp);
  if (Math.abs(input.nowMs - timestampMs) > maxAgeMs) {
    return {
      ok: false,
      code: 'expired',
      reason: `signature expired (signed ${input.nowMs - timestampMs} ms ago; limit ${maxAgeMs} ms)`,
    };
  }
  const match = /^v1=([0-9a-f]{64})$/.exec(signed.trim());
  if (!match) {
    return { ok: false, code: 'malformed', reason: `${HEADERS.signature} is not v1=<64 hex digits>` };
  }
  const given = Buffer.from(match[1]!, 'hex');
  const text = signingString(input.method, input.path, timestampMs, input.body);
  for (const secret of input.secrets) {
    const expected = Buffer.from(hmacHex(secret, text), 'hex');
    if (timingSafeEqual(expected, given)) return { ok: true, signature: match[1]!, timestampMs };
  }
  return { ok: false, code: 'mismatch', reason: 'signature does not match' };
}

// ─── Answers ─────────────────────────────────────────────────────────────────────────────────

/** What the relay makes of an endpoint's answer (or of no answer). */
export type Verdict =
  | { readonly kind: 'done' }
  /** A try refused for good: the vote is NO with this reason. */
  | { readonly kind: 'refused'; readonly reason: string }
  /**
   * Not done; call again later. `violation`: the answer is not one the contract allows for this
   * phase (counted and logged: the endpoint has a bug). `retryAfterMs`: the endpoint's Retry-After.
   */
  | {
      readonly kind: 'retry';
      readonly reason: string;
      readonly violation: boolean;
      readonly retryAfterMs?: number;
    };

/** Statuses that mean "not done, try again later" without breaking the contract. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Judges an HTTP answer to a call of `phase`. */
export function verdictOf(
  phase: Phase,
  status: number,
  body: string,
  retryAfter?: string | null,
  nowMs?: number,
): Verdict {
  if (status === 200 || status === 204) return { kind: 'done' };
  if (status === 409 && phase === 'try') return { kind: 'refused', reason: refusalReason(body) };
  const retryAfterMs = retryAfterMsOf(retryAfter, nowMs);
  const violation = !(RETRYABLE_STATUSES.has(status) || status >= 500);
  const reason =
    status === 409
      ? `${phase} answered 409, which only a try may (${snippet(body)})`
      : `${phase} answered ${status}${body ? ` (${snippet(body)})` : ''}`;
  return { kind: 'retry', reason, violation, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** The reason of a 409: `reason`, or a problem's `detail` or `title`, or the body itself. */
export function refusalReason(body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    for (const field of ['reason', 'detail', 'title']) {
      const value = json?.[field];
      if (typeof value === 'string' && value.trim() !== '') return value.slice(0, 500);
    }
  } catch {
    // not JSON: the text itself
  }
  return body.trim() === '' ? 'refused by the participant' : snippet(body);
}

/** Retry-After (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMsOf(value: string | null | undefined, nowMs?: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at) || nowMs === undefined) return undefined;
  return Math.max(0, at - nowMs);
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= 200 ? flat : `${flat.slice(0, 199)}…`;
}

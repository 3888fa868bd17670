import type { Pacing } from '../backoff';
import type { ReplySender } from '../participant/shell';
import type { Clock } from '../ports';
import type { ParticipantMessage, ParticipantReply } from '../protocol';
import { branchCallOf, PHASE_OF, type Phase, pathOf, phaseUrl, type Verdict, verdictOf } from './contract';

/**
 * The relay: Tandem's side of an HTTPS participant. It turns each protocol message of the
 * participant's inbox into a call of the wire contract (shared/https/contract.ts), judges the
 * answer, and sends the coordinator the Vote or Ack the answer stands for.
 *
 *   message ─▶ call ─▶ 200 ─────────────────────────────▶ Vote YES / Ack
 *                │     409 (try) ────────────────────────▶ Vote NO (reason)
 *                └──── 425/429/5xx/timeout/no connection ─▶ wait (capped exponential, full jitter,
 *                                                           at least Retry-After) ─▶ call again
 *                                        attempts or budget spent ─▶ no reply
 *
 * Given up on, a message gets no reply: the relay only stops for this message. The coordinator
 * re-sends it (backing off to its resend cap) until the endpoint answers. For a try, the prepare
 * timeout ends that: the coordinator aborts and a cancel follows, which undoes the try even if it
 * took effect unseen (a timeout after the effect). A confirm or cancel is never given up for good:
 * until the endpoint acknowledges it the transaction is overdue (`npm run ops -- stuck`), and the
 * relay's give-ups are counted and alarmed on.
 *
 * Why a try given up on does not vote NO: its vote must be the endpoint's. The same Prepare can
 * reach the relay twice (a duplicate, a re-send); if one call got the endpoint's 200 (YES, recorded)
 * while the other gave up, a NO would contradict a recorded YES — a broken protocol invariant the
 * coordinator refuses (found by the simulation, seed 4116). Every vote the relay sends is the one
 * the endpoint's barrier holds, so two deliveries always agree.
 *
 * The relay keeps no state: the endpoint's barrier makes every call idempotent.
 */

export interface HttpRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Give up on the call (as a failure) after this long. */
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
}

/** Sends one HTTP request; rejects on a timeout or a connection failure. */
export interface HttpPort {
  send(request: HttpRequest): Promise<HttpResponse>;
}

/** The authentication headers of a call (HMAC signature, SigV4, or none). */
export interface CallSigner {
  headers(call: {
    readonly method: 'POST';
    readonly url: string;
    readonly path: string;
    readonly body: string;
  }): Promise<Record<string, string>>;
}

export interface RelayRetry {
  /** First wait's ceiling; doubles each attempt up to `capMs` (full jitter below the ceiling). */
  readonly baseMs: number;
  readonly capMs: number;
  /** Most calls per message, the first included. */
  readonly attemptsMax: number;
}

export interface RelaySettings {
  /** The endpoint's base URL; the phase is appended (`/try`, `/confirm`, `/cancel`). */
  readonly baseUrl: string;
  /** Each call's timeout. */
  readonly timeoutMs: number;
  readonly retry: RelayRetry;
  /** Time one message may take, calls and waits together; no call starts that would end past it. */
  readonly budgetMs: number;
}

export const DEFAULT_RELAY_RETRY: RelayRetry = { baseMs: 200, capMs: 5_000, attemptsMax: 5 };

/** What happened to one call (for logs and metrics). */
export interface RelayAttempt {
  readonly phase: Phase;
  readonly attempt: number;
  readonly elapsedMs: number;
  readonly verdict: Verdict;
}

export interface RelayDeps {
  readonly http: HttpPort;
  readonly signer: CallSigner;
  readonly clock: Clock;
  /** Waits and jitter; its deadline (the invocation's) bounds the retries too. */
  readonly pacing: Pacing;
  readonly replies: ReplySender;
  readonly onAttempt?: (attempt: RelayAttempt) => void;
}

export type RelayOutcome =
  /** The endpoint answered; its vote or ack was sent. */
  | { readonly kind: 'replied'; readonly reply: ParticipantReply; readonly attempts: number }
  /** Given up on (attempts or budget spent): no reply; the coordinator re-sends the message. */
  | { readonly kind: 'gave-up'; readonly phase: Phase; readonly attempts: number; readonly reason: string };

/** Relays one protocol message to the endpoint; sends the reply its answer stands for. */
export async function relayMessage(
  message: ParticipantMessage,
  settings: RelaySettings,
  deps: RelayDeps,
): Promise<RelayOutcome> {
  const { clock, pacing } = deps;
  const phase = PHASE_OF[message.type];
  const url = phaseUrl(settings.baseUrl, phase);
  const body = JSON.stringify(branchCallOf(message));
  const startedAtMs = clock.nowMs();
  const endByMs = Math.min(startedAtMs + settings.budgetMs, pacing.deadlineMs());
  let lastReason = 'not called';
  for (let attempt = 1; ; attempt++) {
    const callStartMs = clock.nowMs();
    const verdict = await call(url, body, phase, settings.timeoutMs, deps);
    deps.onAttempt?.({ phase, attempt, elapsedMs: clock.nowMs() - callStartMs, verdict });
    if (verdict.kind !== 'retry') {
      const reply = replyOf(message, verdict);
      await deps.replies.send(reply, message.slot);
      return { kind: 'replied', reply, attempts: attempt };
    }
    lastReason = verdict.reason;
    const { baseMs, capMs, attemptsMax } = settings.retry;
    const ceilingMs = Math.min(capMs, baseMs * 2 ** (attempt - 1));
    const waitMs = Math.max(
      Math.floor(pacing.random() * ceilingMs),
      Math.min(verdict.retryAfterMs ?? 0, capMs),
    );
    if (attempt >= attemptsMax || clock.nowMs() + waitMs + settings.timeoutMs > endByMs) {
      return { kind: 'gave-up', phase, attempts: attempt, reason: lastReason };
    }
    await pacing.sleep(waitMs);
  }
}

async function call(
  url: string,
  body: string,
  phase: Phase,
  timeoutMs: number,
  deps: RelayDeps,
): Promise<Verdict> {
  try {
    const headers = {
      'content-type': 'application/json',
      ...(await deps.signer.headers({ method: 'POST', url, path: pathOf(url), body })),
    };
    const response = await deps.http.send({ url, method: 'POST', headers, body, timeoutMs });
    return verdictOf(
      phase,
      response.status,
      response.body,
      response.header('retry-after'),
      deps.clock.nowMs(),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'retry', reason: `${phase} failed: ${reason}`, violation: false };
  }
}

function replyOf(
  message: ParticipantMessage,
  verdict: Exclude<Verdict, { kind: 'retry' }>,
): ParticipantReply {
  const base = { txId: message.txId, participantId: message.participantId } as const;
  switch (message.type) {
    case 'Prepare':
      return verdict.kind === 'done'
        ? { type: 'Vote', ...base, vote: 'YES' }
        : { type: 'Vote', ...base, vote: 'NO', reason: verdict.reason };
    case 'Commit':
      return { type: 'Ack', ...base, outcome: 'COMMITTED' };
    case 'Abort':
      return { type: 'Ack', ...base, outcome: 'ABORTED' };
  }
}

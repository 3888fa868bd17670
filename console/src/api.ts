/**
 * The page's side of the console's JSON API (shared/console/api.ts): fetch with the session
 * token, and every error turned into a ConsoleError the page shows as it is (RFC 9457 problem).
 */

/** The session token the server put in the page; sent on every request, as a header. */
const token = document.querySelector<HTMLMetaElement>('meta[name="tandem-console-token"]')?.content;

export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    /** The problem's other members: `field` for a bad filter, `current` for a transaction that moved on. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
  }
}

export const hasSession = () => token !== undefined;

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        ...(token ? { 'x-tandem-console-token': token } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      credentials: 'same-origin',
    });
  } catch {
    throw new ConsoleError(
      0,
      'Console unreachable',
      'the console server does not answer: is `npm run console` still running?',
    );
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new ConsoleError(
      response.status,
      'Unexpected answer',
      `the server answered ${response.status} with no JSON`,
    );
  }
  if (!response.ok) {
    const { type: _type, title, status: _status, detail, ...extra } = json;
    throw new ConsoleError(
      response.status,
      typeof title === 'string' ? title : `Error ${response.status}`,
      typeof detail === 'string' ? detail : text,
      extra,
    );
  }
  return json as T;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {});

// ─── the answers' shapes (see shared/console/api.ts) ────────────────────────────────────────

export type TxState = 'PREPARING' | 'COMMITTING' | 'COMMITTED' | 'ABORTING' | 'ABORTED';
export const STATES: readonly TxState[] = ['PREPARING', 'COMMITTING', 'COMMITTED', 'ABORTING', 'ABORTED'];

export interface TxSummary {
  txId: string;
  state: TxState;
  mode: 'two-phase' | 'one-phase';
  outcome?: 'COMMITTED' | 'ABORTED';
  reason?: string;
  participants: string[];
  createdAtMs: number;
  decidedAtMs: number | null;
  completedAtMs: number | null;
  whyNotFinished: string | null;
}

export interface TxList {
  items: TxSummary[];
  nextCursor: string | null;
  total: number;
  countsByState: Record<TxState, number>;
  scan: { how: string; records: number; truncated: boolean };
}

export interface ParticipantView {
  id: string;
  kind: string;
  operations: unknown[];
  vote?: 'YES' | 'NO';
  voteReason?: string;
  ack?: 'COMMITTED' | 'ABORTED';
}

export interface TxDetail {
  txId: string;
  state: TxState;
  mode: 'two-phase' | 'one-phase';
  outcome?: 'COMMITTED' | 'ABORTED';
  reason?: string;
  participants: ParticipantView[];
  createdAtMs: number;
  decidedAtMs?: number;
  completedAtMs?: number;
  timeline: Array<{ atMs: number; event: string }>;
  coordinator: {
    slot: number;
    version: number;
    prepareDeadlineMs: number;
    nextCheckAtMs: number | null;
    resendAttempt: number;
    timelineDroppedCount: number;
  };
  whyNotFinished: string | null;
  nowMs: number;
}

export interface ActionAnswer {
  action: string;
  preview: boolean;
  done: boolean;
  message?: string;
  moved?: number;
  failed?: number;
}

export interface StuckAnswer {
  stuck: Array<{
    txId: string;
    state: TxState;
    ageMs: number;
    nextCheckAtMs: number | null;
    overdueMs: number | null;
    missing: { kind: 'votes' | 'acks'; participants: string[] };
  }>;
  scanned: number;
  truncated: boolean;
  total: number;
  olderThanMs: number;
}

export interface SlotsAnswer {
  slots: Array<{
    slot: number;
    owner: string | null;
    epoch: number | null;
    leaseExpiresAtMs: number | null;
    leaseLeftMs: number | null;
    backlog: number;
  }>;
  backlogTruncated: boolean;
  nowMs: number;
}

export interface QueuesAnswer {
  queues: Array<{
    name: string;
    queue: string;
    kind: 'queue' | 'dlq';
    dlqOf?: string;
    messages: number;
    inFlight: number;
  }>;
  dlqs: Array<{ name: string; dlq: string; messages: number; inFlight: number }>;
}

export interface DlqAnswer {
  name: string;
  dlq: string;
  messages: Array<{
    messageId: string;
    body: string;
    error?: string;
    reason?: string;
    receiveCount: number;
    sentAtMs?: number;
    groupId?: string;
  }>;
}

export interface HealthAnswer {
  fromMs: number;
  toMs: number;
  perMinute: Array<{
    atMs: number;
    created: number;
    committed: number;
    aborted: number;
    perSecond: number;
    p50Ms: number | null;
    p99Ms: number | null;
  }>;
  outcomes: { COMMITTED: number; ABORTED: number; unfinished: number };
  latencyMs: { p50: number | null; p99: number | null; count: number };
  source: string;
  truncated: boolean;
}

import { countDlqs, type DlqInfo, peekDlq, queueNameOfUrl, redriveDlq, stackDlqs } from '../ops/dlq';
import { aws, NotFoundError, RefusedError } from '../ops/errors';
import { parseDurationMs } from '../ops/format';
import type { OpsDeps, TxReader } from '../ops/ports';
import type { StackNames } from '../ops/target';
import {
  abortTransaction,
  findStuck,
  loadOrRefuse,
  retryTransaction,
  toOperatorView,
} from '../ops/transactions';
import { nearestRank } from '../percentile';
import { isTerminal, outcomeOf, settledState, type TxRecord, type TxState } from '../protocol';
import { keyedRecordKey, recordKeyOf } from '../txid';
import { badField, ProblemError } from './problem';
import { whyNotFinished } from './why';

/**
 * The console's JSON API over the operator library: each route parses and checks its input, then
 * calls the same function `npm run ops` calls. Nothing here knows HTTP beyond method, path and
 * query; `server.ts` does the rest (token, origin, audit).
 */

export interface ApiContext {
  readonly deps: OpsDeps;
  readonly names: StackNames;
}

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST ({} when empty). */
  readonly body: Readonly<Record<string, unknown>>;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** How many records a list or the health view reads at most: a Scan, so it is bounded. */
const SCAN_MAX = 5_000;
const LIST_LIMIT_DEFAULT = 50;
const LIST_LIMIT_MAX = 500;
const HEALTH_WINDOW_MAX_MS = 24 * 3_600_000;
const DLQ_PEEK_MAX = 50;
const NOTE_MAX = 500;

const STATES: readonly TxState[] = ['PREPARING', 'COMMITTING', 'COMMITTED', 'ABORTING', 'ABORTED'];

interface Route {
  readonly method: 'GET' | 'POST';
  /** As written: `/api/transactions/:id`. */
  readonly path: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly run: (ctx: ApiContext, request: ApiRequest, params: readonly string[]) => Promise<ApiAnswer>;
}

/** Every route; the placeholder page lists them. */
const ROUTES: readonly Route[] = [
  route(
    'GET',
    '/api/transactions',
    ['state', 'outcome', 'mode', 'participant', 'from', 'to', 'q', 'limit', 'cursor'],
    listTransactions,
  ),
  route('GET', '/api/transactions/:id', [], showTransaction),
  route('POST', '/api/transactions/:id/retry', ['preview'], retry),
  route('POST', '/api/transactions/:id/abort', ['preview'], abort),
  route('GET', '/api/stuck', ['olderThan', 'limit'], stuck),
  route('GET', '/api/slots', [], slots),
  route('GET', '/api/queues', [], queueDepths),
  route('GET', '/api/dlq/:name', ['max'], showDlq),
  route('POST', '/api/dlq/:name/redrive', ['max', 'preview'], redrive),
  route('GET', '/api/health', ['window'], health),
];

export const describeRoutes = () =>
  ROUTES.map((r) => `${r.method} ${r.path}${r.params.length ? `?${r.params.join('&')}` : ''}`);

function route(method: Route['method'], path: string, params: readonly string[], run: Route['run']): Route {
  const pattern = new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`);
  return { method, path, pattern, params, run };
}

/** Answers one API request; throws a ProblemError (or an ops error, see problemOf) otherwise. */
export async function answer(ctx: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const matching = ROUTES.filter((r) => r.pattern.test(request.path));
  if (matching.length === 0) throw new ProblemError(404, `no API route ${request.path}`);
  const found = matching.find((r) => r.method === request.method);
  if (!found) {
    throw new ProblemError(405, `${request.path} takes ${matching.map((r) => r.method).join(', ')}`);
  }
  for (const key of request.query.keys()) {
    if (!found.params.includes(key)) {
      throw badField(key, `unknown parameter; this route takes ${found.params.join(', ') || 'none'}`);
    }
  }
  let params: string[];
  try {
    params = (found.pattern.exec(request.path) ?? []).slice(1).map(decodeURIComponent);
  } catch {
    throw new ProblemError(400, `the path ${request.path} is not valid percent-encoding`);
  }
  return found.run(ctx, request, params);
}

// ─── query parsing ───────────────────────────────────────────────────────────────────────────

function oneOf<T extends string>(
  query: URLSearchParams,
  field: string,
  allowed: readonly T[],
): T | undefined {
  const value = query.get(field);
  if (value === null || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badField(field, `'${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function integer(query: URLSearchParams, field: string, min: number, max: number): number | undefined {
  const value = query.get(field);
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw badField(field, `'${value}' is not a whole number from ${min} to ${max}`);
  }
  return n;
}

/** An ISO 8601 date-time or epoch milliseconds. */
function instant(query: URLSearchParams, field: string): number | undefined {
  const value = query.get(field);
  if (value === null || value === '') return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw badField(field, `'${value}' is not an ISO 8601 time or epoch milliseconds`);
  return ms;
}

function duration(query: URLSearchParams, field: string, fallbackMs: number, maxMs: number): number {
  const value = query.get(field);
  if (value === null || value === '') return fallbackMs;
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0 || ms > maxMs) {
    throw badField(field, `'${value}' is not a duration like 15m or 1h, at most ${maxMs / 3_600_000}h`);
  }
  return ms;
}

function flag(query: URLSearchParams, field: string): boolean {
  const value = query.get(field);
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '' || value === '1' || value === 'true') return true;
  throw badField(field, `'${value}' is not 1 or 0`);
}

// ─── transactions ────────────────────────────────────────────────────────────────────────────

const txsOf = (ctx: ApiContext) => ctx.deps.txReader(ctx.names.transactionsTable);

/** One row of the list. */
function summaryOf(record: TxRecord, nowMs: number) {
  const outcome = outcomeOf(record.state);
  return {
    txId: record.txId,
    state: settledState(record),
    mode: record.mode,
    ...(outcome !== null ? { outcome } : {}),
    ...(record.reason !== null ? { reason: record.reason } : {}),
    participants: record.participants.map((p) => p.id),
    createdAtMs: record.createdAtMs,
    decidedAtMs: record.decidedAtMs,
    completedAtMs: record.completedAtMs,
    whyNotFinished: whyNotFinished(record, nowMs),
  };
}

/** Newest first; ties by txId, so the order (and a cursor into it) is total. */
const newestFirst = (a: TxRecord, b: TxRecord) =>
  b.createdAtMs - a.createdAtMs || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0);

interface Cursor {
  readonly createdAtMs: number;
  readonly txId: string;
}

const encodeCursor = (r: TxRecord) =>
  Buffer.from(JSON.stringify([r.createdAtMs, r.txId]), 'utf8').toString('base64url');

function decodeCursor(query: URLSearchParams): Cursor | undefined {
  const value = query.get('cursor');
  if (value === null || value === '') return undefined;
  try {
    const [createdAtMs, txId] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAtMs === 'number' && typeof txId === 'string') return { createdAtMs, txId };
  } catch {
    // falls through to the 400
  }
  throw badField('cursor', 'not a cursor this console returned (nextCursor)');
}

async function listTransactions(ctx: ApiContext, { query }: ApiRequest): Promise<ApiAnswer> {
  const state = oneOf(query, 'state', STATES);
  const outcome = oneOf(query, 'outcome', ['COMMITTED', 'ABORTED'] as const);
  const mode = oneOf(query, 'mode', ['two-phase', 'one-phase'] as const);
  const participant = query.get('participant') || undefined;
  const fromMs = instant(query, 'from');
  const toMs = instant(query, 'to');
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw badField('from', 'is after to');
  const limit = integer(query, 'limit', 1, LIST_LIMIT_MAX) ?? LIST_LIMIT_DEFAULT;
  const cursor = decodeCursor(query);
  const q = query.get('q')?.trim() || undefined;
  const txs = txsOf(ctx);
  const nowMs = ctx.deps.clock.nowMs();

  // `q`: a transaction id or an idempotency key: two key reads, no Scan.
  let scanned: TxRecord[];
  let truncated = false;
  if (q !== undefined) {
    const found = await aws(`find ${q}`, () =>
      Promise.all([txs.load(q), txs.loadAt(keyedRecordKey(q)), txs.loadAt(recordKeyOf(q))]),
    );
    const byId = new Map(found.flatMap((r) => (r ? [[r.txId, r] as const] : [])));
    scanned = [...byId.values()];
  } else {
    const result = await aws('scan the transaction log', () => txs.scan(SCAN_MAX));
    scanned = result.records;
    truncated = result.truncated;
  }

  const countsByState: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const r of scanned) countsByState[settledState(r)] = (countsByState[settledState(r)] ?? 0) + 1;

  const matching = scanned
    .filter(
      (r) =>
        (state === undefined || settledState(r) === state) &&
        (outcome === undefined || outcomeOf(r.state) === outcome) &&
        (mode === undefined || r.mode === mode) &&
        (participant === undefined || r.participants.some((p) => p.id === participant)) &&
        (fromMs === undefined || r.createdAtMs >= fromMs) &&
        (toMs === undefined || r.createdAtMs <= toMs),
    )
    .sort(newestFirst);
  const start =
    cursor === undefined
      ? 0
      : matching.findIndex(
          (r) => newestFirst(r, { createdAtMs: cursor.createdAtMs, txId: cursor.txId } as TxRecord) > 0,
        );
  const page = start < 0 ? [] : matching.slice(start, start + limit);
  const last = page[page.length - 1];
  const more = start >= 0 && start + limit < matching.length;
  return {
    status: 200,
    body: {
      items: page.map((r) => summaryOf(r, nowMs)),
      nextCursor: more && last ? encodeCursor(last) : null,
      total: matching.length,
      countsByState,
      scan: {
        how:
          q !== undefined
            ? 'key lookups (txId, record key, idempotency key)'
            : `bounded Scan of the log (at most ${SCAN_MAX})`,
        records: scanned.length,
        truncated,
      },
    },
  };
}

async function showTransaction(ctx: ApiContext, _request: ApiRequest, [txId]: readonly string[]) {
  const record = await loadOrRefuse(txsOf(ctx), txId!);
  const nowMs = ctx.deps.clock.nowMs();
  return {
    status: 200,
    body: { ...toOperatorView(record), whyNotFinished: whyNotFinished(record, nowMs), nowMs },
  };
}

/** A refusal of an action on a transaction that exists: 409 with what it is now. */
async function conflictWithCurrent(txs: TxReader, txId: string, error: unknown): Promise<never> {
  if (!(error instanceof RefusedError) || error instanceof NotFoundError) throw error;
  const now = await txs.load(txId).catch(() => undefined);
  throw new ProblemError(
    409,
    error.message,
    now ? { current: { state: settledState(now), outcome: outcomeOf(now.state), reason: now.reason } } : {},
  );
}

function noteOf(body: ApiRequest['body']): string | undefined {
  const note = body.note;
  if (note === undefined) return undefined;
  if (typeof note !== 'string' || note.length > NOTE_MAX) {
    throw badField('note', `must be a string of at most ${NOTE_MAX} characters`);
  }
  return note;
}

async function retry(ctx: ApiContext, { query }: ApiRequest, [txId]: readonly string[]): Promise<ApiAnswer> {
  const preview = flag(query, 'preview');
  const txs = txsOf(ctx);
  const message = await retryTransaction(
    txs,
    ctx.deps.queues,
    ctx.names.coordinatorQueueUrl,
    txId!,
    ctx.deps.clock.nowMs(),
    { preview },
  ).catch((error: unknown) => conflictWithCurrent(txs, txId!, error));
  return { status: preview ? 200 : 202, body: { action: 'retry', txId, preview, done: !preview, message } };
}

async function abort(
  ctx: ApiContext,
  { query, body }: ApiRequest,
  [txId]: readonly string[],
): Promise<ApiAnswer> {
  const preview = flag(query, 'preview');
  const note = noteOf(body);
  const txs = txsOf(ctx);
  const result = await abortTransaction(
    txs,
    ctx.deps.queues,
    ctx.names.coordinatorQueueUrl,
    { txId: txId!, preview, ...(note !== undefined ? { note } : {}) },
    ctx.deps.clock,
  ).catch((error: unknown) => conflictWithCurrent(txs, txId!, error));
  return {
    status: preview ? 200 : 202,
    body: { action: 'abort', txId, preview, done: !preview, message: result.lines.join('\n') },
  };
}

async function stuck(ctx: ApiContext, { query }: ApiRequest): Promise<ApiAnswer> {
  const olderThanMs = duration(query, 'olderThan', 60_000, 30 * 24 * 3_600_000);
  const limit = integer(query, 'limit', 1, LIST_LIMIT_MAX) ?? LIST_LIMIT_DEFAULT;
  const nowMs = ctx.deps.clock.nowMs();
  const report = await aws('read the transaction log', () => findStuck(txsOf(ctx), nowMs, olderThanMs));
  return {
    status: 200,
    body: { ...report, stuck: report.stuck.slice(0, limit), total: report.stuck.length, olderThanMs },
  };
}

// ─── slots and queues ────────────────────────────────────────────────────────────────────────

async function slots(ctx: ApiContext): Promise<ApiAnswer> {
  const table = ctx.names.slotsTable;
  if (!table) throw new ProblemError(409, `stack ${ctx.names.stackName} has no output SlotsTable`);
  const live = await aws('read the due index', () => txsOf(ctx).liveKeys(SCAN_MAX + 1));
  const backlog = new Map<number, number>();
  for (const k of live.slice(0, SCAN_MAX)) backlog.set(k.slot, (backlog.get(k.slot) ?? 0) + 1);
  const count = Math.max(ctx.names.slotCount ?? 0, ...[...backlog.keys()].map((s) => s + 1));
  const reader = ctx.deps.slotReader(table);
  const nowMs = ctx.deps.clock.nowMs();
  const rows = await Promise.all(
    Array.from({ length: count }, async (_, slot) => {
      const row = await aws(`read slot ${slot}`, () => reader.read(slot));
      return {
        slot,
        owner: row?.owner ?? null,
        epoch: row?.epoch ?? null,
        leaseExpiresAtMs: row?.leaseExpiresAtMs ?? null,
        leaseLeftMs: row ? row.leaseExpiresAtMs - nowMs : null,
        backlog: backlog.get(slot) ?? 0,
      };
    }),
  );
  return { status: 200, body: { slots: rows, backlogTruncated: live.length > SCAN_MAX, nowMs } };
}

async function queueDepths(ctx: ApiContext): Promise<ApiAnswer> {
  const dlqs = await stackDlqs(ctx.names, ctx.deps.stack, ctx.deps.queues);
  const resources = await aws(`list the resources of stack ${ctx.names.stackName}`, () =>
    ctx.deps.stack.resources(ctx.names.stackName),
  );
  const dlqUrls = new Set(dlqs.map((d) => d.dlqUrl));
  const urls = resources.filter((r) => r.type === 'AWS::SQS::Queue').map((r) => r.physicalId);
  const queues = await Promise.all(
    urls.map(async (url) => {
      const a = await aws(`count the messages of ${queueNameOfUrl(url)}`, () =>
        ctx.deps.queues.attributes(url, [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
        ]),
      );
      const source = dlqs.find((d) => d.sourceUrl === url);
      const dlqOf = dlqs.find((d) => d.dlqUrl === url);
      return {
        name: dlqOf ? `${dlqOf.name} (DLQ)` : (source?.name ?? queueNameOfUrl(url)),
        queue: queueNameOfUrl(url),
        kind: dlqUrls.has(url) ? 'dlq' : 'queue',
        ...(dlqOf ? { dlqOf: dlqOf.name } : {}),
        messages: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }),
  );
  return { status: 200, body: { queues, dlqs: await countDlqs(dlqs, ctx.deps.queues) } };
}

async function dlqNamed(ctx: ApiContext, name: string): Promise<DlqInfo> {
  const dlqs = await stackDlqs(ctx.names, ctx.deps.stack, ctx.deps.queues);
  const dlq = dlqs.find((d) => d.name === name);
  if (!dlq) {
    throw new ProblemError(
      404,
      `no queue '${name}' with a DLQ; there are: ${dlqs.map((d) => d.name).join(', ') || 'none'}`,
    );
  }
  return dlq;
}

async function showDlq(ctx: ApiContext, { query }: ApiRequest, [name]: readonly string[]) {
  const max = integer(query, 'max', 1, DLQ_PEEK_MAX) ?? 10;
  const dlq = await dlqNamed(ctx, name!);
  const messages = await peekDlq(dlq, ctx.deps.queues, max);
  return { status: 200, body: { name: dlq.name, dlq: queueNameOfUrl(dlq.dlqUrl), messages } };
}

async function redrive(
  ctx: ApiContext,
  { query }: ApiRequest,
  [name]: readonly string[],
): Promise<ApiAnswer> {
  const max = integer(query, 'max', 1, 1_000) ?? 10;
  const preview = flag(query, 'preview');
  const dlq = await dlqNamed(ctx, name!);
  if (preview) {
    const [count] = await countDlqs([dlq], ctx.deps.queues);
    const n = Math.min(max, count?.messages ?? 0);
    return {
      status: 200,
      body: {
        action: 'redrive',
        name: dlq.name,
        preview: true,
        done: false,
        message: `Would move ${n} of the ${count?.messages ?? 0} message(s) in ${queueNameOfUrl(dlq.dlqUrl)} back to ${dlq.name}.`,
      },
    };
  }
  const result = await redriveDlq(dlq, ctx.deps.queues, ctx.deps.clock, { all: false, max, waitMs: 0 });
  return {
    status: 200,
    body: { action: 'redrive', name: dlq.name, preview: false, done: true, ...result },
  };
}

// ─── health ──────────────────────────────────────────────────────────────────────────────────

/** The `p`-th percentile (0..1) of sorted values, nearest rank; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  return nearestRank(sorted, p * 100) ?? null;
}

/** Per-minute throughput, outcomes and latency of the records created in the window. Pure. */
export function healthOf(records: readonly TxRecord[], nowMs: number, windowMs: number) {
  const fromMs = nowMs - windowMs;
  const minuteMs = 60_000;
  const firstMinuteMs = Math.floor(fromMs / minuteMs) * minuteMs;
  const minutes = Math.ceil((nowMs - firstMinuteMs + 1) / minuteMs);
  const buckets = Array.from({ length: minutes }, (_, i) => ({
    atMs: firstMinuteMs + i * minuteMs,
    created: 0,
    committed: 0,
    aborted: 0,
    latenciesMs: [] as number[],
  }));
  const outcomes = { COMMITTED: 0, ABORTED: 0, unfinished: 0 };
  const latenciesMs: number[] = [];
  for (const r of records) {
    if (r.createdAtMs < fromMs || r.createdAtMs > nowMs) continue;
    const bucket = buckets[Math.floor((r.createdAtMs - firstMinuteMs) / minuteMs)];
    if (bucket) bucket.created++;
    const state = settledState(r);
    if (isTerminal(state)) {
      outcomes[state as 'COMMITTED' | 'ABORTED']++;
      if (bucket) bucket[state === 'COMMITTED' ? 'committed' : 'aborted']++;
      if (r.completedAtMs !== null) {
        latenciesMs.push(r.completedAtMs - r.createdAtMs);
        bucket?.latenciesMs.push(r.completedAtMs - r.createdAtMs);
      }
    } else {
      outcomes.unfinished++;
    }
  }
  latenciesMs.sort((a, b) => a - b);
  // Per minute: the rate (transactions created per second, averaged over the minute) and the
  // latency percentiles of the transactions created in it that finished.
  const perMinute = buckets.map(({ latenciesMs: minute, ...bucket }) => {
    minute.sort((a, b) => a - b);
    return {
      ...bucket,
      perSecond: bucket.created / (minuteMs / 1000),
      p50Ms: percentile(minute, 0.5),
      p99Ms: percentile(minute, 0.99),
    };
  });
  return {
    fromMs,
    toMs: nowMs,
    perMinute,
    outcomes,
    latencyMs: {
      p50: percentile(latenciesMs, 0.5),
      p99: percentile(latenciesMs, 0.99),
      count: latenciesMs.length,
    },
  };
}

async function health(ctx: ApiContext, { query }: ApiRequest): Promise<ApiAnswer> {
  const windowMs = duration(query, 'window', 3_600_000, HEALTH_WINDOW_MAX_MS);
  const { records, truncated } = await aws('scan the transaction log', () => txsOf(ctx).scan(SCAN_MAX));
  return {
    status: 200,
    body: {
      ...healthOf(records, ctx.deps.clock.nowMs(), windowMs),
      source: `the records' own times (bounded Scan of at most ${SCAN_MAX})`,
      truncated,
    },
  };
}

import { groupOfSlot } from '../adapters/sqs-transport';
import { mapConcurrent } from '../concurrency';
import type { CheckInput, OperatorAbortInput, TxRecord } from '../protocol';
import { decisionOf, isTerminal, settledState, timelineOf } from '../protocol';
import { ownEntry } from '../protocol/json';
import { toTransactionView } from '../transactions/view';
import { aws, NotFoundError, RefusedError } from './errors';
import { formatDue, formatDurationMs, formatTable, formatTimestamp, truncate } from './format';
import type { OpsClock, QueueService, TxReader } from './ports';

// ─── stuck ───────────────────────────────────────────────────────────────────────────────────

export interface StuckTx {
  readonly txId: string;
  readonly state: TxRecord['state'];
  readonly ageMs: number;
  readonly nextCheckAtMs: number | null;
  /** Positive: the next check is this late. */
  readonly overdueMs: number | null;
  /** `votes` before the decision, `acks` after it. */
  readonly missing: { readonly kind: 'votes' | 'acks'; readonly participants: readonly string[] };
}

/** The participants whose vote (undecided) or ack (decided) is not recorded yet. */
export function missingOf(record: TxRecord): StuckTx['missing'] {
  const kind = decisionOf(record.state) === null ? 'votes' : 'acks';
  const recorded = kind === 'votes' ? record.votes : record.acks;
  return {
    kind,
    participants: record.participants
      .filter((p) => ownEntry(recorded as Record<string, unknown>, p.id) === undefined)
      .map((p) => p.id),
  };
}

/**
 * Of `records`, the unfinished ones whose next check is overdue by more than `olderThanMs`, or that
 * were created more than `olderThanMs` ago; oldest first. Pure. (A next check is never before the
 * creation, so in practice age decides; the overdue time is what tells a lost timer from a slow one.)
 */
export function selectStuck(records: readonly TxRecord[], nowMs: number, olderThanMs: number): StuckTx[] {
  return records
    .filter((r) => !isTerminal(r.state))
    .map((r): StuckTx => {
      const overdueMs = r.nextCheckAtMs === null ? null : nowMs - r.nextCheckAtMs;
      return {
        txId: r.txId,
        state: r.state,
        ageMs: nowMs - r.createdAtMs,
        nextCheckAtMs: r.nextCheckAtMs,
        overdueMs,
        missing: missingOf(r),
      };
    })
    .filter((s) => s.ageMs > olderThanMs || (s.overdueMs !== null && s.overdueMs > olderThanMs))
    .sort((a, b) => b.ageMs - a.ageMs || a.txId.localeCompare(b.txId));
}

/** A bound on the live transactions `stuck` reads, so one run stays cheap on a big backlog. */
const STUCK_SCAN_MAX = 10_000;
const CONCURRENCY = 16;

export interface StuckReport {
  readonly stuck: readonly StuckTx[];
  /** Live transactions found in the index. */
  readonly scanned: number;
  /** True when STUCK_SCAN_MAX cut the scan short. */
  readonly truncated: boolean;
}

/**
 * Reads the `due` index — every slot a live record holds, whatever the stack's slot count is now —
 * loads the records, and selects the stuck ones.
 */
export async function findStuck(txs: TxReader, nowMs: number, olderThanMs: number): Promise<StuckReport> {
  const found = await txs.liveKeys(STUCK_SCAN_MAX + 1);
  const keys = found.slice(0, STUCK_SCAN_MAX);
  // A record gone meanwhile (TTL) is not stuck.
  const records = (await mapConcurrent(keys, CONCURRENCY, (key) => txs.loadAt(key.recordKey))).filter(
    (record) => record !== undefined,
  );
  return {
    stuck: selectStuck(records, nowMs, olderThanMs),
    scanned: keys.length,
    truncated: found.length > STUCK_SCAN_MAX,
  };
}

function formatMissing(missing: StuckTx['missing']): string {
  return missing.participants.length === 0 ? '—' : `${missing.kind}: ${missing.participants.join(', ')}`;
}

export function formatStuckTable(stuck: readonly StuckTx[], nowMs: number): string {
  return formatTable(
    ['TX ID', 'STATE', 'AGE', 'NEXT CHECK', 'MISSING'],
    stuck.map((s) => [
      s.txId,
      s.state,
      formatDurationMs(s.ageMs),
      s.nextCheckAtMs === null ? '—' : formatDue(s.nextCheckAtMs, nowMs),
      formatMissing(s.missing),
    ]),
  );
}

// ─── show ────────────────────────────────────────────────────────────────────────────────────

/** The API's view of the record, plus the coordinator's bookkeeping an operator needs. */
export function toOperatorView(record: TxRecord) {
  return {
    ...toTransactionView(record),
    coordinator: {
      slot: record.slot,
      version: record.version,
      prepareDeadlineMs: record.prepareDeadlineMs,
      nextCheckAtMs: record.nextCheckAtMs,
      resendAttempt: record.resendAttempt,
      timelineDroppedCount: record.timelineDroppedCount,
    },
  };
}

export function formatTransaction(record: TxRecord, nowMs: number): string {
  const at = (ms: number | null, label: string) =>
    ms === null
      ? []
      : [`  ${label.padEnd(11)}${formatTimestamp(ms)}  (+${formatDurationMs(ms - record.createdAtMs)})`];
  const decision = decisionOf(record.state);
  const settled = settledState(record);
  const stateNote =
    settled !== record.state
      ? ` (stored ${record.state}: every participant acked; the write that ends it follows)`
      : decision && !isTerminal(record.state)
        ? ` (decided ${decision})`
        : '';
  const lines = [
    `Transaction ${record.txId}`,
    `  state      ${settled}${stateNote}`,
    ...(record.reason !== null ? [`  reason     ${record.reason}`] : []),
    `  created    ${formatTimestamp(record.createdAtMs)}  (${formatDurationMs(nowMs - record.createdAtMs)} ago)`,
    ...at(record.decidedAtMs, 'decided'),
    ...at(record.completedAtMs, 'completed'),
    ...(decision === null ? at(record.prepareDeadlineMs, 'deadline') : []),
    ...(record.nextCheckAtMs !== null
      ? [`  next check ${formatTimestamp(record.nextCheckAtMs)}  (${formatDue(record.nextCheckAtMs, nowMs)})`]
      : []),
    `  slot       ${record.slot} (FIFO group ${groupOfSlot(record.slot)}), version ${record.version}, re-send round ${record.resendAttempt}`,
    '',
    'Participants',
    formatTable(
      ['ID', 'KIND', 'VOTE', 'ACK', 'OPERATIONS'],
      record.participants.map((p) => {
        const vote = ownEntry(record.votes, p.id);
        const ack = ownEntry(record.acks, p.id);
        return [
          p.id,
          p.kind,
          vote ? `${vote.vote}${vote.reason ? `: ${truncate(vote.reason, 60)}` : ''}` : '—',
          ack ? ack.outcome : '—',
          truncate(JSON.stringify(p.operations), 80),
        ];
      }),
    )
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n'),
    '',
    `Timeline${record.timelineDroppedCount > 0 ? ` (${record.timelineDroppedCount} older re-sends dropped)` : ''}`,
    ...timelineOf(record).map(
      (e) =>
        `  ${formatTimestamp(e.atMs)}  ${`+${formatDurationMs(e.atMs - record.createdAtMs)}`.padStart(10)}  ${e.event}`,
    ),
  ];
  return lines.join('\n');
}

// ─── retry / abort ───────────────────────────────────────────────────────────────────────────

export async function loadOrRefuse(txs: TxReader, txId: string): Promise<TxRecord> {
  const record = await aws(`read transaction ${txId}`, () => txs.load(txId));
  if (!record) throw new NotFoundError(`no transaction ${txId} in the transaction log`);
  return record;
}

/** Sends a coordinator input into the FIFO queue in the group of the transaction's slot. */
async function enqueue(
  queues: QueueService,
  coordinatorQueueUrl: string,
  record: TxRecord,
  input: CheckInput | OperatorAbortInput,
  nowMs: number,
): Promise<void> {
  await aws(`enqueue ${input.type} for ${record.txId}`, () =>
    queues.send(coordinatorQueueUrl, {
      body: JSON.stringify(input),
      groupId: groupOfSlot(record.slot),
      // Each operator action is its own message (a second retry a minute later is meant).
      deduplicationId: `ops-${input.type}-${record.txId}-${nowMs}`.slice(0, 128),
    }),
  );
}

/**
 * `retry`: enqueue a Check; refused for an unknown or finished transaction. Returns what to print.
 * `preview`: every check, and the same answer in the conditional, but nothing is enqueued.
 */
export async function retryTransaction(
  txs: TxReader,
  queues: QueueService,
  coordinatorQueueUrl: string,
  txId: string,
  nowMs: number,
  options: { readonly preview?: boolean } = {},
): Promise<string> {
  const record = await loadOrRefuse(txs, txId);
  // Every participant's ack on the record: finished, as the API shows it (settledState).
  const settled = settledState(record);
  if (isTerminal(settled)) {
    throw new RefusedError(`transaction ${txId} is ${settled}: it is finished, nothing to retry`);
  }
  if (!options.preview) await enqueue(queues, coordinatorQueueUrl, record, { type: 'Check', txId }, nowMs);
  const missing = missingOf(record);
  const what = `re-send ${record.state === 'PREPARING' ? 'Prepare' : decisionOf(record.state) === 'COMMIT' ? 'Commit' : 'Abort'} to ${missing.participants.join(', ') || 'nobody'}`;
  const due =
    record.nextCheckAtMs === null || record.nextCheckAtMs <= nowMs
      ? `its check is due (${record.nextCheckAtMs === null ? 'now' : formatDue(record.nextCheckAtMs, nowMs)}), so the coordinator will ${what}`
      : `its next check is not due yet (${formatDue(record.nextCheckAtMs, nowMs)}): the coordinator ignores an early Check, and the scheduled one will ${what}`;
  const done = options.preview ? 'Would enqueue' : 'Enqueued';
  return `${done} a Check for ${txId} (${record.state}) in FIFO group ${groupOfSlot(record.slot)}; ${due.replace(' will ', options.preview ? ' would then ' : ' will ')}.`;
}

export interface AbortResult {
  readonly exitCode: 0 | 1;
  readonly lines: readonly string[];
}

/**
 * `abort`: only for a transaction with no decision yet. Checks first (the coordinator would reject
 * an OperatorAbort after the decision anyway), enqueues, and optionally waits for the decision.
 */
export async function abortTransaction(
  txs: TxReader,
  queues: QueueService,
  coordinatorQueueUrl: string,
  request: {
    readonly txId: string;
    readonly note?: string;
    readonly waitMs?: number;
    /** Every check, and what it would enqueue, but nothing is enqueued. */
    readonly preview?: boolean;
  },
  clock: OpsClock,
): Promise<AbortResult> {
  const { txId, note } = request;
  const record = await loadOrRefuse(txs, txId);
  const decision = decisionOf(record.state);
  if (decision !== null) {
    throw new RefusedError(
      `transaction ${txId} is ${settledState(record)}: the decision ${decision} is recorded and stands; ` +
        'an operator can only abort a transaction that has no decision yet (PREPARING)',
    );
  }
  const input: OperatorAbortInput =
    note === undefined ? { type: 'OperatorAbort', txId } : { type: 'OperatorAbort', txId, note };
  if (request.preview) {
    return {
      exitCode: 0,
      lines: [
        `Would enqueue OperatorAbort for ${txId} (${record.state}) in FIFO group ${groupOfSlot(record.slot)}: ` +
          `the coordinator would then decide ABORT (operator abort${note ? `: ${note}` : ''}) and send Abort to ` +
          `${record.participants.map((p) => p.id).join(', ')}, unless it decides COMMIT first.`,
      ],
    };
  }
  await enqueue(queues, coordinatorQueueUrl, record, input, clock.nowMs());
  const lines = [
    `Enqueued OperatorAbort for ${txId} (${record.state}) in FIFO group ${groupOfSlot(record.slot)}.`,
  ];
  if (!request.waitMs) return { exitCode: 0, lines };

  const deadlineMs = clock.nowMs() + request.waitMs;
  for (;;) {
    const now = await loadOrRefuse(txs, txId);
    const decided = decisionOf(now.state);
    if (decided === 'COMMIT') {
      return {
        exitCode: 1,
        lines: [
          ...lines,
          `The coordinator decided COMMIT before the abort arrived; that decision stands (${now.state}).`,
        ],
      };
    }
    if (decided === 'ABORT') {
      return {
        exitCode: 0,
        lines: [...lines, `Decided ABORT (${now.state}): ${now.reason ?? ''}`.trimEnd()],
      };
    }
    if (clock.nowMs() >= deadlineMs) {
      return {
        exitCode: 0,
        lines: [
          ...lines,
          `Still ${now.state} after ${formatDurationMs(request.waitMs)}; the abort stays queued.`,
        ],
      };
    }
    await clock.sleep(500);
  }
}

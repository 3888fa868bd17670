import { randomUUID } from 'node:crypto';
import { aws, RefusedError, UsageError } from './errors';
import { formatDurationMs, formatTable, formatTimestamp, truncate } from './format';
import type {
  OpsClock,
  OutgoingMessage,
  QueueService,
  ReceivedMessage,
  StackInfo,
  StackResource,
} from './ports';
import type { StackNames } from './target';

/**
 * Dead-letter queues of the stack: find them, peek at them, redrive them.
 *
 * Every queue of the stack with a RedrivePolicy is a source; its policy names its DLQ. Source
 * queues get short names: `coordinator` and the participant ids from the stack outputs, others
 * (the timer queue, intakes) from their logical id (`CoordinatorTimersQueueE4D29673` → `timers`,
 * `IntakeTransfersInboxQueue1A2B3C4D` → `intake-transfers`).
 */

export interface DlqInfo {
  /** Short name of the source queue: coordinator, timers, ledger-0, inventory, … */
  readonly name: string;
  readonly sourceUrl: string;
  readonly sourceArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  readonly fifo: boolean;
}

const QUEUE_TYPE = 'AWS::SQS::Queue';

/** SQS batch actions (delete, change visibility) take at most 10 receipt handles. */
const SQS_BATCH_MAX = 10;

/** Runs `work` on `handles` 10 at a time, one batch after the other. */
export async function inSqsBatches(
  handles: readonly string[],
  work: (batch: string[]) => Promise<void>,
): Promise<void> {
  for (let at = 0; at < handles.length; at += SQS_BATCH_MAX) {
    await work(handles.slice(at, at + SQS_BATCH_MAX));
  }
}

/** `CoordinatorTimersQueueE4D29673` → `timers`; `Ledger0InboxQueue3070A92C` → `ledger0`. */
export function shortNameOfLogicalId(logicalId: string): string {
  const base = logicalId
    .replace(/[0-9A-F]{8}$/, '')
    .replace(/Queue$/, '')
    .replace(/Inbox$/, '');
  const kebab = base
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
  return kebab.startsWith('coordinator-') ? kebab.slice('coordinator-'.length) : kebab || logicalId;
}

const ORDER = ['coordinator', 'timers'];

/** Finds every source queue of the stack and its DLQ. */
export async function discoverDlqs(
  names: StackNames,
  resources: readonly StackResource[],
  queues: QueueService,
): Promise<DlqInfo[]> {
  const known = new Map<string, string>([
    [names.coordinatorQueueUrl, 'coordinator'],
    ...Object.entries(names.participantQueues).map(([id, url]): [string, string] => [url, id]),
  ]);
  const stackQueues = resources.filter((r) => r.type === QUEUE_TYPE);
  const logicalIdOf = new Map(stackQueues.map((r) => [r.physicalId, r.logicalId]));
  // Without stack resources (not expected), the outputs still name the coordinator and participants.
  const urls = stackQueues.length > 0 ? stackQueues.map((r) => r.physicalId) : [...known.keys()];

  const described = await Promise.all(
    urls.map(async (url) => {
      const attributes = await aws(`read the attributes of queue ${url}`, () =>
        queues.attributes(url, ['QueueArn', 'RedrivePolicy']),
      );
      return { url, arn: attributes.QueueArn ?? '', redrivePolicy: attributes.RedrivePolicy };
    }),
  );
  const urlOfArn = new Map(described.map((q) => [q.arn, q.url]));
  const found: DlqInfo[] = [];
  for (const queue of described) {
    if (!queue.redrivePolicy) continue;
    let dlqArn: string | undefined;
    try {
      dlqArn = (JSON.parse(queue.redrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    } catch {
      dlqArn = undefined;
    }
    if (!dlqArn)
      throw new RefusedError(`queue ${queue.url} has an unreadable RedrivePolicy: ${queue.redrivePolicy}`);
    const arn = dlqArn;
    const dlqUrl =
      urlOfArn.get(arn) ?? (await aws(`find the URL of queue ${arn}`, () => queues.urlOfArn(arn)));
    const logicalId = logicalIdOf.get(queue.url);
    found.push({
      name: known.get(queue.url) ?? (logicalId ? shortNameOfLogicalId(logicalId) : queue.url),
      sourceUrl: queue.url,
      sourceArn: queue.arn,
      dlqUrl,
      dlqArn: arn,
      fifo: dlqUrl.endsWith('.fifo'),
    });
  }
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return found.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** The stack's resources, then every source queue with its DLQ (the CLI's and the console's). */
export async function stackDlqs(
  names: StackNames,
  stack: StackInfo,
  queues: QueueService,
): Promise<DlqInfo[]> {
  const resources = await aws(`list the resources of stack ${names.stackName}`, () =>
    stack.resources(names.stackName),
  );
  return discoverDlqs(names, resources, queues);
}

/** The DLQ of the source queue named `name` (short name, or the source queue's URL or ARN). */
export function pickDlq(dlqs: readonly DlqInfo[], name: string, command: string): DlqInfo {
  const dlq = dlqs.find((d) => d.name === name || d.sourceUrl === name || d.sourceArn === name);
  if (!dlq) {
    throw new UsageError(
      `no queue '${name}' in this stack; its queues with a DLQ: ${dlqs.map((d) => d.name).join(', ') || 'none'}`,
      command,
    );
  }
  return dlq;
}

/** The last path segment of a queue URL: the queue's physical name. */
export const queueNameOfUrl = (url: string) => url.slice(url.lastIndexOf('/') + 1);

// ─── list ────────────────────────────────────────────────────────────────────────────────────

export interface DlqCount {
  readonly name: string;
  readonly dlq: string;
  readonly dlqUrl: string;
  /** ApproximateNumberOfMessages: waiting to be redriven. */
  readonly messages: number;
  /** ApproximateNumberOfMessagesNotVisible: being peeked or redriven right now. */
  readonly inFlight: number;
}

export async function countDlqs(dlqs: readonly DlqInfo[], queues: QueueService): Promise<DlqCount[]> {
  return Promise.all(
    dlqs.map(async (d) => {
      const attributes = await aws(`count the messages of ${queueNameOfUrl(d.dlqUrl)}`, () =>
        queues.attributes(d.dlqUrl, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']),
      );
      return {
        name: d.name,
        dlq: queueNameOfUrl(d.dlqUrl),
        dlqUrl: d.dlqUrl,
        messages: Number(attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }),
  );
}

export function formatDlqCounts(counts: readonly DlqCount[]): string {
  return formatTable(
    ['QUEUE', 'MESSAGES', 'IN FLIGHT', 'DEAD-LETTER QUEUE'],
    counts.map((c) => [c.name, String(c.messages), String(c.inFlight), c.dlq]),
  );
}

// ─── show (peek) ─────────────────────────────────────────────────────────────────────────────

/** How long peeked messages stay hidden if releasing them fails. */
const PEEK_VISIBILITY_S = 30;

export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  /** The `error` message attribute Tandem's consumers attach when they dead-letter a message. */
  readonly error: string | undefined;
  /** The `reason` attribute an intake attaches (`invalid-request`, `conflict`, `mapping-failed`, …). */
  readonly reason: string | undefined;
  /** Receives before this peek. */
  readonly receiveCount: number;
  readonly sentAtMs: number | undefined;
  readonly groupId: string | undefined;
}

/** Receives up to `max` messages with a short visibility timeout, then makes them visible again. */
export async function peekDlq(dlq: DlqInfo, queues: QueueService, max: number): Promise<PeekedMessage[]> {
  const seen = new Map<string, ReceivedMessage>();
  try {
    while (seen.size < max) {
      const batch = await aws(`receive from ${queueNameOfUrl(dlq.dlqUrl)}`, () =>
        queues.receive(dlq.dlqUrl, {
          max: Math.min(10, max - seen.size),
          visibilityTimeoutS: PEEK_VISIBILITY_S,
          waitS: seen.size === 0 ? 1 : 0,
        }),
      );
      const fresh = batch.filter((m) => !seen.has(m.messageId));
      if (fresh.length === 0) break;
      for (const m of fresh) seen.set(m.messageId, m);
    }
  } finally {
    await inSqsBatches(
      [...seen.values()].map((m) => m.receiptHandle),
      (batch) =>
        aws(`make the peeked messages of ${queueNameOfUrl(dlq.dlqUrl)} visible again`, () =>
          queues.release(dlq.dlqUrl, batch),
        ),
    );
  }
  return [...seen.values()].map((m) => ({
    messageId: m.messageId,
    body: m.body,
    error: m.attributes.error?.StringValue,
    reason: m.attributes.reason?.StringValue,
    receiveCount: Math.max(0, m.receiveCount - 1),
    sentAtMs: m.sentAtMs,
    groupId: m.groupId,
  }));
}

export function formatPeeked(dlq: DlqInfo, messages: readonly PeekedMessage[]): string {
  const header = `${messages.length} message(s) in the DLQ of ${dlq.name} (${queueNameOfUrl(dlq.dlqUrl)}), left in place`;
  const blocks = messages.map((m, i) =>
    [
      `#${i + 1} ${m.messageId}`,
      ...(m.sentAtMs !== undefined ? [`  sent       ${formatTimestamp(m.sentAtMs)}`] : []),
      `  received   ${m.receiveCount} time(s) before this peek`,
      ...(m.groupId !== undefined ? [`  group      ${m.groupId}`] : []),
      ...(m.reason !== undefined ? [`  reason     ${m.reason}`] : []),
      `  error      ${m.error ?? '—'}`,
      `  body       ${truncate(m.body, 2000)}`,
    ].join('\n'),
  );
  return [header, ...blocks].join('\n\n');
}

// ─── redrive ─────────────────────────────────────────────────────────────────────────────────

export interface RedriveResult {
  readonly method: 'move-task' | 'receive-resend';
  readonly moved: number;
  /** Messages the source queue refused (left in the DLQ). */
  readonly failed: number;
  /** Move task only: its last status, when it had not finished within the wait. */
  readonly status?: string;
  readonly note?: string;
  /** With `select`: messages it passed over (left in the DLQ, visible again). */
  readonly skipped?: number;
}

export interface RedriveRequest {
  readonly all: boolean;
  readonly max: number;
  readonly waitMs: number;
  /**
   * Only the messages this accepts are moved, by receive/re-send (a move task moves them all); the
   * others stay in the DLQ. `max` — with `all`, what the DLQ holds when the redrive starts — then
   * bounds the messages looked at. In a FIFO DLQ a receive starts at the head of each group, so a
   * message behind ten or more passed-over ones of its group is not reached.
   */
  readonly select?: (message: ReceivedMessage) => boolean;
}

/**
 * Moves messages from the DLQ back to its source queue.
 *
 * `all`: an SQS message move task (StartMessageMoveTask, to the source queue explicitly — Tandem's
 * consumers also dead-letter messages themselves with SendMessage, and such messages have no
 * recorded source) followed until it ends or `waitMs` passes; where the endpoint lacks the action,
 * receive/re-send of as many messages as the DLQ holds when the redrive starts.
 * Otherwise: receive/re-send of at most `max` messages.
 */
export async function redriveDlq(
  dlq: DlqInfo,
  queues: QueueService,
  clock: OpsClock,
  request: RedriveRequest,
): Promise<RedriveResult> {
  const { select } = request;
  if (!request.all) return resendMessages(dlq, queues, request.max, select);
  const resendAll = async () => resendMessages(dlq, queues, await countMessages(dlq, queues), select);
  if (select) return resendAll();

  const started = await aws(`start a message move task from ${queueNameOfUrl(dlq.dlqUrl)}`, () =>
    queues.startMoveTask(dlq.dlqArn, dlq.sourceArn),
  );
  if (started === 'unsupported') {
    return { ...(await resendAll()), note: 'this endpoint has no StartMessageMoveTask' };
  }

  const deadlineMs = clock.nowMs() + request.waitMs;
  for (;;) {
    const status = await aws(`follow the message move task of ${queueNameOfUrl(dlq.dlqUrl)}`, () =>
      queues.moveTaskStatus(dlq.dlqArn),
    );
    const done = status && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(status.status);
    if (done || clock.nowMs() >= deadlineMs) {
      if (status?.status === 'FAILED') {
        throw new RefusedError(
          `the message move task failed after moving ${status.moved}: ${status.failureReason ?? 'no reason given'}`,
        );
      }
      return {
        method: 'move-task',
        moved: status?.moved ?? 0,
        failed: 0,
        status: status?.status ?? 'UNKNOWN',
        ...(done
          ? {}
          : {
              note: `still ${status?.status ?? 'starting'} after ${formatDurationMs(request.waitMs)} (task ${started.taskHandle}); it goes on without this command`,
            }),
      };
    }
    await clock.sleep(1_000);
  }
}

async function countMessages(dlq: DlqInfo, queues: QueueService): Promise<number> {
  const attributes = await aws(`count the messages of ${queueNameOfUrl(dlq.dlqUrl)}`, () =>
    queues.attributes(dlq.dlqUrl, ['ApproximateNumberOfMessages']),
  );
  return Number(attributes.ApproximateNumberOfMessages ?? 0);
}

/** How long a message being re-sent stays hidden in the DLQ. */
const RESEND_VISIBILITY_S = 60;

/**
 * Receive → SendMessageBatch to the source → DeleteMessageBatch of what was sent, ten at a time,
 * until `limit` messages were handled (moved, refused or passed over) or the DLQ has nothing new.
 * FIFO: same message group (receives return a group's messages in order), a fresh deduplication
 * id (the original one may still be inside the 5-minute deduplication window, which would drop
 * the message silently).
 */
async function resendMessages(
  dlq: DlqInfo,
  queues: QueueService,
  limit: number,
  select: RedriveRequest['select'],
): Promise<RedriveResult> {
  let moved = 0;
  let failed = 0;
  let skipped = 0;
  const dlqName = queueNameOfUrl(dlq.dlqUrl);
  // Refused (and, but in a FIFO DLQ, passed-over) messages stay hidden until the end of the run,
  // so this run does not receive them again.
  const heldHandles: string[] = [];
  const seen = new Set<string>();
  // A FIFO DLQ returns no more of a group while one of its messages is hidden: a passed-over
  // message is made visible at once there, so the messages of its group behind it can be moved.
  const passOver = async (messages: readonly ReceivedMessage[]) => {
    const handles = messages.map((m) => m.receiptHandle);
    if (!dlq.fifo) heldHandles.push(...handles);
    else
      await inSqsBatches(handles, (batch) =>
        aws(`make the passed-over messages of ${dlqName} visible again`, () =>
          queues.release(dlq.dlqUrl, batch),
        ),
      );
  };
  try {
    await moveLoop();
  } finally {
    await inSqsBatches(heldHandles, (batch) =>
      aws(`make the messages left in ${dlqName} visible again`, () => queues.release(dlq.dlqUrl, batch)),
    );
  }
  return { method: 'receive-resend', moved, failed, ...(select ? { skipped } : {}) };

  async function moveLoop(): Promise<void> {
    while (moved + failed + skipped < limit) {
      const room = limit - moved - failed - skipped;
      const batch = await aws(`receive from ${dlqName}`, () =>
        queues.receive(dlq.dlqUrl, {
          // With a selection a FIFO receive brings the passed-over heads of groups again: ask for
          // a full batch, so the group's messages behind them come too.
          max: select ? 10 : Math.min(10, room),
          visibilityTimeoutS: RESEND_VISIBILITY_S,
          waitS: 1,
        }),
      );
      const looked = batch.filter((m) => !seen.has(m.messageId)).slice(0, room);
      for (const m of looked) seen.add(m.messageId);
      const chosen = select ? looked.filter(select) : looked;
      skipped += looked.length - chosen.length;
      await passOver(batch.filter((m) => !chosen.includes(m)));
      if (looked.length === 0) break; // empty, or nothing new
      if (chosen.length === 0) continue;
      const outgoing: OutgoingMessage[] = chosen.map((m, i) => ({
        id: String(i),
        body: m.body,
        attributes: m.attributes,
        ...(dlq.fifo || dlq.sourceUrl.endsWith('.fifo')
          ? { groupId: m.groupId ?? 'redrive', deduplicationId: `redrive-${randomUUID()}` }
          : {}),
      }));
      const { failedIds } = await aws(`re-send to ${queueNameOfUrl(dlq.sourceUrl)}`, () =>
        queues.sendBatch(dlq.sourceUrl, outgoing),
      );
      const sent = chosen.filter((_, i) => !failedIds.includes(String(i)));
      const refused = chosen.filter((_, i) => failedIds.includes(String(i)));
      if (sent.length > 0) {
        await aws(`delete the moved messages from ${dlqName}`, () =>
          queues.deleteBatch(
            dlq.dlqUrl,
            sent.map((m) => m.receiptHandle),
          ),
        );
      }
      heldHandles.push(...refused.map((m) => m.receiptHandle));
      moved += sent.length;
      failed += refused.length;
      if (sent.length === 0) break; // the source refuses everything: stop rather than spin
    }
  }
}

export function formatRedrive(dlq: DlqInfo, result: RedriveResult): string {
  const how = result.method === 'move-task' ? 'with a message move task' : 'by receive/re-send/delete';
  return [
    `Moved ${result.moved} message(s) from ${queueNameOfUrl(dlq.dlqUrl)} back to ${dlq.name} (${how}).`,
    ...(result.failed > 0
      ? [`${result.failed} message(s) were refused by the source queue and stay in the DLQ.`]
      : []),
    ...(result.note ? [`Note: ${result.note}.`] : []),
  ].join('\n');
}

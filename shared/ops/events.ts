import { type EventPublisher, type EventSource, type PublishFailure, transactionEvent } from '../events';
import { inSqsBatches } from './dlq';
import { aws } from './errors';
import type { QueueService, TxReader } from './ports';

/**
 * `events republish`: announce again the outcomes of the transactions that ended in a time range,
 * read from the transaction log. For when events out gave up on a stream batch (its description
 * lands in the events DLQ after 12 h of failures) or a subscriber lost what it had received. The
 * events carry their usual `eventId`, so a subscriber that saw one already drops it as a duplicate.
 */

/** A range of `completedAtMs`, inclusive. */
export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Widening of a DLQ record's arrival times: a record's `completedAtMs` is the coordinator's (or
 * the API's) clock when it wrote the record, the arrival time the stream's, a little later.
 */
export const ARRIVAL_MARGIN_MS = 60_000;

export interface RepublishResult {
  readonly ranges: readonly TimeRange[];
  readonly committed: number;
  readonly aborted: number;
  readonly failed: readonly PublishFailure[];
}

/** Overlapping or touching ranges merged, in order. */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((a, b) => a.fromMs - b.fromMs);
  const merged: TimeRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.fromMs <= last.toMs + 1)
      merged[merged.length - 1] = { ...last, toMs: Math.max(last.toMs, range.toMs) };
    else merged.push(range);
  }
  return merged;
}

/** Reads the transactions that ended in `ranges` and puts their outcomes on the bus again. */
export async function republishRanges(
  reader: TxReader,
  publisher: EventPublisher,
  ranges: readonly TimeRange[],
): Promise<RepublishResult> {
  const merged = mergeRanges(ranges);
  const ended = new Map<string, EventSource>();
  for (const range of merged) {
    const records = await aws(`read the transactions that ended in ${describeRange(range)}`, () =>
      reader.endedBetween(range.fromMs, range.toMs),
    );
    for (const record of records) ended.set(record.txId, record);
  }
  const events = [...ended.values()].map((record) => transactionEvent(record));
  const failed = events.length > 0 ? await publisher.publish(events) : [];
  return {
    ranges: merged,
    committed: events.filter((e) => e.outcome === 'COMMITTED').length,
    aborted: events.filter((e) => e.outcome === 'ABORTED').length,
    failed,
  };
}

/**
 * The time range of one of the events function's on-failure records (Lambda's DDBStreamBatchInfo:
 * the arrival times of the batch's first and last stream records), widened by the margin; undefined
 * for a message that is not one.
 */
export function rangeOfFailureRecord(body: string): TimeRange | undefined {
  let info:
    | { approximateArrivalOfFirstRecord?: unknown; approximateArrivalOfLastRecord?: unknown }
    | undefined;
  try {
    info = (JSON.parse(body) as { DDBStreamBatchInfo?: typeof info }).DDBStreamBatchInfo;
  } catch {
    return undefined;
  }
  const first =
    typeof info?.approximateArrivalOfFirstRecord === 'string'
      ? Date.parse(info.approximateArrivalOfFirstRecord)
      : NaN;
  const last =
    typeof info?.approximateArrivalOfLastRecord === 'string'
      ? Date.parse(info.approximateArrivalOfLastRecord)
      : NaN;
  if (!Number.isFinite(first) || !Number.isFinite(last) || last < first) return undefined;
  // Arrival times are given to the second: the last second counts in full.
  return { fromMs: first - ARRIVAL_MARGIN_MS, toMs: last + 999 + ARRIVAL_MARGIN_MS };
}

export interface DlqRepublishResult extends RepublishResult {
  /** Messages handled and deleted. */
  readonly deleted: number;
  /** Bodies of messages that are not on-failure records (left in the queue). */
  readonly unreadable: readonly string[];
}

/** Most DLQ messages one run handles (each names one given-up batch). */
const DLQ_MAX_MESSAGES = 1_000;

/**
 * Republishes the ranges the events DLQ's messages name, and deletes those messages once every
 * outcome was put; if any could not be, the messages are made visible again for a rerun.
 */
export async function republishFromDlq(
  reader: TxReader,
  publisher: EventPublisher,
  queues: QueueService,
  dlqUrl: string,
): Promise<DlqRepublishResult> {
  const received: { receiptHandle: string; range: TimeRange | undefined; body: string }[] = [];
  while (received.length < DLQ_MAX_MESSAGES) {
    const batch = await aws('receive from the events DLQ', () =>
      queues.receive(dlqUrl, { max: 10, visibilityTimeoutS: 300, waitS: 0 }),
    );
    if (batch.length === 0) break;
    for (const m of batch)
      received.push({ receiptHandle: m.receiptHandle, range: rangeOfFailureRecord(m.body), body: m.body });
  }
  const readable = received.filter((m) => m.range !== undefined);
  const unreadable = received.filter((m) => m.range === undefined);
  const result = await republishRanges(
    reader,
    publisher,
    readable.map((m) => m.range!),
  );
  const allPut = result.failed.length === 0;
  const done = allPut ? readable : [];
  const kept = allPut ? unreadable : received;
  await inSqsBatches(
    done.map((m) => m.receiptHandle),
    (batch) => aws('delete handled messages from the events DLQ', () => queues.deleteBatch(dlqUrl, batch)),
  );
  await inSqsBatches(
    kept.map((m) => m.receiptHandle),
    (batch) =>
      aws('make the remaining events DLQ messages visible again', () => queues.release(dlqUrl, batch)),
  );
  return { ...result, deleted: done.length, unreadable: unreadable.map((m) => m.body) };
}

function describeRange(range: TimeRange): string {
  return `${new Date(range.fromMs).toISOString()} – ${new Date(range.toMs).toISOString()}`;
}

export function formatRepublish(result: RepublishResult | DlqRepublishResult): string[] {
  const lines: string[] = [];
  const total = result.committed + result.aborted;
  if (result.ranges.length === 0) lines.push('Nothing to republish: no time range.');
  for (const range of result.ranges) lines.push(`Range ${describeRange(range)}`);
  if (result.ranges.length > 0) {
    lines.push(
      `Republished ${total - result.failed.length} of ${total} outcome(s) (${result.committed} committed, ${result.aborted} aborted).`,
    );
  }
  for (const failure of result.failed) lines.push(`  not put: ${failure.eventId}: ${failure.reason}`);
  if ('deleted' in result) {
    lines.push(`Deleted ${result.deleted} handled message(s) from the events DLQ.`);
    if (result.failed.length > 0) lines.push('The DLQ messages were kept: run the command again.');
    for (const body of result.unreadable)
      lines.push(`  left in the DLQ, not an on-failure record: ${body.slice(0, 200)}`);
  }
  return lines;
}

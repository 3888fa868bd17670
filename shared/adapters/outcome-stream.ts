import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod';
import { type EventPublisher, TERMINAL_STATES, type TransactionEvent, transactionEvent } from '../events';
import { txIdOfItem } from './dynamo-tx-store';

/**
 * Events out from the transactions table's stream. A record's change into COMMITTED or ABORTED
 * — written by the coordinator's decision path or, born terminal, by the one-phase commit — is
 * announced on the bus; every other change is not. Delivery is at least once: a batch that could
 * not be published in full is retried, so some events can go out again (same `eventId`, which
 * subscribers dedupe on).
 */

// What an event needs from the item; the rest of the record is not read.
const terminalItem = z.object({
  txId: z.string().min(1),
  incarnation: z.string().min(1).optional(),
  state: z.enum(['COMMITTED', 'ABORTED']),
  reason: z.string().nullable().default(null),
  participants: z.array(z.object({ id: z.string(), kind: z.string() })),
  createdAtMs: z.number(),
  decidedAtMs: z.number().nullable().default(null),
  completedAtMs: z.number().nullable().default(null),
  origin: z
    .object({ source: z.string(), key: z.string().optional(), eventId: z.string().optional() })
    .optional(),
});

type Image = Record<string, AttributeValue>;

const stateOf = (image: Image | undefined) => image?.state?.S;

/**
 * The event a stream record announces: undefined when it is not a change into a terminal state.
 * Throws on a terminal image that is not a transaction record (never written by Tandem).
 */
export function terminalChangeOf(record: DynamoDBRecord): TransactionEvent | undefined {
  const newImage = record.dynamodb?.NewImage as Image | undefined;
  const newState = stateOf(newImage);
  if (!newImage || newState === undefined || !TERMINAL_STATES.includes(newState)) return undefined;
  if (record.eventName === 'MODIFY') {
    const oldState = stateOf(record.dynamodb?.OldImage as Image | undefined);
    if (oldState === undefined || TERMINAL_STATES.includes(oldState)) return undefined;
  } else if (record.eventName !== 'INSERT') {
    return undefined;
  }
  const parsed = terminalItem.safeParse(unmarshall(newImage));
  if (!parsed.success) {
    throw new Error(
      `stream record ${record.eventID ?? '?'} is not a transaction: ${z.prettifyError(parsed.error)}`,
    );
  }
  return transactionEvent({ ...parsed.data, txId: txIdOfItem(parsed.data) });
}

export interface OutcomeStreamHooks {
  /** A record whose event could not be built or put. */
  readonly onFailure?: (failure: { sequenceNumber: string; eventId?: string; reason: string }) => void;
  readonly onPublished?: (count: number) => void;
}

/**
 * Publishes the events of one stream batch; throws if any could not be built or put, after
 * putting every other one. Lambda then retries the batch (halving it, `BisectBatchOnFunctionError`,
 * to isolate a record that keeps failing), so the events already put go out again, with their
 * `eventId`. Not a partial batch response: the emulator ignores those for streams and would
 * checkpoint past the failures (see docs/design.md, "Events out"); a failure is rare enough for
 * the duplicates not to matter.
 */
export async function publishOutcomes(
  records: readonly DynamoDBRecord[],
  publisher: EventPublisher,
  hooks: OutcomeStreamHooks = {},
): Promise<void> {
  const failed: { sequenceNumber: string; eventId?: string; reason: string }[] = [];
  const sequenceOf = new Map<string, string>();
  const toPublish: TransactionEvent[] = [];
  for (const record of records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '?';
    try {
      const event = terminalChangeOf(record);
      if (event) {
        toPublish.push(event);
        sequenceOf.set(event.eventId, sequenceNumber);
      }
    } catch (error) {
      failed.push({ sequenceNumber, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  const refused = toPublish.length > 0 ? await publisher.publish(toPublish) : [];
  for (const { eventId, reason } of refused) {
    failed.push({ sequenceNumber: sequenceOf.get(eventId) ?? '?', eventId, reason });
  }
  for (const failure of failed) hooks.onFailure?.(failure);
  hooks.onPublished?.(toPublish.length - refused.length);
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new Error(
      `${failed.length} of ${records.length} stream records not announced (first: ${first.eventId ?? `record ${first.sequenceNumber}`}: ${first.reason}); the batch is retried`,
    );
  }
}

import type { TxOrigin } from './ports';
import type { TxRecord } from './protocol';

/** Source of every event Tandem publishes. */
export const EVENT_SOURCE = 'tandem';

/**
 * What other services receive when a transaction ends: on the stack's EventBridge bus, detail type
 * `TransactionCommitted` or `TransactionAborted`. Delivery is at least once; `eventId` is the same
 * on every delivery of one outcome, so subscribers dedupe on it. No operations or amounts: only
 * which participants took part.
 */
export interface TransactionEvent {
  readonly eventId: string;
  readonly txId: string;
  readonly outcome: 'COMMITTED' | 'ABORTED';
  readonly reason: string | null;
  readonly participants: ReadonlyArray<{ readonly id: string; readonly kind: string }>;
  readonly createdAtMs: number;
  readonly decidedAtMs: number | null;
  readonly completedAtMs: number | null;
  /**
   * Where the request came from (`api` with its idempotency key, `events:<intake>` with the
   * EventBridge event's id and the key, `queue:<intake>` with the key), so a subscriber can match
   * the outcome to its request. Absent for an API request without a key.
   */
  readonly origin?: TxOrigin;
}

/** The states a transaction record ends in: a change into one of them is announced. */
export const TERMINAL_STATES: readonly string[] = ['COMMITTED', 'ABORTED'];

/**
 * The event source mapping's filter (Lambda event filtering, OR across patterns): a terminal
 * record inserted (one-phase), or a record modified into a terminal state from a live one. Lambda
 * drops every other change before invoking, free of charge; `terminalChangeOf`
 * (adapters/outcome-stream.ts) checks the same again, so a broader filter (or none) publishes
 * nothing more.
 */
export const TERMINAL_CHANGE_FILTERS: readonly Record<string, unknown>[] = [
  { eventName: ['INSERT'], dynamodb: { NewImage: { state: { S: TERMINAL_STATES } } } },
  {
    eventName: ['MODIFY'],
    dynamodb: {
      NewImage: { state: { S: TERMINAL_STATES } },
      OldImage: { state: { S: [{ 'anything-but': TERMINAL_STATES }] } },
    },
  },
];

export const detailTypeOf = (outcome: TransactionEvent['outcome']) =>
  outcome === 'COMMITTED' ? 'TransactionCommitted' : 'TransactionAborted';

/** What an event is built from: the record's terminal state and what the event repeats of it. */
export type EventSource = Pick<
  TxRecord,
  'txId' | 'state' | 'reason' | 'createdAtMs' | 'decidedAtMs' | 'completedAtMs'
> & {
  readonly participants: ReadonlyArray<{ readonly id: string; readonly kind: string }>;
  readonly origin?: TxOrigin | undefined;
};

export function transactionEvent(record: EventSource): TransactionEvent {
  if (record.state !== 'COMMITTED' && record.state !== 'ABORTED') {
    throw new Error(`transaction ${record.txId} is not terminal (${record.state})`);
  }
  return {
    eventId: `${record.txId}/${record.state}`,
    txId: record.txId,
    outcome: record.state,
    reason: record.reason,
    participants: record.participants.map((p) => ({ id: p.id, kind: p.kind })),
    createdAtMs: record.createdAtMs,
    decidedAtMs: record.decidedAtMs,
    completedAtMs: record.completedAtMs,
    ...(record.origin !== undefined ? { origin: originOf(record.origin) } : {}),
  };
}

/** The origin's fields the event repeats, and no others (the record may be written by a newer Tandem). */
function originOf(origin: TxOrigin): TxOrigin {
  return {
    source: origin.source,
    ...(origin.key !== undefined ? { key: origin.key } : {}),
    ...(origin.eventId !== undefined ? { eventId: origin.eventId } : {}),
  };
}

/** Source and detail type of the operator console's own events (one per state-changing action). */
export const CONSOLE_EVENT_SOURCE = 'tandem.console';
export const CONSOLE_ACTION_DETAIL_TYPE = 'ConsoleAction';

/** What the operator console puts on the bus for each state-changing action it took or refused. */
export interface ConsoleActionEvent {
  readonly detailType: typeof CONSOLE_ACTION_DETAIL_TYPE;
  readonly eventId: string;
  /** The local AWS identity (ARN) or `local`. */
  readonly who: string;
  /** e.g. `POST /api/transactions/t-1/abort`. */
  readonly what: string;
  readonly atMs: number;
  readonly status: number;
  readonly answer: unknown;
}

/** Whatever goes on the bus: a transaction's outcome, or a console action. */
export type BusEvent = TransactionEvent | ConsoleActionEvent;

/** An event the publisher could not put, and why. */
export interface PublishFailure {
  readonly eventId: string;
  readonly reason: string;
}

/**
 * Port: where terminal transactions are announced. EventBridge in Lambda; a list in tests. Puts
 * what it can and returns the events it could not put (none: all were).
 */
export interface EventPublisher {
  publish(events: readonly BusEvent[]): Promise<readonly PublishFailure[]>;
}

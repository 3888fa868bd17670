import type { EventBridgeEvent, SQSRecord } from 'aws-lambda';
import { MalformedMessageError, TandemError } from '../errors';
import type { TxOrigin } from '../ports';
import type { ParticipantRegistry } from '../registry';
import { IdempotencyKey, type TransactionRequest } from '../schemas';
import type { SubmitRequest, SubmitResult } from '../transactions';
import { parseTransactionRequest } from '../transactions/request';

/**
 * Intakes: transactions started by events rather than by `POST /transactions`. An EventBridge
 * intake (`events`) buffers the events its rule matches in a queue; a requests queue (`queue`)
 * carries transaction requests as message bodies. Either way each message becomes ONE transaction
 * — validated exactly as the API validates it — whatever the duplicates, through its idempotency
 * key, scoped to the intake:
 *
 *   the request's own `idempotencyKey`, if it has one (as on the API), else
 *   the message's `tandemKey` attribute (the key a DLQ message keeps, so a redrive — a new message
 *            id, a new deduplication id — still starts nothing twice), else
 *   events   the field the intake names (`detail.orderId`), else the event's `id`
 *   queue    a FIFO message's MessageDeduplicationId, else the field the intake names, else the
 *            SQS message id
 *
 * A request that can never succeed goes to the intake's DLQ with its reason; any other failure is
 * retried, and lands there with its last error once the queue's receive limit is reached.
 */

export type IntakeKind = 'events' | 'queue';

export interface IntakeSettings {
  /** The intake's id in its Tandem (`transfers`): part of its keys' scope and of `origin.source`. */
  readonly id: string;
  readonly kind: IntakeKind;
  /** Path of the field that holds the key (`detail.orderId`), in the event or in the request. */
  readonly keyField?: string;
}

/** A transaction request as an intake takes it: exactly the body of `POST /transactions`. */
export type TransactionInput = TransactionRequest;

/** The event intake's mapping from an EventBridge event to the request it starts. */
export type EventMapping<E = unknown> = (
  event: EventBridgeEvent<string, E>,
) => TransactionInput | Promise<TransactionInput>;

/** `origin.source` and idempotency scope of an intake: `events:<id>` or `queue:<id>`. */
export const intakeSource = (settings: Pick<IntakeSettings, 'id' | 'kind'>): string =>
  `${settings.kind}:${settings.id}`;

// ─── Why a message is refused ────────────────────────────────────────────────────────────────

/** A message an intake can never turn into a request (not JSON, not an event, no usable key). */
export class IntakeMessageError extends MalformedMessageError {
  override readonly name = 'IntakeMessageError';
}

/** The team's mapping threw (or returned nothing usable): the event can never start a transaction. */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A failure that retrying cannot fix (`permanent`: to the DLQ now), or one it may (`transient`). */
export type Permanence = 'permanent' | 'transient';

/**
 * Permanent: the request is refused on its merits — not JSON or not an event, a mapping that
 * throws, a validation error (400), an unknown participant or entity (422), a key reused with
 * another request (409). Transient: everything else — throttles and infrastructure errors (503),
 * and errors Tandem does not know, which may be passing; those reach the DLQ after the queue's
 * receive limit, never silently.
 */
export function classify(error: unknown): Permanence {
  if (error instanceof MalformedMessageError || error instanceof MappingError) return 'permanent';
  if (error instanceof TandemError && error.status < 500) return 'permanent';
  return 'transient';
}

/** A short reason code for the DLQ's `reason` attribute (`invalid-request`, `conflict`, …). */
export function reasonCodeOf(error: unknown): string {
  if (error instanceof MappingError) return 'mapping-failed';
  if (error instanceof MalformedMessageError) return 'malformed';
  if (error instanceof TandemError) return error.slug;
  return 'failed';
}

// ─── Keys ────────────────────────────────────────────────────────────────────────────────────

/** The value at a dotted path (`detail.order.id`, `operations.0.sku`); undefined when absent. */
export function valueAt(value: unknown, path: string): unknown {
  let at: unknown = value;
  for (const segment of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, segment)) return undefined;
    at = (at as Record<string, unknown>)[segment];
  }
  return at;
}

/** A valid key path: dot-separated names or indexes, each 1–64 of `A-Za-z0-9_-`. */
export const KEY_FIELD = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

/** `raw` as an idempotency key (1–128 visible ASCII characters), or IntakeMessageError saying why not. */
function checkedKey(raw: unknown, what: string): string {
  const text =
    typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
  if (text === undefined) {
    throw new IntakeMessageError(
      `${what} is ${raw === undefined ? 'missing' : `a ${raw === null ? 'null' : typeof raw}`}; it must be a string or a number`,
    );
  }
  const parsed = IdempotencyKey.safeParse(text);
  if (!parsed.success) {
    throw new IntakeMessageError(
      `${what} cannot be an idempotency key: it must be 1–128 visible ASCII characters`,
    );
  }
  return parsed.data;
}

/** The key of an event: the named field of the event, else its id. */
export function eventKeyOf(event: { readonly id?: unknown }, keyField: string | undefined): string {
  return keyField === undefined
    ? checkedKey(event.id, "the event's id")
    : checkedKey(valueAt(event, keyField), `the key field '${keyField}' of the event`);
}

/** The key of a requests queue's message: its FIFO deduplication id, else the named field of its body, else its id. */
export function queueKeyOf(record: SQSRecord, body: unknown, keyField: string | undefined): string {
  const deduplicationId = record.attributes.MessageDeduplicationId;
  if (deduplicationId !== undefined && deduplicationId !== '') {
    return checkedKey(deduplicationId, "the message's deduplication id");
  }
  return keyField === undefined
    ? checkedKey(record.messageId, "the message's id")
    : checkedKey(valueAt(body, keyField), `the key field '${keyField}' of the request`);
}

// ─── One message ─────────────────────────────────────────────────────────────────────────────

/** What one message asks for: the request (unvalidated), its key and where it came from. */
export interface IntakeRequest {
  readonly body: unknown;
  readonly key: string;
  readonly origin: TxOrigin;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new IntakeMessageError(`${what} is not JSON`);
  }
}

/** A parsed body that is an EventBridge event (the envelope EventBridge delivers to a queue). */
function asEvent(value: unknown): EventBridgeEvent<string, unknown> {
  const event = value as Partial<EventBridgeEvent<string, unknown>> | null;
  if (
    event === null ||
    typeof event !== 'object' ||
    typeof event.id !== 'string' ||
    typeof event['detail-type'] !== 'string' ||
    typeof event.source !== 'string' ||
    !('detail' in event)
  ) {
    throw new IntakeMessageError('the message is not an EventBridge event (id, source, detail-type, detail)');
  }
  return event as EventBridgeEvent<string, unknown>;
}

/** The request an event maps to: the mapping's answer, or the event's `detail` without one. */
async function mapped(event: EventBridgeEvent<string, unknown>, map: EventMapping | undefined) {
  if (!map) return event.detail;
  let request: unknown;
  try {
    request = await map(event);
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new MappingError(`the mapping threw ${message}`, { cause: error });
  }
  if (request === null || typeof request !== 'object') {
    throw new MappingError(
      `the mapping returned ${request === null ? 'null' : typeof request}, not a request`,
    );
  }
  return request;
}

/** The message attribute that carries a dead-lettered message's key through a redrive. */
const KEY_ATTRIBUTE = 'tandemKey';

/** The request a message carries, its key (see the top of this file) and its origin. */
async function intakeRequestOf(
  settings: IntakeSettings,
  record: SQSRecord,
  map?: EventMapping,
): Promise<IntakeRequest> {
  const source = intakeSource(settings);
  const kept = record.messageAttributes?.[KEY_ATTRIBUTE]?.stringValue;
  const keptKey =
    kept === undefined ? undefined : checkedKey(kept, `the message's ${KEY_ATTRIBUTE} attribute`);
  if (settings.kind === 'events') {
    const event = asEvent(parseJson(record.body, 'the message'));
    const body = await mapped(event, map);
    const key = ownKeyOf(body) ?? keptKey ?? eventKeyOf(event, settings.keyField);
    return { body, key, origin: { source, key, eventId: event.id } };
  }
  const body = parseJson(record.body, 'the request');
  const key = ownKeyOf(body) ?? keptKey ?? queueKeyOf(record, body, settings.keyField);
  return { body, key, origin: { source, key } };
}

/** The request's own `idempotencyKey`, when it has a string one (validation checks it further). */
function ownKeyOf(body: unknown): string | undefined {
  const own = (body as { idempotencyKey?: unknown } | null)?.idempotencyKey;
  return typeof own === 'string' ? own : undefined;
}

/** What the intake submits through: `Transactions` and the deployment's registry. */
export interface IntakeDeps {
  readonly registry: ParticipantRegistry;
  submit(request: SubmitRequest): Promise<SubmitResult>;
}

/**
 * Validates the request exactly as `POST /transactions` does, and submits it under the intake's
 * scope with its key and origin, answering at once (no wait): the outcome goes out as an event.
 */
async function submitIntakeRequest(
  settings: IntakeSettings,
  request: IntakeRequest,
  deps: IntakeDeps,
): Promise<SubmitResult> {
  const { request: parsed, operations } = parseTransactionRequest(request.body, deps.registry);
  return deps.submit({
    operations,
    idempotencyKey: request.key,
    scope: intakeSource(settings),
    origin: request.origin,
    waitMs: 0,
    ...(parsed.commit !== undefined ? { commit: parsed.commit } : {}),
  });
}

// ─── The record handler ──────────────────────────────────────────────────────────────────────

/** Where an intake's refused messages go: its DLQ, with the error and the reason code attached. */
export type DeadLetter = (
  record: SQSRecord,
  error: Error,
  attributes: Record<string, string>,
) => Promise<void>;

export interface IntakeRecordDeps extends IntakeDeps {
  readonly deadLetter: DeadLetter;
  /**
   * The queue's receive limit: a message failing transiently on its last receive is moved to the DLQ
   * here, with its error attached, rather than by SQS without it. Absent: SQS moves it.
   */
  readonly maxReceiveCount?: number;
  /** The team's mapping of an event intake; without one, the event's `detail` is the request. */
  readonly map?: EventMapping;
  /** Hears of every message: started (or found: `replayed`), dead-lettered, or left for a retry. */
  readonly onResult?: (result: IntakeResult) => void;
}

export type IntakeResult =
  | {
      readonly kind: 'submitted';
      readonly messageId: string;
      readonly txId: string;
      readonly replayed: boolean;
    }
  | {
      readonly kind: 'dead-lettered';
      readonly messageId: string;
      readonly reason: string;
      readonly error: Error;
    }
  | { readonly kind: 'retry'; readonly messageId: string; readonly error: unknown };

/**
 * One message of an intake's queue: its request, validated and submitted. A permanent failure (see
 * `classify`) goes to the DLQ at once with its reason; a transient one is rethrown, so the batch
 * reports just this record failed and SQS redelivers it — until its last receive, when it goes to
 * the DLQ with that error. Nothing is dropped.
 */
export function intakeRecordHandler(
  settings: IntakeSettings,
  deps: IntakeRecordDeps,
): (record: SQSRecord) => Promise<void> {
  const deadLetter = async (record: SQSRecord, error: Error, key: string | undefined) => {
    const reason = reasonCodeOf(error);
    await deps.deadLetter(record, error, {
      reason,
      intake: intakeSource(settings),
      // A redrive sends the message again under a new id: the key must not change with it.
      ...(key !== undefined && IdempotencyKey.safeParse(key).success ? { [KEY_ATTRIBUTE]: key } : {}),
    });
    deps.onResult?.({ kind: 'dead-lettered', messageId: record.messageId, reason, error });
  };
  return async (record) => {
    let key: string | undefined;
    try {
      const request = await intakeRequestOf(settings, record, deps.map);
      key = request.key;
      const { record: tx, replayed } = await submitIntakeRequest(settings, request, deps);
      deps.onResult?.({ kind: 'submitted', messageId: record.messageId, txId: tx.txId, replayed });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (classify(error) === 'permanent') return deadLetter(record, failure, key);
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      if (deps.maxReceiveCount !== undefined && receiveCount >= deps.maxReceiveCount) {
        return deadLetter(record, failure, key);
      }
      deps.onResult?.({ kind: 'retry', messageId: record.messageId, error });
      throw error;
    }
  };
}

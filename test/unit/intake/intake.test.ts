import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import {
  ConflictError,
  ContentionError,
  InfrastructureError,
  MalformedMessageError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '../../../shared/errors';
import {
  classify,
  type EventMapping,
  eventKeyOf,
  IntakeMessageError,
  type IntakeResult,
  type IntakeSettings,
  intakeRecordHandler,
  MappingError,
  queueKeyOf,
  reasonCodeOf,
  valueAt,
} from '../../../shared/intake/intake';
import type { SubmitRequest } from '../../../shared/transactions';
import { accountIdsOnShard, LEDGER_SHARDS, world } from '../api/harness';

const [A0, B0] = accountIdsOnShard(0, 2) as [string, string];
const [A1] = accountIdsOnShard(1, 1) as [string];

function sqsRecord(body: string, init: { messageId?: string; receiveCount?: number; dedupId?: string } = {}) {
  return {
    messageId: init.messageId ?? 'm-1',
    receiptHandle: 'r',
    body,
    attributes: {
      ApproximateReceiveCount: String(init.receiveCount ?? 1),
      SentTimestamp: '0',
      SenderId: 's',
      ApproximateFirstReceiveTimestamp: '0',
      ...(init.dedupId !== undefined ? { MessageDeduplicationId: init.dedupId, MessageGroupId: 'g' } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:1:q',
    awsRegion: 'eu-west-1',
  } as SQSRecord;
}

const transfer = (from: string, to: string, amount: number, extra: Record<string, unknown> = {}) => ({
  operations: [
    { participant: 'ledger', action: 'debit', accountId: from, amount },
    { participant: 'ledger', action: 'credit', accountId: to, amount },
  ],
  ...extra,
});

function eventOf(detail: unknown, id = 'ev-1', extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    version: '0',
    id,
    'detail-type': 'TransferRequested',
    source: 'tandem.test',
    account: '1',
    time: '2026-12-03T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
    ...extra,
  });
}

/** An intake over the API's in-memory world, recording DLQ sends and results. */
async function intake(
  settings: IntakeSettings,
  options: { map?: EventMapping; maxReceiveCount?: number; submitError?: unknown } = {},
) {
  const w = world();
  await w.account(A0, 100);
  await w.account(B0, 0);
  await w.account(A1, 0);
  const dlq: Array<{ body: string; error: string; attributes: Record<string, string> }> = [];
  const results: IntakeResult[] = [];
  const handle = intakeRecordHandler(settings, {
    registry: bankAndShopRegistry(LEDGER_SHARDS),
    submit: async (request) => {
      if (options.submitError !== undefined) throw options.submitError;
      return w.transactions.submit(request);
    },
    deadLetter: async (record, error, attributes) => {
      dlq.push({ body: record.body, error: `${error.name}: ${error.message}`, attributes });
    },
    ...(options.maxReceiveCount !== undefined ? { maxReceiveCount: options.maxReceiveCount } : {}),
    ...(options.map ? { map: options.map } : {}),
    onResult: (result) => results.push(result),
  });
  return { w, dlq, results, handle };
}

const EVENTS: IntakeSettings = { id: 'transfers', kind: 'events' };
const QUEUE: IntakeSettings = { id: 'requests', kind: 'queue' };

describe('keys', () => {
  it.each([
    ['detail.orderId', { detail: { orderId: 'o-1' } }, 'o-1'],
    ['detail.orderId', { detail: { orderId: 42 } }, '42'],
    ['detail.lines.1.sku', { detail: { lines: [{ sku: 'a' }, { sku: 'b' }] } }, 'b'],
    ['id', { id: 'x' }, 'x'],
  ])('finds %s', (path, value, expected) => {
    expect(valueAt(value, path) === undefined ? undefined : eventKeyOf(value as { id?: unknown }, path)).toBe(
      expected,
    );
  });

  it("is the event's id by default", () => {
    expect(eventKeyOf({ id: '6f1c-uuid' }, undefined)).toBe('6f1c-uuid');
  });

  it.each([
    [{ detail: {} }, "the key field 'detail.orderId' of the event is missing"],
    [{ detail: { orderId: null } }, 'is a null'],
    [{ detail: { orderId: { a: 1 } } }, 'is a object'],
    [{ detail: { orderId: true } }, 'is a boolean'],
    [{ detail: { orderId: '' } }, 'cannot be an idempotency key'],
    [{ detail: { orderId: 'has space' } }, 'cannot be an idempotency key'],
    [{ detail: { orderId: 'x'.repeat(129) } }, 'cannot be an idempotency key'],
    [{ detail: { orderId: Number.NaN } }, 'is a number'],
    [{ detail: 'text' }, 'is missing'],
  ])('refuses an unusable key field %j', (event, message) => {
    const of = event as { id?: unknown };
    expect(() => eventKeyOf(of, 'detail.orderId')).toThrow(IntakeMessageError);
    expect(() => eventKeyOf(of, 'detail.orderId')).toThrow(message);
  });

  it("of a queue's message: its FIFO deduplication id, else the named field, else its message id", () => {
    const body = { ref: 'r-9' };
    expect(queueKeyOf(sqsRecord('{}', { messageId: 'm-7', dedupId: 'd-1' }), body, 'ref')).toBe('d-1');
    expect(queueKeyOf(sqsRecord('{}', { messageId: 'm-7' }), body, 'ref')).toBe('r-9');
    expect(queueKeyOf(sqsRecord('{}', { messageId: 'm-7' }), body, undefined)).toBe('m-7');
    expect(() => queueKeyOf(sqsRecord('{}'), {}, 'ref')).toThrow(
      "the key field 'ref' of the request is missing",
    );
  });
});

describe('classification', () => {
  it.each([
    [new ValidationError('bad'), 'permanent', 'invalid-request'],
    [new UnprocessableError('unknown account'), 'permanent', 'unprocessable'],
    [new ConflictError('key reused'), 'permanent', 'conflict'],
    [new NotFoundError('gone'), 'permanent', 'not-found'],
    [new MalformedMessageError('not json'), 'permanent', 'malformed'],
    [new IntakeMessageError('no key'), 'permanent', 'malformed'],
    [new MappingError('threw'), 'permanent', 'mapping-failed'],
    [new InfrastructureError('dynamodb down'), 'transient', 'unavailable'],
    [new ContentionError('throttle', 'throttled'), 'transient', 'unavailable'],
    [new Error('socket hang up'), 'transient', 'failed'],
    [new TypeError('x is undefined'), 'transient', 'failed'],
    ['a string', 'transient', 'failed'],
  ])('%s is %s (%s)', (error, permanence, reason) => {
    expect(classify(error)).toBe(permanence);
    expect(reasonCodeOf(error)).toBe(reason);
  });
});

describe('an event intake', () => {
  it('starts one transaction per event id, however often the event is delivered, with its origin', async () => {
    // Prepare
    const { w, dlq, results, handle } = await intake(EVENTS);
    const body = eventOf(transfer(A0, A1, 5), 'ev-42');

    // Act
    await handle(sqsRecord(body, { messageId: 'm-1' }));
    await handle(sqsRecord(body, { messageId: 'm-2' }));

    // Assess
    expect(dlq).toEqual([]);
    const stored = w.store.all();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.origin).toEqual({ source: 'events:transfers', key: 'ev-42', eventId: 'ev-42' });
    expect(results.map((r) => r.kind === 'submitted' && r.replayed)).toEqual([false, true]);
  });

  it('scopes keys to the intake: the same key on the API or another intake is another transaction', async () => {
    const { w, handle } = await intake(EVENTS);
    await handle(sqsRecord(eventOf(transfer(A0, A1, 5), 'k-1')));
    await w.transactions.submit(transfer(A0, A1, 5, { idempotencyKey: 'k-1' }) as unknown as SubmitRequest);
    expect(w.store.all()).toHaveLength(2);
  });

  it('keys by the named field: two events for one order start one transaction', async () => {
    // Prepare
    const { w, dlq, handle } = await intake(
      { ...EVENTS, keyField: 'detail.ref' },
      { map: () => transfer(A0, A1, 5) },
    );

    // Act
    await handle(sqsRecord(eventOf({ ref: 'order-1' }, 'ev-1')));
    await handle(sqsRecord(eventOf({ ref: 'order-1' }, 'ev-2')));
    await handle(sqsRecord(eventOf({ ref: 'order-2' }, 'ev-3')));

    // Assess
    expect(dlq).toEqual([]);
    expect(
      w.store
        .all()
        .map((s) => s.origin)
        .sort((a, b) => (a!.key! < b!.key! ? -1 : 1)),
    ).toEqual([
      { source: 'events:transfers', key: 'order-1', eventId: 'ev-1' },
      { source: 'events:transfers', key: 'order-2', eventId: 'ev-3' },
    ]);
  });

  it("uses the request's own idempotencyKey first, as the API does", async () => {
    const { w, handle } = await intake(EVENTS);
    await handle(sqsRecord(eventOf(transfer(A0, A1, 5, { idempotencyKey: 'own-1' }), 'ev-1')));
    await handle(sqsRecord(eventOf(transfer(A0, A1, 5, { idempotencyKey: 'own-1' }), 'ev-2')));
    expect(w.store.all().map((s) => s.origin)).toEqual([
      { source: 'events:transfers', key: 'own-1', eventId: 'ev-1' },
    ]);
  });

  it("maps each event with the team's function, sync or async", async () => {
    const map: EventMapping<{ from: string; to: string; cents: number }> = async (event) =>
      transfer(event.detail.from, event.detail.to, event.detail.cents, { commit: 'two-phase' });
    const { w, dlq, handle } = await intake(EVENTS, { map: map as EventMapping });
    await handle(sqsRecord(eventOf({ from: A0, to: A1, cents: 7 }, 'ev-9')));
    expect(dlq).toEqual([]);
    const [stored] = w.store.all();
    expect(stored?.record.participants.flatMap((p) => p.operations)).toEqual(
      expect.arrayContaining([
        { action: 'debit', accountId: A0, amount: 7 },
        { action: 'credit', accountId: A1, amount: 7 },
      ]),
    );
    expect(stored?.record.state).toBe('PREPARING'); // two-phase, as the mapping asked
  });

  it.each([
    [
      'throws',
      () => {
        throw new RangeError('no such customer');
      },
      'MappingError: the mapping threw RangeError: no such customer',
    ],
    [
      'rejects',
      async () => Promise.reject(new Error('lookup failed')),
      'MappingError: the mapping threw Error: lookup failed',
    ],
    ['returns null', () => null, 'MappingError: the mapping returned null, not a request'],
    ['returns a string', () => 'debit', 'MappingError: the mapping returned string, not a request'],
  ])('dead-letters an event whose mapping %s, with the reason', async (_, map, error) => {
    const { w, dlq, handle } = await intake(EVENTS, { map: map as unknown as EventMapping });
    const body = eventOf({ anything: 1 });
    await handle(sqsRecord(body));
    expect(dlq).toEqual([
      { body, error, attributes: { reason: 'mapping-failed', intake: 'events:transfers' } },
    ]);
    expect(w.store.all()).toEqual([]);
  });
});

describe('a requests queue', () => {
  it('starts one transaction per message id (standard) or deduplication id (FIFO)', async () => {
    const { w, handle } = await intake(QUEUE);
    const body = JSON.stringify(transfer(A0, A1, 5));
    await handle(sqsRecord(body, { messageId: 'm-1' }));
    await handle(sqsRecord(body, { messageId: 'm-1', receiveCount: 2 }));
    await handle(sqsRecord(body, { messageId: 'm-2', dedupId: 'order-7' }));
    await handle(sqsRecord(body, { messageId: 'm-3', dedupId: 'order-7' }));
    expect(
      w.store
        .all()
        .map((s) => s.origin?.key)
        .sort(),
    ).toEqual(['m-1', 'order-7']);
    expect(
      w.store.all().every((s) => s.origin?.source === 'queue:requests' && s.origin.eventId === undefined),
    ).toBe(true);
  });
});

describe('a redriven message', () => {
  it('keeps its key (the tandemKey attribute its DLQ message carries), though its id is new', async () => {
    // Prepare: the first delivery started the transaction, then (say) failed to be deleted.
    const { w, results, handle } = await intake(QUEUE);
    const body = JSON.stringify(transfer(A0, A1, 5));
    await handle(sqsRecord(body, { messageId: 'm-1' }));

    // Act: the same message redriven from the DLQ, under a new id.
    const redriven = sqsRecord(body, { messageId: 'm-2' });
    await handle({
      ...redriven,
      messageAttributes: { tandemKey: { stringValue: 'm-1', dataType: 'String' } },
    });

    // Assess
    expect(w.store.all()).toHaveLength(1);
    expect(results.map((r) => r.kind === 'submitted' && r.replayed)).toEqual([false, true]);
  });
});

describe('a tandemKey attribute that is no key', () => {
  it('sends the message to the DLQ rather than starting it under another key', async () => {
    const { w, dlq, handle } = await intake(QUEUE);
    const record = sqsRecord(JSON.stringify(transfer(A0, A1, 5)));
    await handle({ ...record, messageAttributes: { tandemKey: { stringValue: 'a b', dataType: 'String' } } });
    expect(dlq.map((d) => [d.attributes.reason, d.error])).toEqual([
      [
        'malformed',
        "IntakeMessageError: the message's tandemKey attribute cannot be an idempotency key: it must be 1–128 visible ASCII characters",
      ],
    ]);
    expect(w.store.all()).toEqual([]);
  });
});

describe('requests that can never succeed go to the DLQ with their reason', () => {
  const bad: Array<[string, IntakeSettings, string, string, RegExp, string?]> = [
    [
      'a body that is not JSON',
      QUEUE,
      '{"operations": [',
      'malformed',
      /IntakeMessageError: the request is not JSON/,
    ],
    [
      'an event that is not JSON',
      EVENTS,
      'not json',
      'malformed',
      /IntakeMessageError: the message is not JSON/,
    ],
    [
      'a message that is not an event',
      EVENTS,
      JSON.stringify(transfer('a', 'b', 1)),
      'malformed',
      /not an EventBridge event/,
    ],
    [
      'an event without detail-type',
      EVENTS,
      JSON.stringify({ id: 'e', source: 's', detail: {} }),
      'malformed',
      /not an EventBridge event/,
    ],
    ['JSON null', QUEUE, 'null', 'invalid-request', /ValidationError: transaction is invalid/, 'm-1'],
    ['no operations', QUEUE, JSON.stringify({ operations: [] }), 'invalid-request', /operations/, 'm-1'],
    [
      'an unknown field',
      QUEUE,
      JSON.stringify({ ...transfer('a0', 'a1', 1), priority: 'high' }),
      'invalid-request',
      /priority/,
      'm-1',
    ],
    [
      'an unknown participant',
      QUEUE,
      JSON.stringify({ operations: [{ participant: 'bank', action: 'debit' }] }),
      'invalid-request',
      /bank/,
      'm-1',
    ],
    [
      'an amount that is not a positive integer',
      QUEUE,
      JSON.stringify(transfer('x', 'y', -3)),
      'invalid-request',
      /amount/,
      'm-1',
    ],
    [
      'a bogus commit preference',
      QUEUE,
      JSON.stringify(transfer('x', 'y', 1, { commit: 'maybe' })),
      'invalid-request',
      /commit/,
      'm-1',
    ],
    [
      'an idempotencyKey with spaces',
      QUEUE,
      JSON.stringify(transfer('x', 'y', 1, { idempotencyKey: 'a b' })),
      'invalid-request',
      /idempotencyKey/,
    ],
    [
      'detail that is a string',
      EVENTS,
      eventOf('transfer please'),
      'invalid-request',
      /ValidationError/,
      'ev-1',
    ],
  ];
  it.each(bad)('%s', async (_, settings, body, reason, error, key) => {
    const { w, dlq, handle } = await intake(settings);
    await handle(sqsRecord(body));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.body).toBe(body);
    expect(dlq[0]?.attributes).toEqual({
      reason,
      intake: settings.kind === 'events' ? 'events:transfers' : 'queue:requests',
      ...(key !== undefined ? { tandemKey: key } : {}),
    });
    expect(dlq[0]?.error).toMatch(error);
    expect(w.store.all()).toEqual([]);
  });

  it('an unknown account (422: nothing written)', async () => {
    const { w, dlq, handle } = await intake(QUEUE);
    await handle(sqsRecord(JSON.stringify(transfer(A0, 'nobody', 1))));
    expect(dlq.map((d) => [d.attributes.reason, d.error])).toEqual([
      ['unprocessable', "UnprocessableError: unknown account 'nobody'; nothing was written"],
    ]);
    expect(w.store.all()).toEqual([]);
  });

  it('a key reused with a different request (409), leaving the first transaction as it was', async () => {
    const { w, dlq, handle } = await intake({ ...QUEUE, keyField: 'ref' });
    await handle(sqsRecord(JSON.stringify({ ...transfer(A0, A1, 1), idempotencyKey: 'r-1' })));
    await handle(sqsRecord(JSON.stringify({ ...transfer(A0, A1, 2), idempotencyKey: 'r-1' })));
    expect(dlq.map((d) => d.attributes.reason)).toEqual(['conflict']);
    expect(dlq[0]?.error).toMatch(/ConflictError: idempotency key reused with a different request/);
    expect(w.store.all()).toHaveLength(1);
  });

  it('a key field the request lacks', async () => {
    const { dlq, handle } = await intake({ ...QUEUE, keyField: 'ref' });
    await handle(sqsRecord(JSON.stringify(transfer(A0, A1, 1))));
    expect(dlq.map((d) => d.error)).toEqual([
      "IntakeMessageError: the key field 'ref' of the request is missing; it must be a string or a number",
    ]);
  });
});

describe('transient failures', () => {
  it('are retried (rethrown: a batch item failure) until the last receive, then dead-lettered with the last error', async () => {
    const error = new InfrastructureError('could not create transaction tx_1');
    const { dlq, results, handle } = await intake(QUEUE, { maxReceiveCount: 3, submitError: error });
    const body = JSON.stringify(transfer(A0, A1, 1));

    await expect(handle(sqsRecord(body, { receiveCount: 1 }))).rejects.toBe(error);
    await expect(handle(sqsRecord(body, { receiveCount: 2 }))).rejects.toBe(error);
    expect(dlq).toEqual([]);
    await handle(sqsRecord(body, { receiveCount: 3 }));

    expect(dlq).toEqual([
      {
        body,
        error: 'InfrastructureError: could not create transaction tx_1',
        attributes: { reason: 'unavailable', intake: 'queue:requests', tandemKey: 'm-1' },
      },
    ]);
    expect(results.map((r) => r.kind)).toEqual(['retry', 'retry', 'dead-lettered']);
  });

  it('an unknown error too; without a receive limit SQS moves it after its last retry', async () => {
    const { dlq, handle } = await intake(QUEUE, { submitError: new Error('socket hang up') });
    await expect(
      handle(sqsRecord(JSON.stringify(transfer(A0, A1, 1)), { receiveCount: 99 })),
    ).rejects.toThrow('socket hang up');
    expect(dlq).toEqual([]);
  });
});

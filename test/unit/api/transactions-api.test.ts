import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { AcceptedViewSchema, ProblemSchema, TransactionViewSchema } from '../../../shared/api/openapi';
import { InfrastructureError } from '../../../shared/errors';
import { slotOf } from '../../../shared/protocol';
import { requestHashOf } from '../../../shared/transactions';
import { keyedRecordKey, recordKeyOf } from '../../../shared/txid';
import { accountIdsOnShard, commitInputs, event, SLOTS, T0, type World, world } from './harness';

// Accounts chosen by the hash: A0, B0 on ledger shard 0; A1 on ledger shard 1.
const [A0, B0] = accountIdsOnShard(0, 2) as [string, string];
const [A1] = accountIdsOnShard(1, 1) as [string];

let w: World;

beforeEach(async () => {
  w = world();
  await w.account(A0, 1_000);
  await w.account(B0, 1_000);
  await w.account(A1, 1_000);
  await w.item('book', 5);
  await w.item('pen', 9);
});

function expectNothingWritten() {
  expect(w.store.all()).toEqual([]);
  expect(w.transport.prepares).toEqual([]);
}

describe('POST /transfers', () => {
  it('records a cross-shard transfer as two ledger participants and sends each its Prepare once', async () => {
    // Act
    const answer = await w.post('/transfers', { from: A0, to: A1, amount: 250 });

    // Assess
    const txId = 'tx_random00000000000000000001';
    expect(answer.statusCode).toBe(202);
    expect(answer.json).toEqual({ txId, state: 'PREPARING', href: `/transactions/${txId}` });
    expect(AcceptedViewSchema.parse(answer.json)).toEqual(answer.json);
    expect(answer.headers?.location).toBe(`/transactions/${txId}`);
    expect(answer.headers?.['idempotent-replayed']).toBeUndefined();
    const participants = [
      { id: 'ledger-0', kind: 'ledger', operations: [{ action: 'debit', accountId: A0, amount: 250 }] },
      { id: 'ledger-1', kind: 'ledger', operations: [{ action: 'credit', accountId: A1, amount: 250 }] },
    ];
    const [stored, ...others] = w.store.all();
    expect(others).toEqual([]);
    expect(stored?.requestHash).toBe(requestHashOf(participants));
    expect(stored?.record).toMatchObject({
      txId,
      slot: slotOf(txId, SLOTS),
      version: 1,
      state: 'PREPARING',
      participants,
      votes: {},
      acks: {},
      createdAtMs: T0,
      prepareDeadlineMs: T0 + 10_000,
      nextCheckAtMs: T0 + 500,
      timeline: [],
    });
    const slot = slotOf(txId, SLOTS);
    expect(w.transport.prepares).toEqual(
      participants.map(({ id, operations }) => ({
        type: 'Prepare',
        txId,
        participantId: id,
        slot,
        operations,
      })),
    );
    expect(w.transport.timers).toEqual([{ txId, atMs: T0 + 500 }]);
  });

  it('puts a same-shard transfer on one participant with both operations, sorted by account', async () => {
    await w.post('/transfers', { from: B0, to: A0, amount: 7 });
    const [stored] = w.store.all();
    const ops = [
      { action: 'credit', accountId: A0, amount: 7 },
      { action: 'debit', accountId: B0, amount: 7 },
    ].sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    expect(stored?.record.participants).toEqual([{ id: 'ledger-0', kind: 'ledger', operations: ops }]);
    expect(w.transport.started).toHaveLength(1);
  });

  it('stores a keyed transaction at the record key of its key, with an incarnation in its id', async () => {
    const answer = await w.post('/transfers', { from: A0, to: A1, amount: 1, idempotencyKey: 'order-42' });
    expect(answer.statusCode).toBe(202);
    expect(recordKeyOf(answer.json.txId)).toBe(keyedRecordKey('order-42'));
    expect(answer.json.txId).toMatch(/^tx_[A-Za-z0-9_-]{26}\.[A-Za-z0-9_-]{8}$/);
    expect(w.store.all().map((tx) => tx.record.txId)).toEqual([answer.json.txId]);
  });
});

describe('POST /transactions', () => {
  it('maps a checkout on two ledger shards and the inventory to three sorted participants', async () => {
    const answer = await w.post('/transactions', {
      operations: [
        { participant: 'inventory', action: 'reserve', sku: 'book', quantity: 2 },
        { participant: 'ledger', action: 'debit', accountId: A1, amount: 30 },
        { participant: 'ledger', action: 'credit', accountId: A0, amount: 30 },
        { participant: 'inventory', action: 'release', sku: 'pen', quantity: 1 },
      ],
    });
    expect(answer.statusCode).toBe(202);
    const [stored] = w.store.all();
    expect(stored?.record.participants).toEqual([
      {
        id: 'inventory',
        kind: 'inventory',
        operations: [
          { action: 'reserve', sku: 'book', quantity: 2 },
          { action: 'release', sku: 'pen', quantity: 1 },
        ],
      },
      { id: 'ledger-0', kind: 'ledger', operations: [{ action: 'credit', accountId: A0, amount: 30 }] },
      { id: 'ledger-1', kind: 'ledger', operations: [{ action: 'debit', accountId: A1, amount: 30 }] },
    ]);
    expect(w.transport.started).toEqual([{ txId: answer.json.txId, slot: stored?.record.slot }]);
  });

  it('maps a checkout on one ledger shard and the inventory to two participants', async () => {
    await w.post('/transactions', {
      operations: [
        { participant: 'ledger', action: 'debit', accountId: A0, amount: 10 },
        { participant: 'ledger', action: 'credit', accountId: B0, amount: 10 },
        { participant: 'inventory', action: 'reserve', sku: 'book', quantity: 1 },
      ],
    });
    expect(w.store.all()[0]?.record.participants.map((p) => [p.id, p.operations.length])).toEqual([
      ['inventory', 1],
      ['ledger-0', 2],
    ]);
  });

  it('accepts a checkout that only debits the buyer (the payment leaves the ledger)', async () => {
    const answer = await w.post('/transactions', {
      operations: [
        { participant: 'ledger', action: 'debit', accountId: A1, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku: 'book', quantity: 2 },
      ],
    });
    expect(answer.statusCode).toBe(202);
    expect(w.store.all()[0]?.record.participants.map((p) => p.id)).toEqual(['inventory', 'ledger-1']);
  });

  it('accepts a transaction of inventory operations only', async () => {
    const answer = await w.post('/transactions', {
      operations: [{ participant: 'inventory', action: 'reserve', sku: 'pen', quantity: 9 }],
    });
    expect(answer.statusCode).toBe(202);
    expect(w.store.all()[0]?.record.participants).toEqual([
      { id: 'inventory', kind: 'inventory', operations: [{ action: 'reserve', sku: 'pen', quantity: 9 }] },
    ]);
  });
});

describe('idempotency', () => {
  const transfer = { from: A0, to: A1, amount: 5, idempotencyKey: 'k-1' };

  it('answers a retry with the same transaction, writes one record and sends Prepare once', async () => {
    // Act
    const first = await w.post('/transfers', transfer);
    const second = await w.post('/transfers', transfer);

    // Assess
    expect(second.statusCode).toBe(202);
    expect(second.json).toEqual(first.json);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(w.store.all()).toHaveLength(1);
    // A replay sends nothing: a Prepare that was lost is re-sent by the record's check.
    expect(w.transport.started).toEqual([{ txId: first.json.txId, slot: slotOf(first.json.txId, SLOTS) }]);
    expect(w.transport.prepares).toHaveLength(2);
  });

  it("remembers an API request's key as its origin, and nothing for a request without one", async () => {
    // Act
    const keyed = await w.post('/transfers', transfer);
    const unkeyed = await w.post('/transactions', {
      operations: [
        { participant: 'ledger', action: 'debit', accountId: A0, amount: 1 },
        { participant: 'ledger', action: 'credit', accountId: A1, amount: 1 },
      ],
    });

    // Assess
    const originOf = (txId: string) => w.store.all().find((s) => s.record.txId === txId)?.origin;
    expect(originOf(keyed.json.txId)).toEqual({ source: 'api', key: 'k-1' });
    expect(w.store.all().find((s) => s.record.txId === unkeyed.json.txId)).not.toHaveProperty('origin');
  });

  it('takes the key from the Idempotency-Key header as well', async () => {
    const { idempotencyKey: _key, ...body } = transfer;
    const viaHeader = await w.post('/transfers', body, {
      headers: { 'content-type': 'application/json', 'Idempotency-Key': 'k-1' },
    });
    const viaBody = await w.post('/transfers', transfer, {
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
    });
    expect(viaHeader.statusCode).toBe(202);
    expect(recordKeyOf(viaHeader.json.txId)).toBe(keyedRecordKey('k-1'));
    expect(viaBody.json.txId).toBe(viaHeader.json.txId);
    expect(viaBody.headers?.['idempotent-replayed']).toBe('true');
    expect(w.store.all()).toHaveLength(1);
  });

  it('treats the same operations in another order, or as the equivalent transfer, as the same request', async () => {
    const debit = { participant: 'ledger', action: 'debit', accountId: A0, amount: 5 };
    const credit = { participant: 'ledger', action: 'credit', accountId: A1, amount: 5 };
    const first = await w.post('/transactions', { idempotencyKey: 'k-1', operations: [debit, credit] });
    const reordered = await w.post('/transactions', { idempotencyKey: 'k-1', operations: [credit, debit] });
    const asTransfer = await w.post('/transfers', transfer);
    expect([reordered.statusCode, asTransfer.statusCode]).toEqual([202, 202]);
    expect(reordered.json.txId).toBe(first.json.txId);
    expect(asTransfer.json.txId).toBe(first.json.txId);
    expect(w.store.all()).toHaveLength(1);
  });

  it('answers 409 when the key comes back with a different request, changing nothing', async () => {
    await w.post('/transfers', transfer);
    const before = w.store.all();
    const sentBefore = [...w.transport.prepares];

    const conflict = await w.post('/transfers', { ...transfer, amount: 6 });
    const otherShape = await w.post('/transactions', {
      idempotencyKey: 'k-1',
      operations: [{ participant: 'inventory', action: 'reserve', sku: 'book', quantity: 1 }],
    });

    for (const answer of [conflict, otherShape]) {
      expect(answer.statusCode).toBe(409);
      expect(answer.headers?.['content-type']).toBe('application/problem+json');
      expect(answer.json).toMatchObject({ type: 'urn:tandem:problem:conflict', status: 409 });
      expect(answer.json.detail).toMatch(/idempotency key reused with a different request/);
    }
    expect(w.store.all()).toEqual(before);
    expect(w.transport.prepares).toEqual(sentBefore);
  });

  it('answers a retry of a finished transaction with 200 and its outcome', async () => {
    const first = await w.post('/transfers', transfer);
    const txId = first.json.txId;
    await w.drive(txId, commitInputs(txId, ['ledger-0', 'ledger-1']));
    const retry = await w.post('/transfers', transfer);
    expect(retry.statusCode).toBe(200);
    expect(retry.json).toMatchObject({ txId, state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(retry.headers?.location).toBe(`/transactions/${txId}`);
    expect(w.transport.started).toHaveLength(1);
  });
});

describe('idempotency keys: their lifetime and their scope', () => {
  const transfer = { from: A0, to: A1, amount: 5, idempotencyKey: 'k-9' };
  const asCaller = (userArn: string) => ({
    requestContext: {
      http: { method: 'POST', path: '/transfers' },
      authorizer: { iam: { userArn } },
    } as unknown as APIGatewayProxyEventV2['requestContext'],
  });

  it('starts a new transaction, with a new id, for a key used again after its record expired (regression)', async () => {
    // Before: the key mapped to the same id forever, so the new transaction met the old one's
    // barriers (answered YES with nothing held) and repeated its outcome event's id.
    const first = await w.post('/transfers', transfer);
    w.store.expire(recordKeyOf(first.json.txId)); // as DynamoDB's TTL does, 30 days after it ended

    const same = await w.post('/transfers', transfer);
    w.store.expire(recordKeyOf(same.json.txId));
    const other = await w.post('/transfers', { ...transfer, amount: 6 });

    expect([same.statusCode, other.statusCode]).toEqual([202, 202]);
    expect(same.headers?.['idempotent-replayed']).toBeUndefined();
    expect(new Set([first.json.txId, same.json.txId, other.json.txId]).size).toBe(3);
    expect(recordKeyOf(other.json.txId)).toBe(recordKeyOf(first.json.txId));
    expect((await w.get(first.json.txId)).statusCode).toBe(404);
    expect((await w.get(other.json.txId)).json.participants[0].operations[0].amount).toBe(6);
  });

  it("scopes keys per caller: another principal's key neither finds nor reveals the transaction", async () => {
    const alice = await w.post('/transfers', transfer, asCaller('arn:aws:iam::111122223333:user/alice'));
    const mallory = await w.post(
      '/transfers',
      { ...transfer, amount: 7 },
      asCaller('arn:aws:iam::111122223333:user/mallory'),
    );

    expect([alice.statusCode, mallory.statusCode]).toEqual([202, 202]);
    expect(mallory.json.txId).not.toBe(alice.json.txId);
    expect(mallory.body).not.toContain(alice.json.txId);
    expect(w.store.all()).toHaveLength(2);
  });

  it('treats every session of an assumed role as one caller', async () => {
    const role = 'arn:aws:sts::111122223333:assumed-role/checkout';
    const first = await w.post('/transfers', transfer, asCaller(`${role}/task-1`));
    const retry = await w.post('/transfers', transfer, asCaller(`${role}/task-2`));
    const changed = await w.post('/transfers', { ...transfer, amount: 8 }, asCaller(`${role}/task-3`));

    expect(retry.json.txId).toBe(first.json.txId);
    expect(retry.headers?.['idempotent-replayed']).toBe('true');
    expect(changed.statusCode).toBe(409);
  });
});

describe('requests that are refused', () => {
  const debit = (accountId: string, amount: unknown = 5) => ({
    participant: 'ledger',
    action: 'debit',
    accountId,
    amount,
  });
  const credit = (accountId: string, amount: unknown = 5) => ({
    ...debit(accountId, amount),
    action: 'credit',
  });
  const reserve = (sku: string, quantity: unknown = 1) => ({
    participant: 'inventory',
    action: 'reserve',
    sku,
    quantity,
  });
  const tooMany = Array.from({ length: 26 }, (_, i) => reserve(`sku-${i}`));

  it.each<[string, '/transfers' | '/transactions', unknown, RegExp]>([
    ['malformed JSON', '/transfers', '{"from":', /not valid JSON/],
    ['an empty body', '/transactions', '', /body is required/],
    ['a zero amount', '/transfers', { from: A0, to: A1, amount: 0 }, /amount/],
    ['a negative amount', '/transfers', { from: A0, to: A1, amount: -3 }, /amount/],
    ['a fractional amount', '/transfers', { from: A0, to: A1, amount: 1.5 }, /amount/],
    ['a string amount', '/transfers', { from: A0, to: A1, amount: '5' }, /amount/],
    [
      'an amount beyond exact integers',
      '/transfers',
      `{"from":"${A0}","to":"${A1}","amount":9007199254740993}`,
      /amount/,
    ],
    ['a transfer to the same account', '/transfers', { from: A0, to: A0, amount: 5 }, /to: must differ/],
    ['a missing account', '/transfers', { from: A0, amount: 5 }, /to/],
    ['an unknown field', '/transfers', { from: A0, to: A1, amount: 5, memo: 'x' }, /memo/],
    [
      'an idempotency key with spaces',
      '/transfers',
      { from: A0, to: A1, amount: 5, idempotencyKey: 'a b' },
      /idempotencyKey/,
    ],
    [
      'an idempotency key of 129 characters',
      '/transfers',
      { from: A0, to: A1, amount: 5, idempotencyKey: 'k'.repeat(129) },
      /idempotencyKey/,
    ],
    ['no operations', '/transactions', { operations: [] }, /operations/],
    ['a missing operations list', '/transactions', { idempotencyKey: 'k' }, /operations/],
    ['26 operations', '/transactions', { operations: tooMany }, /operations: Too big/],
    [
      'an unknown participant',
      '/transactions',
      { operations: [{ participant: 'shipping', action: 'ship', parcel: 'p' }] },
      /operations\.0\.participant/,
    ],
    [
      'an action of another participant',
      '/transactions',
      { operations: [{ ...reserve('book'), action: 'debit' }] },
      /operations\.0\.action/,
    ],
    [
      'a ledger operation with a quantity',
      '/transactions',
      { operations: [{ participant: 'ledger', action: 'debit', accountId: A0, quantity: 5 }] },
      /operations\.0\.amount/,
    ],
    ['a zero quantity', '/transactions', { operations: [reserve('book', 0)] }, /operations\.0\.quantity/],
    [
      'two operations on one account',
      '/transactions',
      { operations: [debit(A0), credit(A1), credit(A0)] },
      /operations\.2\.accountId: account '.*' is already used by operations\.0/,
    ],
    [
      'two operations on one sku',
      '/transactions',
      { operations: [reserve('book'), { ...reserve('book'), action: 'release' }] },
      /operations\.1\.sku: item 'book' is already used/,
    ],
  ])('answers 400 for %s and writes nothing', async (_name, path, body, detail) => {
    const answer = await w.post(path, body);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers?.['content-type']).toBe('application/problem+json');
    expect(ProblemSchema.parse(answer.json)).toMatchObject({
      type: 'urn:tandem:problem:invalid-request',
      status: 400,
      instance: path,
    });
    expect(answer.json.detail).toMatch(detail);
    expectNothingWritten();
  });

  it('lists every issue by path', async () => {
    const answer = await w.post('/transactions', {
      operations: [debit('bad id', 0), reserve('book', 'two')],
      extra: true,
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json.errors.map((issue: { path: string }) => issue.path).sort()).toEqual([
      '(root)',
      'operations.0.accountId',
      'operations.0.amount',
      'operations.1.quantity',
    ]);
  });

  it.each(['21', '-1', 'abc', '1.5', '', '100'])(
    'answers 400 for ?wait=%s and writes nothing',
    async (wait) => {
      const answer = await w.post(
        '/transfers',
        { from: A0, to: A1, amount: 5 },
        { queryStringParameters: { wait } },
      );
      expect(answer.statusCode).toBe(400);
      expect(answer.json.detail).toMatch(/wait/);
      expectNothingWritten();
    },
  );

  it('answers 400 when the Idempotency-Key header and the body field differ, or the header is malformed', async () => {
    const headers = (key: string) => ({
      headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
    });
    const differ = await w.post(
      '/transfers',
      { from: A0, to: A1, amount: 5, idempotencyKey: 'a' },
      headers('b'),
    );
    expect(differ.statusCode).toBe(400);
    expect(differ.json.detail).toMatch(/Idempotency-Key header and the body field idempotencyKey differ/);
    const malformed = await w.post('/transfers', { from: A0, to: A1, amount: 5 }, headers('has space'));
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json.detail).toMatch(/Idempotency-Key header/);
    expectNothingWritten();
  });

  it('answers 422 naming every unknown account and sku, and writes nothing', async () => {
    const answer = await w.post('/transactions', {
      operations: [debit(A0), credit('ghost'), reserve('book'), reserve('unicorn')],
    });
    expect(answer.statusCode).toBe(422);
    expect(answer.headers?.['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({ type: 'urn:tandem:problem:unprocessable', status: 422 });
    expect(answer.json.detail).toBe("unknown account 'ghost', item 'unicorn'; nothing was written");
    const transfer = await w.post('/transfers', { from: 'nobody', to: A1, amount: 1 });
    expect(transfer.statusCode).toBe(422);
    expect(transfer.json.detail).toMatch(/account 'nobody'/);
    expectNothingWritten();
  });

  it('answers 503 when the entity lookup fails, and writes nothing', async () => {
    const failing = world({
      directory: {
        missing: async () => {
          throw new InfrastructureError('throttled');
        },
      },
    });
    const answer = await failing.post('/transfers', { from: A0, to: A1, amount: 1 });
    expect(answer.statusCode).toBe(503);
    expect(failing.store.all()).toEqual([]);
    expect(failing.serverErrors).toHaveLength(1);
  });
});

describe('Prepare send failure', () => {
  it('still answers 202: the record is durable and its check re-sends the Prepare that was lost', async () => {
    // Prepare
    w.transport.failures = 1;

    // Act
    const answer = await w.post('/transfers', { from: A0, to: A1, amount: 5, idempotencyKey: 'k-9' });

    // Assess
    expect(answer.statusCode).toBe(202);
    const [stored] = w.store.all();
    expect(stored?.record).toMatchObject({
      txId: answer.json.txId,
      state: 'PREPARING',
      nextCheckAtMs: T0 + 500,
    });
    expect(w.transport.prepares).toHaveLength(1);
    expect(w.transport.timers).toEqual([{ txId: answer.json.txId, atMs: T0 + 500 }]);
    expect(w.beginFailures.map((f) => f.txId)).toEqual([answer.json.txId]);
    expect(w.serverErrors).toEqual([]);
  });
});

describe('GET /transactions/{txId}', () => {
  async function transfer(): Promise<string> {
    return (await w.post('/transfers', { from: A0, to: A1, amount: 40 })).json.txId;
  }
  const participants = [
    { id: 'ledger-0', kind: 'ledger', operations: [{ action: 'debit', accountId: A0, amount: 40 }] },
    { id: 'ledger-1', kind: 'ledger', operations: [{ action: 'credit', accountId: A1, amount: 40 }] },
  ];

  it('shows a PREPARING transaction just created', async () => {
    const txId = await transfer();
    const answer = await w.get(txId);
    expect(answer.statusCode).toBe(200);
    expect(answer.json).toEqual({
      txId,
      state: 'PREPARING',
      mode: 'two-phase',
      participants,
      createdAtMs: T0,
      timeline: [
        { atMs: T0, event: 'created' },
        { atMs: T0, event: 'begin: Prepare sent to 2 participant(s)' },
      ],
    });
    expect(TransactionViewSchema.parse(answer.json)).toEqual(answer.json);
  });

  it('shows the votes so far while PREPARING', async () => {
    const txId = await transfer();
    w.clock.now += 50;
    await w.drive(txId, [{ type: 'Vote', txId, participantId: 'ledger-1', vote: 'YES' }]);
    const view = (await w.get(txId)).json;
    expect(TransactionViewSchema.parse(view)).toEqual(view);
    expect(view.state).toBe('PREPARING');
    expect(view).not.toHaveProperty('outcome');
    expect(view).not.toHaveProperty('decidedAtMs');
    expect(view.participants).toEqual([participants[0], { ...participants[1], vote: 'YES' }]);
    expect(view.timeline).toEqual([
      { atMs: T0, event: 'created' },
      { atMs: T0, event: 'begin: Prepare sent to 2 participant(s)' },
      { atMs: T0 + 50, event: 'vote YES from ledger-1' },
    ]);
  });

  it('shows a COMMITTED transaction with its outcome, acks and times', async () => {
    const txId = await transfer();
    w.clock.now += 100;
    await w.drive(txId, commitInputs(txId, ['ledger-0', 'ledger-1']));
    const view = (await w.get(txId)).json;
    expect(TransactionViewSchema.parse(view)).toEqual(view);
    expect(view).toMatchObject({
      state: 'COMMITTED',
      outcome: 'COMMITTED',
      decidedAtMs: T0 + 100,
      completedAtMs: T0 + 100,
      participants: participants.map((p) => ({ ...p, vote: 'YES', ack: 'COMMITTED' })),
    });
    expect(view).not.toHaveProperty('reason');
  });

  it('shows an ABORTED transaction with its reason and the NO vote', async () => {
    const txId = await transfer();
    await w.drive(txId, [
      { type: 'Vote', txId, participantId: 'ledger-0', vote: 'NO', reason: 'insufficient funds' },
      { type: 'Ack', txId, participantId: 'ledger-0', outcome: 'ABORTED' },
      { type: 'Ack', txId, participantId: 'ledger-1', outcome: 'ABORTED' },
    ]);
    const view = (await w.get(txId)).json;
    expect(TransactionViewSchema.parse(view)).toEqual(view);
    expect(view).toMatchObject({ state: 'ABORTED', outcome: 'ABORTED' });
    expect(view.reason).toMatch(/ledger-0.*insufficient funds/);
    expect(view.participants).toEqual([
      { ...participants[0], vote: 'NO', voteReason: 'insufficient funds', ack: 'ABORTED' },
      { ...participants[1], ack: 'ABORTED' },
    ]);
  });

  it('answers 404 for an unknown transaction and 400 for a malformed id', async () => {
    const missing = await w.get('tx_doesnotexist0000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers?.['content-type']).toBe('application/problem+json');
    expect(missing.json.detail).toBe("transaction 'tx_doesnotexist0000000000000' does not exist");
    for (const bad of ['abc', 'tx_', 'tx_has space', `tx_${'a'.repeat(65)}`]) {
      expect((await w.get(bad)).statusCode, bad).toBe(400);
    }
  });
});

describe('?wait=N', () => {
  async function transfer(query: Record<string, string> = {}) {
    return w.post('/transfers', { from: A0, to: A1, amount: 40 }, { queryStringParameters: query });
  }
  /** Has the coordinator finish the transaction once the clock reaches `atMs`. */
  function commitAt(atMs: number, txId: () => string) {
    let done = false;
    w.clock.onSleep(async (nowMs) => {
      if (done || nowMs < atMs) return;
      done = true;
      await w.drive(txId(), commitInputs(txId(), ['ledger-0', 'ledger-1']));
    });
  }

  it('GET returns as soon as the transaction is terminal', async () => {
    const txId = (await transfer()).json.txId;
    commitAt(T0 + 500, () => txId);
    const answer = await w.get(txId, { wait: '5' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json.outcome).toBe('COMMITTED');
    // Ten re-reads 20 ms apart, then 40, 80, 160, 200 ms: the first read after T0 + 500 sees it.
    expect(w.clock.sleeps).toEqual([...Array(10).fill(20), 40, 80, 160, 200]);
  });

  it('GET answers with the latest state when the time is up', async () => {
    const txId = (await transfer()).json.txId;
    const answer = await w.get(txId, { wait: '2' });
    expect(answer.statusCode).toBe(200);
    expect(answer.json.state).toBe('PREPARING');
    // 10 × 20 + 40 + 80 + 160 + 7 × 200 = 1,880, then the last 120 ms.
    expect(w.clock.sleeps).toHaveLength(21);
    expect(w.clock.now).toBe(T0 + 2_000);
  });

  it('GET does not wait for a terminal transaction or with wait=0', async () => {
    const txId = (await transfer()).json.txId;
    expect((await w.get(txId, { wait: '0' })).json.state).toBe('PREPARING');
    await w.drive(txId, commitInputs(txId, ['ledger-0', 'ledger-1']));
    expect((await w.get(txId, { wait: '20' })).json.state).toBe('COMMITTED');
    expect(w.clock.sleeps).toEqual([]);
  });

  it('a POST answers 200 with the full view when the transaction finishes within the wait', async () => {
    commitAt(T0 + 1_000, () => w.store.all()[0]!.record.txId);
    const answer = await transfer({ wait: '3' });
    expect(answer.statusCode).toBe(200);
    expect(TransactionViewSchema.parse(answer.json)).toEqual(answer.json);
    expect(answer.json).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(answer.headers?.location).toBe(`/transactions/${answer.json.txId}`);
    // The first re-read at or after T0 + 1,000: 10 × 20 + 40 + 80 + 160 + 3 × 200 = 1,080.
    expect(w.clock.now).toBe(T0 + 1_080);
  });

  it('a POST answers 202 when the wait runs out first', async () => {
    const answer = await transfer({ wait: '3' });
    expect(answer.statusCode).toBe(202);
    expect(answer.json).toEqual({ txId: answer.json.txId, state: 'PREPARING', href: expect.any(String) });
    expect(w.clock.now).toBe(T0 + 3_000);
  });

  it('never holds a request past what is left of the Lambda invocation', async () => {
    const txId = (await transfer()).json.txId;
    const answer = await w.api(
      {
        ...event('GET /transactions/{txId}'),
        pathParameters: { txId },
        queryStringParameters: { wait: '20' },
      },
      { getRemainingTimeInMillis: () => 4_000 },
    );
    expect(answer.statusCode).toBe(200);
    expect(w.clock.now).toBe(T0 + 1_000);
  });
});

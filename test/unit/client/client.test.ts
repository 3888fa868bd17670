import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TandemClient,
  TandemConflictError,
  TandemNotFoundError,
  TandemUnprocessableError,
  TandemValidationError,
} from '../../../client';
import { AcceptedViewSchema, TransactionViewSchema } from '../../../shared/api/openapi';
import { shardOf } from '../../../shared/ledger/sharding';
import { accountIdsOnShard, commitInputs, LEDGER_SHARDS, type World, world } from '../api/harness';
import { asApiGateway, serve, type TestServer } from './server';

// The client against the API's own handler (in memory, behind a loopback HTTP server routed like
// API Gateway): every route, both ways of answering a submit, keys and replays, and its errors.
const [A0] = accountIdsOnShard(0, 1) as [string];
const [A1] = accountIdsOnShard(1, 1) as [string];
/** The id the in-memory world gives its first unkeyed transaction. */
const FIRST_TX = 'tx_random00000000000000000001';

let w: World;
let server: TestServer;
let client: TandemClient;

beforeEach(async () => {
  w = world();
  await w.account(A0, 1_000);
  await w.account(A1, 1_000);
  await w.item('book', 5);
  server = await serve(asApiGateway(w.api));
  client = new TandemClient({ url: server.url, auth: 'none' });
});

afterEach(async () => {
  await server.close();
});

describe('TandemClient against the API', () => {
  it('reads health and the OpenAPI document', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    const document = await client.openApiDocument();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/transactions/{txId}');
  });

  it('creates an account and reads it back', async () => {
    // Act
    const created = await client.createAccount({ accountId: 'alice', initialBalance: 100 });
    const read = await client.getAccount('alice');

    // Assess
    const expected = {
      accountId: 'alice',
      balance: 100,
      available: 100,
      shard: shardOf('alice', LEDGER_SHARDS),
    };
    expect(created).toEqual(expected);
    expect(read).toEqual(expected);
    expect(server.received.map((r) => `${r.method} ${r.target}`)).toEqual([
      'POST /accounts',
      'GET /accounts/alice',
    ]);
    expect(server.received[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.received[0]?.body ?? '')).toEqual({ accountId: 'alice', initialBalance: 100 });
  });

  it('creates an item and reads it back', async () => {
    expect(await client.createItem({ sku: 'pen', stock: 9 })).toEqual({ sku: 'pen', stock: 9, available: 9 });
    expect(await client.getItem('pen')).toEqual({ sku: 'pen', stock: 9, available: 9 });
  });

  it('encodes path parameters, so an id cannot address another route', async () => {
    await expect(client.getAccount('a/b')).rejects.toBeInstanceOf(TandemValidationError);
    expect(server.received[0]?.target).toBe('/accounts/a%2Fb');
  });

  it('answers a transfer under way with 202, its accepted view and its address', async () => {
    // Act
    const submitted = await client.transfer({ from: A0, to: A1, amount: 25 });

    // Assess
    expect(submitted).toEqual({
      status: 202,
      txId: FIRST_TX,
      location: `/transactions/${FIRST_TX}`,
      replayed: false,
      view: { txId: FIRST_TX, state: 'PREPARING', href: `/transactions/${FIRST_TX}` },
    });
    expect(AcceptedViewSchema.parse(submitted.view)).toEqual(submitted.view);
    expect(server.received[0]?.target).toBe('/transfers');
  });

  it('holds a submit with ?wait until it is terminal, and answers 200 with the full view', async () => {
    // Prepare: the coordinator commits the transaction while the API waits for it.
    let driven = false;
    w.clock.onSleep(async () => {
      if (driven) return;
      driven = true;
      await w.drive(FIRST_TX, commitInputs(FIRST_TX, ['ledger-0', 'ledger-1']));
    });

    // Act
    const submitted = await client.transfer({ from: A0, to: A1, amount: 25 }, { wait: 5 });

    // Assess
    expect(server.received[0]?.target).toBe('/transfers?wait=5');
    expect(submitted.status).toBe(200);
    if (submitted.status !== 200) return;
    expect(submitted.view).toMatchObject({ txId: FIRST_TX, state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(TransactionViewSchema.parse(submitted.view)).toEqual(submitted.view);
  });

  it('sends the idempotency key as the Idempotency-Key header, and reports a replay', async () => {
    // Prepare
    const transfer = { from: A0, to: A1, amount: 25, idempotencyKey: 'order-42' };

    // Act
    const first = await client.transfer(transfer);
    const replay = await client.transfer(transfer);
    const changed = client.transfer({ ...transfer, amount: 26 });

    // Assess
    expect(server.received[0]?.headers['idempotency-key']).toBe('order-42');
    expect(JSON.parse(server.received[0]?.body ?? '')).toEqual({ from: A0, to: A1, amount: 25 });
    expect(first.replayed).toBe(false);
    expect(replay).toMatchObject({ replayed: true, txId: first.txId, status: 202 });
    await expect(changed).rejects.toMatchObject({
      name: 'TandemConflictError',
      status: 409,
      type: 'urn:tandem:problem:conflict',
    });
  });

  it('answers a replay of a terminal transaction with 200 and its full view', async () => {
    const request = { from: A0, to: A1, amount: 5, idempotencyKey: 'done-1' };
    const { txId } = await client.transfer(request);
    await w.drive(txId, commitInputs(txId, ['ledger-0', 'ledger-1']));

    const replay = await client.transfer(request);

    expect(replay).toMatchObject({ status: 200, replayed: true, txId, view: { state: 'COMMITTED' } });
  });

  it('runs a transaction of operations of a type of its own, and reads it with and without wait', async () => {
    // Prepare
    type Checkout =
      | { participant: 'ledger'; action: 'debit'; accountId: string; amount: number }
      | { participant: 'inventory'; action: 'reserve'; sku: string; quantity: number };

    // Act
    const submitted = await client.transaction<Checkout>({
      commit: 'two-phase',
      operations: [
        { participant: 'ledger', action: 'debit', accountId: A0, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku: 'book', quantity: 2 },
      ],
    });
    const pending = await client.getTransaction(submitted.txId);
    await w.drive(submitted.txId, commitInputs(submitted.txId, ['inventory', 'ledger-0']));
    const done = await client.getTransaction(submitted.txId, { wait: 3 });

    // Assess
    expect(submitted.status).toBe(202);
    expect(pending).toMatchObject({ txId: submitted.txId, state: 'PREPARING', mode: 'two-phase' });
    expect(done).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(server.received.map((r) => `${r.method} ${r.target}`)).toEqual([
      'POST /transactions',
      `GET /transactions/${submitted.txId}`,
      `GET /transactions/${submitted.txId}?wait=3`,
    ]);
  });

  it('raises the API problems as typed errors with their fields', async () => {
    // Prepare
    await client.createAccount({ accountId: 'bob', initialBalance: 1 });

    // Act
    const duplicate = await client.createAccount({ accountId: 'bob', initialBalance: 2 }).catch((e) => e);
    const invalid = await client.createAccount({ accountId: 'carol', initialBalance: -1 }).catch((e) => e);
    const missing = await client.getTransaction('tx_nothing').catch((e) => e);
    const unknown = await client.transfer({ from: A0, to: 'ghost', amount: 1 }).catch((e) => e);

    // Assess
    expect(duplicate).toBeInstanceOf(TandemConflictError);
    expect(duplicate).toMatchObject({
      status: 409,
      title: 'Conflict',
      detail: "account 'bob' already exists",
      instance: '/accounts',
      errors: [],
      message: `POST ${server.url}/accounts answered 409 (Conflict): account 'bob' already exists`,
    });
    expect(invalid).toBeInstanceOf(TandemValidationError);
    expect(invalid).toMatchObject({ status: 400, type: 'urn:tandem:problem:invalid-request' });
    expect(invalid.errors).toEqual([{ path: 'initialBalance', message: expect.stringMatching(/>=\s*0/) }]);
    expect(missing).toBeInstanceOf(TandemNotFoundError);
    expect(missing.detail).toBe("transaction 'tx_nothing' does not exist");
    expect(unknown).toBeInstanceOf(TandemUnprocessableError);
    expect(unknown.detail).toContain('ghost');
  });

  it('sends raw requests with send(), returning any status without throwing', async () => {
    // Act
    const malformed = await client.send('POST', '/accounts', { body: '{"accountId":' });
    const wrongType = await client.send('POST', '/accounts', {
      body: '{"accountId":"x","initialBalance":1}',
      headers: { 'Content-Type': 'text/plain' },
    });
    const noRoute = await client.send('DELETE', '/accounts');
    const created = await client.send('POST', '/inventory/items', { body: { sku: 'cup', stock: 1 } });

    // Assess
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    expect(malformed.body).toMatchObject({ detail: expect.stringContaining('not valid JSON') });
    expect(wrongType.status).toBe(400);
    expect(server.received[1]?.headers['content-type']).toBe('text/plain');
    expect(noRoute).toMatchObject({ status: 405, body: { detail: '/accounts takes POST, not DELETE' } });
    expect(noRoute.headers.get('allow')).toBe('POST');
    expect(created).toMatchObject({ status: 201, body: { sku: 'cup', stock: 1, available: 1 } });
    expect(created.headers.get('location')).toBe('/inventory/items/cup');
  });
});

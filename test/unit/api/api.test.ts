import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { MemoryEntityStore } from '../../../shared/adapters/memory-entities';
import { createApi } from '../../../shared/api/app';
import { InfrastructureError } from '../../../shared/errors';
import { Items } from '../../../shared/inventory/items';
import { Accounts } from '../../../shared/ledger/accounts';
import { shardOf } from '../../../shared/ledger/sharding';
import { event, world } from './harness';

// These routes never reach the transactions use case; it is wired to an unused in-memory world.
const transactions = () => world().transactions;
const IAM = { type: 'iam' } as const;

const post = (body: string, init: Partial<APIGatewayProxyEventV2> = {}) =>
  event('POST /accounts', { body, ...init });
const get = (accountId: string) =>
  event('GET /accounts/{accountId}', { rawPath: `/accounts/${accountId}`, pathParameters: { accountId } });

describe('accounts API', () => {
  let store: MemoryEntityStore;
  let inventory: MemoryEntityStore;
  let api: ReturnType<typeof createApi>;

  beforeEach(() => {
    store = new MemoryEntityStore(2);
    inventory = new MemoryEntityStore(1);
    api = createApi({
      registry: bankAndShopRegistry(2),
      accounts: new Accounts(store),
      items: new Items(inventory),
      transactions: transactions(),
      auth: IAM,
      nowMs: () => 1_000,
    });
  });

  it('creates an account on the shard its id hashes to and reads it back', async () => {
    // Act
    const created = await api(post('{"accountId":"alice","initialBalance":100}'));
    const read = await api(get('alice'));

    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.headers?.location).toBe('/accounts/alice');
    const expected = { accountId: 'alice', balance: 100, available: 100, shard: shardOf('alice', 2) };
    expect(JSON.parse(created.body!)).toEqual(expected);
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body!)).toEqual(expected);
    expect(store.all()).toEqual([
      {
        shard: shardOf('alice', 2),
        entity: { id: 'alice', total: 100, held: 0, available: 100, createdAtMs: 1_000 },
      },
    ]);
  });

  it('decodes a base64-encoded body', async () => {
    const body = Buffer.from('{"accountId":"bob","initialBalance":7}').toString('base64');
    const created = await api(post(body, { isBase64Encoded: true }));
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body!).balance).toBe(7);
  });

  it('answers 409 for a duplicate id and keeps the first account unchanged', async () => {
    await api(post('{"accountId":"alice","initialBalance":100}'));
    const duplicate = await api(post('{"accountId":"alice","initialBalance":5}'));
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse((await api(get('alice'))).body!).balance).toBe(100);
  });

  it.each([
    ['malformed JSON', '{"accountId":', /not valid JSON/],
    ['an empty body', '', /body is required/],
    ['a JSON array', '[1,2]', /expected object/i],
    ['a missing id', '{"initialBalance":1}', /accountId/],
    ['a negative balance', '{"accountId":"x","initialBalance":-1}', /initialBalance/],
    ['a fractional balance', '{"accountId":"x","initialBalance":1.5}', /initialBalance/],
    [
      'a balance beyond exact integers',
      '{"accountId":"x","initialBalance":9007199254740993}',
      /initialBalance/,
    ],
    ['a string balance', '{"accountId":"x","initialBalance":"5"}', /initialBalance/],
    ['an id with a slash', '{"accountId":"a/b","initialBalance":1}', /accountId/],
    ['an id of 65 characters', `{"accountId":"${'a'.repeat(65)}","initialBalance":1}`, /accountId/],
    ['an unknown field', '{"accountId":"x","initialBalance":1,"owner":"eve"}', /owner|unrecognized/i],
  ])('answers 400 problem+json for %s and writes nothing', async (_name, body, detail) => {
    const answer = await api(post(body));
    expect(answer.statusCode).toBe(400);
    expect(answer.headers?.['content-type']).toBe('application/problem+json');
    const problem = JSON.parse(answer.body!);
    expect(problem).toMatchObject({
      type: 'urn:tandem:problem:invalid-request',
      status: 400,
      instance: '/accounts',
    });
    expect(problem.detail).toMatch(detail);
    expect(store.all()).toEqual([]);
  });

  it('answers 400 for a body that is not JSON by content type', async () => {
    const answer = await api(
      post('accountId=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body!).detail).toMatch(/content-type/);
  });

  it('answers 400 for a body over the size limit', async () => {
    const answer = await api(post(`{"accountId":"x","initialBalance":1,"pad":"${'x'.repeat(70_000)}"}`));
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body!).detail).toMatch(/larger than/);
  });

  it('answers 404 for an unknown account and 400 for an invalid id', async () => {
    const missing = await api(get('nobody'));
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body!)).toMatchObject({
      status: 404,
      detail: "account 'nobody' does not exist",
    });
    expect((await api(get('bad id'))).statusCode).toBe(400);
  });

  it('answers health', async () => {
    const health = await api(event('GET /health'));
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body!)).toEqual({ status: 'ok' });
  });

  // API Gateway hands every request no route matches to the `$default` route, with its real method and path.
  const unrouted = (method: string, rawPath: string) =>
    event('$default', { rawPath, requestContext: { http: { method, path: rawPath } } as never });

  it.each([
    ['DELETE', '/accounts', 'POST'],
    ['POST', '/accounts/alice', 'GET'],
    ['PUT', '/transactions/tx_abc', 'GET'],
    ['GET', '/transfers', 'POST'],
    ['POST', '/health', 'GET'],
  ])('answers %s %s with a 405 problem that allows %s', async (method, path, allowed) => {
    // Act
    const answer = await api(unrouted(method, path));

    // Assess
    expect(answer.statusCode).toBe(405);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/problem+json', allow: allowed });
    expect(JSON.parse(answer.body!)).toEqual({
      type: 'urn:tandem:problem:method-not-allowed',
      title: 'Method not allowed',
      status: 405,
      detail: `${path} takes ${allowed}, not ${method}`,
      instance: path,
    });
  });

  it.each([
    ['GET', '/nope'],
    ['GET', '/accounts/a/b'],
    ['GET', '/accounts/'],
    ['POST', '/'],
    // A method the path takes, but unrouted (API Gateway matched nothing): never run a route from here.
    ['GET', '/health'],
  ])('answers %s %s with a 404 problem', async (method, path) => {
    const answer = await api(unrouted(method, path));
    expect(answer.statusCode).toBe(404);
    expect(answer.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(JSON.parse(answer.body!)).toMatchObject({ type: 'urn:tandem:problem:not-found', status: 404 });
  });

  it('maps infrastructure failures to 503 with Retry-After and unknown errors to 500 without internals', async () => {
    const errors: unknown[] = [];
    const failing = (error: Error) =>
      createApi({
        registry: bankAndShopRegistry(2),
        items: new Items(new MemoryEntityStore(1)),
        accounts: new Accounts({
          shardCount: 1,
          insert: async () => {
            throw error;
          },
          get: async () => undefined,
        }),
        transactions: transactions(),
        auth: IAM,
        nowMs: () => 0,
        onServerError: (e) => errors.push(e),
      });
    const unavailable = await failing(new InfrastructureError('throttled'))(
      post('{"accountId":"a","initialBalance":1}'),
    );
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers?.['retry-after']).toBe('1');
    const internal = await failing(new TypeError('secret detail'))(
      post('{"accountId":"a","initialBalance":1}'),
    );
    expect(internal.statusCode).toBe(500);
    expect(internal.body).not.toMatch(/secret detail/);
    expect(errors).toHaveLength(2);
  });
});

describe('inventory API', () => {
  let inventory: MemoryEntityStore;
  let api: ReturnType<typeof createApi>;
  const postItem = (body: string) => event('POST /inventory/items', { rawPath: '/inventory/items', body });
  const getItem = (sku: string) =>
    event('GET /inventory/items/{sku}', { rawPath: `/inventory/items/${sku}`, pathParameters: { sku } });

  beforeEach(() => {
    inventory = new MemoryEntityStore(1);
    api = createApi({
      registry: bankAndShopRegistry(2),
      accounts: new Accounts(new MemoryEntityStore(2)),
      items: new Items(inventory),
      transactions: transactions(),
      auth: IAM,
      nowMs: () => 5,
    });
  });

  it('creates an item with its stock and reads it back', async () => {
    const created = await api(postItem('{"sku":"book-1","stock":3}'));
    expect(created.statusCode).toBe(201);
    expect(created.headers?.location).toBe('/inventory/items/book-1');
    expect(JSON.parse(created.body!)).toEqual({ sku: 'book-1', stock: 3, available: 3 });
    expect(JSON.parse((await api(getItem('book-1'))).body!)).toEqual({
      sku: 'book-1',
      stock: 3,
      available: 3,
    });
  });

  it('answers 409 for a duplicate sku, 404 for an unknown one and 400 for bad input, writing nothing', async () => {
    await api(postItem('{"sku":"book-1","stock":3}'));
    expect((await api(postItem('{"sku":"book-1","stock":9}'))).statusCode).toBe(409);
    expect((await api(getItem('nope'))).statusCode).toBe(404);
    for (const body of ['{"sku":"x","stock":-1}', '{"sku":"x"}', '{"sku":"","stock":1}', 'not json']) {
      const answer = await api(postItem(body));
      expect(answer.statusCode, body).toBe(400);
      expect(answer.headers?.['content-type']).toBe('application/problem+json');
    }
    expect(inventory.all().map((e) => [e.entity.id, e.entity.total])).toEqual([['book-1', 3]]);
  });
});

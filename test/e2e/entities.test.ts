import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { shardOf } from '../../shared/ledger/sharding';

// Drives the accounts API of the CDK app deployed into the emulator, over HTTP.
const deployment = inject('deployment');
const url = deployment.apiUrl;
const shardTables = deployment.outputs.LedgerShardTables!.split(',');
const runId = Date.now().toString(36);
const id = (name: string) => `${name}-${runId}`;

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text ? JSON.parse(text) : undefined,
  };
}

async function itemsOn(shard: number): Promise<string[]> {
  const dynamo = new DynamoDBClient({ endpoint: deployment.endpoint });
  const result = await dynamo.send(new ScanCommand({ TableName: shardTables[shard], ConsistentRead: true }));
  return (result.Items ?? []).map((item) => item.pk?.S ?? '');
}

describe('accounts API on the deployed stack', () => {
  it('answers health without auth', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('creates an account, reads it back, and stores it on the shard its id hashes to', async () => {
    const alice = id('alice');
    const created = await call(
      'POST',
      '/accounts',
      JSON.stringify({ accountId: alice, initialBalance: 100 }),
    );
    expect(created).toMatchObject({ status: 201, type: 'application/json' });
    const shard = shardOf(alice, shardTables.length);
    expect(created.body).toEqual({ accountId: alice, balance: 100, available: 100, shard });

    expect(await call('GET', `/accounts/${alice}`)).toMatchObject({
      status: 200,
      body: { accountId: alice, balance: 100, available: 100, shard },
    });
    expect(await itemsOn(shard)).toContain(`account#${alice}`);
    expect(await itemsOn(1 - shard)).not.toContain(`account#${alice}`);
  });

  it('spreads accounts over both shards', async () => {
    const shards = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const answer = await call(
        'POST',
        '/accounts',
        JSON.stringify({ accountId: id(`spread${i}`), initialBalance: i }),
      );
      expect(answer.status).toBe(201);
      shards.add(answer.body.shard);
    }
    expect([...shards].sort()).toEqual([0, 1]);
  });

  it('answers 409 for a duplicate and leaves the account as it was', async () => {
    const bob = id('bob');
    expect(
      (await call('POST', '/accounts', JSON.stringify({ accountId: bob, initialBalance: 50 }))).status,
    ).toBe(201);
    const duplicate = await call(
      'POST',
      '/accounts',
      JSON.stringify({ accountId: bob, initialBalance: 999 }),
    );
    expect(duplicate).toMatchObject({ status: 409, type: 'application/problem+json', body: { status: 409 } });
    expect((await call('GET', `/accounts/${bob}`)).body.balance).toBe(50);
  });

  it.each([
    ['malformed JSON', '{"accountId":'],
    ['a negative balance', '{"accountId":"NEG","initialBalance":-5}'],
    ['a fractional balance', '{"accountId":"FRAC","initialBalance":0.5}'],
    ['an unknown field', '{"accountId":"EXTRA","initialBalance":5,"admin":true}'],
    ['a missing balance', '{"accountId":"NOBAL"}'],
  ])('answers 400 problem+json for %s and creates nothing', async (_name, body) => {
    const answer = await call(
      'POST',
      '/accounts',
      body.replace(/"([A-Z]+)"/, (_m, name) => `"${id(name)}"`),
    );
    expect(answer).toMatchObject({ status: 400, type: 'application/problem+json' });
    expect(answer.body).toMatchObject({
      type: 'urn:tandem:problem:invalid-request',
      title: 'Invalid request',
      status: 400,
    });
    const name = /"([A-Z]+)"/.exec(body)?.[1];
    if (name) expect((await call('GET', `/accounts/${id(name)}`)).status).toBe(404);
  });

  it('answers 404 problem+json for an unknown account', async () => {
    expect(await call('GET', `/accounts/${id('nobody')}`)).toMatchObject({
      status: 404,
      type: 'application/problem+json',
      body: { status: 404 },
    });
  });
});

describe('inventory API on the deployed stack', () => {
  it('creates an item and reads it back; duplicates and bad input are refused', async () => {
    const sku = id('book');
    expect(await call('POST', '/inventory/items', JSON.stringify({ sku, stock: 3 }))).toMatchObject({
      status: 201,
      body: { sku, stock: 3, available: 3 },
    });
    expect(await call('GET', `/inventory/items/${sku}`)).toMatchObject({
      status: 200,
      body: { sku, stock: 3 },
    });
    expect((await call('POST', '/inventory/items', JSON.stringify({ sku, stock: 1 }))).status).toBe(409);
    expect(await call('POST', '/inventory/items', '{"sku":"x","stock":-2}')).toMatchObject({
      status: 400,
      type: 'application/problem+json',
    });
    expect((await call('GET', `/inventory/items/${id('none')}`)).status).toBe(404);
  });
});

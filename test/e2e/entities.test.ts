import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { TandemConflictError, TandemNotFoundError } from '../../client';
import { shardOf } from '../../shared/ledger/sharding';
import { ApiClient } from '../support/api-client';

// Drives the accounts and inventory API of the CDK app deployed into the emulator, over HTTP.
const deployment = inject('deployment');
const { client } = new ApiClient(deployment);
const shardTables = deployment.outputs.LedgerShardTables!.split(',');
const runId = Date.now().toString(36);
const id = (name: string) => `${name}-${runId}`;

async function itemsOn(shard: number): Promise<string[]> {
  const dynamo = new DynamoDBClient({ endpoint: deployment.endpoint });
  const result = await dynamo.send(new ScanCommand({ TableName: shardTables[shard], ConsistentRead: true }));
  return (result.Items ?? []).map((item) => item.pk?.S ?? '');
}

describe('accounts API on the deployed stack', () => {
  it('answers health without auth', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
  });

  it('creates an account, reads it back, and stores it on the shard its id hashes to', async () => {
    const alice = id('alice');
    const created = await client.createAccount({ accountId: alice, initialBalance: 100 });
    const shard = shardOf(alice, shardTables.length);
    expect(created).toEqual({ accountId: alice, balance: 100, available: 100, shard });

    expect(await client.getAccount(alice)).toEqual({ accountId: alice, balance: 100, available: 100, shard });
    expect(await itemsOn(shard)).toContain(`account#${alice}`);
    expect(await itemsOn(1 - shard)).not.toContain(`account#${alice}`);
  });

  it('spreads accounts over both shards', async () => {
    const shards = new Set<number>();
    for (let i = 0; i < 6; i++) {
      shards.add((await client.createAccount({ accountId: id(`spread${i}`), initialBalance: i })).shard);
    }
    expect([...shards].sort()).toEqual([0, 1]);
  });

  it('answers 409 for a duplicate and leaves the account as it was', async () => {
    const bob = id('bob');
    await client.createAccount({ accountId: bob, initialBalance: 50 });
    const duplicate = client.createAccount({ accountId: bob, initialBalance: 999 });
    await expect(duplicate).rejects.toBeInstanceOf(TandemConflictError);
    await expect(duplicate).rejects.toMatchObject({ status: 409, type: 'urn:tandem:problem:conflict' });
    expect((await client.getAccount(bob)).balance).toBe(50);
  });

  it.each([
    ['malformed JSON', '{"accountId":'],
    ['a negative balance', '{"accountId":"NEG","initialBalance":-5}'],
    ['a fractional balance', '{"accountId":"FRAC","initialBalance":0.5}'],
    ['an unknown field', '{"accountId":"EXTRA","initialBalance":5,"admin":true}'],
    ['a missing balance', '{"accountId":"NOBAL"}'],
  ])('answers 400 problem+json for %s and creates nothing', async (_name, body) => {
    const answer = await client.send('POST', '/accounts', {
      body: body.replace(/"([A-Z]+)"/, (_m, name) => `"${id(name)}"`),
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body).toMatchObject({
      type: 'urn:tandem:problem:invalid-request',
      title: 'Invalid request',
      status: 400,
    });
    const name = /"([A-Z]+)"/.exec(body)?.[1];
    if (name) await expect(client.getAccount(id(name))).rejects.toBeInstanceOf(TandemNotFoundError);
  });

  it('answers 404 problem+json for an unknown account', async () => {
    await expect(client.getAccount(id('nobody'))).rejects.toMatchObject({
      name: 'TandemNotFoundError',
      status: 404,
      type: 'urn:tandem:problem:not-found',
    });
  });
});

describe('inventory API on the deployed stack', () => {
  it('creates an item and reads it back; duplicates and bad input are refused', async () => {
    const sku = id('book');
    expect(await client.createItem({ sku, stock: 3 })).toEqual({ sku, stock: 3, available: 3 });
    expect(await client.getItem(sku)).toMatchObject({ sku, stock: 3 });
    await expect(client.createItem({ sku, stock: 1 })).rejects.toBeInstanceOf(TandemConflictError);
    await expect(client.createItem({ sku: 'x', stock: -2 })).rejects.toMatchObject({
      name: 'TandemValidationError',
      type: 'urn:tandem:problem:invalid-request',
    });
    await expect(client.getItem(id('none'))).rejects.toBeInstanceOf(TandemNotFoundError);
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryEntityStore } from '../../shared/adapters/memory-entities';
import { ConflictError, NotFoundError } from '../../shared/errors';
import { Items } from '../../shared/inventory/items';
import { Accounts } from '../../shared/ledger/accounts';
import { shardOf } from '../../shared/ledger/sharding';

const T0 = 1_800_000_000_000;

describe('the entity use cases, as accounts and items', () => {
  it('creates an account on the shard its id hashes to and reads it back from there', async () => {
    // Prepare
    const store = new MemoryEntityStore(4);
    const accounts = new Accounts(store);

    // Act
    const created = await accounts.create({ accountId: 'alice', initialBalance: 70 }, T0);

    // Assess
    const shard = shardOf('alice', 4);
    expect(created).toEqual({ accountId: 'alice', balance: 70, available: 70, shard });
    expect(await store.get(shard, 'alice')).toMatchObject({ total: 70, held: 0, createdAtMs: T0 });
    expect(await accounts.get('alice')).toEqual(created);
  });

  it('keeps items on the one shard', async () => {
    const store = new MemoryEntityStore(1);
    const items = new Items(store);

    expect(await items.create({ sku: 'book-1', stock: 3 }, T0)).toEqual({
      sku: 'book-1',
      stock: 3,
      available: 3,
    });
    expect(await store.get(0, 'book-1')).toMatchObject({ total: 3 });
    expect(await items.get('book-1')).toEqual({ sku: 'book-1', stock: 3, available: 3 });
  });

  it('names the entity in a conflict and a miss, and the id field in a validation error', async () => {
    const accounts = new Accounts(new MemoryEntityStore(2));
    const items = new Items(new MemoryEntityStore(1));
    await accounts.create({ accountId: 'bob', initialBalance: 1 }, T0);
    await items.create({ sku: 'pen', stock: 1 }, T0);

    await expect(accounts.create({ accountId: 'bob', initialBalance: 9 }, T0)).rejects.toThrow(
      new ConflictError("account 'bob' already exists"),
    );
    await expect(items.create({ sku: 'pen', stock: 9 }, T0)).rejects.toThrow(
      new ConflictError("item 'pen' already exists"),
    );
    await expect(accounts.get('nobody')).rejects.toThrow(
      new NotFoundError("account 'nobody' does not exist"),
    );
    await expect(items.get('nothing')).rejects.toThrow(new NotFoundError("item 'nothing' does not exist"));
    await expect(items.get('')).rejects.toThrow(/^sku is invalid: /);
    await expect(accounts.get('a b')).rejects.toThrow(/^accountId is invalid: /);
    expect(await accounts.get('bob')).toMatchObject({ balance: 1 });
  });
});

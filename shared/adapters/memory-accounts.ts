import type { AccountRecord, AccountStore } from '../ledger/accounts';

/** AccountStore in memory: for unit tests and the deterministic simulation. */
export class MemoryAccountStore implements AccountStore {
  private readonly shards: Map<string, AccountRecord>[];

  constructor(readonly shardCount: number) {
    this.shards = Array.from({ length: shardCount }, () => new Map());
  }

  private shard(shard: number): Map<string, AccountRecord> {
    const map = this.shards[shard];
    if (!map) throw new RangeError(`no shard ${shard}`);
    return map;
  }

  async insert(shard: number, account: AccountRecord): Promise<boolean> {
    const map = this.shard(shard);
    if (map.has(account.accountId)) return false;
    map.set(account.accountId, { ...account });
    return true;
  }

  async get(shard: number, accountId: string): Promise<AccountRecord | undefined> {
    const found = this.shard(shard).get(accountId);
    return found ? { ...found } : undefined;
  }

  /** Every account on every shard, for assertions. */
  all(): Array<{ shard: number; account: AccountRecord }> {
    return this.shards.flatMap((map, shard) => [...map.values()].map((account) => ({ shard, account })));
  }
}

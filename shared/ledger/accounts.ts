import { ConflictError, NotFoundError } from '../errors';
import { type CreateAccountRequest, Identifier, parseOrThrow } from '../schemas';
import { shardOf } from './sharding';

/** An account as stored on its shard. `held` is the sum of open holds of prepared debits. */
export interface AccountRecord {
  readonly accountId: string;
  readonly balance: number;
  readonly held: number;
  readonly createdAtMs: number;
}

export interface AccountView {
  readonly accountId: string;
  readonly balance: number;
  readonly available: number;
  readonly shard: number;
}

/** Port: the accounts of the ledger shards. Implemented over DynamoDB and in memory. */
export interface AccountStore {
  readonly shardCount: number;
  /** Inserts the account unless its id exists on that shard; returns false if it existed. */
  insert(shard: number, account: AccountRecord): Promise<boolean>;
  get(shard: number, accountId: string): Promise<AccountRecord | undefined>;
}

export function toView(account: AccountRecord, shard: number): AccountView {
  return {
    accountId: account.accountId,
    balance: account.balance,
    available: account.balance - account.held,
    shard,
  };
}

/** Use cases of the ledger's accounts. */
export class Accounts {
  constructor(private readonly store: AccountStore) {}

  async create(request: CreateAccountRequest, nowMs: number): Promise<AccountView> {
    const shard = shardOf(request.accountId, this.store.shardCount);
    const record: AccountRecord = {
      accountId: request.accountId,
      balance: request.initialBalance,
      held: 0,
      createdAtMs: nowMs,
    };
    if (!(await this.store.insert(shard, record))) {
      throw new ConflictError(`account '${request.accountId}' already exists`);
    }
    return toView(record, shard);
  }

  async get(accountId: string): Promise<AccountView> {
    const id = parseOrThrow(Identifier, accountId, 'accountId');
    const shard = shardOf(id, this.store.shardCount);
    const record = await this.store.get(shard, id);
    if (!record) throw new NotFoundError(`account '${id}' does not exist`);
    return toView(record, shard);
  }
}

import { type EntityStore, newEntity } from '../entities';
import { ConflictError, NotFoundError } from '../errors';
import { type CreateAccountRequest, Identifier, parseOrThrow } from '../schemas';
import { shardOf } from './sharding';

export interface AccountView {
  readonly accountId: string;
  readonly balance: number;
  readonly available: number;
  readonly shard: number;
}

/** Use cases of the ledger's accounts; an account lives on the shard its id hashes to. */
export class Accounts {
  constructor(private readonly store: EntityStore) {}

  async create(request: CreateAccountRequest, nowMs: number): Promise<AccountView> {
    const shard = shardOf(request.accountId, this.store.shardCount);
    const entity = newEntity(request.accountId, request.initialBalance, nowMs);
    if (!(await this.store.insert(shard, entity))) {
      throw new ConflictError(`account '${request.accountId}' already exists`);
    }
    return { accountId: entity.id, balance: entity.total, available: entity.available, shard };
  }

  async get(accountId: string): Promise<AccountView> {
    const id = parseOrThrow(Identifier, accountId, 'accountId');
    const shard = shardOf(id, this.store.shardCount);
    const entity = await this.store.get(shard, id);
    if (!entity) throw new NotFoundError(`account '${id}' does not exist`);
    return { accountId: entity.id, balance: entity.total, available: entity.available, shard };
  }
}

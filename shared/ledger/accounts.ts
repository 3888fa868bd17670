import type { EntityStore } from '../entities';
import { EntityUseCases } from '../entity-use-cases';
import type { CreateAccountRequest } from '../schemas';
import { shardOf } from './sharding';

export interface AccountView {
  readonly accountId: string;
  readonly balance: number;
  readonly available: number;
  readonly shard: number;
}

/** Use cases of the ledger's accounts; an account lives on the shard its id hashes to. */
export class Accounts extends EntityUseCases<CreateAccountRequest, AccountView> {
  constructor(store: EntityStore) {
    super(store, {
      noun: 'account',
      idField: 'accountId',
      opening: (request) => ({ id: request.accountId, total: request.initialBalance }),
      shardOf,
      view: (entity, shard) => ({
        accountId: entity.id,
        balance: entity.total,
        available: entity.available,
        shard,
      }),
    });
  }
}

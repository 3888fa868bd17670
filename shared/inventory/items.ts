import type { EntityStore } from '../entities';
import { EntityUseCases } from '../entity-use-cases';
import type { CreateItemRequest } from '../schemas';

export interface ItemView {
  readonly sku: string;
  readonly stock: number;
  readonly available: number;
}

/** Use cases of the inventory participant's items (one table: a single shard). */
export class Items extends EntityUseCases<CreateItemRequest, ItemView> {
  constructor(store: EntityStore) {
    super(store, {
      noun: 'item',
      idField: 'sku',
      opening: (request) => ({ id: request.sku, total: request.stock }),
      shardOf: () => 0,
      view: (entity) => ({ sku: entity.id, stock: entity.total, available: entity.available }),
    });
  }
}

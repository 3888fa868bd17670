import { type EntityStore, newEntity } from '../entities';
import { ConflictError, NotFoundError } from '../errors';
import { type CreateItemRequest, Identifier, parseOrThrow } from '../schemas';

export interface ItemView {
  readonly sku: string;
  readonly stock: number;
  readonly available: number;
}

/** Use cases of the inventory participant's items (one table: a single shard). */
export class Items {
  constructor(private readonly store: EntityStore) {}

  async create(request: CreateItemRequest, nowMs: number): Promise<ItemView> {
    const entity = newEntity(request.sku, request.stock, nowMs);
    if (!(await this.store.insert(0, entity)))
      throw new ConflictError(`item '${request.sku}' already exists`);
    return { sku: entity.id, stock: entity.total, available: entity.available };
  }

  async get(sku: string): Promise<ItemView> {
    const id = parseOrThrow(Identifier, sku, 'sku');
    const entity = await this.store.get(0, id);
    if (!entity) throw new NotFoundError(`item '${id}' does not exist`);
    return { sku: entity.id, stock: entity.total, available: entity.available };
  }
}

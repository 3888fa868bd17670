import { type EntityRecord, type EntityStore, newEntity } from './entities';
import { ConflictError, NotFoundError } from './errors';
import { Identifier, parseOrThrow } from './schemas';

/** One kind of entity (a ledger account, an inventory item): its name, its shards, its views. */
export interface EntityKind<Request, View> {
  /** The entity in messages: `account 'a1' already exists`. */
  readonly noun: string;
  /** The field that names it, in a validation issue's path. */
  readonly idField: string;
  /** The id and the opening total a create request asks for. */
  opening(request: Request): { readonly id: string; readonly total: number };
  shardOf(id: string, shardCount: number): number;
  view(entity: EntityRecord, shard: number): View;
}

/** The use cases of a participant's entities: create one, read one. */
export class EntityUseCases<Request, View> {
  constructor(
    private readonly store: EntityStore,
    private readonly kind: EntityKind<Request, View>,
  ) {}

  async create(request: Request, nowMs: number): Promise<View> {
    const { id, total } = this.kind.opening(request);
    const shard = this.kind.shardOf(id, this.store.shardCount);
    const entity = newEntity(id, total, nowMs);
    if (!(await this.store.insert(shard, entity))) {
      throw new ConflictError(`${this.kind.noun} '${id}' already exists`);
    }
    return this.kind.view(entity, shard);
  }

  async get(rawId: string): Promise<View> {
    const id = parseOrThrow(Identifier, rawId, this.kind.idField);
    const shard = this.kind.shardOf(id, this.store.shardCount);
    const entity = await this.store.get(shard, id);
    if (!entity) throw new NotFoundError(`${this.kind.noun} '${id}' does not exist`);
    return this.kind.view(entity, shard);
  }
}

import type { EntityStore } from '../entities';
import type { EntityDirectory, EntityRef } from '../ports';

/** Where an entity a transaction names is kept: a store and its shard. */
export interface EntityPlace {
  readonly store: EntityStore;
  readonly shard: number;
}

/**
 * EntityDirectory over EntityStores (in practice the in-memory ones): for unit tests and the
 * deterministic simulation. `placeOf` says which store and shard keep a ref's entity.
 */
export class MemoryEntityDirectory implements EntityDirectory {
  constructor(private readonly placeOf: (ref: EntityRef) => EntityPlace) {}

  async missing(refs: readonly EntityRef[]): Promise<EntityRef[]> {
    const missing: EntityRef[] = [];
    for (const ref of refs) {
      const { store, shard } = this.placeOf(ref);
      if (!(await store.get(shard, ref.id))) missing.push(ref);
    }
    return missing;
  }
}

import type { EntityStore } from '../entities';
import type { EntityDirectory, EntityRef } from '../ports';

/**
 * EntityDirectory over EntityStores (in practice the in-memory ones): for unit tests and the
 * deterministic simulation. `stores` maps an entity kind (`account`, `item`) to its store.
 */
export class MemoryEntityDirectory implements EntityDirectory {
  constructor(private readonly stores: Readonly<Record<string, EntityStore>>) {}

  async missing(refs: readonly EntityRef[]): Promise<EntityRef[]> {
    const missing: EntityRef[] = [];
    for (const ref of refs) {
      const store = Object.hasOwn(this.stores, ref.kind) ? this.stores[ref.kind] : undefined;
      if (!store) throw new RangeError(`no entity store for kind '${ref.kind}'`);
      if (!(await store.get(ref.shard, ref.id))) missing.push(ref);
    }
    return missing;
  }
}

import type { EntityRecord, EntityStore } from '../entities';

/** EntityStore in memory: for unit tests and the deterministic simulation. */
export class MemoryEntityStore implements EntityStore {
  private readonly shards: Map<string, EntityRecord>[];

  constructor(readonly shardCount: number) {
    this.shards = Array.from({ length: shardCount }, () => new Map());
  }

  private shard(shard: number): Map<string, EntityRecord> {
    const map = this.shards[shard];
    if (!map) throw new RangeError(`no shard ${shard}`);
    return map;
  }

  async insert(shard: number, entity: EntityRecord): Promise<boolean> {
    const map = this.shard(shard);
    if (map.has(entity.id)) return false;
    map.set(entity.id, { ...entity });
    return true;
  }

  async get(shard: number, id: string): Promise<EntityRecord | undefined> {
    const found = this.shard(shard).get(id);
    return found ? { ...found } : undefined;
  }

  /** Every entity on every shard, for assertions. */
  all(): Array<{ shard: number; entity: EntityRecord }> {
    return this.shards.flatMap((map, shard) => [...map.values()].map((entity) => ({ shard, entity })));
  }
}

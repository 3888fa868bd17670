/**
 * Participant-owned business entities (ledger accounts, inventory items) share one storage shape:
 * an item per entity on the participant's table, keyed `<kind>#<id>`, holding a `total` (balance,
 * stock), the part of it `held` by prepared transactions, and `available = total − held`, stored so
 * that DynamoDB condition expressions (which cannot do arithmetic) can guard it.
 */
export interface EntityRecord {
  readonly id: string;
  readonly total: number;
  readonly held: number;
  readonly available: number;
  readonly createdAtMs: number;
}

/** Port: entities of one kind spread over `shardCount` tables. DynamoDB and in-memory adapters. */
export interface EntityStore {
  readonly shardCount: number;
  /** Inserts the entity unless its id exists on that shard; returns false if it existed. */
  insert(shard: number, entity: EntityRecord): Promise<boolean>;
  get(shard: number, id: string): Promise<EntityRecord | undefined>;
}

export function newEntity(id: string, total: number, nowMs: number): EntityRecord {
  return { id, total, held: 0, available: total, createdAtMs: nowMs };
}

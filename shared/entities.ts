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

/**
 * One operation on one entity, as a participant of the entity kind receives it in `Prepare`
 * (`TxParticipant.operations` holds a list of these):
 * - `take`: prepare holds `amount` (refused if `available < amount`), commit removes it from
 *   `total`, abort releases the hold. Ledger `debit`, inventory `reserve`.
 * - `give`: prepare only checks the entity exists, commit adds `amount` to `total` and `available`,
 *   abort does nothing. Ledger `credit`, inventory `release` (stock comes back).
 * At most one operation per entity per transaction (DynamoDB allows one action per item in a
 * TransactWriteItems, and it keeps holds easy to reason about).
 */
export interface EntityOp {
  readonly id: string;
  readonly action: 'take' | 'give';
  readonly amount: number;
}

/**
 * Stable placement of an account on a ledger shard: FNV-1a (32 bit) over the UTF-8 bytes of the
 * id, modulo the shard count. The same id lands on the same shard in every process and every
 * version, which is what makes it safe to look an account up without a directory. The shard count
 * is fixed per deployment (changing it would move accounts; see the README).
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function shardOf(accountId: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  return fnv1a32(accountId) % shardCount;
}

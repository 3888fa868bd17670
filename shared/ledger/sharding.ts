import { bucketOf } from '../protocol/hash';

export { fnv1a32 } from '../protocol/hash';

/**
 * Stable placement of an account on a ledger shard: FNV-1a (32 bit) over the UTF-8 bytes of the
 * id, modulo the shard count (the same hash places transactions on leader slots). The same id lands
 * on the same shard in every process and every version, which is what makes it safe to look an
 * account up without a directory. The shard count is fixed per deployment: changing it would move
 * accounts, so the deploy guard (shared/deploy-guard.ts) refuses a deploy that changes it.
 */
export function shardOf(accountId: string, shardCount: number): number {
  return bucketOf(accountId, shardCount);
}

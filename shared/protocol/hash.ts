/**
 * FNV-1a, 32 bit, over the UTF-8 bytes of `text`. Stable across processes, platforms and
 * versions, which is what lets every component agree on placement without a directory.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** `fnv1a32(key) mod bucketCount`: the stable bucket (slot, shard) of `key`. */
export function bucketOf(key: string, bucketCount: number): number {
  if (!Number.isInteger(bucketCount) || bucketCount < 1) {
    throw new RangeError(`bucketCount must be a positive integer, got ${bucketCount}`);
  }
  return fnv1a32(key) % bucketCount;
}

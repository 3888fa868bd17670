import { describe, expect, it } from 'vitest';
import { fnv1a32, shardOf } from '../../../shared/ledger/sharding';

describe('shardOf', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('is stable: the same id always lands on the same shard', () => {
    // These values are part of the storage format: changing them would move existing accounts.
    expect(shardOf('alice', 2)).toBe(shardOf('alice', 2));
    expect([shardOf('alice', 2), shardOf('bob', 2), shardOf('carol', 2), shardOf('dave', 2)]).toEqual([
      fnv1a32('alice') % 2,
      fnv1a32('bob') % 2,
      fnv1a32('carol') % 2,
      fnv1a32('dave') % 2,
    ]);
    expect(shardOf('alice', 2)).toBe(1);
  });

  it('spreads ids over every shard', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`acct-${i}`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    expect(fnv1a32('é')).not.toBe(fnv1a32('\u00e9'.normalize('NFD')));
    expect(fnv1a32('€')).toBe(fnv1a32('\u20ac'));
  });

  it('rejects a shard count that is not a positive integer', () => {
    expect(() => shardOf('a', 0)).toThrow(RangeError);
    expect(() => shardOf('a', 1.5)).toThrow(RangeError);
  });
});

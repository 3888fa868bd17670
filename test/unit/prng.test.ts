import { describe, expect, it } from 'vitest';
import { Prng } from '../../sim/prng';

// The one PRNG of the project: the simulation's seeds (in its tests and docs) and the chaos
// workload's `--seed` both replay through it.
describe('Prng', () => {
  it('keeps its stream: the simulation replays recorded seeds', () => {
    const rng = new Prng(42);
    expect(Array.from({ length: 5 }, () => rng.nextU32())).toEqual([
      660444221, 3652823732, 77672526, 910233633, 2297337756,
    ]);
    expect(new Prng(42).fork().nextU32()).toBe(2283881568);
  });

  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const rng = new Prng(seed);
      return Array.from({ length: 20 }, () => rng.int(0, 999_999));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays within its ranges and reaches both ends of an integer range', () => {
    const rng = new Prng(1);
    const floats = Array.from({ length: 10_000 }, () => rng.float());
    const ints = Array.from({ length: 10_000 }, () => rng.int(3, 5));
    expect(floats.every((f) => f >= 0 && f < 1)).toBe(true);
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(rng.chance(0)).toBe(false);
    expect(rng.chance(1)).toBe(true);
    expect(() => rng.pick([])).toThrow(RangeError);
  });
});

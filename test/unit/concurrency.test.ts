import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../shared/concurrency';

/** A call that resolves when the test says so, so the test sees how many are in flight. */
function gated() {
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let inFlightMax = 0;
  const started: number[] = [];
  const work = async (item: number) => {
    started.push(item);
    inFlight++;
    inFlightMax = Math.max(inFlightMax, inFlight);
    await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight--;
    if (item < 0) throw new Error(`item ${item} failed`);
    return item * 10;
  };
  const releaseAll = async () => {
    while (waiting.length > 0) {
      for (const resolve of waiting.splice(0)) resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { work, releaseAll, started, inFlightMax: () => inFlightMax };
}

describe('mapConcurrent', () => {
  it('keeps at most `limit` calls in flight and returns the results in the items’ order', async () => {
    // Prepare
    const pool = gated();

    // Act
    const running = mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, pool.work);
    await new Promise((resolve) => setImmediate(resolve));
    const startedAtFirst = [...pool.started];
    await pool.releaseAll();

    // Assess
    expect(startedAtFirst).toEqual([1, 2, 3]);
    expect(await running).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(pool.inFlightMax()).toBe(3);
  });

  it('passes each item’s index, and runs nothing for no items', async () => {
    expect(await mapConcurrent(['a', 'b'], 5, async (item, index) => `${item}${index}`)).toEqual([
      'a0',
      'b1',
    ]);
    expect(await mapConcurrent([], 4, async () => 1)).toEqual([]);
  });

  it('starts no further item after a failure, lets the calls in flight finish, and throws the failure', async () => {
    // Prepare
    const pool = gated();

    // Act
    const running = mapConcurrent([1, -2, 3, 4, 5, 6], 2, pool.work);
    const settled = running.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await pool.releaseAll();

    // Assess: items 1 and -2 ran together; -2 failed, so of the rest only 3 (started when 1 ended) ran.
    expect(await settled).toBe('item -2 failed');
    expect(pool.started).toEqual([1, -2, 3]);
  });

  it('refuses a limit that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      await expect(mapConcurrent([1], limit, async (n) => n)).rejects.toThrow(RangeError);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { type Invocation, T0_MS } from '../../sim/core';
import { AWS } from '../../sim/profile';
import type { WriteFootprint } from '../../sim/runtime';
import { timedRuntime } from './timed-core';

/** The timed mode with constant call times: a write 10 ms, and `partitionWritesPerS` write units/s per item. */
function partitionRuntime(partitionWritesPerS: number | null) {
  const constant = { p50Ms: 10, p99Ms: 10 };
  const { core, runtime } = timedRuntime({
    ...AWS,
    calls: { read: constant, write: constant, transact: constant, send: constant, sendFifo: constant },
    partitionWritesPerS,
  });
  const inv: Invocation = {
    id: 1,
    kind: 'participant',
    node: core.node('ledger-0'),
    name: 'ledger-0/1',
    receivedAtMs: T0_MS,
    dead: false,
  };
  /** Issues every write now; resolves with when (ms after now) each one was answered, done or cancelled. */
  const answeredAfterMs = async (footprints: readonly WriteFootprint[]) => {
    const answered: number[] = [];
    for (const footprint of footprints) {
      const at = () => answered.push(core.now - T0_MS);
      runtime.call(inv, 'write', async () => undefined, footprint).then(at, at);
    }
    for (let event = core.next(); event; event = core.next()) {
      event();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return answered.sort((a, b) => a - b);
  };
  return { answeredAfterMs };
}

const item = (id: string, transactional: boolean): WriteFootprint => ({ items: [id], transactional });

describe("the timed mode's partition write capacity", () => {
  it('queues writes of one item at its partition: 2 units a transactional write, 1 a plain one', async () => {
    // Prepare: 100 units/s — a transactional write of the item every 20 ms, a plain one every 10 ms.
    const { answeredAfterMs } = partitionRuntime(100);

    // Act
    const transactional = await answeredAfterMs(Array.from({ length: 5 }, () => item('hot', true)));
    const plain = await answeredAfterMs(Array.from({ length: 3 }, () => item('warm', false)));

    // Assess
    expect(transactional).toEqual([10, 30, 50, 70, 90]);
    expect(plain.map((ms) => ms - plain[0]!)).toEqual([0, 10, 20]);
  });

  it('lets writes of different items go at once, and a write of both wait for the later one', async () => {
    // Prepare
    const { answeredAfterMs } = partitionRuntime(100);

    // Act: a then b at once; then a write of a and b waits for both (each free again 20 ms on).
    const answered = await answeredAfterMs([
      item('a', true),
      item('b', true),
      { items: ['a', 'b'], transactional: true },
    ]);

    // Assess
    expect(answered).toEqual([10, 10, 30]);
  });

  it('does not queue without a limit', async () => {
    // Prepare
    const { answeredAfterMs } = partitionRuntime(null);

    // Act
    const answered = await answeredAfterMs(Array.from({ length: 4 }, () => item('hot', true)));

    // Assess
    expect(answered).toEqual([10, 10, 10, 10]);
  });
});

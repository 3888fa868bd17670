import { describe, expect, it } from 'vitest';
import { InfrastructureError } from '../../shared/errors';
import type { InvariantChecker } from '../../sim/checker';
import { T0_MS, VISIBILITY_TIMEOUT_MS } from '../../sim/core';
import { SimNetwork, type StandardQueue } from '../../sim/network';
import { timedRuntime } from './timed-core';

describe("the timed mode's standard-queue delivery", () => {
  it("receives a failed handler's message again after its visibility timeout, until it is deleted", async () => {
    // Prepare: a handler that fails its first attempt.
    const { core, runtime } = timedRuntime();
    const checker = { received: () => {}, deleted: () => {}, deadLettered: () => {} };
    const network = new SimNetwork(core, runtime, checker as unknown as InvariantChecker, [], () => {});
    const attemptsAtMs: number[] = [];
    const inbox: StandardQueue = {
      queue: network.standardQueue('ledger-0-inbox'),
      node: core.node('ledger-0'),
      kind: 'participant',
      handle: async () => {
        attemptsAtMs.push(core.now - T0_MS);
        if (attemptsAtMs.length === 1) throw new InfrastructureError('contention past the deadline');
      },
    };

    // Act
    network.sendStandard(inbox, '{"type":"Prepare"}', 0);
    for (let event = core.next(); event; event = core.next()) {
      event();
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Assess: a second attempt, after the visibility timeout from the first receive; then deleted.
    expect(attemptsAtMs).toHaveLength(2);
    expect(attemptsAtMs[0]!).toBeLessThan(VISIBILITY_TIMEOUT_MS);
    expect(attemptsAtMs[1]!).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_MS);
    expect(inbox.queue.live).toBe(0);
  });
});

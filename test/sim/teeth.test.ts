import { describe, expect, it } from 'vitest';
import { formatFailure, runSeeds, type SimSwitches } from './run';

/**
 * Teeth: turn one safety mechanism off in the simulated world (a test-only switch; production code
 * is untouched) and the simulation must catch it within the CI budget. A harness that cannot fail
 * proves nothing.
 */
const BUDGET = 2_000;

async function firstFailure(switches: Partial<SimSwitches>) {
  const summary = await runSeeds({
    from: 1,
    seeds: BUDGET,
    switches,
    stopAtFirstFailure: true,
    failuresKept: 1,
  });
  const failure = summary.failures[0];
  if (failure)
    console.log(
      `teeth ${JSON.stringify(switches)}: caught after ${summary.seeds} seed(s)\n${formatFailure(failure, switches, 30)}`,
    );
  return failure;
}

describe('teeth: the simulation catches a missing safety mechanism', () => {
  it('without the slot-epoch ConditionCheck, a stale-epoch write is accepted and caught (fencing, invariant 7)', async () => {
    const failure = await firstFailure({ fenceCheck: false });

    expect(failure, `no violation in ${BUDGET} seeds with the fence check off`).toBeDefined();
    expect(failure?.violations.some((v) => v.startsWith('fencing (7)'))).toBe(true);
  });

  it('without the participant barrier condition, duplicates and races break atomicity or exactly-once', async () => {
    const failure = await firstFailure({ barrierCheck: false });

    expect(failure, `no violation in ${BUDGET} seeds with the barrier check off`).toBeDefined();
    expect(failure?.violations.length).toBeGreaterThan(0);
  });

  it('without the retry of a failed events batch, a failed publication is lost and caught (events out)', async () => {
    const failure = await firstFailure({ eventRetry: false });

    expect(failure, `no violation in ${BUDGET} seeds with the event retry off`).toBeDefined();
    expect(failure?.violations.some((v) => v.startsWith('events:'))).toBe(true);
  });

  it('without the backoff-and-retry of a contended write, a conflict fails its message and blocks its group (liveness)', async () => {
    const failure = await firstFailure({ contentionRetry: false });

    expect(failure, `no violation in ${BUDGET} seeds with the contention retry off`).toBeDefined();
    expect(failure?.violations.some((v) => v.startsWith('liveness'))).toBe(true);
  });

  it('with every mechanism on, the same seeds pass (the switches are what breaks them)', async () => {
    const summary = await runSeeds({ from: 1, seeds: 50, failuresKept: 1 });

    expect(summary.failures.map((f) => f.seed)).toEqual([]);
  });
});

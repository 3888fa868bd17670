import { describe, expect, it } from 'vitest';
import { formatFailure, runSeeds, type SimResult, type SimSwitches } from '../../sim/run';

/**
 * Teeth: turn one safety mechanism off in the simulated world (a test-only switch; production code
 * is untouched) and the simulation must catch it within the CI budget. A harness that cannot fail
 * proves nothing.
 */
const BUDGET = 2_000;

/** Violations of what the outcome is (not of a check that restates a mechanism). */
const OUTCOME = /^(atomicity|agreement|validity|conservation|exactly-once)/;

async function firstFailure(switches: Partial<SimSwitches>, outcomes?: RegExp) {
  const wanted = (result: SimResult) =>
    outcomes === undefined || result.violations.some((v) => outcomes.test(v));
  const summary = await runSeeds({
    from: 1,
    seeds: BUDGET,
    switches,
    ...(outcomes ? { outcomesOnly: true } : {}),
    stopAtFirstFailure: true,
    failureWanted: wanted,
    failuresKept: BUDGET,
  });
  const failure = summary.failures.find(wanted);
  if (failure)
    console.log(
      `teeth ${JSON.stringify(switches)}: caught after ${summary.seeds} seed(s)\n${formatFailure(failure, switches, 30)}`,
    );
  return failure;
}

describe('teeth: the simulation catches a missing safety mechanism', () => {
  it("without the record's version condition, a write from a stale read changes a decision (outcomes)", async () => {
    const failure = await firstFailure({ versionCheck: false }, OUTCOME);

    expect(failure, `no outcome violation in ${BUDGET} seeds with the version condition off`).toBeDefined();
    expect(failure?.violations.some((v) => OUTCOME.test(v))).toBe(true);
  });

  it('without the slot-epoch fence, a stale-epoch write is accepted: the fencing invariant (7) sees it', async () => {
    // Invariant 7 restates the fence: this shows the harness notices it is gone, no more.
    const failure = await firstFailure({ fenceCheck: false });

    expect(failure, `no violation in ${BUDGET} seeds with the fence check off`).toBeDefined();
    expect(failure?.violations.some((v) => v.startsWith('fencing (7)'))).toBe(true);
  });

  it('without the slot-epoch fence, every outcome stays right: the version condition is the safety guard', async () => {
    // The fence is defence in depth: it keeps a zombie from writing (wasted work, contention), but
    // whatever a zombie writes is version-checked and computed by a step that never changes a
    // decision. A failure here would mean the fence is load-bearing — the docs would have to say so.
    const summary = await runSeeds({
      from: 1,
      seeds: BUDGET,
      switches: { fenceCheck: false },
      outcomesOnly: true,
    });

    expect(summary.failures.map((f) => ({ seed: f.seed, violations: f.violations }))).toEqual([]);
    expect(summary.totals.fenceRejections).toBe(0); // nothing was fenced off: the fence really was off
    expect(summary.totals.zombies).toBeGreaterThan(BUDGET / 8);
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

  it('a relay that takes a timed-out call for a 200 votes YES for a try that never reserved (validity)', async () => {
    // Prepare // Act: the outcome checks alone must see it, not only the relay-reply check.
    const failure = await firstFailure({ relayTimeouts: false }, OUTCOME);

    // Assess
    expect(failure, `no outcome violation in ${BUDGET} seeds with timeouts read as 200`).toBeDefined();
    expect(failure?.violations.some((v) => OUTCOME.test(v))).toBe(true);
  });

  it('a relay that acks a confirm or cancel it gave up on leaves the endpoint PREPARED (atomicity)', async () => {
    const failure = await firstFailure({ relayGiveUp: false }, OUTCOME);

    expect(failure, `no outcome violation in ${BUDGET} seeds with given-up finishes acked`).toBeDefined();
    expect(failure?.violations.some((v) => /^atomicity|^agreement/.test(v))).toBe(true);
  });

  it('a relay that takes a 409 to a confirm or cancel for done acks what the endpoint never did (atomicity)', async () => {
    const failure = await firstFailure({ relayFinishRefusals: false }, OUTCOME);

    expect(
      failure,
      `no outcome violation in ${BUDGET} seeds with a refused finish read as done`,
    ).toBeDefined();
    expect(failure?.violations.some((v) => /^atomicity|^agreement/.test(v))).toBe(true);
  });

  it('a relay that takes a timed-out call for a 200 is caught at once by the relay-reply check', async () => {
    const failure = await firstFailure({ relayTimeouts: false });

    expect(failure?.violations.some((v) => v.startsWith('https:'))).toBe(true);
  });

  it('with every mechanism on, the same seeds pass (the switches are what breaks them)', async () => {
    const summary = await runSeeds({ from: 1, seeds: 50, failuresKept: 1 });

    expect(summary.failures.map((f) => f.seed)).toEqual([]);
  });
});

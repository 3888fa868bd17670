import { describe, expect, it } from 'vitest';
import { BLOCKED_BOUND_MS, TERMINATION_BOUND_MS } from '../../sim/checker';
import { formatFailure, formatSummary, runSeed, runSeeds } from '../../sim/run';

/** The CI budget: seeds 1..SEEDS (about 10 s on a 2-core machine). */
const SEEDS = 3_000;

describe('deterministic simulation', () => {
  it('replays a seed exactly: the same seed gives the same trace, event for event', async () => {
    // Prepare // Act
    const first = await runSeed({ seed: 5, traceAll: true });
    const second = await runSeed({ seed: 5, traceAll: true });
    const other = await runSeed({ seed: 4, traceAll: true });

    // Assess
    expect(first.trace.length).toBeGreaterThan(100);
    expect(second.trace).toEqual(first.trace);
    expect(second.stats).toEqual(first.stats);
    expect(other.trace).not.toEqual(first.trace);
  });

  it(`runs ${SEEDS} seeds with every invariant checked after every write and at quiescence: 0 violations`, async () => {
    // Act
    const summary = await runSeeds({ from: 1, seeds: SEEDS, failuresKept: 3 });

    // Assess
    console.log(`simulation, ${SEEDS} seeds:\n${formatSummary(summary)}`);
    for (const failure of summary.failures) console.error(formatFailure(failure));
    expect(summary.failures.map((f) => ({ seed: f.seed, violations: f.violations }))).toEqual([]);
    expect(summary.seeds).toBe(SEEDS);

    // The world really did what it is there for (a quiet world would prove nothing).
    const t = summary.totals;
    expect(t.committed).toBeGreaterThan(SEEDS / 2);
    expect(t.aborted - t.timeouts).toBeGreaterThan(SEEDS / 4); // NO votes (overdrafts)
    expect(t.timeouts).toBeGreaterThan(0);
    expect(t.apiRejected).toBeGreaterThan(0); // unknown accounts
    expect(t.apiConflicts).toBeGreaterThan(0); // an idempotency key reused with another body
    expect(t.crashes).toBeGreaterThan(SEEDS / 2);
    expect(t.duplicates).toBeGreaterThan(SEEDS / 2);
    expect(t.takeovers).toBeGreaterThan(SEEDS);
    expect(t.zombies).toBeGreaterThan(SEEDS / 5);
    expect(t.fenceRejections).toBeGreaterThan(SEEDS / 4);
    expect(t.versionConflicts).toBeGreaterThan(0);
    expect(t.dlqMoves).toBeGreaterThan(0);
    expect(t.conflicts).toBeGreaterThan(SEEDS / 6); // DynamoDB's TransactionConflict, waited out
    expect(t.throttles).toBeGreaterThan(0);
    expect(t.zombieDrops).toBeGreaterThan(0); // zombies past their deadline dropped their batch
    // HTTPS participants: the relay met every fault of its network and gave up on both kinds.
    expect(t.httpsSeeds).toBeGreaterThan(SEEDS / 2);
    expect(t.httpCalls).toBeGreaterThan(SEEDS * 4);
    expect(t.httpTimeouts).toBeGreaterThan(SEEDS / 4);
    expect(t.httpLostAnswers).toBeGreaterThan(SEEDS / 20); // timeouts after the effect
    expect(t.httpBusy).toBeGreaterThan(SEEDS / 4); // 425/429/503
    expect(t.httpOffContract).toBeGreaterThan(SEEDS / 20); // 400/404, a 409 to a finish: retried
    expect(t.httpDown).toBeGreaterThan(SEEDS / 4);
    expect(t.longOutages).toBeGreaterThan(SEEDS / 20); // down longer than the prepare timeout
    expect(t.httpRefused).toBeGreaterThan(0);
    expect(t.httpDuplicates).toBeGreaterThan(SEEDS / 20);
    expect(t.relayTryGiveUps).toBeGreaterThan(SEEDS / 20); // NO votes, then a cancel
    expect(t.relayFinishGiveUps).toBeGreaterThan(SEEDS / 20); // the coordinator re-sent them
    // Liveness after the last fault, within the bounds the world checks on every seed.
    expect(t.maxBlockedMs).toBeLessThanOrEqual(BLOCKED_BOUND_MS);
    expect(t.maxTerminalLagMs).toBeLessThanOrEqual(TERMINATION_BOUND_MS);
  });
});

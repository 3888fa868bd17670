import { describe, expect, inject, it } from 'vitest';
import { formatReport } from '../../dev/chaos/report';
import { DEFAULT_OPTIONS, runChaos } from '../../dev/chaos/run';
import { CONFLICT_POINTS, CRASH_POINTS, conflictHit, DROP_POINTS } from '../../shared/faults';

// The fault-injected bank workload (npm run chaos) on the suite's deployed stack, in-process.
// Every transaction has its own fault plan, so the other e2e files sharing the stack are not
// disturbed (they only share slots: a crash or takeover can delay their transactions' slot group).
describe('chaos: the bank workload under injected faults', () => {
  it('survives 300 transfers with crashes, lost votes, duplicates, write conflicts and lease takeovers with 0 violations, every outcome announced', async () => {
    // Prepare: moderate client concurrency, since the other e2e files run alongside.
    const options = {
      ...DEFAULT_OPTIONS,
      seed: 20_240_601,
      transfers: 300,
      clients: 6,
      quiesceTimeoutMs: 480_000,
    };

    // Act
    const report = await runChaos(inject('deployment'), {
      ...options,
      log: (line) => console.log(`[chaos] ${line}`),
    });
    console.log(formatReport(report));

    // Assess: no invariant broken, and the faults did happen (as recorded by the handlers).
    expect(report.violations).toEqual([]);
    expect(report.notTerminal).toBe(0);
    for (const point of [...CRASH_POINTS, ...DROP_POINTS, ...CONFLICT_POINTS.map(conflictHit)]) {
      expect(report.faultsInjected[point], point).toBeGreaterThanOrEqual(1);
    }
    expect(report.duplicatesSent).toBeGreaterThan(0);
    expect(report.takeovers).toBeGreaterThan(0);
    expect(report.recoveries).toBeGreaterThan(0);
    expect(report.transactions + report.refused422).toBe(300);
    expect(report.refused422).toBeGreaterThan(0);
    expect(report.conflicts409).toBeGreaterThan(0);
    expect(report.committed).toBeGreaterThan(0);
    // Events out: a subscriber heard every outcome (each missing or wrong one is a violation above).
    expect(report.events?.announced).toBe(report.committed + report.aborted);
  }, 900_000);
});

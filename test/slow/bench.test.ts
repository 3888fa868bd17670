import { describe, expect, inject, it } from 'vitest';
import { runBench } from '../../dev/bench/run';
import type { RunResult, Workload } from '../../dev/bench/types';

// A small bench on the test stack (deployed with bench=on): proves the metering end to end on the
// emulator — every request a transfer causes is counted, and the counts are the ones the design says.
const deployment = inject('deployment');

describe('the benchmark on the deployed stack', () => {
  it('meters each workload: one write for the fast path and the baseline, the whole protocol for two phases', async () => {
    const result = await runBench(deployment, {
      workloads: ['two-phase', 'one-phase', 'direct', 'direct-events'],
      concurrencies: [1],
      durationMs: 2_000,
      warmupPerClient: 1,
      hopChains: 2,
      hopsPerChain: 3,
      // Time the hop alongside the two-phase run here too (by default only with 2 clients or more).
      hopsAlongsideFrom: 1,
      // Longer than the test stack's first timer (3 s), so the run's timers are counted with it.
      quietMs: 5_000,
      log: () => {},
    });
    const run = (workload: Workload) => result.runs.find((r) => r.workload === workload) as RunResult;
    const per = (r: RunResult, key: string) => (r.usage.requests[key] ?? 0) / r.committed;

    for (const r of result.runs) {
      expect(r.committed, r.workload).toBeGreaterThan(0);
      expect(r.failed, r.workload).toBe(0);
      expect(per(r, 'APIGateway:Request')).toBe(1);
    }
    // The fast path and the baseline: one TransactWriteItems each, nothing queued.
    const onePhase = run('one-phase');
    const direct = run('direct');
    expect(per(onePhase, 'DynamoDB:TransactWriteItems')).toBe(1);
    expect(per(direct, 'DynamoDB:TransactWriteItems')).toBe(1);
    expect(Object.keys(onePhase.usage.requests).filter((k) => k.startsWith('SQS'))).toEqual([]);
    // Its outcome goes out once, put by the events function from the table's stream (batched).
    expect(onePhase.usage.events / onePhase.committed).toBeCloseTo(1, 1);
    expect(onePhase.usage.lambda.api?.invocations).toBe(onePhase.committed);
    // Three items of at most 1 KB, 2 write units each in a transaction.
    expect(direct.usage.writeUnits / direct.committed).toBe(6);
    expect(direct.usage.events).toBe(0);
    // The like-for-like baseline: the same write, then its outcome put inline.
    const directEvents = run('direct-events');
    expect(per(directEvents, 'DynamoDB:TransactWriteItems')).toBe(1);
    expect(per(directEvents, 'EventBridge:PutEvents (events)')).toBe(1);
    expect(directEvents.usage.events / directEvents.committed).toBe(1);

    // Two phases: Prepare and Commit to each of the two participants (standard queues); of their
    // replies only the Vote whose note completed the set (FIFO: no Acks, the ack that completes
    // the set ends the transaction); two participant writes each and the coordinator's fenced
    // decision (TransactWriteItems); a note per vote and per ack, and the end (UpdateItem).
    const twoPhase = run('two-phase');
    expect(per(twoPhase, 'SQS:SendMessage')).toBeGreaterThanOrEqual(4);
    expect(per(twoPhase, 'SQS-FIFO:SendMessage')).toBeGreaterThanOrEqual(1);
    expect(per(twoPhase, 'SQS-FIFO:SendMessage')).toBeLessThan(2);
    expect(per(twoPhase, 'DynamoDB:TransactWriteItems')).toBeGreaterThanOrEqual(5);
    expect(per(twoPhase, 'DynamoDB:UpdateItem')).toBeGreaterThanOrEqual(5);
    expect(Object.keys(twoPhase.usage.lambda).sort()).toEqual(
      expect.arrayContaining(['api', 'coordinator', 'ledger-0', 'ledger-1']),
    );
    expect(twoPhase.latency.p50).toBeGreaterThan(onePhase.latency.p50);
    // Every committed two-phase transfer's answer carried its record's times: each step measured, in
    // order (no step's median negative: the Lambdas and the bench share the clock).
    const phases = twoPhase.phases;
    expect(phases?.entry.count).toBe(twoPhase.committed);
    for (const step of Object.values(phases ?? {})) expect(step.p50).toBeGreaterThanOrEqual(0);
    expect(onePhase.phases).toBeUndefined();

    // One hop: one conditional write and one send per hop (the last hop sends nothing).
    expect(result.hop.usage.requests['DynamoDB:PutItem']).toBe(2 * 3);
    expect(result.hop.usage.requests['SQS:SendMessage']).toBe(2 * 2);
    expect(result.hop.hopMs.p50).toBeGreaterThan(0);

    // The hop timed alongside the two-phase run: measured, and kept out of the run's usage.
    expect(twoPhase.hopAlongside?.chains).toBeGreaterThanOrEqual(1);
    expect(twoPhase.hopAlongside?.hopMs.p50).toBeGreaterThan(0);
    expect(twoPhase.usage.lambda.hop).toBeUndefined();
    expect(onePhase.hopAlongside).toBeUndefined();
    // Its time is the emulator's: ~70 s alone, twice that once the example's stack is deployed
    // beside this one (its pollers share the emulator's one process). It asserts counts, not times.
  }, 300_000);
});

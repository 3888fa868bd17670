import { BLOCKED_BOUND_MS, TERMINATION_BOUND_MS } from './checker';
import type { SimSwitches } from './core';
import { emptyStats, MAX_STATS, type SimStats } from './stats';
import { runSeed, type SimResult } from './world';

export { runSeed, type SimResult, type SimStats, type SimSwitches };

export interface Summary {
  readonly from: number;
  readonly seeds: number;
  readonly elapsedMs: number;
  readonly totals: SimStats;
  /** Seeds that found at least one dead-lettered message at quiescence (then redriven). */
  readonly seedsWithDlq: number;
  readonly failures: readonly SimResult[];
}

export interface RunOptions {
  readonly from: number;
  readonly seeds: number;
  readonly switches?: Partial<SimSwitches>;
  /** Check outcomes only (see SimOptions.outcomesOnly). */
  readonly outcomesOnly?: boolean;
  /** Stop at the first failing seed (the teeth test) — of those `failureWanted` accepts, if given. */
  readonly stopAtFirstFailure?: boolean;
  readonly failureWanted?: (result: SimResult) => boolean;
  /** Keep at most this many failures (with their traces). */
  readonly failuresKept?: number;
  readonly onProgress?: (done: number, summary: Summary) => void;
  readonly progressEvery?: number;
}

/** Runs seeds `from`, `from + 1`, … one after the other and adds up what they did. */
export async function runSeeds(options: RunOptions): Promise<Summary> {
  const started = performance.now();
  const totals = emptyStats();
  const failures: SimResult[] = [];
  let seedsWithDlq = 0;
  let done = 0;
  const summary = (): Summary => ({
    from: options.from,
    seeds: done,
    elapsedMs: performance.now() - started,
    totals: { ...totals },
    seedsWithDlq,
    failures: [...failures],
  });
  for (let seed = options.from; seed < options.from + options.seeds; seed++) {
    const result = await runSeed({
      seed,
      ...(options.switches ? { switches: options.switches } : {}),
      ...(options.outcomesOnly ? { outcomesOnly: true } : {}),
    });
    done++;
    for (const key of Object.keys(totals) as Array<keyof SimStats>) {
      totals[key] = (MAX_STATS as readonly string[]).includes(key)
        ? Math.max(totals[key], result.stats[key])
        : totals[key] + result.stats[key];
    }
    if (result.dlq.length > 0) seedsWithDlq++;
    if (result.violations.length > 0) {
      if (failures.length < (options.failuresKept ?? 10)) failures.push(result);
      if (options.stopAtFirstFailure && (options.failureWanted?.(result) ?? true)) break;
    }
    if (options.onProgress && done % (options.progressEvery ?? 10_000) === 0)
      options.onProgress(done, summary());
  }
  return summary();
}

/** One line per number, for people. */
export function formatSummary(summary: Summary, failingSeeds?: readonly number[]): string {
  const t = summary.totals;
  const seconds = summary.elapsedMs / 1000;
  const lines = [
    `seeds            ${summary.from}..${summary.from + summary.seeds - 1} (${summary.seeds}) in ${seconds.toFixed(1)} s — ${(summary.seeds / seconds).toFixed(0)} seeds/s`,
    `events           ${t.events} (virtual time ${(t.virtualMs / 3_600_000).toFixed(1)} h)`,
    `requests         ${t.submits} submits: ${t.apiRejected} refused (unknown entity), ${t.apiConflicts} idempotency conflicts`,
    `transactions     ${t.transactions}: ${t.committed} committed, ${t.aborted} aborted (${t.timeouts} by prepare timeout, ${t.aborted - t.timeouts} by a NO vote); ${t.endedByParticipants} ended by the participant whose ack completed them`,
    `faults           ${t.crashes} crashes, ${t.injectedErrors} failed calls, ${t.duplicates} duplicated sends, ${t.redeliveries} redeliveries`,
    `leases           ${t.takeovers} takeovers, ${t.zombies} zombie pauses (${t.zombieDrops} batches dropped past their hold), ${t.fenceRejections} writes fenced off, ${t.versionConflicts} version conflicts`,
    `contention       ${t.conflicts} writes cancelled by a conflict, ${t.throttles} throttled — each waited out and retried`,
    `keys             ${t.expired} records expired (TTL), ${t.keysReused} idempotency keys used again after: a new transaction each`,
    `https            ${t.httpsSeeds} seeds with an HTTPS participant: ${t.httpCalls} calls, ${t.httpTimeouts} timed out (${t.httpLostAnswers} answers lost after the effect), ${t.httpBusy} busy (425/429/503), ${t.httpOffContract} off the contract (400/404/409), ${t.httpDown} while the endpoint was down (${t.httpRefused} refused; ${t.longOutages} outages longer than the prepare timeout), ${t.httpDuplicates} delivered twice; the relay gave up on ${t.relayTryGiveUps} tries and ${t.relayFinishGiveUps} confirms/cancels (each resent by the coordinator), ${t.relayKilled} relay invocations killed at their timeout`,
    `liveness         after the last fault: longest message receive → delete ${(t.maxBlockedMs / 1000).toFixed(1)} s (bound ${BLOCKED_BOUND_MS / 1000} s), longest wait for a transaction to end ${(t.maxTerminalLagMs / 1000).toFixed(1)} s (bound ${TERMINATION_BOUND_MS / 1000} s)`,
    `dead letters     ${t.dlqMoves} messages in ${summary.seedsWithDlq} seeds, all redriven to completion`,
    `violations       ${failingSeeds ? failingSeeds.length : summary.failures.length} seed(s)${
      summary.failures.length > 0 ? `: ${summary.failures.map((f) => f.seed).join(', ')}` : ''
    }`,
  ];
  return lines.join('\n');
}

/** What a failing seed prints: the seed, how to replay it, what broke and the last events. */
export function formatFailure(result: SimResult, switches?: Partial<SimSwitches>, lastEvents = 80): string {
  const flags = [
    switches?.fenceCheck === false ? ' --fence off' : '',
    switches?.versionCheck === false ? ' --version off' : '',
    switches?.barrierCheck === false ? ' --barrier off' : '',
    switches?.eventRetry === false ? ' --event-retry off' : '',
    switches?.contentionRetry === false ? ' --contention-retry off' : '',
    switches?.batchHold === false ? ' --batch-hold off' : '',
    switches?.relayTimeouts === false ? ' --relay-timeouts off' : '',
    switches?.relayGiveUp === false ? ' --relay-give-up off' : '',
    switches?.relayFinishRefusals === false ? ' --relay-finish-refusals off' : '',
  ].join('');
  return [
    `── seed ${result.seed} violated ${result.violations.length} invariant check(s) ──`,
    ...result.violations.map((v) => `  • ${v}`),
    `replay: npx tsx scripts/sim.ts --seed ${result.seed}${flags}`,
    `last ${Math.min(lastEvents, result.trace.length)} events:`,
    ...result.trace.slice(-lastEvents).map((line) => `  ${line}`),
  ].join('\n');
}

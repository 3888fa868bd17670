/**
 * The model: the timed mode of the simulation (./world's World with `timed` options), run at one
 * point of load and summed up — latency from the client's request to its answer, each step's
 * median, throughput, requests per transfer. What the numbers assume: docs/model.md.
 */
import { nearestRank } from '../shared/percentile';
import { T0_MS, type TimedOptions } from './core';
import type { TxTimes } from './load';
import { runTimed } from './world';

export interface ModelPoint {
  readonly seed: number;
  readonly timed: TimedOptions;
}

/** One class of the measured transfers that committed: how many, how fast, how long. */
export interface ClassSummary {
  readonly committed: number;
  readonly aborted: number;
  /** Answered within the window, per second of the window. */
  readonly perS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ModelSummary {
  /** Transactions submitted in the measured window [warmupMs, durationMs), and how many committed. */
  readonly measured: number;
  readonly committed: number;
  readonly aborted: number;
  /** Committed transactions answered within the window, per second of the window. */
  readonly perS: number;
  /** Client's request → answer (committed, measured). */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number };
  /** Medians of the steps: request → record created → decided → completed → answered. */
  readonly stepsP50Ms: {
    readonly entry: number;
    readonly decide: number;
    readonly complete: number;
    readonly answer: number;
  };
  readonly requestsPerTransfer: number;
  /** Requests per committed transfer by what made them (a port call's kind, a receive, the API's). */
  readonly requestsByKind: Readonly<Record<string, number>>;
  readonly coldStarts: number;
  /** With a hot account (load.hotShare): the transfers that debit it and the others, apart. */
  readonly byHot: { readonly hot: ClassSummary; readonly other: ClassSummary } | null;
  /** Writes cancelled by a TransactionConflict (each backed off and retried), per committed transfer. */
  readonly conflictsPerTransfer: number;
  /** Writes that waited for an item's partition's write capacity, and their mean wait (ms). */
  readonly partitionWaits: { readonly writes: number; readonly meanMs: number };
  /** Invariant violations the run's checks found (none expected: the model keeps the harness on). */
  readonly violations: readonly string[];
  /** Wall-clock time the run took (ms). */
  readonly elapsedMs: number;
}

const p = (sorted: readonly number[], percent: number) => nearestRank(sorted, percent) ?? Number.NaN;
const sortedOf = (values: number[]) => values.sort((a, b) => a - b);

export async function runModel(point: ModelPoint): Promise<ModelSummary> {
  const started = performance.now();
  const { result, times, requests, coldStarts, partitionWaits } = await runTimed({
    seed: point.seed,
    timed: point.timed,
  });
  const fromMs = T0_MS + point.timed.warmupMs;
  const toMs = T0_MS + point.timed.durationMs;
  const measured = [...times.values()].filter((t) => t.submittedAtMs >= fromMs && t.submittedAtMs < toMs);
  const committed = measured.filter((t) => t.outcome === 'COMMITTED');
  const windowS = (toMs - fromMs) / 1000;
  const answeredIn = (all: Iterable<TxTimes>) =>
    [...all].filter((t) => t.outcome === 'COMMITTED' && t.answeredAtMs! >= fromMs && t.answeredAtMs! < toMs)
      .length;
  const answeredInWindow = answeredIn(times.values());
  const classOf = (hot: boolean): ClassSummary => {
    const mine = measured.filter((t) => t.hot === hot);
    const done = sortedOf(
      mine.filter((t) => t.outcome === 'COMMITTED').map((t) => t.answeredAtMs! - t.submittedAtMs),
    );
    return {
      committed: done.length,
      aborted: mine.filter((t) => t.outcome === 'ABORTED').length,
      perS: answeredIn([...times.values()].filter((t) => t.hot === hot)) / windowS,
      p50Ms: p(done, 50),
      p99Ms: p(done, 99),
    };
  };
  const { load } = point.timed;
  const hasHot = load.kind === 'open' && load.hotShare !== undefined;
  const latencies = sortedOf(committed.map((t) => t.answeredAtMs! - t.submittedAtMs));
  const step = (
    from: (t: (typeof committed)[number]) => number,
    to: (t: (typeof committed)[number]) => number,
  ) => p(sortedOf(committed.map((t) => to(t) - from(t))), 50);
  const all = [...times.values()].filter((t) => t.outcome === 'COMMITTED').length;
  return {
    measured: measured.length,
    committed: committed.length,
    aborted: measured.filter((t) => t.outcome === 'ABORTED').length,
    perS: answeredInWindow / windowS,
    latencyMs: { p50: p(latencies, 50), p95: p(latencies, 95), p99: p(latencies, 99) },
    stepsP50Ms: {
      entry: step(
        (t) => t.submittedAtMs,
        (t) => t.createdAtMs!,
      ),
      decide: step(
        (t) => t.createdAtMs!,
        (t) => t.decidedAtMs!,
      ),
      complete: step(
        (t) => t.decidedAtMs!,
        (t) => t.completedAtMs!,
      ),
      answer: step(
        (t) => t.completedAtMs!,
        (t) => t.answeredAtMs!,
      ),
    },
    requestsPerTransfer: [...requests.values()].reduce((sum, n) => sum + n, 0) / all,
    requestsByKind: Object.fromEntries([...requests].sort().map(([what, n]) => [what, n / all])),
    coldStarts,
    byHot: hasHot ? { hot: classOf(true), other: classOf(false) } : null,
    conflictsPerTransfer: result.stats.conflicts / all,
    partitionWaits: {
      writes: partitionWaits.writes,
      meanMs: partitionWaits.writes === 0 ? 0 : partitionWaits.totalMs / partitionWaits.writes,
    },
    violations: result.violations,
    elapsedMs: performance.now() - started,
  };
}

/**
 * The model: the timed mode of the simulation (./world's World with `timed` options), run at one
 * point of load and summed up — latency from the client's request to its answer, each step's
 * median, throughput, requests per transfer. What the numbers assume: docs/model.md.
 */
import { nearestRank } from '../shared/percentile';
import { T0_MS, type TimedOptions } from './core';
import { runTimed } from './world';

export interface ModelPoint {
  readonly seed: number;
  readonly timed: TimedOptions;
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
  /** Invariant violations the run's checks found (none expected: the model keeps the harness on). */
  readonly violations: readonly string[];
  /** Wall-clock time the run took (ms). */
  readonly elapsedMs: number;
}

const p = (sorted: readonly number[], percent: number) => nearestRank(sorted, percent) ?? Number.NaN;
const sortedOf = (values: number[]) => values.sort((a, b) => a - b);

export async function runModel(point: ModelPoint): Promise<ModelSummary> {
  const started = performance.now();
  const { result, times, requests, coldStarts } = await runTimed({ seed: point.seed, timed: point.timed });
  const fromMs = T0_MS + point.timed.warmupMs;
  const toMs = T0_MS + point.timed.durationMs;
  const measured = [...times.values()].filter((t) => t.submittedAtMs >= fromMs && t.submittedAtMs < toMs);
  const committed = measured.filter((t) => t.outcome === 'COMMITTED');
  const answeredInWindow = [...times.values()].filter(
    (t) => t.outcome === 'COMMITTED' && t.answeredAtMs! >= fromMs && t.answeredAtMs! < toMs,
  ).length;
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
    perS: answeredInWindow / ((toMs - fromMs) / 1000),
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
    violations: result.violations,
    elapsedMs: performance.now() - started,
  };
}

import { nearestRank } from '../../shared/percentile';
import type { FunctionUsage, LatencySummary, RequestCounts, Usage } from './types';

/** No requests, no units, no invocations: the identity of `addUsage`. */
export const EMPTY_USAGE: Usage = { requests: {}, readUnits: 0, writeUnits: 0, events: 0, lambda: {} };

/** Nearest-rank percentile of already sorted, non-empty values. */
const rankOf = (sorted: readonly number[], p: number) => nearestRank(sorted, p) as number;

/**
 * Count, nearest-rank p50/p95/p99, max and mean of latency samples (ms). No samples: all zeros
 * with count 0, so a run that committed nothing still has a summary.
 */
export function summarize(samplesMs: readonly number[]): LatencySummary {
  if (samplesMs.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  for (const sample of samplesMs) {
    if (!Number.isFinite(sample)) throw new Error(`latency samples must be finite numbers, got ${sample}`);
  }
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: rankOf(sorted, 50),
    p95: rankOf(sorted, 95),
    p99: rankOf(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
  };
}

function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  const sum: Record<string, number> = { ...a };
  for (const [key, n] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

/**
 * One function's usage over two tallies. Where the two were metered at different memory sizes,
 * the memory is the billed-time-weighted mean, which keeps the GB-seconds (billedMs × memoryMb)
 * of the sum equal to the sum of the GB-seconds.
 */
function addFunction(a: FunctionUsage, b: FunctionUsage): FunctionUsage {
  const billedMs = a.billedMs + b.billedMs;
  const memoryMb =
    a.memoryMb === b.memoryMb || billedMs === 0
      ? Math.max(a.memoryMb, b.memoryMb)
      : (a.billedMs * a.memoryMb + b.billedMs * b.memoryMb) / billedMs;
  return { invocations: a.invocations + b.invocations, billedMs, memoryMb };
}

/** The sum of two usages: requests by key, units, events, and Lambda by function. */
export function addUsage(a: Usage, b: Usage): Usage {
  const lambda: Record<string, FunctionUsage> = { ...a.lambda };
  for (const [name, fn] of Object.entries(b.lambda)) {
    const mine = lambda[name];
    lambda[name] = mine ? addFunction(mine, fn) : fn;
  }
  const unitsByRequest =
    a.unitsByRequest || b.unitsByRequest
      ? addCounts(a.unitsByRequest ?? {}, b.unitsByRequest ?? {})
      : undefined;
  return {
    requests: addCounts(a.requests, b.requests),
    ...(unitsByRequest ? { unitsByRequest } : {}),
    readUnits: a.readUnits + b.readUnits,
    writeUnits: a.writeUnits + b.writeUnits,
    events: a.events + b.events,
    lambda,
  };
}

/**
 * Every count of `u` times `factor` (memory sizes stay as they are): `scaleUsage(run.usage,
 * 1 / run.committed)` is the usage of one committed transfer.
 */
export function scaleUsage(u: Usage, factor: number): Usage {
  if (!Number.isFinite(factor) || factor < 0) {
    throw new Error(`scaleUsage needs a finite, non-negative factor, got ${factor}`);
  }
  return {
    requests: Object.fromEntries(Object.entries(u.requests).map(([key, n]) => [key, n * factor])),
    ...(u.unitsByRequest
      ? {
          unitsByRequest: Object.fromEntries(
            Object.entries(u.unitsByRequest).map(([key, n]) => [key, n * factor]),
          ),
        }
      : {}),
    readUnits: u.readUnits * factor,
    writeUnits: u.writeUnits * factor,
    events: u.events * factor,
    lambda: Object.fromEntries(
      Object.entries(u.lambda).map(([name, fn]) => [
        name,
        { invocations: fn.invocations * factor, billedMs: fn.billedMs * factor, memoryMb: fn.memoryMb },
      ]),
    ),
  };
}

/** The number of requests in `requests`, leaving out the keys `exclude` says to. */
export function totalRequests(requests: RequestCounts, exclude?: (key: string) => boolean): number {
  let total = 0;
  for (const [key, n] of Object.entries(requests)) if (!exclude?.(key)) total += n;
  return total;
}

/** Invocations over all functions. */
export function totalInvocations(u: Usage): number {
  return Object.values(u.lambda).reduce((sum, fn) => sum + fn.invocations, 0);
}

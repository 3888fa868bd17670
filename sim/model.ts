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
  /** Submitted within the window, per second: the load the class got (Poisson, around its share). */
  readonly submittedPerS: number;
  readonly committed: number;
  readonly aborted: number;
  /** Answered within the window, per second of the window. */
  readonly perS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface HalfSummary {
  readonly perS: number;
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
  /**
   * The steady-state check: the measured window's first and second halves apart — committed
   * transfers answered in the half, per second, and the p99 of those submitted in it. A load the
   * deployment sustains shows the same in both; one it does not, a second half behind.
   */
  readonly halves: readonly [HalfSummary, HalfSummary];
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
  /** The same, by the kind of item the write met a transaction on, most first. */
  readonly conflictsOn: ReadonlyArray<readonly [string, number]>;
  /** Writes that waited for an item's partition's write capacity, and their mean wait (ms). */
  readonly partitionWaits: { readonly writes: number; readonly meanMs: number };
  /** SendMessage calls that waited for the FIFO queue's quota, and their mean wait (ms). */
  readonly fifoSendWaits: { readonly sends: number; readonly meanMs: number };
  /** FIFO messages (votes, acks, checks) and their mean wait in the queue for their group and a coordinator (ms). */
  readonly fifoWaits: { readonly messages: number; readonly meanMs: number };
  /** Deliveries that waited for their function's concurrency limit. */
  readonly concurrencyWaits: number;
  /** Most invocations of all functions running at once: what the account's concurrency quota counts. */
  readonly peakConcurrency: number;
  /** Transfers of the whole run (warm-up too) that committed: what `requests` and `invocations` paid for. */
  readonly committedInRun: number;
  /** Requests of the whole run by what made them (as requestsByKind, not divided). */
  readonly requests: Readonly<Record<string, number>>;
  /** Invocations of the whole run by kind of function, and the time they ran in all (ms). */
  readonly invocations: Readonly<Record<string, { readonly count: number; readonly ms: number }>>;
  /** Invariant violations the run's checks found (none expected: the model keeps the harness on). */
  readonly violations: readonly string[];
  /** Wall-clock time the run took (ms). */
  readonly elapsedMs: number;
}

const p = (sorted: readonly number[], percent: number) => nearestRank(sorted, percent) ?? Number.NaN;
const meanMs = (count: number, totalMs: number) => (count === 0 ? 0 : totalMs / count);
const sortedOf = (values: number[]) => values.sort((a, b) => a - b);

export async function runModel(point: ModelPoint): Promise<ModelSummary> {
  const started = performance.now();
  const run = await runTimed({ seed: point.seed, timed: point.timed });
  const { result, times, requests, coldStarts, partitionWaits } = run;
  const fromMs = T0_MS + point.timed.warmupMs;
  const toMs = T0_MS + point.timed.durationMs;
  const measured = [...times.values()].filter((t) => t.submittedAtMs >= fromMs && t.submittedAtMs < toMs);
  const committed = measured.filter((t) => t.outcome === 'COMMITTED');
  const windowS = (toMs - fromMs) / 1000;
  /** Committed transfers of `all` answered within [from, to) — the measured window by default. */
  const answeredIn = (all: Iterable<TxTimes>, from = fromMs, to = toMs) =>
    [...all].filter((t) => t.outcome === 'COMMITTED' && t.answeredAtMs! >= from && t.answeredAtMs! < to)
      .length;
  const answeredInWindow = answeredIn(times.values());
  const classOf = (hot: boolean): ClassSummary => {
    const mine = measured.filter((t) => t.hot === hot);
    const done = sortedOf(
      mine.filter((t) => t.outcome === 'COMMITTED').map((t) => t.answeredAtMs! - t.submittedAtMs),
    );
    return {
      submittedPerS: mine.length / windowS,
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
  const half = (from: number, to: number): HalfSummary => {
    const answered = answeredIn(times.values(), from, to);
    const submitted = committed.filter((t) => t.submittedAtMs >= from && t.submittedAtMs < to);
    const sorted = sortedOf(submitted.map((t) => t.answeredAtMs! - t.submittedAtMs));
    return { perS: answered / ((to - from) / 1000), p99Ms: p(sorted, 99) };
  };
  const middleMs = (fromMs + toMs) / 2;
  return {
    measured: measured.length,
    committed: committed.length,
    aborted: measured.filter((t) => t.outcome === 'ABORTED').length,
    perS: answeredInWindow / windowS,
    latencyMs: { p50: p(latencies, 50), p95: p(latencies, 95), p99: p(latencies, 99) },
    halves: [half(fromMs, middleMs), half(middleMs, toMs)],
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
    conflictsOn: [...run.conflictsOn]
      .map(([kind, n]) => [kind, n / all] as const)
      .sort((a, b) => b[1] - a[1]),
    partitionWaits: {
      writes: partitionWaits.writes,
      meanMs: meanMs(partitionWaits.writes, partitionWaits.totalMs),
    },
    fifoSendWaits: {
      sends: run.fifoSendWaits.sends,
      meanMs: meanMs(run.fifoSendWaits.sends, run.fifoSendWaits.totalMs),
    },
    fifoWaits: {
      messages: run.fifoWaits.messages,
      meanMs: meanMs(run.fifoWaits.messages, run.fifoWaits.totalMs),
    },
    concurrencyWaits: run.concurrencyWaits,
    peakConcurrency: run.peakConcurrency,
    committedInRun: all,
    requests: Object.fromEntries(requests),
    invocations: Object.fromEntries(run.invocations),
    violations: result.violations,
    elapsedMs: performance.now() - started,
  };
}

/** One point of a curve, as the knee reads it: what was offered, what committed, how slow. */
export interface CurvePoint {
  readonly label: string;
  readonly offeredPerS: number;
  readonly committedPerS: number;
  readonly p99Ms: number;
  readonly model: ModelSummary;
}

/** A point carries its load: it commits at least this share of what is offered… */
const KNEE_COMMITTED_SHARE = 0.95;
/** …with a p99 at most this (ms). */
const KNEE_P99_MS = 1_000;
/** The account's default Lambda concurrency quota, over all functions of a Region. */
export const ACCOUNT_CONCURRENCY = 1_000;

const whole = (value: number) => Math.round(value).toLocaleString('en');

/** Why a point does not carry its load (empty: it does). */
function overKnee(point: CurvePoint): string[] {
  const reasons: string[] = [];
  if (!(point.committedPerS >= KNEE_COMMITTED_SHARE * point.offeredPerS))
    reasons.push(
      `commits ${point.committedPerS.toLocaleString('en', { maximumFractionDigits: 1 })} of ${whole(point.offeredPerS)} tx/s offered (< ${KNEE_COMMITTED_SHARE * 100} %)`,
    );
  if (!(point.p99Ms <= KNEE_P99_MS))
    reasons.push(
      Number.isFinite(point.p99Ms)
        ? `has a p99 of ${whole(point.p99Ms)} ms (> ${whole(KNEE_P99_MS)} ms)`
        : 'commits nothing measured',
    );
  return reasons;
}

/**
 * What a run reports of the limits the model counts, in a fixed order: what stops transfers
 * (liveness, conflicts), the queues (FIFO groups, the send quota), DynamoDB's partitions, Lambda
 * (a function's limit, cold starts, the account's quota, which the model does not enforce).
 * Empty when none is notable.
 */
function limitsOf(model: ModelSummary): string[] {
  const limits: string[] = [];
  if (model.violations.some((v) => v.startsWith('liveness:')))
    limits.push(
      "a message waited out its visibility timeout after its handler gave up on contention (the harness's liveness bound broke)",
    );
  if (model.conflictsPerTransfer >= 1)
    limits.push(
      `TransactionConflict: ${model.conflictsPerTransfer.toFixed(1)} cancelled writes per transfer (${model.conflictsOn
        .map(([kind, n]) => `${n.toFixed(1)} on ${kind}`)
        .join(', ')})`,
    );
  if (model.fifoWaits.meanMs >= 50)
    limits.push(
      `FIFO message groups (slots): a vote or ack waited ${whole(model.fifoWaits.meanMs)} ms on average for its group or a coordinator`,
    );
  if (model.fifoSendWaits.sends > 0 && model.fifoSendWaits.meanMs >= 10)
    limits.push(
      `the FIFO queue's SendMessage quota: ${whole(model.fifoSendWaits.sends)} sends waited ${whole(model.fifoSendWaits.meanMs)} ms on average`,
    );
  if (model.partitionWaits.meanMs >= 10)
    limits.push(
      `partition write capacity: ${whole(model.partitionWaits.writes)} writes waited ${whole(model.partitionWaits.meanMs)} ms on average`,
    );
  if (model.concurrencyWaits > 0)
    limits.push(
      `Lambda concurrency per function: ${whole(model.concurrencyWaits)} deliveries waited for a participant function at its limit`,
    );
  if (model.coldStarts >= model.committedInRun / 2)
    limits.push(
      `cold starts: ${whole(model.coldStarts)} for ${whole(model.committedInRun)} committed transfers (every run starts cold)`,
    );
  if (model.peakConcurrency > ACCOUNT_CONCURRENCY)
    limits.push(
      `Lambda concurrency per account: ${whole(model.peakConcurrency)} executions at once at the peak, over the default quota of ${whole(ACCOUNT_CONCURRENCY)} (the model does not enforce it: a deployment on the default quota would be throttled)`,
    );
  return limits;
}

/**
 * The knee of a curve, as a sentence from the run's own numbers: the first point that does not
 * carry its load (committed < 95 % of offered, or p99 > 1 s) and what the run reports there; or
 * that every point carries it, and what its last point reports.
 */
export function kneeSentence(points: readonly CurvePoint[], subject = 'point'): string {
  const index = points.findIndex((point) => overKnee(point).length > 0);
  const limits = (point: CurvePoint) => {
    const found = limitsOf(point.model);
    return found.length > 0
      ? found.join('; ')
      : 'none of the limits the model counts (partition waits, conflicts, FIFO waits, Lambda concurrency) stands out';
  };
  if (index < 0) {
    const last = points[points.length - 1]!;
    return `**No knee here:** every ${subject} commits ≥ ${KNEE_COMMITTED_SHARE * 100} % of its offered load with a p99 ≤ ${whole(KNEE_P99_MS)} ms. At ${last.label}, what the run reports: ${limits(last)}.`;
  }
  const knee = points[index]!;
  const before = index > 0 ? `, after ${points[index - 1]!.label}` : '';
  return `**Knee: ${knee.label}**${before} — it ${overKnee(knee).join(' and ')}. What limits it there: ${limits(knee)}.`;
}

/** The benchmark judged: per-transfer figures of every run and the ratios against their targets. */
import { type Cost, costOf, isOutsideProtocol, perMillion } from './cost';
import type { PriceTable } from './prices';
import { checkParticipants, type ProtocolMinimum, protocolMinimum } from './protocol-minimum';
import { type SagaCost, stepFunctionsSagaCost } from './saga';
import { scaleUsage, totalInvocations, totalRequests } from './stats';
import type { BenchResult, LatencySummary, RequestCounts, RunResult, Usage, Workload } from './types';

/** The targets the benchmark is judged by: each ratio must be at most its target. */
const TARGETS = {
  /** Two-phase protocol requests per transfer / protocolMinimumRequests(N). */
  protocolRequests: 1.25,
  /** Two-phase p50 / (critical-path hops × hop p50). */
  latency: 1.5,
  /** One-phase cost per transfer / the hand-rolled TransactWriteItems' cost per transfer. */
  onePhaseVsDirect: 1.1,
  /** Tandem's cost per transfer / the Step Functions saga's: not dearer than the saga. */
  versusSaga: 1,
} as const;

export type RatioName =
  | 'protocol-requests'
  | 'latency'
  | 'latency-loaded'
  | 'latency-alongside'
  | 'one-phase-vs-direct-cost'
  | 'one-phase-vs-direct-events-cost'
  | 'two-phase-vs-saga-cost'
  | 'one-phase-vs-saga-cost';

export interface Ratio {
  readonly name: RatioName;
  readonly concurrency: number;
  readonly description: string;
  /** null when a workload it needs did not run, committed nothing, or the divisor is 0. */
  readonly value: number | null;
  readonly target: number;
  /** value <= target (false when there is no value). */
  readonly met: boolean;
}

export interface RunAnalysis {
  readonly workload: Workload;
  readonly concurrency: number;
  readonly committed: number;
  readonly latency: LatencySummary;
  /** The run's usage divided by its committed transfers; null when it committed nothing. */
  readonly perTransfer: Usage | null;
  /** Every billed request per transfer. */
  readonly requestsPerTransfer: number | null;
  /** Per transfer, without the API's `(wait)` requests and the `(events)` ones. */
  readonly protocolRequestsPerTransfer: number | null;
  /** Requests by `<service>:<operation>` per transfer (the same as `perTransfer.requests`). */
  readonly requestsByKind: RequestCounts | null;
  readonly lambdaInvocationsPerTransfer: number | null;
  readonly costPerTransfer: Cost | null;
  /** USD per million committed transfers. */
  readonly costPerMillion: number | null;
}

export interface HopAnalysis {
  readonly hops: number;
  readonly perHop: Usage | null;
  readonly requestsPerHop: number | null;
  readonly p50Ms: number;
}

export interface AnalyseOptions {
  /** Participants of the benchmark's transfer (2 for a cross-shard transfer). */
  readonly participants: number;
  /** Hops on the two-phase critical path, from the client's request to its answer. */
  readonly criticalPathHops: number;
}

export interface Analysis {
  readonly participants: number;
  readonly criticalPathHops: number;
  readonly prices: { readonly region: string; readonly checked: string; readonly currency: 'USD' };
  readonly protocolMinimum: ProtocolMinimum;
  readonly saga: SagaCost & { readonly perMillion: number };
  /** One per run of the result, in the same order. */
  readonly runs: readonly RunAnalysis[];
  readonly hop: HopAnalysis;
  /** For each concurrency that ran, each ratio (null where a workload it needs is missing). */
  readonly ratios: readonly Ratio[];
}

/** `a / b`, or null when either is missing or b is 0. */
function ratioOf(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

function analyseRun(run: RunResult, prices: PriceTable): RunAnalysis {
  const base = {
    workload: run.workload,
    concurrency: run.concurrency,
    committed: run.committed,
    latency: run.latency,
  };
  if (run.committed <= 0) {
    return {
      ...base,
      perTransfer: null,
      requestsPerTransfer: null,
      protocolRequestsPerTransfer: null,
      requestsByKind: null,
      lambdaInvocationsPerTransfer: null,
      costPerTransfer: null,
      costPerMillion: null,
    };
  }
  const perTransfer = scaleUsage(run.usage, 1 / run.committed);
  const cost = costOf(perTransfer, prices);
  return {
    ...base,
    perTransfer,
    requestsPerTransfer: totalRequests(perTransfer.requests),
    protocolRequestsPerTransfer: totalRequests(perTransfer.requests, isOutsideProtocol),
    requestsByKind: perTransfer.requests,
    lambdaInvocationsPerTransfer: totalInvocations(perTransfer),
    costPerTransfer: cost,
    costPerMillion: perMillion(cost.total),
  };
}

/** The run of `workload` at the highest concurrency that committed anything. */
export function highestRun(analysis: Analysis, workload: Workload): RunAnalysis | undefined {
  let best: RunAnalysis | undefined;
  for (const run of analysis.runs) {
    if (run.workload !== workload || run.perTransfer === null) continue;
    if (!best || run.concurrency > best.concurrency) best = run;
  }
  return best;
}

/**
 * Per-transfer usage and cost of every run, per-hop figures, and the ratios the benchmark is
 * judged by, for each concurrency that ran. Missing workloads and runs that committed nothing
 * give null figures and ratios; nothing divides by zero.
 */
export function analyse(result: BenchResult, prices: PriceTable, opts: AnalyseOptions): Analysis {
  checkParticipants(opts.participants);
  if (!Number.isFinite(opts.criticalPathHops) || opts.criticalPathHops <= 0) {
    throw new Error(`criticalPathHops must be a positive number, got ${opts.criticalPathHops}`);
  }
  const runs = result.runs.map((run) => analyseRun(run, prices));
  const hops = result.hop.chains * result.hop.hopsPerChain;
  const perHop = hops > 0 ? scaleUsage(result.hop.usage, 1 / hops) : null;
  const hop: HopAnalysis = {
    hops,
    perHop,
    requestsPerHop: perHop ? totalRequests(perHop.requests) : null,
    p50Ms: result.hop.hopMs.p50,
  };
  const minimum = protocolMinimum(opts.participants);
  const sagaCost = stepFunctionsSagaCost(opts.participants, prices);
  const saga = { ...sagaCost, perMillion: perMillion(sagaCost.total) };

  const ratios: Ratio[] = [];
  const concurrencies = [...new Set(result.runs.map((r) => r.concurrency))].sort((a, b) => a - b);
  for (const concurrency of concurrencies) {
    const at = (workload: Workload) =>
      runs.find((r) => r.workload === workload && r.concurrency === concurrency && r.perTransfer !== null);
    const twoPhase = at('two-phase');
    const onePhase = at('one-phase');
    const direct = at('direct');
    const directEvents = at('direct-events');
    const push = (name: RatioName, description: string, value: number | null, target: number) =>
      ratios.push({ name, concurrency, description, value, target, met: value !== null && value <= target });
    push(
      'protocol-requests',
      `two-phase protocol requests per transfer / minimum (${minimum.formula} = ${minimum.total})`,
      ratioOf(twoPhase?.protocolRequestsPerTransfer, minimum.total),
      TARGETS.protocolRequests,
    );
    // The critical path: the client's request to the API with its write (one HTTP hop, measured as
    // the hand-rolled request at the same concurrency), then `criticalPathHops` SQS hops at `hopMs`.
    const overCriticalPath = (hopMs: number) =>
      ratioOf(
        twoPhase?.latency.p50,
        direct && hopMs > 0 ? direct.latency.p50 + opts.criticalPathHops * hopMs : null,
      );
    push(
      'latency',
      `two-phase p50 / critical path (hand-rolled request p50 + ${opts.criticalPathHops} × hop p50)`,
      overCriticalPath(hop.p50Ms),
      TARGETS.latency,
    );
    // The same path priced at the run's load: the hop measured with as many chains at once as the
    // run had clients.
    const loadedHop = result.loadedHops?.find((h) => h.concurrency === concurrency);
    if (loadedHop) {
      push(
        'latency-loaded',
        `two-phase p50 / critical path at the same load (hand-rolled request p50 + ${opts.criticalPathHops} × hop p50 with ${concurrency} chains at once)`,
        overCriticalPath(loadedHop.hopMs.p50),
        TARGETS.latency,
      );
    }
    // And at the very load the transfers met: the hop timed during the two-phase run itself.
    const alongside = result.runs.find(
      (r) => r.workload === 'two-phase' && r.concurrency === concurrency && r.hopAlongside,
    )?.hopAlongside;
    if (alongside) {
      push(
        'latency-alongside',
        `two-phase p50 / critical path during the run (hand-rolled request p50 + ${opts.criticalPathHops} × hop p50 timed alongside the run, one chain at a time)`,
        overCriticalPath(alongside.hopMs.p50),
        TARGETS.latency,
      );
    }
    push(
      'one-phase-vs-direct-cost',
      'one-phase cost per transfer / hand-rolled TransactWriteItems cost per transfer',
      ratioOf(onePhase?.costPerTransfer?.total, direct?.costPerTransfer?.total),
      TARGETS.onePhaseVsDirect,
    );
    // Like for like with events out: the hand-rolled transfer that also announces its outcome.
    // Only where that baseline ran (not with --events off).
    if (directEvents) {
      push(
        'one-phase-vs-direct-events-cost',
        'one-phase cost per transfer / hand-rolled TransactWriteItems + PutEvents cost per transfer (like for like with events out)',
        ratioOf(onePhase?.costPerTransfer?.total, directEvents.costPerTransfer?.total),
        TARGETS.onePhaseVsDirect,
      );
    }
    push(
      'two-phase-vs-saga-cost',
      'two-phase cost per million / Step Functions Standard saga cost per million',
      ratioOf(twoPhase?.costPerMillion, saga.perMillion),
      TARGETS.versusSaga,
    );
    push(
      'one-phase-vs-saga-cost',
      'one-phase cost per million / Step Functions Standard saga cost per million',
      ratioOf(onePhase?.costPerMillion, saga.perMillion),
      TARGETS.versusSaga,
    );
  }

  return {
    participants: opts.participants,
    criticalPathHops: opts.criticalPathHops,
    prices: { region: prices.region, checked: prices.checked, currency: prices.currency },
    protocolMinimum: minimum,
    saga,
    runs,
    hop,
    ratios,
  };
}

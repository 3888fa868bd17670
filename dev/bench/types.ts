/**
 * The data a benchmark run produces. The runner (scripts/bench.ts) fills it; the cost model,
 * the report writers and the plot read it. Plain JSON: `bench/results/latest.json` is one of these.
 */

/** The steps a two-phase transfer's latency is split into, in order (measured by `./phases`). */
export const PHASES = ['entry', 'prepare', 'decide', 'apply', 'answer'] as const;
export type Phase = (typeof PHASES)[number];

/** What a closed-loop run drives. */
export type Workload =
  /** A cross-shard transfer through the two-phase-commit path (`"commit": "two-phase"`). */
  | 'two-phase'
  /** The same transfer through the one-phase fast path (the default where it is safe). */
  | 'one-phase'
  /** Baseline: the same transfer as one hand-rolled TransactWriteItems issued by one Lambda. */
  | 'direct'
  /** Baseline: the same, then its outcome put on the event bus (like-for-like with events out). */
  | 'direct-events'
  /**
   * A two-phase checkout across one ledger account (a Lambda participant) and the payment service
   * (an HTTPS participant: the relay function and the bench's loopback server).
   */
  | 'https';

/**
 * Billed requests by `<service>:<operation>`, e.g.
 *   `DynamoDB:TransactWriteItems`, `DynamoDB:GetItem`, `SQS:SendMessage`, `SQS-FIFO:SendMessage`,
 *   `SQS:ReceiveMessage (poller)`, `SQS-FIFO:DeleteMessageBatch (poller)`, `Lambda:Invoke`,
 *   `APIGateway:Request`, `EventBridge:PutEvents`.
 * Services: DynamoDB, SQS (standard queues), SQS-FIFO, Lambda, APIGateway, EventBridge.
 */
export type RequestCounts = Readonly<Record<string, number>>;

export interface FunctionUsage {
  readonly invocations: number;
  /** Sum of billed durations (each invocation rounded up to 1 ms, as Lambda bills). */
  readonly billedMs: number;
  readonly memoryMb: number;
}

/** Everything the handlers did during one run, as counted by the SDK middleware (shared/metering.ts). */
export interface Usage {
  readonly requests: RequestCounts;
  /** DynamoDB read request units (from ReturnConsumedCapacity). */
  readonly readUnits: number;
  /** DynamoDB write request units (from ReturnConsumedCapacity). */
  readonly writeUnits: number;
  /**
   * DynamoDB capacity units by request key (same keys as `requests`), so a part of the work can
   * be priced apart — e.g. the `(events)` publication or the `(wait)` reads.
   */
  readonly unitsByRequest?: Readonly<Record<string, number>>;
  /** EventBridge entries put (billed per event). */
  readonly events: number;
  /** Lambda by function (the short name, e.g. `api`, `coordinator`, `ledger`). */
  readonly lambda: Readonly<Record<string, FunctionUsage>>;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface RunResult {
  readonly workload: Workload;
  /** Closed loop: this many clients, each starting its next transfer when the previous ended. */
  readonly concurrency: number;
  readonly durationMs: number;
  readonly committed: number;
  readonly aborted: number;
  /** Requests that failed (5xx, timeouts): reported, never silently dropped. */
  readonly failed: number;
  /** Committed transfers per second. */
  readonly throughputPerS: number;
  /** End-to-end latency (request sent → outcome known by the client) of committed transfers, ms. */
  readonly latency: LatencySummary;
  /** Every committed transfer's latency, ms, in completion order (for the plot). */
  readonly samplesMs: readonly number[];
  /** Totals over the run. Divide by `committed` for per-transfer figures. */
  readonly usage: Usage;
  /**
   * Two-phase runs: where the committed transfers' time went, step by step (see phases.ts; absent
   * in reports stored before it was measured).
   */
  readonly phases?: Readonly<Record<Phase, LatencySummary>>;
  /**
   * Two-phase runs with enough clients (BenchOptions.hopsAlongsideFrom): the hop measured during
   * the run itself, one chain at a time with a rest between chains, so the critical path can be
   * priced under the very load the transfers met. Its requests are not in `usage`.
   */
  readonly hopAlongside?: HopSample;
}

/** Hop chains' times: each chain's time over its hop count is one sample. */
export interface HopSample {
  readonly chains: number;
  readonly hopsPerChain: number;
  readonly hopMs: LatencySummary;
}

/** One hop: a conditional write plus an SQS send and the receive that triggers the next Lambda. */
export interface HopResult extends HopSample {
  /** Totals over all chains; divide by chains × hopsPerChain for per-hop figures. */
  readonly usage: Usage;
}

/**
 * The hop under load: `concurrency` chains at once (as many closed-loop clients as a workload run
 * had), so the critical path can be priced at the load the transfers ran under.
 */
export interface LoadedHop extends HopSample {
  readonly concurrency: number;
}

export interface ColdStart {
  /** Function short name, e.g. `api`. */
  readonly name: string;
  readonly bundleBytes: number;
  /** Median time to load and initialise the bundle's module in a fresh Node process, ms. */
  readonly initMs: number;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  readonly emulator: string;
}

export interface BenchResult {
  readonly startedAt: string;
  /** The deploy-time settings that differ from the defaults, e.g. `events=off` (absent: defaults). */
  readonly deployment?: string;
  readonly machine: Machine;
  readonly runs: readonly RunResult[];
  readonly hop: HopResult;
  /** The hop at each concurrency above 1 that ran (absent in reports stored before it was measured). */
  readonly loadedHops?: readonly LoadedHop[];
  readonly coldStarts: readonly ColdStart[];
}

/** How a benchmark run is made (scripts/bench.ts sets it; ./run follows it). */
export interface BenchOptions {
  readonly workloads: readonly Workload[];
  readonly concurrencies: readonly number[];
  /** Measured time of each closed-loop run. */
  readonly durationMs: number;
  /** Transfers each client makes before a run is measured (cold starts, lease acquisition). */
  readonly warmupPerClient: number;
  readonly hopChains: number;
  readonly hopsPerChain: number;
  /**
   * Two-phase runs with at least this many clients also time hop chains while they run (one at a
   * time, resting ALONGSIDE_REST_MS between chains): the hop under the run's own load.
   */
  readonly hopsAlongsideFrom: number;
  /**
   * After a run, wait until no handler has logged a meter line for this long, so the work that
   * follows the answer (commits, acknowledgements, timers) is counted with the run that caused it.
   */
  readonly quietMs: number;
  readonly log: (line: string) => void;
  /** Progress of the current run, 0..1 (drawn as a bar by the command). */
  readonly progress?: (label: string, fraction: number, committed: number) => void;
}

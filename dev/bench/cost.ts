import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { scaleUsage, totalInvocations, totalRequests } from './stats';
import type { BenchResult, LatencySummary, RequestCounts, RunResult, Usage, Workload } from './types';

/** The price table the repository keeps, `bench/prices.json`. */
const DEFAULT_PRICES_PATH = resolve(import.meta.dirname, '..', '..', 'bench', 'prices.json');

/** The unit prices the cost model needs; each is one entry of `prices` in `bench/prices.json`. */
export const PRICE_ITEMS = [
  'dynamodbWriteRequestUnit',
  'dynamodbReadRequestUnit',
  'sqsStandardRequest',
  'sqsFifoRequest',
  'lambdaRequest',
  'lambdaArm64GbSecond',
  'apiGatewayHttpRequest',
  'eventBridgeCustomEvent',
  'stepFunctionsStateTransition',
] as const;

export type PriceItem = (typeof PRICE_ITEMS)[number];

/** USD for one unit of each item (the file gives `usd` per `per` units; this is usd / per). */
export type UnitPrices = Readonly<Record<PriceItem, number>>;

export interface PriceTable {
  readonly region: string;
  /** The day the prices were last checked against the published pages, YYYY-MM-DD. */
  readonly checked: string;
  readonly currency: 'USD';
  readonly source: readonly string[];
  readonly notes: readonly string[];
  readonly unitPrices: UnitPrices;
  /** What one unit of each item is, as the file words it. */
  readonly units: Readonly<Record<PriceItem, string>>;
}

function fail(origin: string, field: string, problem: string, value: unknown): never {
  throw new Error(`${origin}: ${field} ${problem}, got ${JSON.stringify(value) ?? String(value)}`);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function stringList(origin: string, field: string, value: unknown, nonEmpty: boolean): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s === '')) {
    fail(origin, field, 'must be a list of non-empty strings', value);
  }
  if (nonEmpty && value.length === 0) fail(origin, field, 'must name at least one entry', value);
  return value as string[];
}

/**
 * A price table from parsed JSON, checked field by field: a wrong or missing field throws an
 * Error naming it (`prices.sqsFifoRequest.usd must be a non-negative number, got "0.5"`).
 */
export function parsePrices(raw: unknown, origin = 'price table'): PriceTable {
  if (!isRecord(raw)) fail(origin, 'the table', 'must be a JSON object', raw);
  const { region, checked, currency, source, notes, prices } = raw;
  if (typeof region !== 'string' || region === '')
    fail(origin, 'region', 'must be a non-empty string', region);
  if (typeof checked !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(checked)) {
    fail(origin, 'checked', 'must be a date YYYY-MM-DD', checked);
  }
  if (currency !== 'USD') fail(origin, 'currency', 'must be "USD"', currency);
  const sources = stringList(origin, 'source', source, true);
  const noteList = stringList(origin, 'notes', notes, false);
  if (!isRecord(prices)) fail(origin, 'prices', 'must be an object', prices);
  const unitPrices: Partial<Record<PriceItem, number>> = {};
  const units: Partial<Record<PriceItem, string>> = {};
  for (const item of PRICE_ITEMS) {
    const entry = prices[item];
    if (!isRecord(entry)) fail(origin, `prices.${item}`, 'must be an object { usd, per, unit }', entry);
    const { usd, per, unit } = entry;
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0) {
      fail(origin, `prices.${item}.usd`, 'must be a non-negative number', usd);
    }
    if (typeof per !== 'number' || !Number.isFinite(per) || per <= 0) {
      fail(origin, `prices.${item}.per`, 'must be a positive number', per);
    }
    if (typeof unit !== 'string' || unit === '')
      fail(origin, `prices.${item}.unit`, 'must be a non-empty string', unit);
    unitPrices[item] = usd / per;
    units[item] = unit;
  }
  return {
    region,
    checked,
    currency: 'USD',
    source: sources,
    notes: noteList,
    unitPrices: unitPrices as UnitPrices,
    units: units as Record<PriceItem, string>,
  };
}

/** Reads and checks the price table (default `bench/prices.json`). */
export function loadPrices(path: string = DEFAULT_PRICES_PATH): PriceTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the price table ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parsePrices(json, path);
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  /** USD per unit of `quantity`. */
  readonly unitPrice: number;
  readonly cost: number;
}

export interface Cost {
  /** USD. */
  readonly total: number;
  readonly lines: readonly CostLine[];
}

/** A request key split: `SQS-FIFO:DeleteMessageBatch (poller)` → SQS-FIFO, DeleteMessageBatch, poller. */
export function parseRequestKey(key: string): { service: string; operation: string; label?: string } {
  const match = /^([^:]+):(.+?)(?: \(([^()]*)\))?$/.exec(key);
  if (!match) throw new Error(`request key '${key}' is not <service>:<operation>`);
  const [, service = '', operation = '', label] = match;
  return label === undefined ? { service, operation } : { service, operation, label };
}

/**
 * Requests the API makes only while it holds a `?wait=N` answer open for the client (re-reading
 * the transaction until it is decided). They are the price of a synchronous answer, not of the
 * protocol, so the protocol request count leaves them out.
 */
export const isWaitRequest = (key: string): boolean => key.endsWith('(wait)');

/**
 * Requests that only announce outcomes (events out: PutEvents and marking the record published):
 * a feature on top of the protocol, priced in the cost but not part of the protocol's minimum.
 */
const isEventsRequest = (key: string): boolean => key.endsWith('(events)');

/** What the protocol request count leaves out: the `(wait)` and `(events)` requests. */
export const isOutsideProtocol = (key: string): boolean => isWaitRequest(key) || isEventsRequest(key);

function line(item: string, quantity: number, unitPrice: number): CostLine {
  return { item, quantity, unitPrice, cost: quantity * unitPrice };
}

function sumCost(lines: readonly CostLine[]): Cost {
  return { total: lines.reduce((sum, l) => sum + l.cost, 0), lines };
}

/**
 * What `usage` costs, in USD, at the table's unit prices:
 * - SQS and SQS-FIFO: every request at its queue type's request price;
 * - `Lambda:Invoke`: the request price, plus compute from `usage.lambda` (billed ms / 1000 ×
 *   memory MB / 1024 GB-seconds at the arm64 price);
 * - `APIGateway:*`: the HTTP API request price;
 * - EventBridge: per event put (`usage.events`), not per PutEvents call;
 * - DynamoDB: by the read and write request units consumed, not per request.
 * A request of any other service or operation throws: nothing is silently priced at 0.
 * Lines with a zero quantity are left out.
 */
export function costOf(usage: Usage, prices: PriceTable): Cost {
  const p = prices.unitPrices;
  let sqs = 0;
  let fifo = 0;
  let invocations = 0;
  let api = 0;
  for (const [key, n] of Object.entries(usage.requests)) {
    if (!Number.isFinite(n) || n < 0) throw new Error(`request count of '${key}' must be >= 0, got ${n}`);
    const { service, operation } = parseRequestKey(key);
    switch (service) {
      case 'SQS':
        sqs += n;
        break;
      case 'SQS-FIFO':
        fifo += n;
        break;
      case 'APIGateway':
        api += n;
        break;
      case 'Lambda':
        if (operation !== 'Invoke') throw new Error(`no price for '${key}': Lambda bills only Invoke`);
        invocations += n;
        break;
      case 'EventBridge':
        // Billed per event entry, from usage.events.
        if (operation !== 'PutEvents')
          throw new Error(`no price for '${key}': EventBridge is priced per event`);
        break;
      case 'DynamoDB':
        // Billed by request units, from readUnits and writeUnits.
        break;
      default:
        throw new Error(`no price for '${key}': unknown service '${service}'`);
    }
  }
  const gbSeconds = Object.values(usage.lambda).reduce(
    (sum, fn) => sum + (fn.billedMs / 1000) * (fn.memoryMb / 1024),
    0,
  );
  const lines = [
    line('API Gateway HTTP API requests', api, p.apiGatewayHttpRequest),
    line('Lambda requests', invocations, p.lambdaRequest),
    line('Lambda arm64 compute (GB-s)', gbSeconds, p.lambdaArm64GbSecond),
    line('SQS standard requests', sqs, p.sqsStandardRequest),
    line('SQS FIFO requests', fifo, p.sqsFifoRequest),
    line('DynamoDB write request units', usage.writeUnits, p.dynamodbWriteRequestUnit),
    line('DynamoDB read request units', usage.readUnits, p.dynamodbReadRequestUnit),
    line('EventBridge custom events', usage.events, p.eventBridgeCustomEvent),
  ];
  return sumCost(lines.filter((l) => l.quantity !== 0));
}

/** The cost of a million of something that costs `costForOne`. */
export const perMillion = (costForOne: number): number => costForOne * 1_000_000;

function checkParticipants(participants: number): void {
  if (!Number.isSafeInteger(participants) || participants < 1) {
    throw new Error(`participants must be a positive integer, got ${participants}`);
  }
}

/** The terms of `protocolMinimumRequests`, for the report to print. */
export interface ProtocolMinimum {
  readonly participants: number;
  /** The client's request reaching the coordinator: API request, Lambda invocation, record write. */
  readonly entry: { readonly apiRequests: 1; readonly lambdaInvocations: 1; readonly recordWrites: 1 };
  /** Prepare, Vote, Commit and Ack per participant: 4N. */
  readonly messages: number;
  /** SendMessage + ReceiveMessage + DeleteMessage + the Lambda invocation that handles it. */
  readonly requestsPerMessage: 4;
  /** 16N. */
  readonly messageRequests: number;
  /** Prepare and commit, at each participant: 2N. */
  readonly participantWrites: number;
  /** The coordinator's durable decision. */
  readonly decisionWrites: 1;
  /** 18N + 4. */
  readonly total: number;
  readonly formula: '18N + 4';
}

/**
 * The fewest billed requests a two-phase commit of N participants can need on this architecture
 * (API Gateway, Lambda, SQS and DynamoDB), counted as follows:
 * - entry: 1 API request + 1 Lambda invocation + 1 write of the transaction record (3);
 * - 4N protocol messages (Prepare, Vote, Commit and Ack for each participant), each at least
 *   SendMessage + ReceiveMessage + DeleteMessage + 1 Lambda invocation: 4 billed requests when
 *   unbatched (16N);
 * - 2N participant writes (prepare and commit) + 1 write of the decision (2N + 1).
 * Total: 18N + 4, i.e. 40 for N = 2. Reads, and any write the coordinator makes to record votes
 * and acks, are not counted: this is a floor to measure against, not a design. Batching (one
 * receive or delete for several messages) can go below it.
 */
export function protocolMinimum(participants: number): ProtocolMinimum {
  checkParticipants(participants);
  const messages = 4 * participants;
  const messageRequests = 4 * messages;
  const participantWrites = 2 * participants;
  return {
    participants,
    entry: { apiRequests: 1, lambdaInvocations: 1, recordWrites: 1 },
    messages,
    requestsPerMessage: 4,
    messageRequests,
    participantWrites,
    decisionWrites: 1,
    total: 3 + messageRequests + participantWrites + 1,
    formula: '18N + 4',
  };
}

/** {@link protocolMinimum}'s total: 18N + 4 billed requests (40 for two participants). */
export function protocolMinimumRequests(participants: number): number {
  return protocolMinimum(participants).total;
}

export interface SagaCost extends Cost {
  readonly participants: number;
  readonly stateTransitions: number;
  readonly writeUnits: number;
  readonly apiRequests: number;
  readonly assumptions: readonly string[];
}

/**
 * The happy path of the same transfer as a Step Functions Standard saga, for comparison:
 * API Gateway starts the execution by direct integration (1 API request, no Lambda); the states
 * entered are 1 (record the transfer: DynamoDB PutItem by direct SDK integration) + N (one step
 * per participant, a conditional UpdateItem) + 1 (record the outcome) + 1 (Succeed) = N + 3 state
 * transitions; DynamoDB writes N + 2, 1 WRU each (plain writes of items under 1 KB). A failure's
 * compensations would add transitions and writes: this is the saga's cheapest case.
 */
export function stepFunctionsSagaCost(participants: number, prices: PriceTable): SagaCost {
  checkParticipants(participants);
  const p = prices.unitPrices;
  const apiRequests = 1;
  const stateTransitions = participants + 3;
  const writeUnits = participants + 2;
  const cost = sumCost([
    line('API Gateway HTTP API requests', apiRequests, p.apiGatewayHttpRequest),
    line('Step Functions Standard state transitions', stateTransitions, p.stepFunctionsStateTransition),
    line('DynamoDB write request units', writeUnits, p.dynamodbWriteRequestUnit),
  ]);
  return {
    ...cost,
    participants,
    stateTransitions,
    writeUnits,
    apiRequests,
    assumptions: [
      'API Gateway HTTP API starts the execution by direct integration (StartExecution): 1 request, no Lambda.',
      `States entered: record the transfer (PutItem by direct SDK integration), one conditional UpdateItem per participant (${participants}), record the outcome, Succeed: N + 3 = ${stateTransitions} state transitions.`,
      `DynamoDB: N + 2 = ${writeUnits} plain (non-transactional) writes of items under 1 KB, 1 WRU each.`,
      'Happy path only, the cheapest case for the saga: a failure adds compensating steps (more transitions and writes), retries add transitions.',
      'The client learns the outcome by other means (not priced), as Standard executions are asynchronous.',
    ],
  };
}

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

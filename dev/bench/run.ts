import { randomUUID } from 'node:crypto';
import { cpus, release, totalmem, type } from 'node:os';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TandemApiError, type TandemClient } from '../../client';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { shardOf } from '../../shared/ledger/sharding';
import { METER_LOG_KEY, type MeterLine } from '../../shared/metering';
import { sleep } from '../chaos/stack';
import { type LocalDeployment, localApiClient } from '../deploy';
import { MINISTACK_VERSION } from '../emulator';
import { phasesOf, summarizePhases, type TimedView } from './phases';
import { summarize } from './stats';
import type {
  BenchResult,
  FunctionUsage,
  HopResult,
  HopSample,
  LoadedHop,
  Machine,
  RunResult,
  Usage,
  Workload,
} from './types';

export const WORKLOADS: readonly Workload[] = ['two-phase', 'one-phase', 'direct', 'direct-events', 'https'];

/** Workloads through the two-phase path, whose answers carry the record's times (phases.ts). */
const TWO_PHASE_WORKLOADS: ReadonlySet<Workload> = new Set(['two-phase', 'https']);

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

export const DEFAULT_BENCH_OPTIONS: Omit<BenchOptions, 'log'> = {
  workloads: WORKLOADS,
  concurrencies: [1, 8, 32],
  durationMs: 20_000,
  warmupPerClient: 2,
  hopChains: 10,
  hopsPerChain: 10,
  hopsAlongsideFrom: 2,
  quietMs: 8_000,
};

/** Handlers whose work is a fixed cost per minute, not per transfer (reported apart). */
const FIXED_COST_FUNCTIONS = new Set(['sweeper']);

/** The bench's hop function (functions/bench/hop.ts): never part of a workload's usage. */
const HOP_FUNCTION = 'hop';

/**
 * The rest between two chains timed alongside a run: a chain of 10 hops keeps one message in
 * flight for a fraction of a second, so the probe adds a small share of one client's load.
 */
const ALONGSIDE_REST_MS = 1_000;

/** Where hop chains run: the bench's table and hop queue. */
interface HopTarget {
  readonly table: string;
  readonly queueUrl: string;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
}

interface Outcome {
  readonly ok: boolean;
  readonly committed: boolean;
  /** The final answer's transaction view (Tandem's workloads). */
  readonly view?: TimedView;
}

/** Runs every workload at every concurrency, then the hop chains, against a `bench=on` deployment. */
export async function runBench(deployment: LocalDeployment, options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const { outputs } = deployment;
  if (!outputs.BenchTable || !outputs.BenchHopQueueUrl) {
    throw new Error('the deployment has no bench resources: deploy it with -c bench=on');
  }
  const aws = emulatorClientConfig(deployment);
  const logs = new CloudWatchLogsClient(aws);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws));
  const sqs = new SQSClient(aws);
  const shardCount = (outputs.LedgerShardTables ?? '').split(',').length;
  if (shardCount < 2) throw new Error('the bench transfers across ledger shards: deploy at least 2');

  // Start from a quiet stack: a redelivery or timer left over from earlier work (another test's
  // crash recovery, say) would otherwise be metered as part of the first workload.
  const protocolQueues = [
    outputs.CoordinatorQueueUrl,
    outputs.TimerQueueUrl,
    ...Object.values(JSON.parse(outputs.ParticipantQueues ?? '{}') as Record<string, string>),
  ].filter((url): url is string => typeof url === 'string' && url.length > 0);
  await waitDrained(sqs, protocolQueues, options.log);
  // … and no transaction still live: the sweeper re-drives any it finds, every minute, in any slot.
  await waitNoLiveTransactions(deployment, options.log);

  const clients = Math.max(...options.concurrencies);
  const api = localApiClient(deployment);
  const pairs = await createAccountPairs(api, clients, shardCount, options.log);
  const hops: HopTarget = { table: outputs.BenchTable, queueUrl: outputs.BenchHopQueueUrl, dynamo, sqs };
  const runs: RunResult[] = [];
  for (const workload of options.workloads) {
    for (const concurrency of options.concurrencies) {
      runs.push(await runOne(api, workload, concurrency, pairs, hops, options, logs));
    }
  }
  const hop = await runHops(hops, logs, options);
  const loadedHops: LoadedHop[] = [];
  for (const concurrency of options.concurrencies.filter((c) => c > 1)) {
    loadedHops.push(await runLoadedHops(hops, concurrency, options));
  }
  return { startedAt, machine: machine(), runs, hop, loadedHops, coldStarts: [] };
}

function machine(): Machine {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${type()} ${release()}`,
    emulator: `ministack ${MINISTACK_VERSION}`,
  };
}

interface AccountPair {
  readonly from: string;
  readonly to: string;
}

/** One account on shard 0 and one on shard 1 per client, so clients never contend with each other. */
async function createAccountPairs(
  api: TandemClient,
  count: number,
  shardCount: number,
  log: (line: string) => void,
): Promise<AccountPair[]> {
  const prefix = `bench-${Date.now().toString(36)}`;
  const onShard = (shard: number, client: number) => {
    for (let n = 0; ; n++) {
      const id = `${prefix}-${client}-${n}`;
      if (shardOf(id, shardCount) === shard) return id;
    }
  };
  const pairs = Array.from({ length: count }, (_, client) => ({
    from: onShard(0, client),
    to: onShard(1, client),
  }));
  log(`creating ${pairs.length * 2} accounts …`);
  for (const { from, to } of pairs) {
    for (const accountId of [from, to]) await api.createAccount({ accountId, initialBalance: 1_000_000_000 });
  }
  return pairs;
}

/** One transfer of `workload`, from the client's point of view: sent → outcome known. */
async function transfer(api: TandemClient, workload: Workload, pair: AccountPair): Promise<Outcome> {
  const body = { from: pair.from, to: pair.to, amount: 1 };
  if (workload === 'direct' || workload === 'direct-events') {
    // The bench stack's own route, outside the API's schema.
    const path = workload === 'direct' ? '/bench/direct-transfers' : '/bench/direct-transfers?announce=on';
    const answer = await api.send('POST', path, { body });
    return { ok: answer.status < 300, committed: answer.status === 201 };
  }
  const request = workload === 'two-phase' ? { ...body, commit: 'two-phase' as const } : body;
  try {
    const submitted =
      workload === 'https'
        ? await api.transaction(
            {
              commit: 'two-phase',
              operations: [
                { participant: 'ledger', action: 'debit', accountId: pair.from, amount: 1 },
                { participant: 'payments', action: 'charge', cardId: pair.from, amount: 1 },
              ],
            },
            { wait: 20 },
          )
        : await api.transfer(request, { wait: 20 });
    let view = submitted.status === 200 ? submitted.view : undefined;
    for (let round = 0; round < 10; round++) {
      if (view?.outcome !== undefined) return { ok: true, committed: view.outcome === 'COMMITTED', view };
      view = await api.getTransaction(submitted.txId, { wait: 20 });
    }
  } catch (error) {
    // An error answer is a failed transfer; a request that got no answer is for the caller to judge.
    if (!(error instanceof TandemApiError)) throw error;
  }
  return { ok: false, committed: false };
}

async function runOne(
  api: TandemClient,
  workload: Workload,
  concurrency: number,
  pairs: readonly AccountPair[],
  hops: HopTarget,
  options: BenchOptions,
  logs: CloudWatchLogsClient,
): Promise<RunResult> {
  const label = `${workload} ×${concurrency}`;
  const clients = pairs.slice(0, concurrency);
  const alongside = workload === 'two-phase' && concurrency >= options.hopsAlongsideFrom;
  // Warm up: start the functions, take the slot leases; then let the tail of the warm-up finish.
  await Promise.all(
    clients.map(async (pair) => {
      for (let i = 0; i < options.warmupPerClient; i++) await transfer(api, workload, pair);
    }),
  );
  if (alongside) await runChain(hops, options.hopsPerChain);
  await waitQuiet(logs, Date.now() - 1_000, options.quietMs);

  const startMs = Date.now();
  const endMs = startMs + options.durationMs;
  const hopsAlongside = alongside ? timeHopsUntil(hops, endMs, options.hopsPerChain) : undefined;
  // Awaited once the clients are done; a chain that fails before then must not count as unhandled.
  hopsAlongside?.catch(() => {});
  const samplesMs: number[] = [];
  const phases: Array<ReturnType<typeof phasesOf>> = [];
  let committed = 0;
  let aborted = 0;
  let failed = 0;
  const ticker = setInterval(() => {
    options.progress?.(label, Math.min(1, (Date.now() - startMs) / options.durationMs), committed);
  }, 250);
  try {
    await Promise.all(
      clients.map(async (pair) => {
        while (Date.now() < endMs) {
          const sentAt = performance.now();
          const sentAtMs = Date.now();
          let outcome: Outcome;
          try {
            outcome = await transfer(api, workload, pair);
          } catch {
            outcome = { ok: false, committed: false };
          }
          const latencyMs = performance.now() - sentAt;
          if (!outcome.ok) failed++;
          else if (outcome.committed) {
            committed++;
            samplesMs.push(latencyMs);
            if (TWO_PHASE_WORKLOADS.has(workload) && outcome.view)
              phases.push(phasesOf(outcome.view, sentAtMs, Date.now()));
          } else aborted++;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  const durationMs = Date.now() - startMs;
  const hopAlongside = await hopsAlongside;
  options.progress?.(label, 1, committed);
  const lines = await waitQuiet(logs, startMs, options.quietMs);
  // The hop chains timed alongside are the bench's, not the workload's.
  const usage = usageOf(lines.filter((line) => line.fn !== HOP_FUNCTION));
  options.log(
    `${label}: ${committed} committed, ${aborted} aborted, ${failed} failed in ${(durationMs / 1000).toFixed(1)} s`,
  );
  return {
    workload,
    concurrency,
    durationMs,
    committed,
    aborted,
    failed,
    throughputPerS: committed / (durationMs / 1000),
    latency: summarize(samplesMs),
    samplesMs: samplesMs.map((ms) => Math.round(ms * 10) / 10),
    usage,
    ...(TWO_PHASE_WORKLOADS.has(workload) ? { phases: summarizePhases(phases) } : {}),
    ...(hopAlongside ? { hopAlongside } : {}),
  };
}

/** Chains' per-hop times (each chain's time over its hop count) as a sample. */
function hopSampleOf(perHopMs: readonly number[], hopsPerChain: number): HopSample {
  return { chains: perHopMs.length, hopsPerChain, hopMs: summarize(perHopMs) };
}

/**
 * Times hop chains one after the other, resting between them, until `endMs`; each chain's time
 * over its hop count is one sample. A failed chain is reported, not hidden: it throws.
 */
async function timeHopsUntil(hops: HopTarget, endMs: number, hopsPerChain: number): Promise<HopSample> {
  const perHopMs: number[] = [];
  while (Date.now() < endMs) {
    // Polled slowly: the chain's time comes from its last item's timestamp, not from the poll.
    perHopMs.push((await runChain(hops, hopsPerChain, 100)) / hopsPerChain);
    await sleep(Math.min(ALONGSIDE_REST_MS, Math.max(0, endMs - Date.now())));
  }
  return hopSampleOf(perHopMs, hopsPerChain);
}

/** Sequential chains of hops through the bench's hop queue; each chain's time over its hop count. */
async function runHops(
  hopTarget: HopTarget,
  logs: CloudWatchLogsClient,
  options: BenchOptions,
): Promise<HopResult> {
  const { hopChains: chains, hopsPerChain: hops } = options;
  // One chain to start the function, not measured.
  await runChain(hopTarget, hops);
  await waitQuiet(logs, Date.now() - 1_000, 2_000);
  const startMs = Date.now();
  const perHopMs: number[] = [];
  for (let chain = 0; chain < chains; chain++) {
    perHopMs.push((await runChain(hopTarget, hops)) / hops);
    options.progress?.(`hop chains`, (chain + 1) / chains, chain + 1);
  }
  const usage = usageOf(await waitQuiet(logs, startMs, 2_000));
  const sample = hopSampleOf(perHopMs, hops);
  options.log(`hop: p50 ${sample.hopMs.p50.toFixed(1)} ms over ${chains} chains of ${hops}`);
  return { ...sample, usage };
}

/**
 * The hop at a load: `concurrency` chains at once, in rounds until at least `hopChains` chains
 * have run; each chain's time over its hop count is one sample.
 */
async function runLoadedHops(
  hopTarget: HopTarget,
  concurrency: number,
  options: BenchOptions,
): Promise<LoadedHop> {
  const { hopChains, hopsPerChain: hops } = options;
  const rounds = Math.max(1, Math.ceil(hopChains / concurrency));
  const perHopMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const chains = Array.from({ length: concurrency }, () => runChain(hopTarget, hops));
    for (const chainMs of await Promise.all(chains)) perHopMs.push(chainMs / hops);
    options.progress?.(`hop chains ×${concurrency}`, (round + 1) / rounds, perHopMs.length);
  }
  const sample = hopSampleOf(perHopMs, hops);
  options.log(
    `hop at ${concurrency} chains at once: p50 ${sample.hopMs.p50.toFixed(1)} ms over ${sample.chains} chains`,
  );
  return { concurrency, ...sample };
}

/**
 * Sends the first message of a chain and waits for its last hop's item (read every `pollMs`);
 * returns the chain's ms, to the time the last hop wrote.
 */
async function runChain(
  { table, queueUrl, dynamo, sqs }: HopTarget,
  hops: number,
  pollMs = 10,
): Promise<number> {
  const chainId = randomUUID();
  const startMs = Date.now();
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ chainId, hop: 1, hops }) }),
  );
  const deadline = startMs + 60_000;
  while (Date.now() < deadline) {
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: table, Key: { pk: `hop#${chainId}#${hops}` }, ConsistentRead: true }),
    );
    if (Item) return (Item.atMs as number) - startMs;
    await sleep(pollMs);
  }
  throw new Error(`hop chain ${chainId} did not finish within 60 s`);
}

/**
 * Waits until none of `queueUrls` holds a message (visible, in flight or delayed), at most 2 min
 * (a crashed invocation's message comes back after the 30 s visibility timeout).
 */
async function waitDrained(sqs: SQSClient, queueUrls: readonly string[], log: (line: string) => void) {
  const deadline = Date.now() + 120_000;
  const names = [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ] as const;
  let logged = false;
  while (Date.now() < deadline) {
    let held = 0;
    for (const QueueUrl of queueUrls) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [...names] }),
      );
      for (const name of names) held += Number(Attributes?.[name] ?? 0);
    }
    if (held === 0) return;
    if (!logged) log(`waiting for ${held} message(s) left in the protocol queues by earlier work`);
    logged = true;
    await sleep(1_000);
  }
  log('the protocol queues did not drain within 2 min; metering goes on (earlier work may be counted)');
}

/** An SDK client's settings for the emulator a deployment is on. */
function emulatorClientConfig(deployment: LocalDeployment) {
  return {
    endpoint: deployment.endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  };
}

/**
 * Waits (at most `boundMs`) until the deployment's Transactions table has no live transaction;
 * returns how many are still live.
 */
export async function waitNoLiveTransactions(
  deployment: LocalDeployment,
  log: (line: string) => void,
  boundMs = 120_000,
): Promise<number> {
  const { outputs } = deployment;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(emulatorClientConfig(deployment)));
  const txs = new DynamoTxStore(dynamo, outputs.TransactionsTable!, outputs.SlotsTable!);
  const deadline = Date.now() + boundMs;
  let live = 0;
  let logged = false;
  while (Date.now() < deadline) {
    ({ live } = await txs.due(Number.MAX_SAFE_INTEGER, 1));
    if (live === 0) return 0;
    if (!logged) log(`waiting for ${live} transaction(s) left live by earlier work`);
    logged = true;
    await sleep(2_000);
  }
  log(`transactions were still live after ${boundMs / 1000} s; going on (their steps may be counted)`);
  return live;
}

/**
 * Reads meter lines logged since `sinceMs` until none has arrived for `quietMs` (at most 2 min),
 * and returns them all.
 */
async function waitQuiet(logs: CloudWatchLogsClient, sinceMs: number, quietMs: number): Promise<MeterLine[]> {
  const deadline = Date.now() + 120_000;
  let lines = await meterLines(logs, sinceMs);
  let lastCount = lines.length;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    await sleep(1_000);
    lines = await meterLines(logs, sinceMs);
    if (lines.length !== lastCount) {
      lastCount = lines.length;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs) break;
  }
  return lines;
}

/** Most events one FilterLogEvents page returns (AWS and the emulator). */
const FILTER_PAGE_MAX = 10_000;

/** Every meter line in every log group since `sinceMs`. */
async function meterLines(logs: CloudWatchLogsClient, sinceMs: number): Promise<MeterLine[]> {
  const groups: string[] = [];
  let token: string | undefined;
  do {
    const page = await logs.send(new DescribeLogGroupsCommand({ nextToken: token }));
    for (const group of page.logGroups ?? []) if (group.logGroupName) groups.push(group.logGroupName);
    token = page.nextToken;
  } while (token);
  const lines: MeterLine[] = [];
  const untilMs = Date.now() + 1_000;
  for (const logGroupName of groups) {
    for (const message of await meterMessages(logs, logGroupName, sinceMs, untilMs)) {
      const line = parseMeterLine(message);
      if (line) lines.push(line);
    }
  }
  return lines;
}

/**
 * The meter messages of one log group between two instants (inclusive). Follows `nextToken`, and
 * where a page comes back full without one (the emulator caps a call at 10,000 events and has no
 * token), splits the time window in halves until every half fits — so no line is ever dropped.
 */
async function meterMessages(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const messages: string[] = [];
  let next: string | undefined;
  let tokens = 0;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        startTime: fromMs,
        endTime: toMs,
        filterPattern: `"${METER_LOG_KEY}"`,
        nextToken: next,
      }),
    );
    for (const event of page.events ?? []) messages.push(event.message ?? '');
    next = page.nextToken;
    if (next) tokens++;
  } while (next);
  if (tokens === 0 && messages.length >= FILTER_PAGE_MAX && toMs > fromMs) {
    const mid = Math.floor((fromMs + toMs) / 2);
    return [
      ...(await meterMessages(logs, logGroupName, fromMs, mid)),
      ...(await meterMessages(logs, logGroupName, mid + 1, toMs)),
    ];
  }
  return messages;
}

/** The meter line in a log message, raw or wrapped in Lambda's JSON log format; undefined if none. */
export function parseMeterLine(message: string): MeterLine | undefined {
  if (!message.includes(METER_LOG_KEY)) return undefined;
  const at = message.indexOf(`{"${METER_LOG_KEY}"`);
  if (at >= 0) {
    try {
      const parsed = JSON.parse(message.slice(at).trim()) as Record<string, unknown>;
      return parsed[METER_LOG_KEY] as MeterLine;
    } catch {
      return undefined;
    }
  }
  // Lambda's JSON log format carries the line, escaped, in `message`.
  try {
    const outer = JSON.parse(message) as { message?: unknown };
    return typeof outer.message === 'string' ? parseMeterLine(outer.message) : undefined;
  } catch {
    return undefined;
  }
}

/** Sums meter lines into a Usage; fixed-cost functions (the sweeper) are left out. */
export function usageOf(lines: readonly MeterLine[]): Usage {
  const requests: Record<string, number> = {};
  const unitsByRequest: Record<string, number> = {};
  const lambda: Record<string, FunctionUsage> = {};
  let readUnits = 0;
  let writeUnits = 0;
  let events = 0;
  for (const line of lines) {
    if (FIXED_COST_FUNCTIONS.has(line.fn)) continue;
    for (const [key, n] of Object.entries(line.requests)) requests[key] = (requests[key] ?? 0) + n;
    for (const [key, n] of Object.entries(line.units ?? {}))
      unitsByRequest[key] = (unitsByRequest[key] ?? 0) + n;
    readUnits += line.readUnits;
    writeUnits += line.writeUnits;
    events += line.events;
    const fn = lambda[line.fn] ?? { invocations: 0, billedMs: 0, memoryMb: line.memoryMb };
    lambda[line.fn] = {
      invocations: fn.invocations + 1,
      billedMs: fn.billedMs + line.billedMs,
      memoryMb: line.memoryMb,
    };
  }
  return { requests, unitsByRequest, readUnits, writeUnits, events, lambda };
}

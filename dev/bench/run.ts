import { cpus, release, totalmem, type } from 'node:os';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TandemClient } from '../../client';
import { type LocalDeployment, localApiClient } from '../deploy';
import { MINISTACK_VERSION } from '../emulator';
import { type AccountPair, createAccountPairs, type Outcome, transfer } from './api';
import { HOP_FUNCTION, type HopTarget, runChain, runHops, runLoadedHops, timeHopsUntil } from './hops';
import { waitQuiet } from './logs';
import { usageOf } from './meter-lines';
import { phasesOf, summarizePhases } from './phases';
import { emulatorClientConfig, waitDrained, waitNoLiveTransactions } from './stack';
import { summarize } from './stats';
import type { BenchOptions, BenchResult, LoadedHop, Machine, RunResult, Workload } from './types';
import { WORKLOAD_FACTS, WORKLOADS } from './workloads';

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
            if (WORKLOAD_FACTS[workload].twoPhase && outcome.view)
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
    ...(WORKLOAD_FACTS[workload].twoPhase ? { phases: summarizePhases(phases) } : {}),
    ...(hopAlongside ? { hopAlongside } : {}),
  };
}

/**
 * Hop chains through the bench's hop queue: the time of one SQS hop, the unit the two-phase
 * critical path is judged in, alone, at a load, and alongside a run.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { waitQuiet } from './logs';
import { usageOf } from './meter-lines';
import { summarize } from './stats';
import type { BenchOptions, HopResult, HopSample, LoadedHop } from './types';

/** The bench's hop function (functions/bench/hop.ts): never part of a workload's usage. */
export const HOP_FUNCTION = 'hop';

/**
 * The rest between two chains timed alongside a run: a chain of 10 hops keeps one message in
 * flight for a fraction of a second, so the probe adds a small share of one client's load.
 */
const ALONGSIDE_REST_MS = 1_000;

/** Where hop chains run: the bench's table and hop queue. */
export interface HopTarget {
  readonly table: string;
  readonly queueUrl: string;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
}

/** Chains' per-hop times (each chain's time over its hop count) as a sample. */
function hopSampleOf(perHopMs: readonly number[], hopsPerChain: number): HopSample {
  return { chains: perHopMs.length, hopsPerChain, hopMs: summarize(perHopMs) };
}

/**
 * Times hop chains one after the other, resting between them, until `endMs`; each chain's time
 * over its hop count is one sample. A failed chain is reported, not hidden: it throws.
 */
export async function timeHopsUntil(
  hops: HopTarget,
  endMs: number,
  hopsPerChain: number,
): Promise<HopSample> {
  const perHopMs: number[] = [];
  while (Date.now() < endMs) {
    // Polled slowly: the chain's time comes from its last item's timestamp, not from the poll.
    perHopMs.push((await runChain(hops, hopsPerChain, 100)) / hopsPerChain);
    await sleep(Math.min(ALONGSIDE_REST_MS, Math.max(0, endMs - Date.now())));
  }
  return hopSampleOf(perHopMs, hopsPerChain);
}

/** Sequential chains of hops through the bench's hop queue; each chain's time over its hop count. */
export async function runHops(
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
export async function runLoadedHops(
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
export async function runChain(
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

/**
 * The timed mode's profiles: how long each kind of port call and each hop takes, and the capacity
 * limits, for one platform. A profile is a MODEL: each figure is derived in docs/model.md (the
 * emulator's from bench/results/latest.md, AWS's from AWS's published figures, cited there).
 */
import type { Prng } from './prng';

/** The port calls the shells make, by the request they are on DynamoDB and SQS. */
export type CallKind = 'read' | 'write' | 'transact' | 'send' | 'sendFifo';

/**
 * A latency distribution: lognormal through its median and its 99th percentile — a body and a
 * tail. `p99Ms === p50Ms` is a constant.
 */
export interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface TimingProfile {
  readonly name: 'emulator' | 'aws';
  /** One port call, from the shell's await to its answer, on an idle service. */
  readonly calls: Readonly<Record<CallKind, Latency>>;
  /** A message visible on a standard queue → its handler starts (the poller's receive, the invoke). */
  readonly standardDelivery: Latency;
  /** A message sent to the FIFO queue → a coordinator invocation starts on its batch. */
  readonly fifoDelivery: Latency;
  /** A client's request sent → the API's handler starts. */
  readonly apiIn: Latency;
  /** The API's answer → the client has it (HTTP out); the API's re-reads before it are real calls. */
  readonly answer: Latency;
  /** Added to a function's invocation when it needs a new execution environment. */
  readonly coldStart: Latency;
  /**
   * SendMessage calls/s the coordinator's FIFO queue takes (its quota per API action); null: no
   * limit. A send over it waits its turn (the SDK's retries of a throttled call, as a queue).
   */
  readonly fifoSendsPerS: number | null;
  /**
   * Write units/s one DynamoDB partition takes; null: no limit. Each item is modelled as a
   * partition of its own (a hot item's limit); a write waits its turn at every item it writes
   * (the SDK's retries of a throttled write, as a queue). An item costs 1 unit, 2 in a transaction.
   */
  readonly partitionWritesPerS: number | null;
  /**
   * Most concurrent invocations of one function (reserved concurrency, or the account's): a
   * delivery to a queue's consumer at the limit waits. The account's quota over all functions is
   * not enforced; a run reports its peak (sim/model.ts ACCOUNT_CONCURRENCY).
   */
  readonly lambdaConcurrency: number;
  /**
   * One server every request queues for, one request at a time, each holding it for
   * 1000 / requestsPerS ms — the emulator is one process; null: none (AWS's services scale out).
   */
  readonly server: { readonly requestsPerS: number } | null;
  /** Requests a delivery costs the server: ReceiveMessage, DeleteMessage, Lambda:Invoke. */
  readonly requestsPerDelivery: number;
  /** Requests a client's request costs the server on the way in: the gateway, Lambda:Invoke. */
  readonly requestsPerApiCall: number;
  /** Requests the answer costs beside the API's re-reads (which are port calls of their own). */
  readonly requestsPerAnswer: number;
}

const Z99 = 2.326_347_874;

/** A draw from `latency`, in ms (at least 0), from `rng`'s next two floats (Box–Muller). */
export function drawMs(rng: Prng, latency: Latency): number {
  const u1 = rng.float();
  const u2 = rng.float();
  if (latency.p99Ms <= latency.p50Ms) return latency.p50Ms;
  const sigma = Math.log(latency.p99Ms / latency.p50Ms) / Z99;
  const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  return latency.p50Ms * Math.exp(sigma * z);
}

const ms = (p50Ms: number, p99Ms: number): Latency => ({ p50Ms, p99Ms });

/**
 * The emulator (ministack, one process on 2 cores), from bench/results/latest.md at 1 client: a
 * hop is 20 ms, most of it the poller; the entry step and the step medians fix the rest. Its
 * capacity, ~700 requests/s, is what the two-phase runs at 8 and 32 clients and the direct run at
 * 32 all reach (tx/s × requests per transfer). docs/model.md shows the arithmetic.
 */
export const EMULATOR: TimingProfile = {
  name: 'emulator',
  calls: { read: ms(1, 4), write: ms(1, 4), transact: ms(5, 20), send: ms(1, 4), sendFifo: ms(1, 4) },
  standardDelivery: ms(18, 32),
  fifoDelivery: ms(19, 60),
  apiIn: ms(1, 4),
  answer: ms(1, 4),
  coldStart: ms(0, 0),
  fifoSendsPerS: null,
  partitionWritesPerS: null,
  lambdaConcurrency: 1_000,
  server: { requestsPerS: 700 },
  requestsPerDelivery: 3,
  requestsPerApiCall: 2,
  requestsPerAnswer: 0,
};

/**
 * AWS, in one region, from AWS's published figures where it publishes them and labelled
 * assumptions where it does not (docs/model.md cites each).
 */
export const AWS: TimingProfile = {
  name: 'aws',
  calls: { read: ms(4, 12), write: ms(6, 20), transact: ms(12, 40), send: ms(8, 30), sendFifo: ms(8, 30) },
  standardDelivery: ms(30, 150),
  fifoDelivery: ms(30, 150),
  apiIn: ms(15, 60),
  answer: ms(10, 40),
  coldStart: ms(300, 900),
  // The default queue's 300/s is not applied: the aws rows assume a queue that takes the load
  // (high-throughput mode); AWS_DEFAULT_FIFO applies it.
  fifoSendsPerS: null,
  // Per partition, whatever the table's capacity (docs/model.md cites it).
  partitionWritesPerS: 1_000,
  lambdaConcurrency: 1_000,
  server: null,
  requestsPerDelivery: 3,
  requestsPerApiCall: 2,
  requestsPerAnswer: 0,
};

/** The aws profile with a default (not high-throughput) FIFO queue: 300 SendMessage calls/s. */
export const AWS_DEFAULT_FIFO: TimingProfile = { ...AWS, fifoSendsPerS: 300 };

/**
 * The aws profile with every execution environment warm (no cold start): a deployment that has
 * carried its load for a while. The short runs at thousands of transfers/s use it, so that their
 * few measured seconds are not the scale-up from cold.
 */
export const AWS_WARM: TimingProfile = { ...AWS, coldStart: ms(0, 0) };

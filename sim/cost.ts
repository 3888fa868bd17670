/**
 * What a model run would cost on AWS: its requests and invocations as a bench Usage, priced by the
 * bench's own cost model (dev/bench/cost.ts at bench/prices.json). The model counts requests, not
 * DynamoDB capacity: each read, write and transaction is charged the request units the bench
 * measured per request of its kind (bench/results/latest.json, `unitsByRequest`).
 */
import { costOf, parseRequestKey, perMillion } from '../dev/bench/cost';
import type { PriceTable } from '../dev/bench/prices';
import type { BenchResult, Usage } from '../dev/bench/types';
import type { ModelSummary } from './model';

type StoreCall = 'read' | 'write' | 'transact';

/** Request units per request of each kind of DynamoDB call the model makes. */
export type UnitsPerCall = Readonly<Record<StoreCall, number>>;

/** The model's call kind of each DynamoDB operation the bench meters. */
const CALL_OF_OPERATION: Readonly<Record<string, StoreCall>> = {
  GetItem: 'read',
  BatchGetItem: 'read',
  Query: 'read',
  PutItem: 'write',
  UpdateItem: 'write',
  DeleteItem: 'write',
  TransactWriteItems: 'transact',
};

/** The request a model call of each kind is on AWS. */
const REQUEST_OF_CALL: Readonly<Record<StoreCall, string>> = {
  read: 'DynamoDB:GetItem',
  write: 'DynamoDB:PutItem',
  transact: 'DynamoDB:TransactWriteItems',
};

/** Memory of a function the bench does not meter: NodeFunction's default (infra/constructs). */
const DEFAULT_MEMORY_MB = 512;

/** The bench's function of each kind of invocation, for its memory size. */
const BENCH_FUNCTION_OF: Readonly<Record<string, string>> = {
  api: 'api',
  coordinator: 'coordinator',
  participant: 'ledger-0',
};

/**
 * Request units per request of each call kind, over every run of `workload` in a bench result.
 * A kind the workload never made (one-phase makes no reads) takes `fallback`'s figure.
 */
export function benchUnitsPerCall(
  result: BenchResult,
  workload: string,
  fallback?: UnitsPerCall,
): UnitsPerCall {
  const requests: Record<StoreCall, number> = { read: 0, write: 0, transact: 0 };
  const units: Record<StoreCall, number> = { read: 0, write: 0, transact: 0 };
  for (const run of result.runs.filter((r) => String(r.workload) === workload)) {
    for (const [key, n] of Object.entries(run.usage.requests)) {
      const { service, operation } = parseRequestKey(key);
      const call = service === 'DynamoDB' ? CALL_OF_OPERATION[operation] : undefined;
      if (call === undefined) continue;
      requests[call] += n;
      units[call] += run.usage.unitsByRequest?.[key] ?? 0;
    }
  }
  const per = (call: StoreCall) => {
    if (requests[call] > 0) return units[call] / requests[call];
    if (fallback) return fallback[call];
    throw new Error(`the bench's ${workload} runs made no DynamoDB ${call} request to measure`);
  };
  return { read: per('read'), write: per('write'), transact: per('transact') };
}

/** Memory (MB) of each kind of function, as the bench's runs report it, else the default. */
export function benchMemoryMb(result: BenchResult): Readonly<Record<string, number>> {
  const memory: Record<string, number> = {};
  for (const [kind, fn] of Object.entries(BENCH_FUNCTION_OF)) {
    const metered = result.runs.find((r) => r.usage.lambda[fn])?.usage.lambda[fn];
    memory[kind] = metered?.memoryMb ?? DEFAULT_MEMORY_MB;
  }
  return memory;
}

/**
 * A model run's requests and invocations as a bench Usage: the API's requests are a gateway
 * request and an invoke; a poller's receive (`requestsPerDelivery` requests) a ReceiveMessage, a
 * DeleteMessageBatch and an invoke; a read, write or transaction its units. Lambda compute is the
 * time the model's invocations ran at each function's memory. No events out (the timed mode runs
 * without them).
 */
export function usageOf(
  summary: Pick<ModelSummary, 'requests' | 'invocations'>,
  units: UnitsPerCall,
  memoryMb: Readonly<Record<string, number>>,
  perCall: { readonly api: number; readonly delivery: number },
): Usage {
  const requests: Record<string, number> = {};
  const add = (key: string, n: number) => {
    requests[key] = (requests[key] ?? 0) + n;
  };
  let readUnits = 0;
  let writeUnits = 0;
  for (const [what, n] of Object.entries(summary.requests)) {
    switch (what) {
      case 'api':
        add('APIGateway:Request', n / perCall.api);
        add('Lambda:Invoke', n / perCall.api);
        break;
      case 'receive (standard)':
      case 'receive (FIFO)': {
        const queue = what === 'receive (FIFO)' ? 'SQS-FIFO' : 'SQS';
        add(`${queue}:ReceiveMessage`, n / perCall.delivery);
        add(`${queue}:DeleteMessageBatch`, n / perCall.delivery);
        add('Lambda:Invoke', n / perCall.delivery);
        break;
      }
      case 'send':
        add('SQS:SendMessage', n);
        break;
      case 'sendFifo':
        add('SQS-FIFO:SendMessage', n);
        break;
      case 'read':
      case 'write':
      case 'transact':
        add(REQUEST_OF_CALL[what], n);
        if (what === 'read') readUnits += n * units.read;
        else writeUnits += n * units[what];
        break;
      case 'answer':
        break;
      default:
        throw new Error(`no AWS request for the model's '${what}'`);
    }
  }
  const lambda = Object.fromEntries(
    Object.entries(summary.invocations).map(([kind, { count, ms }]) => [
      kind,
      { invocations: count, billedMs: ms, memoryMb: memoryMb[kind] ?? DEFAULT_MEMORY_MB },
    ]),
  );
  return { requests, readUnits, writeUnits, events: 0, lambda };
}

/** USD per million committed transfers of a model run, at `prices`. */
export function costPerMillion(
  summary: Pick<ModelSummary, 'requests' | 'invocations' | 'committedInRun'>,
  units: UnitsPerCall,
  memoryMb: Readonly<Record<string, number>>,
  perCall: { readonly api: number; readonly delivery: number },
  prices: PriceTable,
): number {
  const { total } = costOf(usageOf(summary, units, memoryMb, perCall), prices);
  return perMillion(total / summary.committedInRun);
}

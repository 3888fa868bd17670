import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareObj, Request } from '@middy/core';

/**
 * Request metering for the benchmark (`npm run bench`): counts every AWS request a handler makes,
 * by service and operation, the DynamoDB capacity units they consumed (ReturnConsumedCapacity),
 * and the requests Lambda makes on the handler's behalf (the SQS poller's receive and delete, the
 * invocation itself, the API Gateway request). At the end of each invocation one JSON log line
 * `{"tandemMeter": {...}}` carries the tally; the bench reads those lines from CloudWatch Logs,
 * which works the same on AWS and on the emulator.
 *
 * Off unless the deployment sets TANDEM_METER=on (deploy-time context `bench=on`): a production
 * stack pays nothing for it, not even the capacity figures in its responses.
 *
 * Not counted: the pollers' empty receives while a queue is idle (a fixed cost per queue, not
 * per transaction) and failed conditional writes' capacity (DynamoDB does not report it).
 */
export const METER_ENV = 'TANDEM_METER';
export const METER_LOG_KEY = 'tandemMeter';

const meteringOn = (env: NodeJS.ProcessEnv = process.env) => env[METER_ENV] === 'on';

/** One invocation's tally, as logged. */
export interface MeterLine {
  /** The function's short name (`api`, `coordinator`, `ledger-0`, …). */
  readonly fn: string;
  /** Handler time, rounded up to 1 ms as Lambda bills it. */
  readonly billedMs: number;
  readonly memoryMb: number;
  /** `<service>:<operation>` → requests (each SDK attempt counts: retries are billed too). */
  readonly requests: Readonly<Record<string, number>>;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** DynamoDB capacity units by request key (read units for reads, write units for writes). */
  readonly units: Readonly<Record<string, number>>;
  /** EventBridge entries put. */
  readonly events: number;
}

const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const CAPACITY_OPERATIONS = new Set([
  ...READ_OPERATIONS,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
/** The document client's command names → the DynamoDB operation they call. */
const DOCUMENT_COMMANDS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

export type MeteredService = 'DynamoDB' | 'SQS' | 'EventBridge';

interface CapacityLike {
  readonly CapacityUnits?: number;
}

export class Meter {
  private requests = new Map<string, number>();
  private units = new Map<string, number>();
  private readUnits = 0;
  private writeUnits = 0;
  private events = 0;
  private readonly labels = new AsyncLocalStorage<string>();

  /** Runs `fn` with its requests counted as `<operation> (<label>)`, e.g. the API's `(wait)` reads. */
  labelled<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return this.labels.run(label, fn);
  }

  count(key: string, n = 1): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + n);
  }

  /** Records one SDK command: `attempts` billed requests, and what its response says it consumed. */
  record(
    service: MeteredService,
    operation: string,
    input: Record<string, unknown>,
    output: unknown,
    attempts: number,
  ) {
    const label = this.labels.getStore();
    const queue = typeof input.QueueUrl === 'string' ? input.QueueUrl : '';
    const name = service === 'SQS' && queue.endsWith('.fifo') ? 'SQS-FIFO' : service;
    const key = `${name}:${operation}${label ? ` (${label})` : ''}`;
    this.count(key, attempts);
    if (service === 'EventBridge' && operation === 'PutEvents' && Array.isArray(input.Entries)) {
      this.events += input.Entries.length;
    }
    if (service !== 'DynamoDB' || output === null || typeof output !== 'object') return;
    const consumed = (output as { ConsumedCapacity?: CapacityLike | CapacityLike[] }).ConsumedCapacity;
    const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
      (sum, c) => sum + (c.CapacityUnits ?? 0),
      0,
    );
    this.units.set(key, (this.units.get(key) ?? 0) + units);
    if (READ_OPERATIONS.has(operation)) this.readUnits += units;
    else this.writeUnits += units;
  }

  /** The tally since the last `take`, and a fresh start. */
  take(fn: string, billedMs: number, memoryMb: number): MeterLine {
    const line: MeterLine = {
      fn,
      billedMs,
      memoryMb,
      requests: Object.fromEntries(this.requests),
      readUnits: this.readUnits,
      writeUnits: this.writeUnits,
      units: Object.fromEntries(this.units),
      events: this.events,
    };
    this.requests = new Map();
    this.units = new Map();
    this.readUnits = 0;
    this.writeUnits = 0;
    this.events = 0;
    return line;
  }
}

/** The process's meter: handlers and clients of one execution environment share it. */
export const METER = new Meter();

// The SDK's middleware types, reduced to what is used here (the clients' own generic types differ
// per client and would tie this module to one of them).
interface MiddlewareContext {
  readonly commandName?: string;
}
type Next = (args: { input: unknown }) => Promise<{ output: unknown }>;
interface Stackable {
  readonly middlewareStack: {
    add(middleware: (next: Next, context: MiddlewareContext) => Next, options: object): void;
  };
}

/**
 * Adds the metering middleware to an SDK client (when metering is on). It sits in the initialize
 * step, outside the retry loop, and counts `$metadata.attempts` so retried requests count as billed.
 */
export function instrument<C>(client: C, service: MeteredService, meter: Meter = METER): C {
  if (!meteringOn()) return client;
  (client as unknown as Stackable).middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const operation = DOCUMENT_COMMANDS[command] ?? command;
      const input = (args.input ?? {}) as Record<string, unknown>;
      if (service === 'DynamoDB' && CAPACITY_OPERATIONS.has(operation)) {
        input.ReturnConsumedCapacity ??= 'TOTAL';
      }
      try {
        const result = await next(args);
        meter.record(service, operation, input, result.output, attemptsOf(result.output));
        return result;
      } catch (error) {
        meter.record(service, operation, input, undefined, attemptsOf(error));
        throw error;
      }
    },
    { step: 'initialize', name: 'tandemMeter', override: true },
  );
  return client;
}

function attemptsOf(value: unknown): number {
  const attempts = (value as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 0 ? attempts : 1;
}

interface MeteredEvent {
  readonly Records?: ReadonlyArray<{ readonly eventSource?: string; readonly eventSourceARN?: string }>;
  readonly requestContext?: { readonly http?: unknown };
}

export interface MeteringOptions {
  readonly meter?: Meter;
  readonly write?: (line: string) => void;
  /** Counts the invocation as `Lambda:Invoke (<label>)`, e.g. the events function's `(events)`. */
  readonly label?: string;
}

/**
 * The Middy middleware that logs each invocation's tally, including the requests Lambda makes for
 * it: the invocation, the API Gateway request (HTTP events), and for an SQS batch the poller's one
 * ReceiveMessage and one DeleteMessageBatch (when any record succeeded). A DynamoDB stream's reads
 * by Lambda are free, so they are not counted. None when metering is off (an empty list to `use`).
 * Use it first, so that its time spans every other middleware's.
 */
export function metering(fn: string, options: MeteringOptions = {}): MiddlewareObj[] {
  if (!meteringOn()) return [];
  const meter = options.meter ?? METER;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const invoke = options.label ? `Lambda:Invoke (${options.label})` : 'Lambda:Invoke';
  const memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0);
  const startedMs = new WeakMap<object, number>();
  const tally = (request: Request) => {
    const started = startedMs.get(request) ?? performance.now();
    const billedMs = Math.max(1, Math.ceil(performance.now() - started));
    meter.count(invoke);
    const e = (request.event ?? {}) as MeteredEvent;
    if (e.requestContext?.http !== undefined) meter.count('APIGateway:Request');
    const records = e.Records ?? [];
    if (records.length > 0 && records[0]?.eventSource === 'aws:sqs') {
      const service = records[0].eventSourceARN?.endsWith('.fifo') ? 'SQS-FIFO' : 'SQS';
      meter.count(`${service}:ReceiveMessage (poller)`);
      const result = request.error ? undefined : request.response;
      const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
      if (result !== undefined && (failures?.length ?? 0) < records.length) {
        meter.count(`${service}:DeleteMessageBatch (poller)`);
      }
    }
    write(JSON.stringify({ [METER_LOG_KEY]: meter.take(fn, billedMs, memoryMb) }));
  };
  return [
    {
      before: (request) => void startedMs.set(request, performance.now()),
      after: tally,
      onError: tally,
    },
  ];
}

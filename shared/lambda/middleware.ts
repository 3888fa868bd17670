import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj, type MiddyfiedHandler } from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { metering } from '../metering';
import { createMetrics, flush } from '../observability';

/**
 * What every Tandem function does around its handler, as one Middy stack (`lambdaHandler`), so no
 * handler repeats it:
 *
 *   metering            the bench's `{"tandemMeter": …}` line (TANDEM_METER=on only; outermost,
 *                       so its billed time spans the rest)
 *   injectLambdaContext Powertools: request id, cold start, function name on every log line
 *   flushMetrics        the metrics recorded during the invocation, flushed after it or its error
 *   startPacing         the invocation's deadline, for waits on contention (InvocationPacing)
 *
 * Middy 6 (not 7, which needs Node 22: Tandem supports Node 20.19 too), with its early timeout off:
 * a handler runs until Lambda's own timeout, rather than Middy answering with a TimeoutError 5 ms
 * before it while the handler's work goes on in the background.
 */

/** One function's logger and metrics, under one service name (its metrics' `service` dimension). */
export interface Instruments {
  /** `api`, `coordinator`, `ledger-0`, `intake-orders`, …: also the meter line's `fn`. */
  readonly service: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function instruments(service: string): Instruments {
  return { service, logger: new FunctionLogger({ serviceName: service }), metrics: createMetrics(service) };
}

/**
 * Powertools' Logger, whose children (`createChild`: one per SQS record) report the invocation's
 * cold start as their parent did. Powertools' own child reads the cold start afresh from an
 * instance of its own, which answers `true` to its first read in an on-demand environment: every
 * record's log lines would claim a cold start.
 */
class FunctionLogger extends Logger {
  #coldStart = false;
  readonly #root: FunctionLogger | undefined;

  constructor(options: ConstructorOptions, root?: FunctionLogger) {
    super(options);
    this.#root = root;
  }

  protected override getColdStart(): boolean {
    if (this.#root) return this.#root.#coldStart;
    this.#coldStart = super.getColdStart();
    return this.#coldStart;
  }

  protected override createLogger(options: ConstructorOptions = {}): Logger {
    return new FunctionLogger(options, this.#root ?? this);
  }
}

/** Something that starts the invocation's deadline from the Lambda context (InvocationPacing). */
export interface DeadlineStart {
  start(context: { getRemainingTimeInMillis(): number }): void;
}

export interface LambdaHandlerOptions {
  /** Started at the top of each invocation. */
  readonly pacing?: DeadlineStart;
  /** The meter's label for the invocation (`Lambda:Invoke (<label>)`). */
  readonly meterLabel?: string;
}

/** A Lambda handler in Tandem's middleware stack. */
export function lambdaHandler<E, R>(
  instrumented: Instruments,
  handler: (event: E, context: Context) => Promise<R>,
  options: LambdaHandlerOptions = {},
): MiddyfiedHandler<E, R> {
  const { service, logger, metrics } = instrumented;
  const stack = middy<E, R>(handler, { timeoutEarlyInMillis: 0 })
    .use(metering(service, options.meterLabel ? { label: options.meterLabel } : {}))
    .use(injectLambdaContext(logger))
    .use(flushMetrics(metrics));
  return options.pacing ? stack.use(startPacing(options.pacing)) : stack;
}

/**
 * Flushes the metrics recorded during an invocation, after it and after its error. Not Powertools'
 * `logMetrics`: that one publishes on every invocation and warns "No application metrics to
 * publish" through the metrics' console whenever nothing was recorded — most invocations of a
 * participant; this one writes nothing then.
 */
function flushMetrics(metrics: Metrics): MiddlewareObj {
  const after = () => flush(metrics);
  return { after, onError: after };
}

function startPacing(pacing: DeadlineStart): MiddlewareObj {
  return { before: ({ context }) => pacing.start(context) };
}

/**
 * The handler of a standard SQS queue's batches: its records side by side, each failing alone
 * (Powertools' batch processor, partial batch responses).
 */
export function sqsBatchHandler(
  instrumented: Instruments,
  onRecord: (record: SQSRecord) => Promise<void>,
  options: LambdaHandlerOptions = {},
): MiddyfiedHandler<SQSEvent, SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return lambdaHandler(
    instrumented,
    (event: SQSEvent, context) => processPartialResponse(event, onRecord, processor, { context }),
    options,
  );
}

/** What a Usage costs at a price table, line by line, and which requests are the protocol's. */
import type { PriceTable } from './prices';
import type { Usage } from './types';

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

export function costLine(item: string, quantity: number, unitPrice: number): CostLine {
  return { item, quantity, unitPrice, cost: quantity * unitPrice };
}

export function sumCost(lines: readonly CostLine[]): Cost {
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
    costLine('API Gateway HTTP API requests', api, p.apiGatewayHttpRequest),
    costLine('Lambda requests', invocations, p.lambdaRequest),
    costLine('Lambda arm64 compute (GB-s)', gbSeconds, p.lambdaArm64GbSecond),
    costLine('SQS standard requests', sqs, p.sqsStandardRequest),
    costLine('SQS FIFO requests', fifo, p.sqsFifoRequest),
    costLine('DynamoDB write request units', usage.writeUnits, p.dynamodbWriteRequestUnit),
    costLine('DynamoDB read request units', usage.readUnits, p.dynamodbReadRequestUnit),
    costLine('EventBridge custom events', usage.events, p.eventBridgeCustomEvent),
  ];
  return sumCost(lines.filter((l) => l.quantity !== 0));
}

/** The cost of a million of something that costs `costForOne`. */
export const perMillion = (costForOne: number): number => costForOne * 1_000_000;

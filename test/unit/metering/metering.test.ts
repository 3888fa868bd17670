import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  instrument,
  METER_ENV,
  METER_LOG_KEY,
  Meter,
  type MeteringOptions,
  type MeterLine,
  metering,
} from '../../../shared/metering';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** `handler` with the metering middleware alone, as Tandem's stack puts it first. */
const metered = <R>(fn: string, handler: (event: unknown) => Promise<R>, options: MeteringOptions) =>
  middy(handler, { timeoutEarlyInMillis: 0 }).use(metering(fn, options));
const context = {} as Context;

/** Answers every request in the build step with `output` and records the inputs it saw. */
function fakeTransport<C extends { middlewareStack: { add: (...args: never[]) => void } }>(
  client: C,
  output: (input: Record<string, unknown>) => object,
  seen: Record<string, unknown>[],
): C {
  (client.middlewareStack as unknown as { add: (m: unknown, o: object) => void }).add(
    () => async (args: { input: Record<string, unknown> }) => {
      seen.push({ ...args.input });
      return { output: output(args.input) };
    },
    { step: 'build', name: 'fakeTransport' },
  );
  return client;
}

describe('request metering', () => {
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env[METER_ENV];
    process.env[METER_ENV] = 'on';
  });
  afterEach(() => {
    if (previous === undefined) delete process.env[METER_ENV];
    else process.env[METER_ENV] = previous;
  });

  it('counts DynamoDB requests by operation, asks for and sums their consumed capacity', async () => {
    const meter = new Meter();
    const seen: Record<string, unknown>[] = [];
    const base = fakeTransport(
      instrument(new DynamoDBClient({ region: 'us-east-1', credentials }), 'DynamoDB', meter),
      (input) =>
        'TransactItems' in input
          ? { $metadata: { attempts: 2 }, ConsumedCapacity: [{ CapacityUnits: 4 }, { CapacityUnits: 2 }] }
          : { $metadata: { attempts: 1 }, ConsumedCapacity: { CapacityUnits: 0.5 } },
      seen,
    );
    const client = DynamoDBDocumentClient.from(base);
    await client.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
    await client.send(
      new TransactWriteCommand({ TransactItems: [{ Put: { TableName: 't', Item: { pk: 'b' } } }] }),
    );

    expect(seen.map((input) => input.ReturnConsumedCapacity)).toEqual(['TOTAL', 'TOTAL']);
    const line = meter.take('api', 12, 512);
    expect(line.requests).toEqual({ 'DynamoDB:GetItem': 1, 'DynamoDB:TransactWriteItems': 2 });
    expect(line.readUnits).toBe(0.5);
    expect(line.writeUnits).toBe(6);
    expect(line.units).toEqual({ 'DynamoDB:GetItem': 0.5, 'DynamoDB:TransactWriteItems': 6 });
    expect(meter.take('api', 1, 512).requests).toEqual({});
  });

  it('tells FIFO from standard queues and labels requests made inside a labelled scope', async () => {
    const meter = new Meter();
    const sqs = fakeTransport(
      instrument(new SQSClient({ region: 'us-east-1', credentials, md5: false }), 'SQS', meter),
      () => ({ $metadata: {}, MessageId: 'm' }),
      [],
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: 'http://q/1/inbox.fifo', MessageBody: 'x' }));
    await meter.labelled('wait', () =>
      sqs.send(new SendMessageCommand({ QueueUrl: 'http://q/1/inbox', MessageBody: 'x' })),
    );
    expect(meter.take('x', 1, 1).requests).toEqual({
      'SQS-FIFO:SendMessage': 1,
      'SQS:SendMessage (wait)': 1,
    });
  });

  it('logs one line per invocation with the poller and invocation requests Lambda makes', async () => {
    const meter = new Meter();
    const lines: string[] = [];
    const handler = metered(
      'ledger-0',
      async (_event: unknown) => {
        meter.count('DynamoDB:TransactWriteItems');
        return { batchItemFailures: [] };
      },
      { meter, write: (line) => lines.push(line) },
    );
    const record = { eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:1:inbox' };
    await handler({ Records: [record, record] }, context);

    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '{}')[METER_LOG_KEY] as MeterLine;
    expect(line.fn).toBe('ledger-0');
    expect(line.billedMs).toBeGreaterThanOrEqual(1);
    expect(line.requests).toEqual({
      'DynamoDB:TransactWriteItems': 1,
      'Lambda:Invoke': 1,
      'SQS:ReceiveMessage (poller)': 1,
      'SQS:DeleteMessageBatch (poller)': 1,
    });
  });

  it('counts no delete when every record of the batch failed, and still logs when the handler throws', async () => {
    const meter = new Meter();
    const lines: string[] = [];
    const record = { eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:1:inbox.fifo' };
    const failing = metered('coordinator', async () => ({ batchItemFailures: [{}] }), {
      meter,
      write: (l) => lines.push(l),
    });
    await failing({ Records: [record] }, context);
    const throwing = metered(
      'api',
      async (): Promise<never> => {
        throw new Error('boom');
      },
      { meter, write: (l) => lines.push(l) },
    );
    await expect(throwing({ requestContext: { http: {} } }, context)).rejects.toThrow('boom');

    const [first, second] = lines.map((l) => JSON.parse(l)[METER_LOG_KEY] as MeterLine);
    expect(first?.requests).toEqual({ 'Lambda:Invoke': 1, 'SQS-FIFO:ReceiveMessage (poller)': 1 });
    expect(second?.requests).toEqual({ 'Lambda:Invoke': 1, 'APIGateway:Request': 1 });
  });

  it('labels the invocation of a function that only announces outcomes, and counts no poller requests for a stream', async () => {
    const meter = new Meter();
    const lines: string[] = [];
    const handler = metered('events', async () => ({ batchItemFailures: [] }), {
      meter,
      write: (l) => lines.push(l),
      label: 'events',
    });
    await handler(
      {
        Records: [
          { eventSource: 'aws:dynamodb', eventSourceARN: 'arn:aws:dynamodb:us-east-1:1:table/t/stream/s' },
        ],
      },
      context,
    );

    const line = JSON.parse(lines[0] ?? '{}')[METER_LOG_KEY] as MeterLine;
    expect(line.requests).toEqual({ 'Lambda:Invoke (events)': 1 });
  });

  it('changes nothing when metering is off', async () => {
    delete process.env[METER_ENV];
    expect(metering('api')).toEqual([]);
    const client = new SQSClient({ region: 'us-east-1', credentials });
    const before = client.middlewareStack.identify().length;
    instrument(client, 'SQS');
    expect(client.middlewareStack.identify().length).toBe(before);
  });
});

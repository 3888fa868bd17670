import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { protocolRecordHandler } from '../../../shared/adapters/sqs-records';
import { InfrastructureError, MalformedMessageError } from '../../../shared/errors';
import { createMetrics, METRIC } from '../../../shared/observability';
import { ProtocolAssertionError } from '../../../shared/protocol';

function record(body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: 'm1',
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  } as unknown as SQSRecord;
}

function setup(process: (message: { txId: string }) => Promise<void>) {
  const sent: Array<{ QueueUrl: string; MessageBody: string; error: string }> = [];
  const sqs = {
    send: async (command: {
      input: { QueueUrl: string; MessageBody: string; MessageAttributes: { error: { StringValue: string } } };
    }) => {
      sent.push({
        QueueUrl: command.input.QueueUrl,
        MessageBody: command.input.MessageBody,
        error: command.input.MessageAttributes.error.StringValue,
      });
      return {};
    },
  } as unknown as SQSClient;
  const metrics = createMetrics('test');
  const handle = protocolRecordHandler({
    sqs,
    dlqUrl: 'https://dlq',
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    parse: (body) => {
      if (!body.startsWith('{')) throw new MalformedMessageError('not JSON');
      return JSON.parse(body) as { txId: string };
    },
    process: (message) => process(message),
  });
  const count = (name: string) => (metrics.serializeMetrics() as unknown as Record<string, unknown>)[name];
  return { handle, sent, count };
}

describe('protocolRecordHandler', () => {
  it('moves a malformed message to the DLQ with the error attached, counted, without processing it', async () => {
    let processed = 0;
    const { handle, sent, count } = setup(async () => void processed++);
    await handle(record('garbage'));
    expect(processed).toBe(0);
    expect(sent).toEqual([
      { QueueUrl: 'https://dlq', MessageBody: 'garbage', error: 'MalformedMessageError: not JSON' },
    ]);
    expect(count(METRIC.dlqArrivals)).toBe(1);
  });

  it('moves a message that breaks a protocol assertion to the DLQ', async () => {
    const { handle, sent } = setup(async () => {
      throw new ProtocolAssertionError('commit after a NO vote');
    });
    await handle(record('{"txId":"t"}'));
    expect(sent.map((s) => s.error)).toEqual(['ProtocolAssertionError: commit after a NO vote']);
  });

  it('rethrows any other error so SQS retries just this record, and counts redeliveries', async () => {
    const { handle, sent, count } = setup(async () => {
      throw new InfrastructureError('throttled');
    });
    await expect(handle(record('{"txId":"t"}', 3))).rejects.toBeInstanceOf(InfrastructureError);
    expect(sent).toEqual([]);
    expect(count(METRIC.redeliveries)).toBe(1);
  });
});

describe('protocolRecordHandler logging', () => {
  it('logs with the transaction id as the correlation id while it processes a record', async () => {
    const lines: string[] = [];
    const logger = new Logger({ logLevel: 'INFO' });
    const write = (line: unknown) => void lines.push(String(line));
    // Powertools writes through its console; capture it.
    (logger as unknown as { console: { info: typeof write } }).console.info = write;
    const handle = protocolRecordHandler({
      sqs: {} as SQSClient,
      dlqUrl: 'https://dlq',
      logger,
      metrics: createMetrics('test'),
      parse: (body) => JSON.parse(body) as { txId: string },
      process: async () => logger.info('working'),
    });
    await handle(record('{"txId":"tx-42"}'));
    logger.info('after');
    const [during, after] = lines.map((l) => JSON.parse(l));
    expect(during).toMatchObject({ message: 'working', correlation_id: 'tx-42', txId: 'tx-42' });
    expect(after.correlation_id).toBeUndefined();
    expect(after.txId).toBeUndefined();
  });
});

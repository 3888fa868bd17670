import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { processFifoGroups, protocolRecordHandler } from '../../../shared/adapters/sqs-records';
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

function setup(process: (message: { txId: string }) => Promise<void>, maxReceiveCount?: number) {
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
    ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
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

describe('protocolRecordHandler at the receive limit', () => {
  it('moves a message that fails on its last receive to the DLQ with the error attached', async () => {
    const failing = async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'seat')");
    };
    const { handle, sent, count } = setup(failing, 5);
    await expect(handle(record('{"txId":"t"}', 4))).rejects.toBeInstanceOf(TypeError);
    expect(sent).toEqual([]);
    await handle(record('{"txId":"t"}', 5));
    expect(sent).toEqual([
      {
        QueueUrl: 'https://dlq',
        MessageBody: '{"txId":"t"}',
        error: "TypeError: Cannot read properties of undefined (reading 'seat')",
      },
    ]);
    expect(count(METRIC.dlqArrivals)).toBe(1);
  });
});

describe('protocolRecordHandler logging', () => {
  it('logs each record with its own transaction id as the correlation id, even when records interleave', async () => {
    // Powertools' dev mode writes through the global console; capture it.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const lines: string[] = [];
    const spy = vi
      .spyOn(console, 'info')
      .mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const logger = new Logger({ logLevel: 'INFO' });
      const gates = new Map<string, () => void>();
      const handle = protocolRecordHandler({
        sqs: {} as SQSClient,
        dlqUrl: 'https://dlq',
        logger,
        metrics: createMetrics('test'),
        parse: (body) => JSON.parse(body) as { txId: string },
        process: async ({ txId }, _receiveCount, log) => {
          log.info('start');
          await new Promise<void>((resolve) => gates.set(txId, resolve));
          log.info('end');
        },
      });
      // tx-a starts, tx-b starts, tx-b ends, tx-a ends: the two records' logs interleave.
      const a = handle(record('{"txId":"tx-a"}'));
      const b = handle(record('{"txId":"tx-b"}'));
      await vi.waitFor(() => expect(gates.size).toBe(2));
      gates.get('tx-b')?.();
      await b;
      gates.get('tx-a')?.();
      await a;
      logger.info('after');
      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.map((l) => [l.message, l.txId, l.correlation_id])).toEqual([
        ['start', 'tx-a', 'tx-a'],
        ['start', 'tx-b', 'tx-b'],
        ['end', 'tx-b', 'tx-b'],
        ['end', 'tx-a', 'tx-a'],
        ['after', undefined, undefined],
      ]);
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});

function fifoRecord(messageId: string, group: string): SQSRecord {
  return {
    messageId,
    body: messageId,
    eventSource: 'aws:sqs',
    attributes: { ApproximateReceiveCount: '1', MessageGroupId: group },
  } as unknown as SQSRecord;
}

describe('processFifoGroups', () => {
  const context = {} as Context;

  it('processes message groups side by side, each group in order', async () => {
    const events: string[] = [];
    const gates = new Map<string, () => void>();
    const onRecord = async ({ messageId }: SQSRecord) => {
      events.push(`start ${messageId}`);
      await new Promise<void>((resolve) => gates.set(messageId, resolve));
      events.push(`end ${messageId}`);
    };
    const batch = { Records: [fifoRecord('a1', 'A'), fifoRecord('a2', 'A'), fifoRecord('b1', 'B')] };
    const done = processFifoGroups(batch, onRecord, context);
    // a1 and b1 run at once; a2 waits for a1.
    await vi.waitFor(() => expect([...gates.keys()]).toEqual(['a1', 'b1']));
    gates.get('b1')?.();
    gates.get('a1')?.();
    await vi.waitFor(() => expect(gates.has('a2')).toBe(true));
    gates.get('a2')?.();
    expect(await done).toEqual({ batchItemFailures: [] });
    expect(events).toEqual(['start a1', 'start b1', 'end b1', 'end a1', 'start a2', 'end a2']);
  });

  it('stops a group at its first failure and reports the rest of that group; other groups go on', async () => {
    const processed: string[] = [];
    const onRecord = async ({ messageId }: SQSRecord) => {
      if (messageId === 'a2') throw new InfrastructureError('throttled');
      processed.push(messageId);
    };
    const batch = {
      Records: [
        fifoRecord('a1', 'A'),
        fifoRecord('b1', 'B'),
        fifoRecord('a2', 'A'),
        fifoRecord('b2', 'B'),
        fifoRecord('a3', 'A'),
      ],
    };
    const response = await processFifoGroups(batch, onRecord, context);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['a2', 'a3']);
    expect(processed.sort()).toEqual(['a1', 'b1', 'b2']);
  });

  it('reports every record of a batch that failed whole, instead of throwing', async () => {
    const onRecord = async () => {
      throw new InfrastructureError('throttled');
    };
    const batch = { Records: [fifoRecord('a1', 'A'), fifoRecord('b1', 'B')] };
    const response = await processFifoGroups(batch, onRecord, context);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a1', 'b1']);
  });
});

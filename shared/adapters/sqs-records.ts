import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MalformedMessageError } from '../errors';
import { METRIC, MetricUnit } from '../observability';
import { ProtocolAssertionError } from '../protocol';
import { sendToDeadLetterQueue } from './sqs-dlq';

export interface ProtocolRecordHandler<M extends { readonly txId: string }> {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The queue's receive limit (its redrive policy's maxReceiveCount): a message that fails on its
   * last receive is moved to the DLQ here, with its error attached, rather than by SQS without it.
   * Absent: SQS moves it.
   */
  readonly maxReceiveCount?: number;
  /** Parses the body; throws MalformedMessageError for a message that can never be processed. */
  parse(body: string): M;
  /**
   * Processes the message; throws to have SQS retry just this record. `log` is this record's
   * logger (the transaction id as `txId` and correlation id): records of one batch may be processed
   * concurrently, so nothing record-specific goes on the shared logger.
   */
  process(message: M, receiveCount: number, log: Logger): Promise<unknown>;
}

/**
 * The skeleton every protocol queue consumer shares: parse, log with the transaction id as the
 * correlation id (and as `txId`) on the record's own child logger, count redeliveries, process —
 * and move a poison message (malformed, or breaking a protocol assertion) straight to the DLQ,
 * counted, instead of retrying it until maxReceiveCount. Any other error is rethrown, so the batch
 * processor reports just this record as failed — until its last receive, when it goes to the DLQ
 * with that error attached.
 */
export function protocolRecordHandler<M extends { readonly txId: string }>(
  handler: ProtocolRecordHandler<M>,
): (record: SQSRecord) => Promise<void> {
  const { logger, metrics } = handler;
  const deadLetter = async (record: SQSRecord, error: Error, what: string, data: object, log = logger) => {
    log.error(`${what}; message moved to the DLQ`, { error, messageId: record.messageId, ...data });
    metrics.addMetric(METRIC.dlqArrivals, MetricUnit.Count, 1);
    await sendToDeadLetterQueue(handler.sqs, handler.dlqUrl, record, error);
  };
  return async (record) => {
    let message: M;
    try {
      message = handler.parse(record.body);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      return deadLetter(record, error, 'poison message', {});
    }
    const log = logger.createChild({ persistentKeys: { txId: message.txId, correlation_id: message.txId } });
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    try {
      if (receiveCount > 1) metrics.addMetric(METRIC.redeliveries, MetricUnit.Count, 1);
      await handler.process(message, receiveCount, log);
    } catch (error) {
      if (error instanceof ProtocolAssertionError)
        return deadLetter(record, error, 'protocol violation', { message }, log);
      const { maxReceiveCount } = handler;
      if (maxReceiveCount !== undefined && receiveCount >= maxReceiveCount && error instanceof Error) {
        return deadLetter(record, error, `failed on its last receive (${receiveCount})`, { message }, log);
      }
      throw error;
    }
  };
}

/**
 * Processes an SQS FIFO batch with its message groups side by side: each group's records in order
 * (Powertools' FIFO processor, stopping a group at its first failure and reporting the rest of the
 * group as failed), the groups concurrently. Order only holds within a group, and a batch from
 * Lambda's poller may hold many groups (for the coordinator, many slots), so processing them one
 * after another would make every slot in the batch wait for the others.
 */
export async function processFifoGroups(
  event: SQSEvent,
  onRecord: (record: SQSRecord) => Promise<void>,
  context: Context,
): Promise<SQSBatchResponse> {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of event.Records) {
    const group = record.attributes.MessageGroupId ?? '';
    const records = groups.get(group);
    if (records) records.push(record);
    else groups.set(group, [record]);
  }
  const responses = await Promise.all(
    [...groups.values()].map((Records) =>
      processPartialResponse({ Records }, onRecord, new SqsFifoPartialProcessorAsync(), {
        context,
        // One group failing whole is a partial failure of the batch, reported as such.
        throwOnFullBatchFailure: false,
      }),
    ),
  );
  return { batchItemFailures: responses.flatMap((response) => response.batchItemFailures) };
}

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MalformedMessageError } from '../errors';
import { METRIC, MetricUnit } from '../observability';
import { ProtocolAssertionError } from '../protocol';
import { sendToDeadLetterQueue } from './sqs-dlq';

export interface ProtocolRecordHandler<M extends { readonly txId: string }> {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Parses the body; throws MalformedMessageError for a message that can never be processed. */
  parse(body: string): M;
  /** Processes the message; throws to have SQS retry just this record. */
  process(message: M, receiveCount: number): Promise<unknown>;
}

/**
 * The skeleton every protocol queue consumer shares: parse, log with the transaction id as the
 * correlation id (and as `txId`),
 * count redeliveries, process — and move a poison message (malformed, or breaking a protocol
 * assertion) straight to the DLQ, counted, instead of retrying it until maxReceiveCount. Any other
 * error is rethrown, so the batch processor reports just this record as failed.
 */
export function protocolRecordHandler<M extends { readonly txId: string }>(
  handler: ProtocolRecordHandler<M>,
): (record: SQSRecord) => Promise<void> {
  const { logger, metrics } = handler;
  const deadLetter = async (record: SQSRecord, error: Error, what: string, data: object) => {
    logger.error(`${what}; message moved to the DLQ`, { error, messageId: record.messageId, ...data });
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
    logger.appendKeys({ txId: message.txId });
    logger.setCorrelationId(message.txId);
    try {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      if (receiveCount > 1) metrics.addMetric(METRIC.redeliveries, MetricUnit.Count, 1);
      await handler.process(message, receiveCount);
    } catch (error) {
      if (error instanceof ProtocolAssertionError)
        return deadLetter(record, error, 'protocol violation', { message });
      throw error;
    } finally {
      logger.removeKeys(['txId', 'correlation_id']);
    }
  };
}

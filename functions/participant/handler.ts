import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoFaultSource } from '../../shared/adapters/dynamo-faults';
import { DynamoParticipantStore } from '../../shared/adapters/dynamo-participant-store';
import { sendToDeadLetterQueue } from '../../shared/adapters/sqs-dlq';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { envInt, envString } from '../../shared/env';
import { ConfigurationError } from '../../shared/errors';
import { createMetrics, flush, METRIC, MetricUnit } from '../../shared/observability';
import { INVENTORY, LEDGER } from '../../shared/participant/kinds';
import {
  handleParticipantMessage,
  MalformedParticipantMessageError,
  parseParticipantMessage,
} from '../../shared/participant/shell';
import { ProtocolAssertionError } from '../../shared/protocol';

const kinds = { ledger: LEDGER, inventory: INVENTORY };
const kindName = envString(process.env, 'PARTICIPANT_KIND');
const kind = kinds[kindName as keyof typeof kinds];
if (!kind) throw new ConfigurationError(`PARTICIPANT_KIND must be one of ${Object.keys(kinds).join(', ')}`);
const participantId = envString(process.env, 'PARTICIPANT_ID');
const dlqUrl = envString(process.env, 'PARTICIPANT_DLQ_URL');
const logger = new Logger({ serviceName: `tandem-${participantId}` });
const clock = { nowMs: Date.now };
const dynamo = dynamoDocumentClient();
const sqs = sqsClient();
const store = new DynamoParticipantStore(
  dynamo,
  envString(process.env, 'PARTICIPANT_TABLE'),
  kind.entityKind,
);
const transport = new SqsTransport(
  sqs,
  {
    coordinatorQueueUrl: envString(process.env, 'COORDINATOR_QUEUE_URL'),
    slotCount: envInt(process.env, 'SLOT_COUNT', 1),
  },
  clock,
);
const replier = (sender: SqsTransport) => ({
  send: (reply: Parameters<SqsTransport['reply']>[0]) => sender.reply(reply),
});
const faultSource = new DynamoFaultSource(dynamo, process.env.FAULTS_TABLE, (error) =>
  logger.warn('could not count injected faults', { error }),
);
const metrics = createMetrics(participantId);
const processor = new BatchProcessor(EventType.SQS);

/** Moves a poison message to the DLQ, counted. */
async function deadLetter(record: SQSRecord, error: Error): Promise<void> {
  metrics.addMetric(METRIC.dlqArrivals, MetricUnit.Count, 1);
  await sendToDeadLetterQueue(sqs, dlqUrl, record, error);
}

async function onRecord(record: SQSRecord): Promise<void> {
  let message: ReturnType<typeof parseParticipantMessage>;
  try {
    message = parseParticipantMessage(record.body);
    if (message.participantId !== participantId) {
      throw new MalformedParticipantMessageError(
        `message for ${message.participantId} reached ${participantId}`,
      );
    }
  } catch (error) {
    if (!(error instanceof MalformedParticipantMessageError)) throw error;
    logger.error('poison message moved to the DLQ', { error, messageId: record.messageId });
    return deadLetter(record, error);
  }
  logger.appendKeys({ txId: message.txId });
  try {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    if (receiveCount > 1) metrics.addMetric(METRIC.redeliveries, MetricUnit.Count, 1);
    await faultSource.run(message.txId, receiveCount, (faults, hit) => {
      const sender = faults.duplicate ? transport.duplicating(hit) : transport;
      return handleParticipantMessage(message, { store, kind, clock, replies: replier(sender), faults });
    });
  } catch (error) {
    if (error instanceof ProtocolAssertionError) {
      logger.error('protocol violation; message moved to the DLQ', { error, message });
      return deadLetter(record, error);
    }
    throw error;
  } finally {
    logger.removeKeys(['txId']);
  }
}

export const handler = async (event: SQSEvent, context: Context) => {
  try {
    return await processPartialResponse(event, onRecord, processor, { context });
  } finally {
    flush(metrics);
  }
};

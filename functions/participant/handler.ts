import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoFaultSource } from '../../shared/adapters/dynamo-faults';
import { DynamoParticipantStore } from '../../shared/adapters/dynamo-participant-store';
import { protocolRecordHandler } from '../../shared/adapters/sqs-records';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { InvocationPacing } from '../../shared/backoff';
import { envInt, envString } from '../../shared/env';
import { ConfigurationError } from '../../shared/errors';
import { metered } from '../../shared/metering';
import { createMetrics, flush, recordContention } from '../../shared/observability';
import { INVENTORY, LEDGER } from '../../shared/participant/kinds';
import {
  handleParticipantMessage,
  MalformedParticipantMessageError,
  parseParticipantMessage,
} from '../../shared/participant/shell';

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
// Votes and acks are noted on the coordinator's records (RecordNote) when the Transactions table is
// named; without it the participant works as before, by its messages alone (set but blank fails).
const participantTable = envString(process.env, 'PARTICIPANT_TABLE');
const transactionsTable = process.env.TRANSACTIONS_TABLE?.trim();
const storeOver = (client: DynamoDBDocumentClient) =>
  new DynamoParticipantStore(client, participantTable, kind.entityKind, transactionsTable);
const store = storeOver(dynamo);
const transport = new SqsTransport(
  sqs,
  {
    coordinatorQueueUrl: envString(process.env, 'COORDINATOR_QUEUE_URL'),
    slotCount: envInt(process.env, 'SLOT_COUNT', 1),
  },
  clock,
);
const replier = (sender: SqsTransport) => ({
  send: (reply: Parameters<SqsTransport['reply']>[0], slot: number | undefined) => sender.reply(reply, slot),
});
const faultSource = new DynamoFaultSource(dynamo, process.env.FAULTS_TABLE, (error) =>
  logger.warn('could not count injected faults', { error }),
);
const metrics = createMetrics(participantId);
const processor = new BatchProcessor(EventType.SQS);
// Contention is waited out within what is left of each invocation.
const pacing = new InvocationPacing(clock);

const onRecord = protocolRecordHandler({
  sqs,
  dlqUrl,
  logger,
  metrics,
  parse: (body) => {
    const message = parseParticipantMessage(body);
    if (message.participantId !== participantId) {
      throw new MalformedParticipantMessageError(
        `message for ${message.participantId} reached ${participantId}`,
      );
    }
    return message;
  },
  process: (message, receiveCount, log) =>
    faultSource.run(message.txId, receiveCount, (faults, hit, conflicts) => {
      const sender = faults.duplicate ? transport.duplicating(hit) : transport;
      return handleParticipantMessage(message, {
        store: conflicts.storeAt('participant.write', store, storeOver),
        kind,
        clock,
        replies: replier(sender),
        faults,
        pacing,
        onContention: (error) => {
          recordContention(metrics, error.reason);
          log.debug('write refused by contention; retrying after a backoff', { reason: error.reason });
        },
      });
    }),
});

export const handler = metered(participantId, async (event: SQSEvent, context: Context) => {
  pacing.start(context);
  try {
    return await processPartialResponse(event, onRecord, processor, { context });
  } finally {
    flush(metrics);
  }
});

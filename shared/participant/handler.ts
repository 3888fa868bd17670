import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../adapters/aws-clients';
import { DynamoFaultSource } from '../adapters/dynamo-faults';
import { DynamoParticipantStore } from '../adapters/dynamo-participant-store';
import { SqsTransport } from '../adapters/sqs-transport';
import { InvocationPacing } from '../backoff';
import { envInt, envString } from '../env';
import { metered } from '../metering';
import { createMetrics, flush, recordContention } from '../observability';
import type { ParticipantDefinition } from './definition';
import { inboxRecordHandler } from './inbox';
import { participantKind } from './kinds';
import { handleParticipantMessage } from './shell';

/** A Lambda handler of a participant's inbox (SQS, partial batch responses). */
export type ParticipantLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The Lambda handler of a participant: give it the participant's definition and export it as
 * `handler`. It owns the protocol — the barrier written in the same TransactWriteItems as the
 * definition's writes (exactly once, whatever the duplicates and reordering), the vote or ack to
 * the coordinator (noted on the transaction record where it can reach it), partial batch failures,
 * the DLQ for messages it can never handle, logs and metrics.
 *
 * Its settings come from the environment the `Tandem` construct gives the function (read on the
 * first invocation, so importing this module — e.g. from a CDK app, for the schema — needs none):
 * PARTICIPANT_ID, PARTICIPANT_KIND, PARTICIPANT_TABLE, PARTICIPANT_DLQ_URL, COORDINATOR_QUEUE_URL,
 * SLOT_COUNT, MAX_RECEIVE_COUNT (the inbox's receive limit), and TRANSACTIONS_TABLE (notes;
 * optional) and FAULTS_TABLE (test deployments only).
 *
 * A message that throws anything but a protocol error is left for a retry, and after the queue's
 * receive limit lands in its DLQ; a message that can never be handled goes to the DLQ at once,
 * with the error attached.
 */
export function participantHandler(definition: ParticipantDefinition): ParticipantLambdaHandler {
  let wired: ParticipantLambdaHandler | undefined;
  return (event, context) => {
    wired ??= wire(definition, process.env);
    return wired(event, context);
  };
}

function wire(definition: ParticipantDefinition, env: NodeJS.ProcessEnv): ParticipantLambdaHandler {
  const participantId = envString(env, 'PARTICIPANT_ID');
  const kind = participantKind(envString(env, 'PARTICIPANT_KIND'), definition);
  const logger = new Logger({ serviceName: `tandem-${participantId}` });
  const clock = { nowMs: Date.now };
  const dynamo = dynamoDocumentClient();
  const sqs = sqsClient();
  // Votes and acks are noted on the coordinator's records (RecordNote) when the Transactions table
  // is named; without it the participant works by its messages alone (set but blank fails).
  const table = envString(env, 'PARTICIPANT_TABLE');
  const transactionsTable = env.TRANSACTIONS_TABLE?.trim();
  const storeOver = (client: DynamoDBDocumentClient) =>
    new DynamoParticipantStore(client, {
      table,
      definition,
      ...(transactionsTable !== undefined ? { transactionsTable } : {}),
    });
  const store = storeOver(dynamo);
  const transport = new SqsTransport(
    sqs,
    { coordinatorQueueUrl: envString(env, 'COORDINATOR_QUEUE_URL'), slotCount: envInt(env, 'SLOT_COUNT', 1) },
    clock,
  );
  const faultSource = new DynamoFaultSource(dynamo, env.FAULTS_TABLE, (error) =>
    logger.warn('could not count injected faults', { error }),
  );
  const metrics = createMetrics(participantId);
  const processor = new BatchProcessor(EventType.SQS);
  // Contention is waited out within what is left of each invocation.
  const pacing = new InvocationPacing(clock);

  const onRecord = inboxRecordHandler({
    participantId,
    env,
    sqs,
    logger,
    metrics,
    process: (message, receiveCount, log) =>
      faultSource.run(message.txId, receiveCount, (faults, hit, conflicts) => {
        const sender = faults.duplicate ? transport.duplicating(hit) : transport;
        return handleParticipantMessage(message, {
          store: conflicts.storeAt('participant.write', store, storeOver),
          kind,
          clock,
          replies: { send: (reply, slot) => sender.reply(reply, slot) },
          faults,
          pacing,
          onContention: (error) => {
            recordContention(metrics, error.reason);
            log.debug('write refused by contention; retrying after a backoff', { reason: error.reason });
          },
        });
      }),
  });

  return metered(participantId, async (event: SQSEvent, context: Context) => {
    pacing.start(context);
    try {
      return await processPartialResponse(event, onRecord, processor, { context });
    } finally {
      flush(metrics);
    }
  });
}

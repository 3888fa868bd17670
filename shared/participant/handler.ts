import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../adapters/aws-clients';
import { DynamoParticipantStore } from '../adapters/dynamo-participant-store';
import { SqsTransport } from '../adapters/sqs-transport';
import { InvocationPacing } from '../backoff';
import { envInt, envString } from '../env';
import { type Duplicating, type FaultRunner, faultRunner, senderFor } from '../lambda/faults';
import { type Instruments, instruments, sqsBatchHandler } from '../lambda/middleware';
import { recordContention, recordTerminal } from '../observability';
import type { Clock } from '../ports';
import type { ParticipantReply } from '../protocol';
import type { ParticipantDefinition } from './definition';
import { inboxRecordHandler } from './inbox';
import { participantKind } from './kinds';
import type { ParticipantStore } from './ports';
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
    if (!wired) {
      const participant = instruments(envString(process.env, 'PARTICIPANT_ID'));
      const ports = awsParticipantPorts(definition, process.env, participant);
      wired = wireParticipant(definition, process.env, ports, participant).handler;
    }
    return wired(event, context);
  };
}

/** What a participant talks to: DynamoDB and SQS in Lambda, in-memory stores in a unit test. */
export interface ParticipantPorts {
  readonly clock: Clock;
  readonly store: ParticipantStore;
  /** The same store over another client: one that cancels writes for a fault plan's conflicts. */
  readonly storeOver?: (client: DynamoDBDocumentClient) => ParticipantStore;
  /** Votes and acks to the coordinator. */
  readonly transport: ReplyTransport & Duplicating<ReplyTransport>;
  readonly faults: FaultRunner;
  /** Where a poison message goes (its DLQ). */
  readonly sqs: SQSClient;
}

export interface ReplyTransport {
  reply(reply: ParticipantReply, slot: number | undefined): Promise<void>;
}

/**
 * A participant's ports over the process's AWS clients, from PARTICIPANT_TABLE, TRANSACTIONS_TABLE,
 * COORDINATOR_QUEUE_URL, SLOT_COUNT and FAULTS_TABLE.
 */
function awsParticipantPorts(
  definition: ParticipantDefinition,
  env: NodeJS.ProcessEnv,
  { logger }: Instruments,
): ParticipantPorts {
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
  return {
    clock,
    store: storeOver(dynamo),
    storeOver,
    transport: new SqsTransport(
      sqs,
      {
        coordinatorQueueUrl: envString(env, 'COORDINATOR_QUEUE_URL'),
        slotCount: envInt(env, 'SLOT_COUNT', 1),
      },
      clock,
    ),
    faults: faultRunner(env, dynamo, logger),
    sqs,
  };
}

export interface ParticipantWiring {
  /** One record of the inbox: throws to have SQS retry just this record. */
  readonly onRecord: (record: SQSRecord) => Promise<void>;
  readonly handler: ParticipantLambdaHandler;
}

/**
 * A participant's inbox consumer, from PARTICIPANT_ID, PARTICIPANT_KIND, PARTICIPANT_DLQ_URL and
 * MAX_RECEIVE_COUNT in `env`, over `ports`.
 */
export function wireParticipant(
  definition: ParticipantDefinition,
  env: NodeJS.ProcessEnv,
  ports: ParticipantPorts,
  instrumented: Instruments,
): ParticipantWiring {
  const participantId = envString(env, 'PARTICIPANT_ID');
  const kind = participantKind(envString(env, 'PARTICIPANT_KIND'), definition);
  const { clock, store, transport, faults } = ports;
  const storeOver = ports.storeOver ?? (() => store);
  const { logger, metrics } = instrumented;
  // Contention is waited out within what is left of each invocation.
  const pacing = new InvocationPacing(clock);

  const onRecord = inboxRecordHandler({
    participantId,
    env,
    sqs: ports.sqs,
    logger,
    metrics,
    process: (message, receiveCount, log) =>
      faults.run(message.txId, receiveCount, (planned, hit, conflicts) => {
        const sender = senderFor(transport, planned, hit);
        return handleParticipantMessage(message, {
          store: conflicts.storeAt('participant.write', store, storeOver),
          kind,
          clock,
          replies: { send: (reply, slot) => sender.reply(reply, slot) },
          faults: planned,
          pacing,
          onContention: (error) => {
            recordContention(metrics, error.reason);
            log.debug('write refused by contention; retrying after a backoff', { reason: error.reason });
          },
          onEnded: (record) => {
            recordTerminal(metrics, record);
            log.info('transaction terminal', { state: record.state, reason: record.reason });
          },
          onNoteFailed: (error) =>
            log.warn('note on the transaction record failed; replying by message', { error }),
        });
      }),
  });
  return { onRecord, handler: sqsBatchHandler(instrumented, onRecord, { pacing }) };
}

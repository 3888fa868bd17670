import { randomUUID } from 'node:crypto';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoFaultSource } from '../../shared/adapters/dynamo-faults';
import { DynamoSlotStore } from '../../shared/adapters/dynamo-slots';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { sendToDeadLetterQueue } from '../../shared/adapters/sqs-dlq';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { LeaseManager } from '../../shared/coordinator/leases';
import { MalformedMessageError, parseCoordinatorInput } from '../../shared/coordinator/messages';
import { handleCoordinatorInput } from '../../shared/coordinator/shell';
import { envString } from '../../shared/env';
import { ProtocolAssertionError } from '../../shared/protocol';

const env = readCoordinatorEnv();
const dlqUrl = envString(process.env, 'COORDINATOR_DLQ_URL');
const logger = new Logger({ serviceName: 'tandem-coordinator' });
const clock = { nowMs: Date.now };
const dynamo = dynamoDocumentClient();
const sqs = sqsClient();
const txs = new DynamoTxStore(dynamo, env.transactionsTable, env.slotsTable);
// One owner id per execution environment: the lease (and its epoch) belong to this process.
const leases = new LeaseManager(
  new DynamoSlotStore(dynamo, env.slotsTable),
  `coordinator-${randomUUID()}`,
  clock,
  env.lease,
);
const transport = new SqsTransport(sqs, env, clock);
const faultSource = new DynamoFaultSource(dynamo, process.env.FAULTS_TABLE, (error) =>
  logger.warn('could not count injected faults', { error }),
);
const processor = new SqsFifoPartialProcessorAsync();

async function onRecord(record: SQSRecord): Promise<void> {
  let input: ReturnType<typeof parseCoordinatorInput>;
  try {
    input = parseCoordinatorInput(record.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    logger.error('poison message moved to the DLQ', { error, messageId: record.messageId });
    return sendToDeadLetterQueue(sqs, dlqUrl, record, error);
  }
  logger.appendKeys({ txId: input.txId });
  try {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const outcome = await faultSource.run(input.txId, receiveCount, (faults, hit) =>
      handleCoordinatorInput(input, {
        txs,
        leases,
        clock,
        transport: faults.duplicate ? transport.duplicating(hit) : transport,
        config: env.protocol,
        faults,
        onTerminal: (tx) => logger.info('transaction terminal', { state: tx.state, reason: tx.reason }),
        onEffectFailed: (effect, _tx, error) =>
          logger.warn('effect failed; recovery will re-drive it', { effect, error }),
      }),
    );
    logger.debug('input handled', { input: input.type, outcome: outcome.kind });
  } catch (error) {
    if (error instanceof ProtocolAssertionError) {
      logger.error('protocol violation; message moved to the DLQ', { error, input });
      return sendToDeadLetterQueue(sqs, dlqUrl, record, error);
    }
    throw error;
  } finally {
    logger.removeKeys(['txId']);
  }
}

export const handler = (event: SQSEvent, context: Context) =>
  processPartialResponse(event, onRecord, processor, { context, skipGroupOnError: true });

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoFaultSource } from '../../shared/adapters/dynamo-faults';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { MalformedMessageError, parseTimer } from '../../shared/coordinator/messages';
import { handleTimer } from '../../shared/coordinator/recovery';
import { metered } from '../../shared/metering';

const env = readCoordinatorEnv();
const logger = new Logger({ serviceName: 'tandem-timers' });
const clock = { nowMs: Date.now };
const txs = new DynamoTxStore(dynamoDocumentClient(), env.transactionsTable, env.slotsTable);
const forwarder = new SqsTransport(sqsClient(), env, clock);
const faultSource = new DynamoFaultSource(dynamoDocumentClient(), process.env.FAULTS_TABLE, (error) =>
  logger.warn('could not count injected faults', { error }),
);
const processor = new BatchProcessor(EventType.SQS);

async function onRecord(record: SQSRecord): Promise<void> {
  let timer: ReturnType<typeof parseTimer>;
  try {
    timer = parseTimer(record.body);
  } catch (error) {
    // A malformed timer can never become valid: drop it loudly (the sweeper covers every record).
    if (error instanceof MalformedMessageError) return logger.error('malformed timer dropped', { error });
    throw error;
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  const result = await faultSource.run(timer.txId, receiveCount, (faults, hit) =>
    handleTimer(timer, { txs, clock, forwarder: faults.duplicate ? forwarder.duplicating(hit) : forwarder }),
  );
  logger.debug('timer handled', { txId: timer.txId, result });
}

export const handler = metered('timers', (event: SQSEvent, context: Context) =>
  processPartialResponse(event, onRecord, processor, { context }),
);

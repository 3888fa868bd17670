import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../adapters/aws-clients';
import { DynamoTxStore } from '../adapters/dynamo-tx-store';
import { SqsTransport } from '../adapters/sqs-transport';
import type { CoordinatorEnv } from '../coordinator/config';
import { MalformedMessageError, parseTimer } from '../coordinator/messages';
import { type CheckForwarder, handleTimer, sweep } from '../coordinator/recovery';
import { METRIC, MetricUnit } from '../observability';
import type { Clock, TxStore } from '../ports';
import { type Duplicating, type FaultRunner, faultRunner, senderFor } from './faults';
import { type Instruments, lambdaHandler, sqsBatchHandler } from './middleware';

/** What the timers and the sweeper talk to: the Transactions table, and the queues checks go to. */
export interface RecoveryPorts {
  readonly clock: Clock;
  readonly txs: TxStore;
  readonly forwarder: CheckForwarder & Duplicating<CheckForwarder>;
  readonly faults: FaultRunner;
}

/**
 * What every coordinator-side function (coordinator, timers, sweeper) builds over the process's AWS
 * clients: the Transactions table, the transport to the queues, the fault plans.
 */
export function awsCoordinatorSide(settings: CoordinatorEnv, env: NodeJS.ProcessEnv, logger: Logger) {
  const clock = { nowMs: Date.now };
  const dynamo = dynamoDocumentClient();
  const sqs = sqsClient();
  const txsOver = (client: DynamoDBDocumentClient) =>
    new DynamoTxStore(client, settings.transactionsTable, settings.slotsTable);
  return {
    clock,
    dynamo,
    sqs,
    txs: txsOver(dynamo),
    txsOver,
    transport: new SqsTransport(sqs, settings, clock),
    faults: faultRunner(env, dynamo, logger),
  };
}

/** The recovery functions' ports over the process's AWS clients. */
export function awsRecoveryPorts(
  settings: CoordinatorEnv,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): RecoveryPorts {
  const { clock, txs, transport, faults } = awsCoordinatorSide(settings, env, logger);
  return { clock, txs, forwarder: transport, faults };
}

/** The timers function: a timer that fired forwards a Check to the coordinator if one is due. */
export function wireTimers(ports: RecoveryPorts, instrumented: Instruments) {
  const { txs, clock, forwarder, faults } = ports;
  const { logger } = instrumented;
  const onRecord = async (record: SQSRecord): Promise<void> => {
    let timer: ReturnType<typeof parseTimer>;
    try {
      timer = parseTimer(record.body);
    } catch (error) {
      // A malformed timer can never become valid: drop it loudly (the sweeper covers every record).
      if (error instanceof MalformedMessageError) return logger.error('malformed timer dropped', { error });
      throw error;
    }
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const result = await faults.run(timer.txId, receiveCount, (planned, hit) =>
      handleTimer(timer, { txs, clock, forwarder: senderFor(forwarder, planned, hit) }),
    );
    logger.debug('timer handled', { txId: timer.txId, result });
  };
  return { onRecord, handler: sqsBatchHandler(instrumented, onRecord) };
}

/** Most checks one sweep forwards (the most overdue first); the rest wait for the next minute. */
const SWEEP_LIMIT = 5_000;

/** The sweeper, on a schedule: re-drives every transaction whose next check time has passed. */
export function wireSweeper(ports: Omit<RecoveryPorts, 'faults'>, instrumented: Instruments) {
  const { logger, metrics } = instrumented;
  return lambdaHandler(instrumented, async (_event: unknown): Promise<void> => {
    const report = await sweep({ ...ports, limit: SWEEP_LIMIT, concurrency: 8 });
    if (report.checksForwarded > 0) logger.info('sweep re-drove transactions', { ...report });
    // Published every sweep (0 when nothing is overdue), so the in-doubt alarm sees fresh data.
    metrics.addMetric(METRIC.oldestInDoubtAge, MetricUnit.Milliseconds, report.oldestOverdueMs);
  });
}

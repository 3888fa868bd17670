import { Logger } from '@aws-lambda-powertools/logger';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { sweep } from '../../shared/coordinator/recovery';
import { metered } from '../../shared/metering';
import { createMetrics, flush, METRIC, MetricUnit } from '../../shared/observability';

const env = readCoordinatorEnv();
const logger = new Logger({ serviceName: 'tandem-sweeper' });
const clock = { nowMs: Date.now };
const txs = new DynamoTxStore(dynamoDocumentClient(), env.transactionsTable, env.slotsTable);
const forwarder = new SqsTransport(sqsClient(), env, clock);
const metrics = createMetrics('sweeper');
/** Most checks one sweep forwards (the most overdue first); the rest wait for the next minute. */
const SWEEP_LIMIT = 5_000;

/** Runs on a schedule: re-drives every transaction whose next check time has passed. */
export const handler = metered('sweeper', async (): Promise<void> => {
  const report = await sweep({
    txs,
    clock,
    forwarder,
    limit: SWEEP_LIMIT,
    concurrency: 8,
  });
  if (report.checksForwarded > 0) logger.info('sweep re-drove transactions', { ...report });
  // Published every sweep (0 when nothing is overdue), so the in-doubt alarm sees fresh data.
  metrics.addMetric(METRIC.oldestInDoubtAge, MetricUnit.Milliseconds, report.oldestOverdueMs);
  flush(metrics);
});

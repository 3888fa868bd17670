import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { DynamoFaultSource } from '../../shared/adapters/dynamo-faults';
import { DynamoSlotStore } from '../../shared/adapters/dynamo-slots';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { processFifoGroups, protocolRecordHandler } from '../../shared/adapters/sqs-records';
import { SqsTransport } from '../../shared/adapters/sqs-transport';
import { InvocationPacing } from '../../shared/backoff';
import { readCoordinatorEnv } from '../../shared/coordinator/config';
import { LeaseManager } from '../../shared/coordinator/leases';
import { parseCoordinatorInput } from '../../shared/coordinator/messages';
import { handleCoordinatorInput, RecordCache } from '../../shared/coordinator/shell';
import { envString } from '../../shared/env';
import { metered } from '../../shared/metering';
import {
  createMetrics,
  flush,
  METRIC,
  MetricUnit,
  recordContention,
  recordTerminal,
} from '../../shared/observability';

const env = readCoordinatorEnv();
const dlqUrl = envString(process.env, 'COORDINATOR_DLQ_URL');
const logger = new Logger({ serviceName: 'tandem-coordinator' });
const clock = { nowMs: Date.now };
const dynamo = dynamoDocumentClient();
const sqs = sqsClient();
const txsOver = (client: DynamoDBDocumentClient) =>
  new DynamoTxStore(client, env.transactionsTable, env.slotsTable);
const txs = txsOver(dynamo);
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
const metrics = createMetrics('coordinator');
// The records this environment wrote last: a vote arriving after the decision skips its read.
const cache = new RecordCache();
// Contention is waited out within what is left of each invocation.
const pacing = new InvocationPacing(clock);

const onRecord = protocolRecordHandler({
  sqs,
  dlqUrl,
  logger,
  metrics,
  parse: parseCoordinatorInput,
  process: async (input, receiveCount, log) => {
    const outcome = await faultSource.run(input.txId, receiveCount, (faults, hit, conflicts) =>
      handleCoordinatorInput(input, {
        txs: conflicts.storeAt('coordinator.save', txs, txsOver),
        leases,
        clock,
        transport: faults.duplicate ? transport.duplicating(hit) : transport,
        config: env.protocol,
        faults,
        redelivered: receiveCount > 1,
        cache,
        // The batch is held until this invocation's deadline (BatchHold); a zombie past it drops it.
        batch: { heldUntilMs: pacing.deadlineMs() },
        pacing,
        onContention: (error) => {
          recordContention(metrics, error.reason);
          log.debug('write refused by contention; retrying after a backoff', { reason: error.reason });
        },
        onTerminal: (tx) => {
          recordTerminal(metrics, tx);
          log.info('transaction terminal', { state: tx.state, reason: tx.reason });
        },
        onEffectFailed: (effect, _tx, error) => {
          metrics.addMetric(METRIC.effectFailures, MetricUnit.Count, 1);
          log.warn('effect failed; recovery will re-drive it', { effect, error });
        },
      }),
    );
    log.debug('input handled', { input: input.type, outcome: outcome.kind });
  },
});

export const handler = metered('coordinator', async (event: SQSEvent, context: Context) => {
  pacing.start(context);
  try {
    // Slots (message groups) side by side, each in order.
    return await processFifoGroups(event, onRecord, context);
  } finally {
    flush(metrics);
  }
});

import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoSlotStore } from '../adapters/dynamo-slots';
import { processFifoGroups, protocolRecordHandler } from '../adapters/sqs-records';
import { InvocationPacing } from '../backoff';
import { type CoordinatorEnv, readCoordinatorEnv } from '../coordinator/config';
import { LeaseManager } from '../coordinator/leases';
import { parseCoordinatorInput } from '../coordinator/messages';
import { type CoordinatorTransport, handleCoordinatorInput, RecordCache } from '../coordinator/shell';
import { envString } from '../env';
import { METRIC, MetricUnit, recordContention, recordTerminal } from '../observability';
import type { Clock, SlotStore, TxStore } from '../ports';
import { type Duplicating, type FaultRunner, senderFor } from './faults';
import { type Instruments, lambdaHandler } from './middleware';
import { awsCoordinatorSide } from './recovery';

/** The coordinator's settings: the coordinator-side environment and its DLQ (COORDINATOR_DLQ_URL). */
export interface CoordinatorSettings extends CoordinatorEnv {
  readonly dlqUrl: string;
}

export function readCoordinatorSettings(env: NodeJS.ProcessEnv): CoordinatorSettings {
  return { ...readCoordinatorEnv(env), dlqUrl: envString(env, 'COORDINATOR_DLQ_URL') };
}

/** What the coordinator talks to: DynamoDB and SQS in Lambda, in-memory stores in a unit test. */
export interface CoordinatorPorts {
  readonly clock: Clock;
  readonly txs: TxStore;
  /** The same store over another client: one that cancels writes for a fault plan's conflicts. */
  readonly txsOver?: (client: DynamoDBDocumentClient) => TxStore;
  readonly slots: SlotStore;
  readonly transport: CoordinatorTransport & Duplicating<CoordinatorTransport>;
  readonly faults: FaultRunner;
  /** Where a poison message goes (its DLQ). */
  readonly sqs: SQSClient;
}

/** The coordinator's ports over the process's AWS clients. */
export function awsCoordinatorPorts(
  settings: CoordinatorSettings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): CoordinatorPorts {
  const side = awsCoordinatorSide(settings, env, logger);
  return { ...side, slots: new DynamoSlotStore(side.dynamo, settings.slotsTable) };
}

export interface CoordinatorWiring {
  /** One record of the coordinator's queue: throws to have SQS retry just this record. */
  readonly onRecord: (record: SQSRecord) => Promise<void>;
  readonly handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
}

/** The coordinator function: its FIFO queue's batches, slot by slot, each slot's inputs in order. */
export function wireCoordinator(
  settings: CoordinatorSettings,
  ports: CoordinatorPorts,
  instrumented: Instruments,
): CoordinatorWiring {
  const { clock, txs, transport, faults } = ports;
  const { logger, metrics } = instrumented;
  const txsOver = ports.txsOver ?? (() => txs);
  // One owner id per execution environment: the lease (and its epoch) belong to this process.
  const leases = new LeaseManager(ports.slots, `coordinator-${randomUUID()}`, clock, settings.lease);
  // The records this environment wrote last: a vote arriving after the decision skips its read.
  const cache = new RecordCache();
  // Contention is waited out within what is left of each invocation.
  const pacing = new InvocationPacing(clock);

  const onRecord = protocolRecordHandler({
    sqs: ports.sqs,
    dlqUrl: settings.dlqUrl,
    logger,
    metrics,
    parse: parseCoordinatorInput,
    process: async (input, receiveCount, log) => {
      const outcome = await faults.run(input.txId, receiveCount, (planned, hit, conflicts) =>
        handleCoordinatorInput(input, {
          txs: conflicts.storeAt('coordinator.save', txs, txsOver),
          leases,
          clock,
          transport: senderFor(transport, planned, hit),
          config: settings.protocol,
          faults: planned,
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

  const handler = lambdaHandler(
    instrumented,
    // Slots (message groups) side by side, each in order.
    (event: SQSEvent, context: Context) => processFifoGroups(event, onRecord, context),
    { pacing },
  );
  return { onRecord, handler };
}

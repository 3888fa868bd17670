import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sqsClient } from '../adapters/aws-clients';
import { sendToDeadLetterQueue } from '../adapters/sqs-dlq';
import { processFifoGroups } from '../adapters/sqs-records';
import { InvocationPacing } from '../backoff';
import { readApiConfig } from '../config';
import { envInt, envString } from '../env';
import { ConfigurationError } from '../errors';
import { instruments, lambdaHandler } from '../lambda/middleware';
import { observedProducer } from '../lambda/producer';
import { METRIC, MetricUnit } from '../observability';
import { wireProducer } from '../producer';
import {
  type EventMapping,
  type IntakeKind,
  type IntakeSettings,
  intakeRecordHandler,
  KEY_FIELD,
} from './intake';

/** A Lambda handler of an intake's queue (SQS, partial batch responses). */
export type IntakeLambdaHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The Lambda handler of an intake: Tandem's own intake function (no mapping: an event's `detail`,
 * or a queue message's body, is the request), or a team's event intake (`eventIntakeHandler`).
 * Settings come from the environment the `Tandem` construct gives the function, read on the first
 * invocation: the producer's (as the API's: TANDEM_PARTICIPANTS, TRANSACTIONS_TABLE, …) and
 * INTAKE_ID, INTAKE_KIND (`events` | `queue`), INTAKE_KEY_FIELD (optional), INTAKE_DLQ_URL and
 * MAX_RECEIVE_COUNT.
 */
export function intakeLambdaHandler(map?: EventMapping): IntakeLambdaHandler {
  let wired: IntakeLambdaHandler | undefined;
  return (event, context) => {
    wired ??= wire(process.env, map);
    return wired(event, context);
  };
}

/** The intake's own settings from the environment. */
export function readIntakeSettings(env: NodeJS.ProcessEnv): IntakeSettings {
  const kind = envString(env, 'INTAKE_KIND');
  if (kind !== 'events' && kind !== 'queue') {
    throw new ConfigurationError(`INTAKE_KIND must be 'events' or 'queue', got '${kind}'`);
  }
  const keyField = env.INTAKE_KEY_FIELD?.trim();
  if (keyField !== undefined && keyField !== '' && !KEY_FIELD.test(keyField)) {
    throw new ConfigurationError(`INTAKE_KEY_FIELD '${keyField}' is not a dotted field path`);
  }
  return {
    id: envString(env, 'INTAKE_ID'),
    kind: kind as IntakeKind,
    ...(keyField ? { keyField } : {}),
  };
}

function wire(env: NodeJS.ProcessEnv, map: EventMapping | undefined): IntakeLambdaHandler {
  const settings = readIntakeSettings(env);
  if (map && settings.kind !== 'events') {
    throw new ConfigurationError(
      `intake '${settings.id}' is a requests queue, whose messages are requests already: a mapping (eventIntakeHandler) is for an event intake`,
    );
  }
  const dlqUrl = envString(env, 'INTAKE_DLQ_URL');
  const maxReceiveCount = envInt(env, 'MAX_RECEIVE_COUNT', 1, 1000);
  const intake = instruments(`intake-${settings.id}`);
  const { logger, metrics } = intake;
  const clock = { nowMs: Date.now };
  // Contention on the record's create or the one-phase commit is waited out within the invocation.
  const pacing = new InvocationPacing(clock);
  const { registry, transactions } = wireProducer(readApiConfig(env), observedProducer(intake, pacing));
  const sqs = sqsClient();
  const onRecord = intakeRecordHandler(settings, {
    registry,
    submit: (request) => transactions.submit(request),
    maxReceiveCount,
    ...(map ? { map } : {}),
    deadLetter: (record, error, attributes) => sendToDeadLetterQueue(sqs, dlqUrl, record, error, attributes),
    onResult: (result) => {
      switch (result.kind) {
        case 'submitted':
          logger.info(result.replayed ? 'request already started' : 'transaction started', result);
          return;
        case 'dead-lettered':
          metrics.addMetric(METRIC.dlqArrivals, MetricUnit.Count, 1);
          logger.error('request refused; message moved to the DLQ', result);
          return;
        case 'retry':
          logger.warn('request failed; the message will be retried', result);
          return;
      }
    },
  });
  const processor = new BatchProcessor(EventType.SQS);
  return lambdaHandler(
    intake,
    (event: SQSEvent, context: Context) =>
      // A FIFO requests queue: each message group in order, the groups side by side.
      event.Records.some((r) => r.attributes.MessageGroupId !== undefined)
        ? processFifoGroups(event, onRecord, context)
        : processPartialResponse(event, onRecord, processor, { context, throwOnFullBatchFailure: false }),
    { pacing },
  );
}

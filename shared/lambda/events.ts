import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import { publishOutcomes } from '../adapters/outcome-stream';
import { envString } from '../env';
import { instrument } from '../metering';
import { type Instruments, lambdaHandler } from './middleware';

/**
 * Events out: the transactions table's stream → the bus (EVENT_BUS_NAME). Not Powertools'
 * BatchProcessor, which handles a batch record by record: here one PutEvents carries up to 10
 * outcomes.
 */
export function wireEvents(env: NodeJS.ProcessEnv, instrumented: Instruments) {
  const { logger } = instrumented;
  const publisher = new EventBridgePublisher(
    instrument(new EventBridgeClient({}), 'EventBridge'),
    envString(env, 'EVENT_BUS_NAME'),
  );
  return lambdaHandler(
    instrumented,
    (event: DynamoDBStreamEvent) =>
      publishOutcomes(event.Records, publisher, {
        onFailure: (failure) => logger.error('outcome not announced; the batch is retried', { ...failure }),
        onPublished: (count) => logger.debug('outcomes published', { count }),
      }),
    { meterLabel: 'events' },
  );
}

import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../../shared/adapters/eventbridge-publisher';
import { publishOutcomes } from '../../shared/adapters/outcome-stream';
import { envString } from '../../shared/env';
import { instrument, metered } from '../../shared/metering';

const logger = new Logger({ serviceName: 'tandem-events' });
const publisher = new EventBridgePublisher(
  instrument(new EventBridgeClient({}), 'EventBridge'),
  envString(process.env, 'EVENT_BUS_NAME'),
);

/**
 * Events out: the transactions table's stream → the bus. Not Powertools' BatchProcessor, which
 * handles a batch record by record: here one PutEvents carries up to 10 outcomes.
 */
export const handler = metered(
  'events',
  (event: DynamoDBStreamEvent) =>
    publishOutcomes(event.Records, publisher, {
      onFailure: (failure) => logger.error('outcome not announced; the batch is retried', { ...failure }),
      onPublished: (count) => logger.debug('outcomes published', { count }),
    }),
  { label: 'events' },
);

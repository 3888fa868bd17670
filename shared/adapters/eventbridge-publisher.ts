import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InfrastructureError } from '../errors';
import { detailTypeOf, EVENT_SOURCE, type EventPublisher, type TransactionEvent } from '../events';
import { METER } from '../metering';

/**
 * Publishes transaction events to one EventBridge bus. The request meter counts the publication
 * apart (`(events)`), like the store's markPublished write.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  publish(event: TransactionEvent): Promise<void> {
    return METER.labelled('events', () => this.put(event));
  }

  private async put(event: TransactionEvent): Promise<void> {
    let failed: number | undefined;
    try {
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.busName,
              Source: EVENT_SOURCE,
              DetailType: detailTypeOf(event.outcome),
              Detail: JSON.stringify(event),
              Resources: [],
            },
          ],
        }),
      );
      failed = result.FailedEntryCount;
    } catch (error) {
      throw new InfrastructureError(`could not publish ${event.eventId}`, { cause: error });
    }
    if (failed) throw new InfrastructureError(`EventBridge refused ${event.eventId}`);
  }
}

import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import {
  type BusEvent,
  CONSOLE_EVENT_SOURCE,
  detailTypeOf,
  EVENT_SOURCE,
  type EventPublisher,
  type PublishFailure,
} from '../events';
import { METER } from '../metering';

/** PutEvents takes at most 10 entries a request (and 256 KB; an event here is well under 2 KB). */
const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * Publishes transaction events (and the console's actions) to one EventBridge bus, up to 10 a request, the requests side by
 * side. EventBridge bills each entry, not each request, so batching saves requests and time, not
 * money. An entry EventBridge refuses, or every entry of a request that failed, comes back as a
 * failure; the rest were put. The request meter counts the publication apart (`(events)`).
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly BusEvent[]): Promise<readonly PublishFailure[]> {
    const chunks: BusEvent[][] = [];
    for (let at = 0; at < events.length; at += PUT_EVENTS_MAX_ENTRIES) {
      chunks.push(events.slice(at, at + PUT_EVENTS_MAX_ENTRIES));
    }
    const failures = await Promise.all(
      chunks.map((chunk) => METER.labelled('events', () => this.put(chunk))),
    );
    return failures.flat();
  }

  private async put(chunk: readonly BusEvent[]): Promise<PublishFailure[]> {
    try {
      const result = await this.client.send(
        new PutEventsCommand({ Entries: chunk.map((e) => this.entryOf(e)) }),
      );
      if (!result.FailedEntryCount) return [];
      // Entries answer the request's entries in order; an entry with an ErrorCode was not put.
      return chunk.flatMap((event, index) => {
        const entry = result.Entries?.[index];
        if (entry && !entry.ErrorCode) return [];
        const reason = entry ? `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`.trim() : 'no result entry';
        return [{ eventId: event.eventId, reason: `EventBridge refused it (${reason})` }];
      });
    } catch (error) {
      const reason = `PutEvents failed: ${error instanceof Error ? error.message : String(error)}`;
      return chunk.map((event) => ({ eventId: event.eventId, reason }));
    }
  }

  private entryOf(event: BusEvent): PutEventsRequestEntry {
    if ('detailType' in event) {
      const { detailType, ...detail } = event;
      return {
        EventBusName: this.busName,
        Source: CONSOLE_EVENT_SOURCE,
        DetailType: detailType,
        Detail: JSON.stringify(detail),
        Resources: [],
      };
    }
    return {
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: detailTypeOf(event.outcome),
      Detail: JSON.stringify(event),
      Resources: [],
    };
  }
}

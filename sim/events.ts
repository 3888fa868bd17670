import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { txItemOf } from '../shared/adapters/dynamo-tx-store';
import { publishOutcomes } from '../shared/adapters/outcome-stream';
import type { EventPublisher, PublishFailure } from '../shared/events';
import type { TxRecord } from '../shared/protocol';
import type { InvariantChecker } from './checker';
import type { Invocation, Node, SimCore } from './core';
import type { Runtime } from './runtime';

/** Most time between two polls of the table's stream by the events function's event source. */
const STREAM_POLL_MS = 500;

/**
 * Events out: the transactions table's stream (every change of a record, in write order, one
 * shard), the events function's event source polling it from its checkpoint, and the function
 * (the REAL publishOutcomes) putting each terminal outcome on the bus.
 */
export class EventsOut {
  private readonly stream: DynamoDBRecord[] = [];
  /** How far the event source has checkpointed the stream. */
  private streamCheckpoint = 0;
  private streamBusy = false;
  private streamPollDue = false;
  private eventsNode: Node | undefined;

  constructor(
    private readonly core: SimCore,
    private readonly runtime: Runtime,
    private readonly checker: InvariantChecker,
  ) {}

  /** The bus, one put per event (each may fail or crash the invocation on its own). */
  private publisher(inv: Invocation): EventPublisher {
    return {
      publish: async (busEvents) => {
        // The coordinator's Lambdas announce outcomes only; console actions never reach the sim.
        const events = busEvents.flatMap((e) => ('detailType' in e ? [] : [e]));
        const failures = await Promise.all(
          events.map((event) =>
            this.runtime
              .call(inv, `events.publish ${event.eventId}`, async () => {
                this.checker.announced(event.txId, event.outcome);
              })
              .then(
                (): PublishFailure[] => [],
                (error: unknown): PublishFailure[] => [{ eventId: event.eventId, reason: String(error) }],
              ),
          ),
        );
        return failures.flat();
      },
    };
  }

  /** A durable change of a transaction record, as the table's stream carries it. */
  streamed(prev: TxRecord | undefined, next: TxRecord): void {
    if (!this.core.plan.events) return;
    const image = (record: TxRecord) =>
      marshall(txItemOf({ record, requestHash: 'sim' }), { removeUndefinedValues: true }) as NonNullable<
        NonNullable<DynamoDBRecord['dynamodb']>['NewImage']
      >;
    this.stream.push({
      eventID: `s${this.stream.length}`,
      eventName: prev ? 'MODIFY' : 'INSERT',
      dynamodb: {
        SequenceNumber: String(this.stream.length).padStart(21, '0'),
        ...(prev ? { OldImage: image(prev) } : {}),
        NewImage: image(next),
      },
    });
    this.pollStream();
  }

  /** The next poll of the stream, unless one is due already (polls stop while it is drained). */
  private pollStream(): void {
    if (this.streamPollDue) return;
    this.streamPollDue = true;
    this.core.at(this.core.now + this.core.rng.int(1, STREAM_POLL_MS), () => this.streamTick());
  }

  /**
   * The events function's event source: one batch at a time from the checkpoint; the checkpoint
   * moves past the batch when the function succeeded; a crash or an error retries it whole.
   */
  private streamTick(): void {
    this.streamPollDue = false;
    if (this.streamBusy || this.streamCheckpoint >= this.stream.length) return;
    this.streamBusy = true;
    const from = this.streamCheckpoint;
    const batch = this.stream.slice(from, from + this.core.plan.streamBatch);
    this.eventsNode ??= this.core.node('events');
    const inv = this.runtime.spawn(
      this.eventsNode,
      'events',
      `stream records ${from}..${from + batch.length - 1}`,
      (inv) => publishOutcomes(batch, this.publisher(inv)),
      (error) => {
        this.streamBusy = false;
        if (error === null || !this.core.switches.eventRetry) this.streamCheckpoint = from + batch.length;
        if (error !== null) this.core.log(`   ↳ events batch failed: ${String(error)}`);
        this.core.log(`   ↳ stream checkpoint ${this.streamCheckpoint} of ${this.stream.length}`);
        this.pollStream();
      },
    );
    inv.onCrash = () => {
      this.streamBusy = false;
      this.pollStream();
    };
  }
}

import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Timer } from '../coordinator/messages';
import type { CheckForwarder } from '../coordinator/recovery';
import type { CoordinatorTransport } from '../coordinator/shell';
import { InfrastructureError } from '../errors';
import type { FaultHit } from '../faults';
import type { Clock } from '../ports';
import type { AckMessage, ParticipantMessage, TxParticipant, VoteMessage } from '../protocol';
import { slotOf } from '../protocol';

/** Longest per-message delay SQS allows; longer timers are re-armed when they fire. */
const MAX_DELAY_S = 900;

export const groupOfSlot = (slot: number) => `slot-${slot}`;

/**
 * Where a transport sends: each sender is given only the queues it sends to (a producer starts
 * transactions, so it has no coordinator queue; a participant replies, so it has no timers).
 */
export interface SqsTransportConfig {
  readonly coordinatorQueueUrl?: string;
  readonly timerQueueUrl?: string;
  /** Participant id → inbox queue URL. */
  readonly participantQueues?: Readonly<Record<string, string>>;
  readonly slotCount: number;
}

/**
 * Every message Tandem sends, over SQS. Coordinator inputs go to the FIFO queue in the message
 * group of their slot (so one slot's inputs are handled one at a time, in order); participant
 * messages to the participant's standard inbox; timers to the standard timer queue with a delay.
 */
export class SqsTransport implements CoordinatorTransport, CheckForwarder {
  constructor(
    private readonly sqs: SQSClient,
    private readonly config: SqsTransportConfig,
    private readonly clock: Clock,
    /** Fault injection (test stacks only): hears of each message this transport sent twice. */
    private readonly onDuplicate?: (hit: FaultHit) => void,
  ) {}

  /**
   * The same transport, sending every message twice (fault plan `duplicate`), as SQS's
   * at-least-once delivery may. The copy of a FIFO message gets its own deduplication id, or the
   * queue would drop it. `onDuplicate` hears `duplicate.<message type>` for every copy sent.
   */
  duplicating(onDuplicate: (hit: FaultHit) => void): SqsTransport {
    return new SqsTransport(this.sqs, this.config, this.clock, onDuplicate);
  }

  private async send(
    input: ConstructorParameters<typeof SendMessageCommand>[0],
    type: string,
    what: string,
  ): Promise<void> {
    try {
      await this.sqs.send(new SendMessageCommand(input));
      if (!this.onDuplicate) return;
      const { MessageDeduplicationId: dedup } = input;
      await this.sqs.send(
        new SendMessageCommand(
          dedup === undefined ? input : { ...input, MessageDeduplicationId: `${dedup}-dup` },
        ),
      );
      this.onDuplicate(`duplicate.${type}`);
    } catch (error) {
      throw new InfrastructureError(`could not send ${what}`, { cause: error });
    }
  }

  async toParticipant(participant: TxParticipant, message: ParticipantMessage): Promise<void> {
    const url = this.config.participantQueues?.[participant.id];
    if (!url) throw new InfrastructureError(`no inbox queue configured for participant ${participant.id}`);
    await this.send(
      { QueueUrl: url, MessageBody: JSON.stringify(message) },
      message.type,
      `${message.type} to ${participant.id}`,
    );
  }

  async scheduleCheck(txId: string, slot: number, atMs: number): Promise<void> {
    await this.armTimer({ type: 'Timer', txId, slot, atMs });
  }

  async rearm(timer: Timer): Promise<void> {
    await this.armTimer(timer);
  }

  private async armTimer(timer: Timer): Promise<void> {
    if (!this.config.timerQueueUrl) throw new InfrastructureError('no timer queue configured');
    const delayS = Math.min(MAX_DELAY_S, Math.max(0, Math.ceil((timer.atMs - this.clock.nowMs()) / 1000)));
    await this.send(
      { QueueUrl: this.config.timerQueueUrl, MessageBody: JSON.stringify(timer), DelaySeconds: delayS },
      timer.type,
      `timer for ${timer.txId}`,
    );
  }

  private coordinatorQueueUrl(): string {
    if (!this.config.coordinatorQueueUrl) throw new InfrastructureError('no coordinator queue configured');
    return this.config.coordinatorQueueUrl;
  }

  async forwardCheck(txId: string, slot: number, dueAtMs: number): Promise<void> {
    await this.send(
      {
        QueueUrl: this.coordinatorQueueUrl(),
        MessageBody: JSON.stringify({ type: 'Check', txId }),
        MessageGroupId: groupOfSlot(slot),
        // A timer and the sweeper that find the same due check within the same 10 s send it once;
        // a later attempt (e.g. after a Check that arrived a little early) is a new message.
        MessageDeduplicationId: `check-${txId}-${dueAtMs}-${Math.floor(this.clock.nowMs() / 10_000)}`,
      },
      'Check',
      `Check for ${txId}`,
    );
  }

  /**
   * A participant's Vote or Ack, into the coordinator's FIFO queue in the group of the transaction's
   * slot: `slot`, the routing the coordinator's message carried — or, for a message of an older
   * coordinator without one, the slot of the txId under this deployment's slot count.
   */
  async reply(reply: VoteMessage | AckMessage, slot?: number): Promise<void> {
    await this.send(
      {
        QueueUrl: this.coordinatorQueueUrl(),
        MessageBody: JSON.stringify(reply),
        MessageGroupId: groupOfSlot(slot ?? slotOf(reply.txId, this.config.slotCount)),
        // Every reply is its own message: re-votes and re-acks answer re-sent requests.
        MessageDeduplicationId: randomUUID(),
      },
      reply.type,
      `${reply.type} of ${reply.participantId} for ${reply.txId}`,
    );
  }
}

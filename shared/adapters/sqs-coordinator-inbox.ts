import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { InfrastructureError } from '../errors';
import type { CoordinatorInbox } from '../ports';
import type { BeginInput } from '../protocol';
import { groupOfSlot } from './sqs-transport';

/**
 * The coordinator's FIFO queue as the API sees it. `Begin` goes to the message group of the
 * transaction's slot (one coordinator at a time per slot, in order) with a deduplication id of its
 * own, so a re-sent Begin within SQS's 5-minute deduplication window is dropped by the queue.
 */
export class SqsCoordinatorInbox implements CoordinatorInbox {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async begin(txId: string, slot: number): Promise<void> {
    const message: BeginInput = { type: 'Begin', txId };
    try {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(message),
          MessageGroupId: groupOfSlot(slot),
          MessageDeduplicationId: `begin-${txId}`,
        }),
      );
    } catch (error) {
      throw new InfrastructureError(`could not send Begin of ${txId}`, { cause: error });
    }
  }
}

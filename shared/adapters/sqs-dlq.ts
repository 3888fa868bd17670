import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/**
 * Moves a poison message (malformed, or breaking a protocol assertion) straight to its queue's
 * DLQ with the reason attached, instead of letting it be retried until maxReceiveCount — which on
 * a FIFO queue would hold up every later message of its group. An operator sees it there (alarm)
 * and can redrive it once the cause is fixed.
 */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  dlqUrl: string,
  record: SQSRecord,
  error: Error,
  /** More string attributes to attach (e.g. an intake's reason code). */
  extra: Readonly<Record<string, string>> = {},
): Promise<void> {
  const fifo = dlqUrl.endsWith('.fifo');
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: record.body,
      MessageAttributes: {
        error: { DataType: 'String', StringValue: `${error.name}: ${error.message}`.slice(0, 1000) },
        sourceMessageId: { DataType: 'String', StringValue: record.messageId },
        ...Object.fromEntries(
          Object.entries(extra).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value.slice(0, 1000) },
          ]),
        ),
      },
      ...(fifo
        ? {
            MessageGroupId: record.attributes.MessageGroupId ?? 'poison',
            MessageDeduplicationId: record.messageId,
          }
        : {}),
    }),
  );
}

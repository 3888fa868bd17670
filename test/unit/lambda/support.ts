import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { vi } from 'vitest';

/** The Lambda context of invocation `requestId`, with `remainingMs` left. */
export const lambdaContext = (requestId: string, remainingMs = 10_000) =>
  ({
    awsRequestId: requestId,
    functionName: 'tandem-test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:tandem-test-fn',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/tandem-test-fn',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }) as Context;

/** An SQS record of `queueArn` carrying `body`. */
export const sqsRecord = (body: unknown, queueArn: string, groupId?: string): SQSRecord => ({
  messageId: `m-${Math.random()}`,
  receiptHandle: 'r',
  body: JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 's',
    ApproximateFirstReceiveTimestamp: '0',
    ...(groupId ? { MessageGroupId: groupId } : {}),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: 'us-east-1',
});

/** An SQS client that keeps what it was asked to send (a DLQ), and never reaches the network. */
export function recordingSqs() {
  const sent: SendMessageCommand['input'][] = [];
  const client = {
    send: async (command: SendMessageCommand) => {
      sent.push(command.input);
      return {};
    },
  } as unknown as SQSClient;
  return { client, sent };
}

/**
 * The lines `run` prints (Powertools' logs and metrics, the meter line), in order: JSON parsed, any
 * other line as `{ text }`.
 */
export async function printedLines(run: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => (l.startsWith('{') ? (JSON.parse(l) as Record<string, unknown>) : { text: l }));
}

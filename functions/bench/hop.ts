import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { dynamoDocumentClient, sqsClient } from '../../shared/adapters/aws-clients';
import { envString } from '../../shared/env';
import { metering } from '../../shared/metering';

// Bench baseline (`-c bench=on` only): one hop of a message-driven protocol. Each message makes
// one conditional write and sends the next message.
const client = dynamoDocumentClient();
const sqs = sqsClient();
const table = envString(process.env, 'BENCH_TABLE');
const queueUrl = envString(process.env, 'HOP_QUEUE_URL');

interface Hop {
  readonly chainId: string;
  readonly hop: number;
  readonly hops: number;
}

// A batch's records side by side, as the protocol's consumers process theirs.
// Lambda's own timeout, as Tandem's functions have (shared/lambda/middleware.ts).
const NO_EARLY_TIMEOUT = { timeoutEarlyInMillis: 0 };

export const handler = middy(async (event: SQSEvent) => {
  await Promise.all(
    event.Records.map(async (record) => {
      const { chainId, hop, hops } = JSON.parse(record.body) as Hop;
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `hop#${chainId}#${hop}`, atMs: Date.now() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      // The last hop's item (`hop#<chainId>#<hops>`) is the end of the chain the bench waits for.
      if (hop < hops) {
        const next: Hop = { chainId, hop: hop + 1, hops };
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(next) }));
      }
    }),
  );
  return { batchItemFailures: [] };
}, NO_EARLY_TIMEOUT).use(metering('hop'));

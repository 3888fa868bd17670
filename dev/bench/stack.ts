/** The deployment the bench runs on: its SDK settings, and waiting until earlier work is done. */

import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import type { LocalDeployment } from '../deploy';

/**
 * Waits until none of `queueUrls` holds a message (visible, in flight or delayed), at most 2 min
 * (a crashed invocation's message comes back after the 30 s visibility timeout).
 */
export async function waitDrained(sqs: SQSClient, queueUrls: readonly string[], log: (line: string) => void) {
  const deadline = Date.now() + 120_000;
  const names = [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ] as const;
  let logged = false;
  while (Date.now() < deadline) {
    let held = 0;
    for (const QueueUrl of queueUrls) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: [...names] }),
      );
      for (const name of names) held += Number(Attributes?.[name] ?? 0);
    }
    if (held === 0) return;
    if (!logged) log(`waiting for ${held} message(s) left in the protocol queues by earlier work`);
    logged = true;
    await sleep(1_000);
  }
  log('the protocol queues did not drain within 2 min; metering goes on (earlier work may be counted)');
}

/** An SDK client's settings for the emulator a deployment is on. */
export function emulatorClientConfig(deployment: LocalDeployment) {
  return {
    endpoint: deployment.endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  };
}

/**
 * Waits (at most `boundMs`) until the deployment's Transactions table has no live transaction;
 * returns how many are still live.
 */
export async function waitNoLiveTransactions(
  deployment: LocalDeployment,
  log: (line: string) => void,
  boundMs = 120_000,
): Promise<number> {
  const { outputs } = deployment;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(emulatorClientConfig(deployment)));
  const txs = new DynamoTxStore(dynamo, outputs.TransactionsTable!, outputs.SlotsTable!);
  const deadline = Date.now() + boundMs;
  let live = 0;
  let logged = false;
  while (Date.now() < deadline) {
    ({ live } = await txs.due(Number.MAX_SAFE_INTEGER, 1));
    if (live === 0) return 0;
    if (!logged) log(`waiting for ${live} transaction(s) left live by earlier work`);
    logged = true;
    await sleep(2_000);
  }
  log(`transactions were still live after ${boundMs / 1000} s; going on (their steps may be counted)`);
  return live;
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { faultPlanItem, faultPlanKey, parseFaultHits } from '../../../shared/adapters/dynamo-faults';
import { txIdOfItem } from '../../../shared/adapters/dynamo-tx-store';
import type { FaultPlan } from '../../../shared/faults';
import { recordKeyOf } from '../../../shared/txid';
import type { LocalDeployment } from '../deploy';
import { LOCAL_REGION } from '../deploy';
import type { BarrierState, DlqSummary, ObservedTransaction } from './report';

export interface HttpAnswer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API, read by the checks
  readonly body: any;
}

/** Attempts of one request on a network error or a 5xx (with the same idempotency key). */
const HTTP_ATTEMPTS_MAX = 4;

/** The deployed stack as the chaos workload sees it: its HTTP API, its tables and queues. */
export class ChaosStack {
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly shardTables: readonly string[];
  readonly slotCount: number;
  /** Requests answered only after a retry (network error or 5xx). */
  serverErrorsRetried = 0;

  constructor(readonly deployment: LocalDeployment) {
    const config = {
      endpoint: deployment.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    this.sqs = new SQSClient(config);
    this.shardTables = this.output('LedgerShardTables').split(',');
    this.slotCount = Number(this.output('SlotCount'));
  }

  output(name: string): string {
    const value = this.deployment.outputs[name];
    if (!value) {
      throw new Error(
        `the deployment has no output ${name}${name === 'FaultsTable' ? ' (deploy with -c faults=on)' : ''}`,
      );
    }
    return value;
  }

  async call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${this.deployment.apiUrl}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status < 500 || attempt >= HTTP_ATTEMPTS_MAX) {
          if (attempt > 1) this.serverErrorsRetried++;
          return { status: response.status, body: text ? JSON.parse(text) : undefined };
        }
      } catch (error) {
        if (attempt >= HTTP_ATTEMPTS_MAX) throw error;
      }
      await sleep(250 * attempt);
    }
  }

  async planFaults(txId: string, plan: FaultPlan): Promise<void> {
    await this.dynamo.send(
      new PutCommand({ TableName: this.output('FaultsTable'), Item: faultPlanItem(txId, plan) }),
    );
  }

  async faultHits(txId: string): Promise<Record<string, number>> {
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: this.output('FaultsTable'),
        Key: faultPlanKey(txId),
        ConsistentRead: true,
      }),
    );
    return Item ? parseFaultHits(Item) : {};
  }

  async transaction(txId: string): Promise<ObservedTransaction | undefined> {
    const answer = await this.call('GET', `/transactions/${encodeURIComponent(txId)}`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw new Error(`GET /transactions/${txId}: ${answer.status}`);
    return answer.body as ObservedTransaction;
  }

  /**
   * The transactions at these record keys (shared/txid.ts) in the coordinator log, read straight
   * from its table (cheap enough to poll, unlike the API): record key → id and state; absent when
   * there is no record.
   */
  async states(recordKeys: readonly string[]): Promise<Map<string, { txId: string; state: string }>> {
    const table = this.output('TransactionsTable');
    const states = new Map<string, { txId: string; state: string }>();
    for (let i = 0; i < recordKeys.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = recordKeys
        .slice(i, i + 100)
        .map((recordKey) => ({ txId: recordKey }));
      // Bounded: unprocessed keys come back under throttling only; 20 rounds are plenty.
      for (let round = 0; keys && keys.length > 0 && round < 20; round++) {
        const answer: BatchGetCommandOutput = await this.dynamo.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ProjectionExpression: 'txId, incarnation, #state',
                ExpressionAttributeNames: { '#state': 'state' },
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of answer.Responses?.[table] ?? []) {
          const txId = txIdOfItem(item as { txId: string; incarnation?: string });
          states.set(item.txId as string, { txId, state: item.state as string });
        }
        keys = answer.UnprocessedKeys?.[table]?.Keys;
        if (keys && keys.length > 0) await sleep(100 * (round + 1));
      }
    }
    return states;
  }

  /** The barrier of (txId, participant) on the participant's table; ledger participants only. */
  async barrier(txId: string, participantId: string): Promise<BarrierState> {
    const shard = /^ledger-(\d+)$/.exec(participantId)?.[1];
    const table = shard === undefined ? undefined : this.shardTables[Number(shard)];
    if (!table) throw new Error(`no table known for participant ${participantId}`);
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `barrier#${txId}#${participantId}` },
        ConsistentRead: true,
      }),
    );
    return (Item?.state as BarrierState | undefined) ?? null;
  }

  /**
   * Takes a slot's lease away like another coordinator would: the row as read, conditionally
   * replaced by a fake owner with the next epoch. The next coordinator batch of that slot finds
   * its cached lease fenced off and hands the slot over again. False when the slot has no row yet
   * or the row changed under us.
   */
  async forceTakeover(slot: number, fakeOwner: string, leaseDurationMs: number): Promise<boolean> {
    const table = this.output('SlotsTable');
    const { Item: row } = await this.dynamo.send(
      new GetCommand({ TableName: table, Key: { slot }, ConsistentRead: true }),
    );
    if (!row) return false;
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            slot,
            owner: fakeOwner,
            epoch: (row.epoch as number) + 1,
            leaseExpiresAtMs: Date.now() + leaseDurationMs,
          },
          ConditionExpression: `${row.owner === undefined ? 'attribute_not_exists(#owner)' : '#owner = :owner'} AND epoch = :epoch AND leaseExpiresAtMs = :expires`,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ...(row.owner === undefined ? {} : { ':owner': row.owner }),
            ':epoch': row.epoch,
            ':expires': row.leaseExpiresAtMs,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Moves every dead-lettered message of `ours` (record keys: by the txId in its body) back to its
   * source queue and deletes it from the DLQ; messages of other workloads are made visible again.
   */
  async redriveDeadLetters(ours: ReadonlySet<string>): Promise<DlqSummary> {
    const { QueueUrls = [] } = await this.sqs.send(new ListQueuesCommand({}));
    let [found, redriven, foreign] = [0, 0, 0];
    const errors: string[] = [];
    for (const source of QueueUrls) {
      const { Attributes } = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: source, AttributeNames: ['RedrivePolicy'] }),
      );
      if (!Attributes?.RedrivePolicy) continue;
      const dlqName = (JSON.parse(Attributes.RedrivePolicy).deadLetterTargetArn as string).split(':').pop();
      const dlq = `${source.slice(0, source.lastIndexOf('/'))}/${dlqName}`;
      const seen = new Set<string>();
      // Bounded: a DLQ of a chaos run holds few messages; stop when a receive brings nothing new.
      for (let round = 0; round < 100; round++) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 5,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          seen.add(message.MessageId as string);
          const txId = txIdOf(message.Body);
          if (!txId || !ours.has(recordKeyOf(txId))) {
            foreign++;
            await this.sqs.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: dlq,
                ReceiptHandle: message.ReceiptHandle,
                VisibilityTimeout: 0,
              }),
            );
            continue;
          }
          found++;
          const error = message.MessageAttributes?.error?.StringValue;
          errors.push(
            `${dlqName}: ${error ?? '(no error attribute: maxReceiveCount exceeded)'} — ${message.Body}`,
          );
          const fifo = source.endsWith('.fifo');
          await this.sqs.send(
            new SendMessageCommand({
              QueueUrl: source,
              MessageBody: message.Body,
              ...(fifo
                ? {
                    MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
                    MessageDeduplicationId: `redrive-${message.MessageId}`,
                  }
                : {}),
            }),
          );
          await this.sqs.send(
            new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: message.ReceiptHandle }),
          );
          redriven++;
        }
      }
    }
    return { found, redriven, foreign, errors };
  }
}

function txIdOf(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { txId?: unknown };
    return typeof parsed.txId === 'string' ? parsed.txId : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

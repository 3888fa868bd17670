import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { DynamoSlotStore } from '../adapters/dynamo-slots';
import { DUE_INDEX, DynamoTxStore, storedTxOfItem, txIdOfItem } from '../adapters/dynamo-tx-store';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import type { EventSource } from '../events';
import type { TxRecord } from '../protocol';
import { describeAwsError, RefusedError } from './errors';
import type {
  LiveKey,
  MessageAttribute,
  MoveTaskStatus,
  OpsDeps,
  OutgoingMessage,
  QueueService,
  ReceivedMessage,
  StackInfo,
  StackResource,
  TxReader,
} from './ports';
import type { Target } from './target';

/**
 * The operator tools' ports over the AWS SDK. Region and credentials come from the SDK's usual
 * settings; against an emulator endpoint with none configured, the emulator's test credentials and
 * us-east-1 are used (emulators accept any).
 */
export function awsDeps(target: Target, env: NodeJS.ProcessEnv): OpsDeps {
  const config = clientConfig(target, env);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  return {
    stack: new CloudFormationStackInfo(new CloudFormationClient(config)),
    queues: new SqsQueueService(new SQSClient(config)),
    clock: { nowMs: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    txReader: (table) => new DynamoTxReader(dynamo, table),
    slotReader: (table) => new DynamoSlotStore(dynamo, table),
    publisher: (bus) => new EventBridgePublisher(new EventBridgeClient(config), bus),
  };
}

function clientConfig(target: Target, env: NodeJS.ProcessEnv) {
  if (!target.endpoint) return {};
  const hasCredentials =
    Boolean(env.AWS_ACCESS_KEY_ID) || Boolean(env.AWS_PROFILE) || Boolean(env.AWS_WEB_IDENTITY_TOKEN_FILE);
  const hasRegion = Boolean(env.AWS_REGION || env.AWS_DEFAULT_REGION);
  return {
    endpoint: target.endpoint,
    ...(hasRegion ? {} : { region: 'us-east-1' }),
    ...(hasCredentials ? {} : { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  };
}

class CloudFormationStackInfo implements StackInfo {
  constructor(private readonly client: CloudFormationClient) {}

  async outputs(stackName: string): Promise<Record<string, string>> {
    try {
      const { Stacks } = await this.client.send(new DescribeStacksCommand({ StackName: stackName }));
      const stack = Stacks?.[0];
      if (!stack) throw new RefusedError(`no stack ${stackName}`);
      return Object.fromEntries(
        (stack.Outputs ?? []).flatMap((o) =>
          o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
        ),
      );
    } catch (error) {
      if (
        error instanceof Error &&
        error.name === 'ValidationError' &&
        /does not exist/.test(error.message)
      ) {
        throw new RefusedError(
          `no stack ${stackName} in this account and region (${describeAwsError(error)}); pass --stack <name>`,
        );
      }
      throw error;
    }
  }

  async resources(stackName: string): Promise<StackResource[]> {
    const resources: StackResource[] = [];
    for await (const page of paginateListStackResources({ client: this.client }, { StackName: stackName })) {
      for (const r of page.StackResourceSummaries ?? []) {
        if (r.LogicalResourceId && r.PhysicalResourceId && r.ResourceType) {
          resources.push({
            logicalId: r.LogicalResourceId,
            physicalId: r.PhysicalResourceId,
            type: r.ResourceType,
          });
        }
      }
    }
    return resources;
  }
}

class DynamoTxReader implements TxReader {
  private readonly store: DynamoTxStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    // Only `load` is used: the slot table matters for fenced saves, which the tools never make.
    this.store = new DynamoTxStore(client, table, 'unused-by-reads');
  }

  async load(txId: string) {
    return (await this.store.load(txId))?.record;
  }

  async loadAt(recordKey: string) {
    return (await this.store.loadAt(recordKey))?.record;
  }

  async liveKeys(max: number): Promise<LiveKey[]> {
    const keys: LiveKey[] = [];
    const pages = paginateScan(
      { client: this.client, pageSize: Math.min(1000, max) },
      { TableName: this.table, IndexName: DUE_INDEX },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        keys.push({
          recordKey: item.txId as string,
          slot: item.slot as number,
          nextCheckAtMs: item.nextCheckAtMs as number,
        });
      }
      if (keys.length >= max) break;
    }
    return keys.slice(0, max);
  }

  async scan(max: number): Promise<{ records: TxRecord[]; truncated: boolean }> {
    const records: TxRecord[] = [];
    const pages = paginateScan(
      { client: this.client, pageSize: Math.min(1000, max + 1) },
      { TableName: this.table },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) records.push(storedTxOfItem(item).record);
      if (records.length > max) break;
    }
    return { records: records.slice(0, max), truncated: records.length > max };
  }

  async endedBetween(fromMs: number, toMs: number): Promise<EventSource[]> {
    const ended: EventSource[] = [];
    const pages = paginateScan(
      { client: this.client },
      {
        TableName: this.table,
        FilterExpression: 'completedAtMs BETWEEN :from AND :to',
        ProjectionExpression:
          'txId, incarnation, #state, reason, participants, createdAtMs, decidedAtMs, completedAtMs, origin',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':from': fromMs, ':to': toMs },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { incarnation, ...rest } = item as EventSource & { incarnation?: string };
        ended.push({ ...rest, txId: txIdOfItem({ txId: rest.txId, incarnation }) });
      }
    }
    return ended;
  }
}

/** Errors that mean "this endpoint does not implement the action" (ministack: InvalidAction). */
function isUnsupportedAction(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    ['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented'].includes(
      error.name,
    ) ||
    status === 501 ||
    /not implemented|action \S+ is not (valid|supported)/i.test(error.message)
  );
}

function toSdkAttributes(
  attributes: Readonly<Record<string, MessageAttribute>> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, a]) => [
      name,
      {
        DataType: a.DataType,
        ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}),
        ...(a.BinaryValue !== undefined ? { BinaryValue: a.BinaryValue } : {}),
      },
    ]),
  );
}

function toSendEntry(message: Omit<OutgoingMessage, 'id'>) {
  const attributes = toSdkAttributes(message.attributes);
  return {
    MessageBody: message.body,
    ...(attributes ? { MessageAttributes: attributes } : {}),
    ...(message.groupId !== undefined ? { MessageGroupId: message.groupId } : {}),
    ...(message.deduplicationId !== undefined ? { MessageDeduplicationId: message.deduplicationId } : {}),
  };
}

class SqsQueueService implements QueueService {
  constructor(private readonly sqs: SQSClient) {}

  async attributes(queueUrl: string, names: readonly string[]): Promise<Record<string, string>> {
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: names as GetQueueAttributesCommand['input']['AttributeNames'],
      }),
    );
    return { ...(Attributes ?? {}) };
  }

  async urlOfArn(queueArn: string): Promise<string> {
    const [, , , , account, name] = queueArn.split(':');
    const { QueueUrl } = await this.sqs.send(
      new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
    );
    if (!QueueUrl) throw new Error(`no URL for queue ${queueArn}`);
    return QueueUrl;
  }

  async send(queueUrl: string, message: Omit<OutgoingMessage, 'id'>): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSendEntry(message) }));
  }

  async receive(
    queueUrl: string,
    options: { max: number; visibilityTimeoutS: number; waitS: number },
  ): Promise<ReceivedMessage[]> {
    const { Messages } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.max,
        VisibilityTimeout: options.visibilityTimeoutS,
        WaitTimeSeconds: options.waitS,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return (Messages ?? []).flatMap((m): ReceivedMessage[] => {
      if (!m.MessageId || !m.ReceiptHandle) return [];
      const sent = Number(m.Attributes?.SentTimestamp);
      return [
        {
          messageId: m.MessageId,
          receiptHandle: m.ReceiptHandle,
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          sentAtMs: Number.isFinite(sent) ? sent : undefined,
          groupId: m.Attributes?.MessageGroupId,
          attributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).flatMap(([name, a]) =>
              a.DataType
                ? [
                    [
                      name,
                      {
                        DataType: a.DataType,
                        ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}),
                        ...(a.BinaryValue !== undefined ? { BinaryValue: a.BinaryValue } : {}),
                      },
                    ],
                  ]
                : [],
            ),
          ),
        },
      ];
    });
  }

  async release(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    if (receiptHandles.length === 0) return;
    await this.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: receiptHandles.map((handle, i) => ({
          Id: String(i),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }

  async sendBatch(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<{ failedIds: string[] }> {
    const { Failed } = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m) => ({ Id: m.id, ...toSendEntry(m) })),
      }),
    );
    return { failedIds: (Failed ?? []).flatMap((f) => (f.Id ? [f.Id] : [])) };
  }

  async deleteBatch(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const { Failed } = await this.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: receiptHandles.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
      }),
    );
    if (Failed && Failed.length > 0) {
      throw new Error(
        `${Failed.length} message(s) were re-sent but could not be deleted from the DLQ (they will appear twice): ${Failed.map((f) => f.Message).join('; ')}`,
      );
    }
  }

  async startMoveTask(sourceArn: string, destinationArn: string) {
    try {
      const { TaskHandle } = await this.sqs.send(
        new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
      );
      return { taskHandle: TaskHandle ?? '(no handle)' };
    } catch (error) {
      if (isUnsupportedAction(error)) return 'unsupported' as const;
      throw error;
    }
  }

  async moveTaskStatus(sourceArn: string): Promise<MoveTaskStatus | undefined> {
    const { Results } = await this.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
    );
    const task = Results?.[0];
    if (!task) return undefined;
    return {
      status: task.Status ?? 'UNKNOWN',
      moved: task.ApproximateNumberOfMessagesMoved ?? 0,
      toMove: task.ApproximateNumberOfMessagesToMove,
      failureReason: task.FailureReason,
    };
  }
}

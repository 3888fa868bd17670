import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_REGION, type LocalDeployment } from './deploy';

/** One delivery of an outcome event, as a subscriber's queue receives it. */
export interface HeardEvent {
  readonly 'detail-type': string;
  readonly detail: { readonly txId: string; readonly outcome: string } & Record<string, unknown>;
}

/**
 * Events out, as a subscriber of the deployed stack sees them: a queue named `name` behind a rule
 * on the stack's bus for every Tandem outcome. Undefined when the stack announces none (no
 * `EventBusName` output). Used by the chaos workload and the e2e tests; `close` removes both.
 */
export async function listenToOutcomes(
  deployment: LocalDeployment,
  name: string,
): Promise<OutcomeListener | undefined> {
  const bus = deployment.outputs.EventBusName;
  if (!bus) return undefined;
  const config = {
    endpoint: deployment.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: ['tandem'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: bus,
      Targets: [{ Id: 'subscriber', Arn: Attributes!.QueueArn! }],
    }),
  );
  return new OutcomeListener(sqs, events, bus, name, queueUrl);
}

/** What the subscriber heard: transaction id → each delivery of its event, in arrival order. */
export class OutcomeListener {
  readonly heard = new Map<string, HeardEvent[]>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly events: EventBridgeClient,
    private readonly bus: string,
    private readonly rule: string,
    private readonly queueUrl: string,
  ) {}

  /**
   * Receives until every one of `txIds` was delivered at least `deliveries` times, or `timeoutMs`
   * passes with nothing new.
   */
  async collect(
    txIds: readonly string[],
    timeoutMs: number,
    deliveries = 1,
  ): Promise<ReadonlyMap<string, HeardEvent[]>> {
    let quietSinceMs = Date.now();
    const short = () => txIds.some((txId) => (this.heard.get(txId)?.length ?? 0) < deliveries);
    while (short() && Date.now() - quietSinceMs < timeoutMs) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      quietSinceMs = Date.now();
      for (const message of Messages) {
        const event = JSON.parse(message.Body ?? '{}') as Partial<HeardEvent>;
        const txId = event.detail?.txId;
        if (txId && event.detail?.outcome)
          this.heard.set(txId, [...(this.heard.get(txId) ?? []), event as HeardEvent]);
      }
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    return this.heard;
  }

  async close(): Promise<void> {
    await this.events.send(
      new RemoveTargetsCommand({ Rule: this.rule, EventBusName: this.bus, Ids: ['subscriber'] }),
    );
    await this.events.send(new DeleteRuleCommand({ Name: this.rule, EventBusName: this.bus }));
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl }));
  }
}

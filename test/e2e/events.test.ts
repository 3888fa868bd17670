import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiClient } from '../support/api-client';

// Events out on the deployed stack: a subscriber's rule on the Tandem bus receives the outcomes.
const api = new ApiClient(inject('deployment'));
const run = Date.now().toString(36);
const endpoint = api.deployment.endpoint;
const sqs = new SQSClient({ endpoint });
const eventBridge = new EventBridgeClient({ endpoint });
const bus = api.deployment.outputs.EventBusName!;
const rule = `tandem-e2e-${run}`;
let queueUrl = '';

beforeAll(async () => {
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `tandem-e2e-events-${run}` }))).QueueUrl!;
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await eventBridge.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: bus,
      EventPattern: JSON.stringify({
        source: ['tandem'],
        'detail-type': ['TransactionCommitted', 'TransactionAborted'],
      }),
    }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: bus,
      Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }],
    }),
  );
});

afterAll(async () => {
  await eventBridge.send(new RemoveTargetsCommand({ Rule: rule, EventBusName: bus, Ids: ['queue'] }));
  await eventBridge.send(new DeleteRuleCommand({ Name: rule, EventBusName: bus }));
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
});

describe('events out', () => {
  it('announces committed and aborted transactions, one-phase and two-phase, with stable event ids and no amounts', async () => {
    const [a, b] = [`evA-${run}`, `evB-${run}`];
    await api.createAccount(a, 50);
    await api.createAccount(b, 0);
    // One-phase outcomes are born terminal (a stream INSERT); two-phase ones become so (a MODIFY).
    const transfers = [
      { from: a, to: b, amount: 20 },
      { from: a, to: b, amount: 999 },
      { from: a, to: b, amount: 5, commit: 'two-phase' },
      { from: a, to: b, amount: 999, commit: 'two-phase' },
    ];
    const ids: string[] = [];
    for (const transfer of transfers)
      ids.push((await api.call('POST', '/transfers?wait=20', transfer)).body.txId);
    for (const txId of ids) await api.waitTerminal(txId);

    const seen = new Map<string, { 'detail-type': string; detail: Record<string, unknown> }>();
    const deadline = Date.now() + 30_000;
    while (seen.size < ids.length && Date.now() < deadline) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
      );
      for (const message of Messages ?? []) {
        const event = JSON.parse(message.Body!);
        if (ids.includes(event.detail.txId)) seen.set(event.detail.txId, event);
      }
    }

    for (const [index, txId] of ids.entries()) {
      const committed = index % 2 === 0;
      expect(seen.get(txId), txId).toMatchObject({
        'detail-type': committed ? 'TransactionCommitted' : 'TransactionAborted',
        detail: {
          eventId: `${txId}/${committed ? 'COMMITTED' : 'ABORTED'}`,
          outcome: committed ? 'COMMITTED' : 'ABORTED',
          ...(committed ? { reason: null } : {}),
        },
      });
    }
    expect(JSON.stringify(seen.get(ids[0])?.detail)).not.toMatch(/"amount"/);
  });
});

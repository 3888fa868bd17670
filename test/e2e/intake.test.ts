import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_REGION } from '../../dev/deploy';
import { listenToOutcomes, type OutcomeListener } from '../../dev/outcomes';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import type { StoredTx } from '../../shared/ports';
import { keyedRecordKey } from '../../shared/txid';
import { ApiClient } from '../support/api-client';
import { runOps } from '../support/ops';
import { deleteRecordsAfterwards } from '../support/test-records';

// Transactions started by events on the deployed stack: its event intake (`TransferRequested` on
// its requests bus) and its FIFO requests queue. Each request starts ONE transaction however often
// it is delivered; a bad one lands in its intake's DLQ with the reason; the outcome event says
// which request it answers.
const api = new ApiClient(inject('deployment'));
const { outputs, endpoint } = api.deployment;
const run = Date.now().toString(36);
const aws = { endpoint, region: LOCAL_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const sqs = new SQSClient(aws);
const eventBridge = new EventBridgeClient(aws);
const txs = new DynamoTxStore(api.dynamo, outputs.TransactionsTable!, outputs.SlotsTable!);
const EVENTS_SCOPE = 'events:transfers';
const QUEUE_SCOPE = 'queue:requests';
const [from, to] = [`inA-${run}`, `inB-${run}`];
let listener: OutcomeListener;

beforeAll(async () => {
  for (const name of [
    'RequestsBusName',
    'TransferIntakeQueueUrl',
    'TransferIntakeDlqUrl',
    'RequestQueueUrl',
  ]) {
    if (!outputs[name]) throw new Error(`the test stack has no ${name} output`);
  }
  const subscribed = await listenToOutcomes(api.deployment, `tandem-e2e-intake-${run}`);
  if (!subscribed) throw new Error('the test stack has no event bus (EventBusName output)');
  listener = subscribed;
  await api.createAccount(from, 1_000);
  await api.createAccount(to, 0);
});

afterAll(async () => {
  await listener?.close();
});

const transfer = (amount: number, extra: Record<string, unknown> = {}) => ({
  operations: [
    { participant: 'ledger', action: 'debit', accountId: from, amount },
    { participant: 'ledger', action: 'credit', accountId: to, amount },
  ],
  ...extra,
});

/** The transaction a key started in an intake's scope, once there is one (deleted after the file). */
async function startedBy(key: string, scope: string, timeoutMs = 60_000): Promise<StoredTx> {
  const recordKey = keyedRecordKey(key, scope);
  deleteRecordsAfterwards(api.dynamo, outputs.TransactionsTable!, [recordKey]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await txs.loadAt(recordKey);
    if (stored) return stored;
    if (Date.now() > deadline) throw new Error(`no transaction for key ${key} in ${scope}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until a queue holds no message, visible or in flight: everything sent was handled. */
async function drained(queueUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (
      Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible) ===
      0
    )
      return;
    if (Date.now() > deadline) throw new Error(`${queueUrl} still holds messages`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Receives the DLQ's messages until one contains each of `markers`, deletes those, and returns the
 * attributes of each (in the order of `markers`).
 */
async function deadLettered(dlqUrl: string, markers: readonly string[], timeoutMs = 60_000) {
  const found = new Map<string, Record<string, string | undefined>>();
  const deadline = Date.now() + timeoutMs;
  while (found.size < markers.length && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const ours = Messages.filter((m) => markers.some((marker) => m.Body?.includes(marker)));
    for (const message of ours) {
      const marker = markers.find((candidate) => message.Body?.includes(candidate))!;
      found.set(
        marker,
        Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
        ),
      );
    }
    if (ours.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: ours.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  const missing = markers.filter((marker) => !found.has(marker));
  if (missing.length > 0) throw new Error(`nothing with ${missing.join(', ')} arrived in ${dlqUrl}`);
  return markers.map((marker) => found.get(marker)!);
}

async function putEvent(detail: unknown): Promise<string> {
  const { Entries = [], FailedEntryCount } = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: outputs.RequestsBusName!,
          Source: 'tandem.test',
          DetailType: 'TransferRequested',
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  expect(FailedEntryCount ?? 0).toBe(0);
  return Entries[0]!.EventId!;
}

const ops = (...argv: string[]) => runOps(api.deployment, ...argv);

const balance = async (accountId: string) => (await api.client.getAccount(accountId)).balance;

describe('an event intake', () => {
  it('starts one transaction per event, even when the event is delivered twice, and says so on the outcome', async () => {
    // Act: an event, then the same event (same id) delivered again, as EventBridge may.
    const detail = transfer(7);
    const eventId = await putEvent(detail);
    const stored = await startedBy(eventId, EVENTS_SCOPE);
    const outcome = await api.waitTerminal(stored.record.txId);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.TransferIntakeQueueUrl!,
        MessageBody: JSON.stringify({
          version: '0',
          id: eventId,
          'detail-type': 'TransferRequested',
          source: 'tandem.test',
          account: '000000000000',
          time: new Date().toISOString(),
          region: LOCAL_REGION,
          resources: [],
          detail,
        }),
      }),
    );
    await drained(outputs.TransferIntakeQueueUrl!);

    // Assess
    expect(outcome.state).toBe('COMMITTED');
    expect(stored.origin).toEqual({ source: EVENTS_SCOPE, key: eventId, eventId });
    expect(await balance(to)).toBe(7);
    expect((await txs.loadAt(keyedRecordKey(eventId, EVENTS_SCOPE)))?.record.txId).toBe(stored.record.txId);
    const heard = (await listener.collect([stored.record.txId], 30_000)).get(stored.record.txId) ?? [];
    expect(heard[0]?.detail).toMatchObject({
      txId: stored.record.txId,
      outcome: 'COMMITTED',
      origin: { source: EVENTS_SCOPE, key: eventId, eventId },
    });
  });

  it("starts one transaction for two events that carry the request's own idempotency key", async () => {
    const key = `in-own-${run}`;
    const first = await putEvent(transfer(3, { idempotencyKey: key }));
    await putEvent(transfer(3, { idempotencyKey: key }));
    const stored = await startedBy(key, EVENTS_SCOPE);
    await api.waitTerminal(stored.record.txId);
    await drained(outputs.TransferIntakeQueueUrl!);

    expect(stored.origin).toEqual({ source: EVENTS_SCOPE, key, eventId: first });
    expect(await balance(to)).toBe(7 + 3);
  });

  it('dead-letters an event whose request can never succeed, with the reason', async () => {
    const marker = `bad-${run}`;
    const eventId = await putEvent({ operations: [], marker });

    const [attributes] = await deadLettered(outputs.TransferIntakeDlqUrl!, [marker]);

    expect(attributes).toMatchObject({
      reason: 'invalid-request',
      intake: EVENTS_SCOPE,
      tandemKey: eventId,
      error: expect.stringMatching(/^ValidationError: transaction is invalid: .*operations/),
    });
    expect(await txs.loadAt(keyedRecordKey(eventId, EVENTS_SCOPE))).toBeUndefined();
  });
});

describe('the operator tools', () => {
  it("list the intakes' DLQs by name and show why a message was refused", async () => {
    // Prepare: an event whose mapping (Tandem's: the detail) is no request at all.
    const marker = `ops-${run}`;
    await putEvent(marker);

    // Act
    const list = await ops('dlq', 'list', '--json');
    let shown: Array<{ body: string; reason?: string; error?: string }> = [];
    for (let round = 0; round < 60 && !shown.some((m) => m.body.includes(marker)); round++) {
      const show = await ops('dlq', 'show', 'intake-transfers', '--max', '10', '--json');
      expect(show.code, show.stdout).toBe(0);
      shown = JSON.parse(show.stdout);
    }

    // Assess
    expect(list.code, list.stdout).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((d) => d.name)).toEqual(
      expect.arrayContaining(['intake-transfers', 'intake-requests']),
    );
    expect(shown.find((m) => m.body.includes(marker))).toMatchObject({
      reason: 'invalid-request',
      error: expect.stringMatching(/^ValidationError: transaction is invalid/),
    });
    await deadLettered(outputs.TransferIntakeDlqUrl!, [marker]);
  });
});

describe('a FIFO requests queue', () => {
  const send = (body: unknown, deduplicationId: string) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.RequestQueueUrl!,
        MessageBody: JSON.stringify(body),
        MessageGroupId: `e2e-${run}`,
        MessageDeduplicationId: deduplicationId,
      }),
    );

  it('starts one transaction per message, even when it is sent twice', async () => {
    const before = await balance(to);
    const dedup = `req-${run}`;
    await send(transfer(11), dedup);
    await send(transfer(11), dedup);
    const stored = await startedBy(dedup, QUEUE_SCOPE);
    const outcome = await api.waitTerminal(stored.record.txId);
    await drained(outputs.RequestQueueUrl!);

    expect(outcome.state).toBe('COMMITTED');
    expect(stored.origin).toEqual({ source: QUEUE_SCOPE, key: dedup });
    expect(await balance(to)).toBe(before + 11);
    const heard = (await listener.collect([stored.record.txId], 30_000)).get(stored.record.txId) ?? [];
    expect(heard[0]?.detail.origin).toEqual({ source: QUEUE_SCOPE, key: dedup });
  });

  it("starts one transaction for two messages (new deduplication ids) with the request's own key", async () => {
    const before = await balance(to);
    const key = `req-own-${run}`;
    await send(transfer(2, { idempotencyKey: key }), `${key}-a`);
    await send(transfer(2, { idempotencyKey: key }), `${key}-b`);
    const stored = await startedBy(key, QUEUE_SCOPE);
    await api.waitTerminal(stored.record.txId);
    await drained(outputs.RequestQueueUrl!);

    expect(await balance(to)).toBe(before + 2);
  });

  it('dead-letters a request naming an unknown account, and one reusing a key for another request', async () => {
    const unknown = `nobody-${run}`;
    await send(
      {
        operations: [
          { participant: 'ledger', action: 'debit', accountId: from, amount: 1 },
          { participant: 'ledger', action: 'credit', accountId: unknown, amount: 1 },
        ],
      },
      `unknown-${run}`,
    );
    const key = `req-own-${run}`; // started above with amount 2
    await send(transfer(5, { idempotencyKey: key }), `${key}-c`);

    const [missing, reused] = await deadLettered(outputs.RequestQueueDlqUrl!, [unknown, '"amount":5']);

    expect(missing).toMatchObject({
      reason: 'unprocessable',
      intake: QUEUE_SCOPE,
      error: `UnprocessableError: unknown account '${unknown}'; nothing was written`,
    });
    expect(reused).toMatchObject({
      reason: 'conflict',
      error: expect.stringMatching(/^ConflictError: idempotency key reused with a different request/),
    });
    expect(await txs.loadAt(keyedRecordKey(`unknown-${run}`, QUEUE_SCOPE))).toBeUndefined();
  });
});

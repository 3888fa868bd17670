import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listenToOutcomes, type OutcomeListener } from '../../dev/outcomes';
import { ApiClient } from '../support/api-client';
import { runOps } from '../support/ops';

// Events out on the deployed stack: a subscriber's rule on the Tandem bus receives the outcomes.
const api = new ApiClient(inject('deployment'));
const run = Date.now().toString(36);
const endpoint = api.deployment.endpoint;
const sqs = new SQSClient({ endpoint });
let listener: OutcomeListener;

beforeAll(async () => {
  const subscribed = await listenToOutcomes(api.deployment, `tandem-e2e-events-${run}`);
  if (!subscribed) throw new Error('the test stack has no event bus (EventBusName output)');
  listener = subscribed;
});

afterAll(async () => {
  await listener.close();
});

/** The deliveries of `txId`'s event heard so far, once there are at least `count` (30 s at most). */
async function deliveries(txId: string, count: number) {
  return (await listener.collect([txId], 30_000, count)).get(txId) ?? [];
}

const ops = (...argv: string[]) => runOps(api.deployment, ...argv);

describe('events out', () => {
  it('announces committed and aborted transactions, one-phase and two-phase, with stable event ids and no amounts', async () => {
    const [a, b] = [`evA-${run}`, `evB-${run}`];
    await api.createAccount(a, 50);
    await api.createAccount(b, 0);
    // One-phase outcomes are born terminal (a stream INSERT); two-phase ones become so (a MODIFY).
    const transfers = [
      { from: a, to: b, amount: 20 },
      { from: a, to: b, amount: 999 },
      { from: a, to: b, amount: 5, commit: 'two-phase' as const },
      { from: a, to: b, amount: 999, commit: 'two-phase' as const },
    ];
    const ids: string[] = [];
    for (const transfer of transfers) ids.push((await api.client.transfer(transfer, { wait: 20 })).txId);
    for (const txId of ids) await api.waitTerminal(txId);

    const heard = await listener.collect(ids, 30_000);
    const seen = new Map(ids.map((txId) => [txId, heard.get(txId)?.[0]]));

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
    for (const txId of ids) expect(JSON.stringify(seen.get(txId)?.detail)).not.toMatch(/"amount"/);
  });

  it('announces again, on request, the outcomes that ended in a time range or that a DLQ message names', async () => {
    const [a, b] = [`evC-${run}`, `evD-${run}`];
    await api.createAccount(a, 10);
    await api.createAccount(b, 0);
    const { txId } = await api.client.transfer({ from: a, to: b, amount: 1 }, { wait: 20 });
    await api.waitTerminal(txId);
    expect(await deliveries(txId, 1)).toHaveLength(1);

    const since = await ops('events', 'republish', '--since', '5m');
    expect(since.code, since.stdout).toBe(0);
    expect(since.stdout).toMatch(/Republished \d+ of \d+ outcome/);
    const again = (await deliveries(txId, 2)).slice(1);
    expect(again.map((e) => e.detail.eventId)).toEqual([`${txId}/COMMITTED`]);

    // What Lambda puts in the events DLQ when it gives up on a stream batch (its arrival times).
    const nowIso = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const dlqUrl = api.deployment.outputs.EventsDlqUrl!;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({
          DDBStreamBatchInfo: {
            approximateArrivalOfFirstRecord: nowIso,
            approximateArrivalOfLastRecord: nowIso,
          },
        }),
      }),
    );
    const fromDlq = await ops('events', 'republish', '--from-dlq');
    expect(fromDlq.code, fromDlq.stdout).toBe(0);
    expect(fromDlq.stdout).toContain('Deleted 1 handled message(s) from the events DLQ.');
    expect((await deliveries(txId, 3)).slice(2).map((e) => e.detail.eventId)).toEqual([`${txId}/COMMITTED`]);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 0 }));
    expect(Messages ?? []).toEqual([]);
  });
});

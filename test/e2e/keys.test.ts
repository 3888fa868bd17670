import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TandemConflictError, TandemNotFoundError } from '../../client';
import { listenToOutcomes, type OutcomeListener } from '../../dev/outcomes';
import { barrierKey } from '../../shared/adapters/dynamo-participant-store';
import { recordKeyOf } from '../../shared/txid';
import { ApiClient } from '../support/api-client';

// An idempotency key used again after its transaction's record expired, on the deployed stack.
// DynamoDB's TTL deletes a terminal record 30 days after it ended; the test deletes it as the TTL
// would. The key then starts a new transaction with a new id, on either path — one whose
// participants really apply it, and whose outcome event has an id of its own.
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const run = Date.now().toString(36);
let listener: OutcomeListener;

beforeAll(async () => {
  const subscribed = await listenToOutcomes(deployment, `tandem-e2e-keys-${run}`);
  if (!subscribed) throw new Error('the test stack has no event bus (EventBusName output)');
  listener = subscribed;
});

afterAll(async () => {
  await listener.close();
});

/**
 * Deletes the record of `txId` as DynamoDB's TTL does — once the record is terminal and carries its
 * expiry (the API shows the outcome settled as soon as every ack is noted; the coordinator writes
 * the terminal state a moment later, and the TTL only ever deletes that).
 */
async function expire(txId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await api.recordAt(recordKeyOf(txId)))?.expiresAtS === undefined) {
    if (Date.now() > deadline) throw new Error(`${txId} never became terminal in the log`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await api.dynamo.send(
    new DeleteCommand({ TableName: deployment.outputs.TransactionsTable!, Key: { txId: recordKeyOf(txId) } }),
  );
}

async function transfer(from: string, to: string, amount: number, key: string, commit: 'auto' | 'two-phase') {
  const answer = await api.client.transfer({ from, to, amount, idempotencyKey: key, commit }, { wait: 10 });
  return api.waitTerminal(answer.txId);
}

async function balance(accountId: string): Promise<number> {
  return (await api.client.getAccount(accountId)).balance;
}

/** The state of a ledger participant's barrier item of `txId`. */
async function barrierState(txId: string, participantId: string): Promise<string | undefined> {
  const tables = deployment.outputs.LedgerShardTables!.split(',');
  const table = tables[Number(participantId.slice('ledger-'.length))];
  const { Item } = await api.dynamo.send(
    new GetCommand({ TableName: table, Key: barrierKey(txId, participantId), ConsistentRead: true }),
  );
  return Item?.state as string | undefined;
}

describe('an idempotency key used again after its record expired', () => {
  for (const commit of ['auto', 'two-phase'] as const) {
    it(`starts a new transaction on the ${commit === 'auto' ? 'one-phase' : 'two-phase'} path, with the same body and with another`, async () => {
      // Prepare
      const [from, to] = [`key-${commit}-a-${run}`, `key-${commit}-b-${run}`];
      await api.createAccount(from, 100);
      await api.createAccount(to, 0);
      const key = `reused-${commit}-${run}`;
      const first = await transfer(from, to, 10, key, commit);
      expect(first.state).toBe('COMMITTED');

      // Act: the record expires, the key comes back with the same body; expires again, another body.
      await expire(first.txId);
      const same = await transfer(from, to, 10, key, commit);
      await expire(same.txId);
      const other = await transfer(from, to, 5, key, commit);

      // Assess: three transactions, three ids, each applied — on both paths alike.
      const expectedMode = commit === 'auto' ? 'one-phase' : 'two-phase';
      for (const tx of [first, same, other]) {
        expect(tx).toMatchObject({ state: 'COMMITTED', mode: expectedMode });
        expect(recordKeyOf(tx.txId)).toBe(recordKeyOf(first.txId));
      }
      expect(new Set([first.txId, same.txId, other.txId]).size).toBe(3);
      expect([await balance(from), await balance(to)]).toEqual([75, 25]);
      await expect(api.client.getTransaction(first.txId)).rejects.toBeInstanceOf(TandemNotFoundError);
      if (commit === 'two-phase') {
        // Each transaction has barriers of its own: nothing the first left answered for the next.
        for (const tx of [first, same, other]) {
          for (const p of tx.participants) {
            expect(await barrierState(tx.txId, p.id), `${tx.txId} at ${p.id}`).toBe('COMMITTED');
          }
        }
      }
      // Three outcome events, three event ids.
      const heard = await listener.collect([first.txId, same.txId, other.txId], 30_000, 1);
      const eventIds = [first, same, other].map((tx) => heard.get(tx.txId)?.[0]?.detail.eventId);
      expect(eventIds).toEqual([first, same, other].map((tx) => `${tx.txId}/COMMITTED`));
    });
  }

  it('keeps the key while the record lives: the same body replays, another is a 409 naming nothing new', async () => {
    const [from, to] = [`key-live-a-${run}`, `key-live-b-${run}`];
    await api.createAccount(from, 100);
    await api.createAccount(to, 0);
    const key = `live-${run}`;
    const first = await transfer(from, to, 10, key, 'two-phase');

    const replay = await api.client.transfer({ from, to, amount: 10, idempotencyKey: key });
    const changed = api.client.transfer({ from, to, amount: 11, idempotencyKey: key });

    expect([replay.status, replay.txId, replay.replayed]).toEqual([200, first.txId, true]);
    await expect(changed).rejects.toBeInstanceOf(TandemConflictError);
    expect([await balance(from), await balance(to)]).toEqual([90, 10]);
  });
});

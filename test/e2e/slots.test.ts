import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { redeployLocal, TEST_CONTEXT } from '../../dev/deploy';
import { keyedRecordKey, recordKeyOf } from '../../shared/txid';
import { ApiClient } from '../support/api-client';

// A redeploy of the suite's stack with fewer leader slots while transactions are in flight: the
// records keep the slot they were created in, participants reply into that slot's group, the
// sweeper reads every slot a live record holds — so they all end, holding nothing. Then the stack
// is deployed back with its own slot count, as the suite found it.
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const run = Date.now().toString(36);
const FEWER_SLOTS = 4;

async function slotOfRecord(txId: string): Promise<number> {
  const { Item } = await api.dynamo.send(
    new GetCommand({
      TableName: deployment.outputs.TransactionsTable!,
      Key: { txId: recordKeyOf(txId) },
      ConsistentRead: true,
    }),
  );
  return Item?.slot as number;
}

async function redeploy(slots: number): Promise<void> {
  const outputDir = mkdtempSync(join(tmpdir(), 'tandem-slots-'));
  try {
    await redeployLocal(deployment.endpoint, [...TEST_CONTEXT, '-c', `slots=${slots}`], outputDir);
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

describe('changing the slot count of a live deployment', () => {
  it(`ends every transaction in flight, in slots the new count (${FEWER_SLOTS}) no longer has`, async () => {
    // Prepare: transactions whose votes are lost, so they wait for their prepare timeout across
    // the redeploy; with 64 slots nearly all of them sit in slots 4..63.
    const deployed = Number(deployment.outputs.SlotCount);
    expect(deployed).toBeGreaterThan(FEWER_SLOTS);
    const [from, to] = [`slotsA-${run}`, `slotsB-${run}`];
    await api.createAccount(from, 100);
    await api.createAccount(to, 0);
    const txIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const key = `slots-${run}-${i}`;
      await api.planFaults(keyedRecordKey(key), { drop: ['participant.vote'] });
      const answer = await api.client.transfer({
        from,
        to,
        amount: 10,
        idempotencyKey: key,
        commit: 'two-phase',
      });
      expect(answer.status).toBe(202);
      txIds.push(answer.txId);
    }
    const slots = await Promise.all(txIds.map(slotOfRecord));
    expect(
      slots.some((slot) => slot >= FEWER_SLOTS),
      `slots ${slots.join(', ')}`,
    ).toBe(true);

    try {
      // Act
      await redeploy(FEWER_SLOTS);

      // Assess: each ends (aborted by its prepare timeout) with nothing held, in the slot it kept
      for (const txId of txIds) {
        const done = await api.waitTerminal(txId);
        expect(done, txId).toMatchObject({ state: 'ABORTED', reason: 'prepare timeout' });
      }
      expect(await Promise.all(txIds.map(slotOfRecord))).toEqual(slots);
      const account = await api.client.getAccount(from);
      expect(account).toMatchObject({ balance: 100, available: 100 });
      // A transaction begun now gets a slot of the new count, and commits.
      const after = await api.client.transfer({ from, to, amount: 1, commit: 'two-phase' }, { wait: 20 });
      expect(after.status).toBe(200);
      expect(await slotOfRecord(after.txId)).toBeLessThan(FEWER_SLOTS);
      expect((await api.waitTerminal(after.txId)).state).toBe('COMMITTED');
    } finally {
      // The suite's stack as it was
      await redeploy(deployed);
    }
  }, 600_000);
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoSlotStore } from '../../shared/adapters/dynamo-slots';
import { LeaseManager } from '../../shared/coordinator/leases';
import { FenceLostError, VersionConflictError } from '../../shared/errors';
import { newTransaction, type TxRecord } from '../../shared/protocol';
import { testTxStore } from '../support/test-records';

// The coordinator's DynamoDB adapters against the emulator, on the deployed tables. Slots from
// 10_000 up are never used by the deployed coordinator (it has 64), so these tests own them.
const deployment = inject('deployment');
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: deployment.endpoint }), {
  marshallOptions: { removeUndefinedValues: true },
});
const txs = testTxStore(client, deployment.outputs.TransactionsTable!, deployment.outputs.SlotsTable!);
const slots = new DynamoSlotStore(client, deployment.outputs.SlotsTable!);
const config = { prepareTimeoutMs: 60_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
const leaseConfig = { leaseDurationMs: 30_000, skewMarginMs: 1_000 };
const clock = { nowMs: Date.now };
const run = Date.now().toString(36);
let nextSlot = 10_000 + (Date.now() % 1000) * 10;

function record(name: string): TxRecord {
  const participants = [
    { id: 'ledger-0', kind: 'ledger', operations: [{ id: 'a', action: 'take', amount: 1 }] },
  ];
  return newTransaction({ txId: `it-${run}-${name}`, slot: nextSlot++, participants }, Date.now(), config);
}

describe('transaction log and slot table on the emulator', () => {
  it('creates a record once and returns the existing one on a second create', async () => {
    const tx = record('create');
    expect(await txs.create({ record: tx, requestHash: 'h1' })).toEqual({ created: true });
    const again = await txs.create({ record: { ...tx, version: 99 }, requestHash: 'h2' });
    expect(again).toMatchObject({ created: false, existing: { requestHash: 'h1', record: { version: 1 } } });
    expect((await txs.load(tx.txId))?.record).toEqual(tx);
  });

  it('saves under the right version and fence, and refuses a stale version', async () => {
    const tx = record('version');
    await txs.create({ record: tx, requestHash: 'h' });
    const fence = await new LeaseManager(slots, `a-${run}`, clock, leaseConfig).fence(tx.slot);
    const next = { ...tx, version: 2, state: 'PREPARING' as const };
    await txs.save({ record: next, requestHash: 'h' }, 1, fence);
    expect((await txs.load(tx.txId))?.record.state).toBe('PREPARING');
    await expect(
      txs.save({ record: { ...next, version: 3 }, requestHash: 'h' }, 1, fence),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await txs.load(tx.txId))?.record.version).toBe(2);
  });

  it('rejects a write from a stale epoch after a takeover, and changes nothing', async () => {
    const tx = record('fence');
    await txs.create({ record: tx, requestHash: 'h' });
    const a = new LeaseManager(slots, `a-${run}`, clock, leaseConfig);
    const b = new LeaseManager(slots, `b-${run}`, clock, leaseConfig);
    const fenceA = await a.fence(tx.slot);
    const fenceB = await b.fence(tx.slot);
    expect(fenceB.epoch).toBe(fenceA.epoch + 1);

    const decided = { ...tx, version: 2, state: 'COMMITTING' as const };
    await expect(txs.save({ record: decided, requestHash: 'h' }, 1, fenceA)).rejects.toBeInstanceOf(
      FenceLostError,
    );
    expect((await txs.load(tx.txId))?.record).toEqual(tx);
    // Stale version and stale epoch at once: the fence is what is reported.
    await expect(txs.save({ record: decided, requestHash: 'h' }, 7, fenceA)).rejects.toBeInstanceOf(
      FenceLostError,
    );
    await txs.save({ record: decided, requestHash: 'h' }, 1, fenceB);
    expect((await txs.load(tx.txId))?.record.state).toBe('COMMITTING');
  });

  it('lets exactly one of several racing acquirers win a free slot', async () => {
    const slot = nextSlot++;
    const plans = Array.from({ length: 5 }, (_, i) =>
      slots.write(
        { slot, owner: `racer-${i}`, epoch: 1, leaseExpiresAtMs: Date.now() + 30_000 },
        { rowExists: false },
      ),
    );
    const wins = (await Promise.all(plans)).filter(Boolean);
    expect(wins).toHaveLength(1);
    expect((await slots.read(slot))?.epoch).toBe(1);
  });

  it('lists due transactions of every slot and leaves terminal ones out of the index', async () => {
    const due = record('due');
    const done = {
      ...record('done'),
      slot: due.slot,
      state: 'COMMITTED' as const,
      nextCheckAtMs: null,
      completedAtMs: Date.now(),
    };
    await txs.create({ record: due, requestHash: 'h' });
    await txs.create({ record: done, requestHash: 'h' });
    // The emulator's log is shared by every test: only these two records are looked for.
    const ours = async (nowMs: number) =>
      (await txs.due(nowMs, 10_000)).due.filter((d) => d.recordKey === due.txId || d.recordKey === done.txId);
    expect(await ours(due.nextCheckAtMs! + 1)).toEqual([
      { recordKey: due.txId, slot: due.slot, nextCheckAtMs: due.nextCheckAtMs },
    ]);
    expect(await ours(due.nextCheckAtMs! - 1)).toEqual([]);
  });
});

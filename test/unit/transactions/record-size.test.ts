import { describe, expect, it } from 'vitest';
import { txItemOf } from '../../../shared/adapters/dynamo-tx-store';
import { bankAndShopSpecs } from '../../../shared/bank-and-shop';
import { shardOf } from '../../../shared/ledger/sharding';
import type { StoredTx, TxOrigin } from '../../../shared/ports';
import {
  applyNote,
  type CoordinatorConfig,
  coordinatorStep,
  noteOf,
  type ParticipantReply,
  startTransaction,
  type TxRecord,
} from '../../../shared/protocol';
import { type Operation, ParticipantRegistry } from '../../../shared/registry';
import { API_ORIGIN, planParticipants, requestHashOf } from '../../../shared/transactions';
import { incarnatedTxId, keyedRecordKey, newIncarnation, randomTxId } from '../../../shared/txid';
import { dynamoItemBytes } from '../../support/dynamo-item-size';

/*
 * The transaction record is rewritten several times per transaction (the API's create, a note per
 * vote and per ack — the participants' UpdateItems — the coordinator's decision, and the end, by
 * the participant whose ack completed the set or by the coordinator: the same record, endOf),
 * and each write is billed per started kilobyte of the item — the larger of before and after for a
 * note's Update. These walk whole transactions through the protocol as the deployment does and
 * size every write of the record as DynamoDB would.
 */

const SHARDS = 2;
const registry = new ParticipantRegistry(bankAndShopSpecs(SHARDS));
const config: CoordinatorConfig = { prepareTimeoutMs: 10_000, resendBaseMs: 2_000, resendCapMs: 60_000 };
const T0 = 1_764_800_000_123;
const KB = 1024;
/** An account id on `shard`, as long as the bench's (`bench-<time base36>-<client>-<n>`) and then some. */
function account(shard: number, client = 12): string {
  for (let n = 0; n < 1_000; n++) {
    const id = `bench-mip3k2x1-${client}-${n}`;
    if (shardOf(id, SHARDS) === shard) return id;
  }
  throw new Error(`no account on shard ${shard}`);
}

interface Walk {
  readonly operations: readonly Operation[];
  readonly txId?: string;
  readonly origin?: TxOrigin;
  /** The participants' votes; every participant votes YES unless it is named here with a reason. */
  readonly no?: { readonly participantId: string; readonly reason: string };
  /** The slot lease epoch the decision is written under. */
  readonly epoch?: number;
}

/** Every write of the record in one transaction: what it writes, and the bytes it is billed for. */
function writesOf(walk: Walk): Array<{ readonly write: string; readonly bytes: number }> {
  const participants = planParticipants(walk.operations, registry);
  const txId = walk.txId ?? randomTxId();
  const stored = (record: TxRecord): StoredTx => ({
    record,
    requestHash: requestHashOf(participants),
    ...(walk.origin ? { origin: walk.origin } : {}),
  });
  const size = (record: TxRecord) => dynamoItemBytes(txItemOf(stored(record)));
  const writes: Array<{ write: string; bytes: number }> = [];
  let t = T0;
  let record = startTransaction({ txId, slot: 123, participants }, t, config).state;
  writes.push({ write: 'create', bytes: size(record) });

  const note = (reply: ParticipantReply) => {
    t += 10;
    const next = applyNote(record, noteOf(reply, t));
    expect(next, `note of ${reply.participantId}`).not.toBeNull();
    writes.push({
      write: `${reply.type} note of ${reply.participantId}`,
      bytes: Math.max(size(record), size(next!)),
    });
    record = next!;
  };
  const coordinator = (input: ParticipantReply, write: string) => {
    t += 10;
    const { state } = coordinatorStep(record, input, t, config);
    const next = write === 'decision' ? { ...state, decidedEpoch: walk.epoch ?? 17 } : state;
    writes.push({ write, bytes: Math.max(size(record), size(next)) });
    record = next;
  };

  const votes: ParticipantReply[] = participants.map((p) =>
    walk.no?.participantId === p.id
      ? { type: 'Vote', txId, participantId: p.id, vote: 'NO', reason: walk.no.reason }
      : { type: 'Vote', txId, participantId: p.id, vote: 'YES' },
  );
  for (const vote of votes) note(vote);
  coordinator(votes.at(-1)!, 'decision');
  const outcome = record.state === 'COMMITTING' ? 'COMMITTED' : 'ABORTED';
  const acks: ParticipantReply[] = participants.map((p) => ({
    type: 'Ack',
    txId,
    participantId: p.id,
    outcome,
  }));
  for (const ack of acks) note(ack);
  coordinator(acks.at(-1)!, 'end');
  expect(record.state).toBe(outcome);
  return writes;
}

const transfer = (from: string, to: string, amount: number): Operation[] => [
  { participant: 'ledger', action: 'debit', accountId: from, amount },
  { participant: 'ledger', action: 'credit', accountId: to, amount },
];

describe('dynamoItemBytes, the sizing rules', () => {
  it('counts names, strings, numbers by digit pairs, and 3 + 1 per element for lists and maps', () => {
    expect(dynamoItemBytes({ ab: 'xyz' })).toBe(5);
    expect(dynamoItemBytes({ n: 1_764_800_000_123 })).toBe(1 + 8); // 13 digits: 7 pairs + 1
    expect(dynamoItemBytes({ n: 1_000 })).toBe(1 + 2); // trailing zeros do not count
    expect(dynamoItemBytes({ n: 0 })).toBe(1 + 1);
    expect(dynamoItemBytes({ m: { k: 1 } })).toBe(1 + 3 + (1 + 1 + 2));
    expect(dynamoItemBytes({ l: [1, 'ab'], z: null, b: true })).toBe(1 + 3 + (1 + 2) + (1 + 2) + 2 + 2);
  });
});

describe('the transaction record, as DynamoDB sizes its writes', () => {
  it('stays well under 1 KB at every write of a cross-shard transfer like the bench’s', () => {
    const writes = writesOf({ operations: transfer(account(0), account(1), 1) });
    expect(writes).toHaveLength(7);
    for (const { write, bytes } of writes) expect(bytes, write).toBeLessThan(0.7 * KB);
  });

  it('stays under 1 KB with an idempotency key, its origin, a large amount and a late epoch', () => {
    const key = '3f0b7c1e-8d2a-4b6f-9c5e-1a7d2e4f6b80';
    const writes = writesOf({
      operations: transfer(account(0), account(1), 987_654_321),
      txId: incarnatedTxId(
        keyedRecordKey(key, 'arn:aws:iam::123456789012:role/payments-api'),
        newIncarnation(),
      ),
      origin: { source: API_ORIGIN, key },
      epoch: 123_456,
    });
    for (const { write, bytes } of writes) expect(bytes, write).toBeLessThan(KB);
  });

  it('stays under 1 KB when a participant votes NO with a reason', () => {
    const writes = writesOf({
      operations: transfer(account(0), account(1), 5),
      no: {
        participantId: 'ledger-0',
        reason: `insufficient funds: account '${account(0)}' has 3 available`,
      },
    });
    for (const { write, bytes } of writes) expect(bytes, write).toBeLessThan(KB);
  });

  it('stays under 1 KB for a checkout over three participants', () => {
    const writes = writesOf({
      operations: [
        ...transfer(account(0), account(1, 345), 4_999),
        { participant: 'inventory', action: 'reserve', sku: 'sku-000123-blue-xl', quantity: 2 },
      ],
    });
    expect(new Set(writes.map((w) => w.write.split(' of ')[1]).filter(Boolean)).size).toBe(3);
    for (const { write, bytes } of writes) expect(bytes, write).toBeLessThan(KB);
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bankAndShopSpecs } from '../../../shared/bank-and-shop';
import { shardOf } from '../../../shared/ledger/sharding';
import { canonicalJson } from '../../../shared/protocol';
import { type Operation, ParticipantRegistry } from '../../../shared/registry';
import {
  entityRefsOf,
  planParticipants,
  requestHashOf,
  requestIdentityOf,
  transferOperations,
} from '../../../shared/transactions';
import {
  incarnatedTxId,
  incarnationOf,
  keyedRecordKey,
  newIncarnation,
  randomTxId,
  recordKeyOf,
} from '../../../shared/txid';

const registryOf = (ledgerShards: number) => new ParticipantRegistry(bankAndShopSpecs(ledgerShards));
const debit = (accountId: string, amount: number): Operation => ({
  participant: 'ledger',
  action: 'debit',
  accountId,
  amount,
});
const credit = (accountId: string, amount: number): Operation => ({
  participant: 'ledger',
  action: 'credit',
  accountId,
  amount,
});

describe('planParticipants', () => {
  it('groups ledger operations by shard and inventory operations together, without `participant`', () => {
    const shards = 4;
    const ops: Operation[] = [
      debit('alice', 10),
      credit('bob', 10),
      { participant: 'inventory', action: 'reserve', sku: 'book', quantity: 1 },
      { participant: 'inventory', action: 'release', sku: 'apple', quantity: 3 },
    ];
    const planned = planParticipants(ops, registryOf(shards));
    const ledger = (id: string) => `ledger-${shardOf(id, shards)}`;
    expect(planned.find((p) => p.id === 'inventory')).toEqual({
      id: 'inventory',
      kind: 'inventory',
      operations: [
        { action: 'release', sku: 'apple', quantity: 3 },
        { action: 'reserve', sku: 'book', quantity: 1 },
      ],
    });
    const alice = { action: 'debit', accountId: 'alice', amount: 10 };
    const bob = { action: 'credit', accountId: 'bob', amount: 10 };
    expect(ledger('alice')).not.toBe(ledger('bob'));
    expect(planned.find((p) => p.id === ledger('alice'))).toEqual({
      id: ledger('alice'),
      kind: 'ledger',
      operations: [alice],
    });
    expect(planned.find((p) => p.id === ledger('bob'))).toEqual({
      id: ledger('bob'),
      kind: 'ledger',
      operations: [bob],
    });
    expect(planned).toHaveLength(3);
    expect(planned.map((p) => p.id)).toEqual([...new Set(planned.map((p) => p.id))].sort());
  });

  it('is independent of the order of the operations (same participants, same hash)', () => {
    const accounts = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(accounts, { minLength: 1 }),
        fc.integer({ min: 1, max: 3 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 2 ** 31 })),
        (chosen, shards, seeds) => {
          const ops = chosen.map((id, i) => (i % 2 === 0 ? debit(id, i + 1) : credit(id, i + 1)));
          const shuffled = [...ops].sort(() => (seeds.next().value % 2 === 0 ? -1 : 1));
          const a = planParticipants(ops, registryOf(shards));
          const b = planParticipants(shuffled, registryOf(shards));
          expect(b).toEqual(a);
          expect(requestHashOf(b)).toBe(requestHashOf(a));
          expect(a.flatMap((p) => p.operations)).toHaveLength(ops.length);
        },
      ),
    );
  });

  it('maps a transfer to a debit of `from` and a credit of `to`', () => {
    expect(transferOperations({ from: 'a', to: 'b', amount: 5 }, registryOf(2))).toEqual([
      debit('a', 5),
      credit('b', 5),
    ]);
    expect(
      transferOperations({ participant: 'inventory', from: 'a', to: 'b', amount: 5 }, registryOf(2)),
    ).toEqual([
      { participant: 'inventory', action: 'reserve', sku: 'a', quantity: 5 },
      { participant: 'inventory', action: 'release', sku: 'b', quantity: 5 },
    ]);
  });

  it('refuses a transfer on a participant that is not a counter, or not there', () => {
    expect(() =>
      transferOperations({ participant: 'shipping', from: 'a', to: 'b', amount: 5 }, registryOf(2)),
    ).toThrow(/'shipping' is not a participant of this deployment/);
  });

  it('lists the entities to look up with their shards', () => {
    expect(
      entityRefsOf(
        [debit('alice', 1), { participant: 'inventory', action: 'reserve', sku: 's', quantity: 1 }],
        registryOf(3),
      ),
    ).toEqual([
      { participantId: `ledger-${shardOf('alice', 3)}`, entity: 'account', id: 'alice' },
      { participantId: 'inventory', entity: 'item', id: 's' },
    ]);
  });
});

describe('request hash', () => {
  const participants = planParticipants([debit('a', 5), credit('b', 5)], registryOf(2));

  it('changes with any operation field and ignores key order', () => {
    const hash = requestHashOf(participants);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(requestHashOf(planParticipants([debit('a', 6), credit('b', 5)], registryOf(2)))).not.toBe(hash);
    expect(requestHashOf(planParticipants([credit('a', 5), debit('b', 5)], registryOf(2)))).not.toBe(hash);
    expect(requestHashOf(planParticipants([debit('a', 5), credit('c', 5)], registryOf(2)))).not.toBe(hash);
    const reordered = participants.map((p) => ({
      operations: p.operations.map((op) => {
        const { amount, action, accountId } = op as { accountId: string; action: string; amount: number };
        return { amount, action, accountId };
      }),
      kind: p.kind,
      id: p.id,
    }));
    expect(requestHashOf(reordered)).toBe(hash);
  });

  it("recognises the same request in a record written before operations were the participants' own", () => {
    const registry = registryOf(2);
    const planned = planParticipants([debit('a', 5), credit('b', 5)], registry);
    // What Tandem 0.1 stored: SHA-256 hex over the counters' take/give operations.
    const legacy = createHash('sha256')
      .update(
        canonicalJson({
          v: 1,
          participants: planned.map((p) => ({
            id: p.id,
            kind: p.kind,
            operations: p.operations.map((op) => {
              const { accountId, action, amount } = op as {
                accountId: string;
                action: string;
                amount: number;
              };
              return { id: accountId, action: action === 'debit' ? 'take' : 'give', amount };
            }),
          })),
        }),
      )
      .digest('hex');
    const identity = requestIdentityOf(planned, registry);
    expect(identity.matches(identity.hash)).toBe(true);
    expect(identity.matches(legacy)).toBe(true);
    const other = requestIdentityOf(planParticipants([debit('a', 6), credit('b', 6)], registry), registry);
    expect(other.matches(legacy)).toBe(false);
    expect(other.matches(identity.hash)).toBe(false);
  });

  it('writes canonical JSON with sorted keys at every level', () => {
    expect(canonicalJson({ b: [{ d: 1, c: null }], a: 'x' })).toBe('{"a":"x","b":[{"c":null,"d":1}]}');
  });
});

describe('transaction ids', () => {
  it('derives a stable record key of 26 base64url characters from a key', () => {
    const key = keyedRecordKey('order-42');
    expect(key).toMatch(/^tx_[A-Za-z0-9_-]{26}$/);
    expect(keyedRecordKey('order-42')).toBe(key);
    expect(keyedRecordKey('order-43')).not.toBe(key);
    // sha256('idem:order-42'), base64url, first 26 characters: the ids written before scopes and
    // incarnations existed, which stay valid.
    expect(key).toBe(`tx_${createHash('sha256').update('idem:order-42').digest('base64url').slice(0, 26)}`);
  });

  it('scopes keys per caller: the same key of two callers names two record keys', () => {
    const alice = keyedRecordKey('order-42', 'iam:arn:aws:iam::111122223333:role/alice');
    const bob = keyedRecordKey('order-42', 'iam:arn:aws:iam::111122223333:role/bob');
    expect(alice).toMatch(/^tx_[A-Za-z0-9_-]{26}$/);
    expect(new Set([alice, bob, keyedRecordKey('order-42')]).size).toBe(3);
    expect(keyedRecordKey('order-42', 'iam:arn:aws:iam::111122223333:role/alice')).toBe(alice);
  });

  it('gives each creation at a key an incarnation: a transaction id names one transaction', () => {
    const key = keyedRecordKey('order-42');
    const first = incarnatedTxId(key, newIncarnation());
    const second = incarnatedTxId(key, newIncarnation());
    expect(first).toMatch(/^tx_[A-Za-z0-9_-]{26}\.[A-Za-z0-9_-]{8}$/);
    expect(second).not.toBe(first);
    expect([recordKeyOf(first), recordKeyOf(second)]).toEqual([key, key]);
    expect(incarnationOf(first)).toBe(first.slice(-8));
    // An id without an incarnation (random, or written before them) is its own record key.
    expect([recordKeyOf(key), incarnationOf(key)]).toEqual([key, null]);
  });

  it('makes random ids of another length, so they never collide with keyed ones', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomTxId()));
    expect(ids.size).toBe(100);
    for (const id of ids) {
      expect(id).toMatch(/^tx_[0-9a-f]{32}$/);
      expect(recordKeyOf(id)).toBe(id);
    }
  });
});

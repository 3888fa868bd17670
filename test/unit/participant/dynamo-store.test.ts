import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoParticipantStore } from '../../../shared/adapters/dynamo-participant-store';
import { ContentionError, InfrastructureError } from '../../../shared/errors';
import type { ParticipantBarrier, Reservation } from '../../../shared/participant';
import { ProtocolAssertionError } from '../../../shared/protocol';
import { cancelled, give, LEDGER, P, T0, TX, take } from './helpers';

// The DynamoDB adapter's mapping of errors to outcomes, over a scripted client (no network). The
// real TransactWriteItems are in test/integration/participant-store.test.ts.

function scripted(
  onWrite: (input: TransactWriteCommand['input']) => unknown,
  entities: Record<string, unknown> = {},
) {
  const gets: string[] = [];
  const writes: TransactWriteCommand['input'][] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof TransactWriteCommand) {
        writes.push(command.input);
        const error = onWrite(command.input);
        if (error) throw error;
        return {};
      }
      if (command instanceof GetCommand) {
        const pk = command.input.Key?.pk as string;
        gets.push(pk);
        return { Item: entities[pk] };
      }
      throw new Error('unexpected command');
    },
  } as unknown as DynamoDBDocumentClient;
  return {
    store: new DynamoParticipantStore(client, { table: 'table', definition: LEDGER.definition }),
    gets,
    writes,
  };
}

const barrier = (reservation: Reservation): ParticipantBarrier => ({
  txId: TX,
  participantId: P,
  state: 'PREPARED',
  vote: 'YES',
  reason: null,
  reservation,
  createdAtMs: T0,
  updatedAtMs: T0,
});
const reserveOf = (reservation: Reservation) =>
  [undefined, barrier(reservation), { type: 'reserve', reservation }] as const;

describe('DynamoParticipantStore: the transaction it writes', () => {
  it('puts the barrier first, then one action per entity, with the conditions of the table', async () => {
    // Prepare
    const { store, writes } = scripted(() => undefined);
    const reservation = [take('alice', 30), give('bob', 30)];

    // Act
    await store.write(...reserveOf(reservation));
    await store.write(
      barrier(reservation),
      { ...barrier(reservation), state: 'ABORTED' },
      {
        type: 'release',
        reservation,
      },
    );

    // Assess
    const [reserve, release] = writes.map((w) => w.TransactItems!);
    expect(reserve![0]?.Put).toMatchObject({
      Item: { pk: `barrier#${TX}#${P}`, kind: 'barrier', state: 'PREPARED' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(reserve![1]?.Update).toMatchObject({
      Key: { pk: 'account#alice' },
      ConditionExpression: 'attribute_exists(pk) AND #available >= :a',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(reserve![2]?.ConditionCheck).toMatchObject({
      Key: { pk: 'account#bob' },
      ConditionExpression: 'attribute_exists(pk)',
    });
    // A release leaves the give alone: only the barrier and the take.
    expect(release).toHaveLength(2);
    expect(release![0]?.Put).toMatchObject({
      ConditionExpression: '#state = :prev',
      ExpressionAttributeValues: { ':prev': 'PREPARED' },
    });
  });

  it('refuses two writes on one item at prepare (a NO), and asserts it later', async () => {
    const { store, writes } = scripted(() => undefined);
    await expect(store.write(...reserveOf([take('a', 1), take('a', 2)]))).resolves.toEqual({
      ok: false,
      kind: 'rejected',
      reason: 'two writes on one item (table {"pk":"account#a"}) in one transaction',
    });
    const prepared = barrier([take('a', 1), take('a', 2)]);
    await expect(
      store.write(
        prepared,
        { ...prepared, state: 'COMMITTED', updatedAtMs: T0 + 1 },
        {
          type: 'apply',
          reservation: prepared.reservation!,
        },
      ),
    ).rejects.toBeInstanceOf(ProtocolAssertionError);
    expect(writes).toEqual([]);
  });
});

describe('DynamoParticipantStore: explaining a cancelled transaction', () => {
  it('explains a refused take from the old item that came back, without reading', async () => {
    // Prepare
    const { store, gets } = scripted(() =>
      cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { available: { N: '5' } } }),
    );

    // Act
    const outcome = await store.write(...reserveOf([take('alice', 10)]));

    // Assess
    expect(outcome).toEqual({
      ok: false,
      kind: 'rejected',
      reason: "insufficient funds on account 'alice' (available 5, needed 10)",
    });
    expect(gets).toEqual([]);
  });

  it('falls back to a consistent read when no item came back', async () => {
    // Prepare
    const { store, gets } = scripted(
      () => cancelled({ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }),
      { 'account#bob': { available: 3 } },
    );

    // Act
    const outcome = await store.write(...reserveOf([give('alice', 1), take('bob', 4)]));

    // Assess
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: "insufficient funds on account 'bob' (available 3, needed 4)",
    });
    expect(gets).toEqual(['account#bob']);
  });

  it('reports an entity missing on the read as unknown', async () => {
    const { store } = scripted(() => cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }));
    expect(await store.write(...reserveOf([give('carol', 1)]))).toMatchObject({
      reason: "unknown account 'carol'",
    });
  });

  it('calls it a lost race when the read shows enough after all', async () => {
    const { store } = scripted(() => cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }), {
      'account#alice': { available: 50 },
    });
    expect(await store.write(...reserveOf([take('alice', 10)]))).toEqual({
      ok: false,
      kind: 'barrier-conflict',
    });
  });

  it('maps a failed barrier condition to barrier-conflict, whatever the entities say', async () => {
    const { store } = scripted(() =>
      cancelled(
        { Code: 'ConditionalCheckFailed' },
        { Code: 'ConditionalCheckFailed', Item: { available: 0 } },
      ),
    );
    expect(await store.write(...reserveOf([take('alice', 10)]))).toEqual({
      ok: false,
      kind: 'barrier-conflict',
    });
  });

  it.each([
    ['a TransactionConflict (another transaction on the same item)', 'conflict', 'TransactionConflict'],
    ['a throttled transaction', 'throttle', 'ThrottlingError'],
    ['a transaction over its provisioned throughput', 'throttle', 'ProvisionedThroughputExceeded'],
  ])(
    'throws ContentionError for %s: nothing judged, retried after a backoff',
    async (_name, reason, code) => {
      const { store } = scripted(() => cancelled({ Code: 'None' }, { Code: code }));
      const write = store.write(...reserveOf([take('alice', 10)]));
      await expect(write).rejects.toBeInstanceOf(ContentionError);
      await expect(write).rejects.toMatchObject({ reason });
    },
  );

  it('judges a failed condition before a conflict in the same cancellation', async () => {
    const { store } = scripted(() =>
      cancelled({ Code: 'ConditionalCheckFailed' }, { Code: 'TransactionConflict' }),
    );
    expect(await store.write(...reserveOf([take('alice', 10)]))).toEqual({
      ok: false,
      kind: 'barrier-conflict',
    });
  });

  it('throws InfrastructureError (not contention) for a network failure', async () => {
    const { store } = scripted(() => new Error('socket hang up'));
    const write = store.write(...reserveOf([take('alice', 10)]));
    await expect(write).rejects.toBeInstanceOf(InfrastructureError);
    await expect(write).rejects.not.toBeInstanceOf(ContentionError);
  });

  it('throws ProtocolAssertionError when an apply finds its hold gone', async () => {
    const { store } = scripted(() => cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }));
    const reservation = [take('alice', 10)];
    const apply = store.write(
      barrier(reservation),
      { ...barrier(reservation), state: 'COMMITTED' },
      {
        type: 'apply',
        reservation,
      },
    );
    await expect(apply).rejects.toThrow(
      /apply write failed its condition \(Update of table \{"pk":"account#alice"\}\)/,
    );
  });
});

describe('DynamoParticipantStore: loading', () => {
  it('refuses a corrupt barrier item', async () => {
    const { store } = scripted(() => undefined, { [`barrier#${TX}#${P}`]: { txId: TX, state: 'MAYBE' } });
    await expect(store.loadBarrier(TX, P)).rejects.toBeInstanceOf(ProtocolAssertionError);
  });

  it('reads a barrier item back without its key attributes', async () => {
    const stored = { pk: `barrier#${TX}#${P}`, kind: 'barrier', ...barrier([take('alice', 1)]) };
    const { store } = scripted(() => undefined, { [stored.pk]: stored });
    expect(await store.loadBarrier(TX, P)).toEqual(barrier([take('alice', 1)]));
  });
});

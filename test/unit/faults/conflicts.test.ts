import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  conflictingClient,
  isConflictTarget,
  transactionConflict,
} from '../../../shared/adapters/dynamo-conflicts';
import { cancellationCodes, contentionOf } from '../../../shared/adapters/dynamo-errors';
import { DynamoFaultSource, faultPlanKey } from '../../../shared/adapters/dynamo-faults';
import { DynamoParticipantStore } from '../../../shared/adapters/dynamo-participant-store';
import { DynamoTxStore, txItemOf } from '../../../shared/adapters/dynamo-tx-store';
import type { Pacing } from '../../../shared/backoff';
import { LEDGER } from '../../../shared/bank-and-shop';
import { handleCoordinatorInput } from '../../../shared/coordinator/shell';
import { ContentionError } from '../../../shared/errors';
import type { FaultPlan } from '../../../shared/faults';
import { handleParticipantMessage } from '../../../shared/participant';
import type { StoredTx } from '../../../shared/ports';
import type { ParticipantMessage, TxRecord } from '../../../shared/protocol';
import { config, preparing, TX } from '../protocol/helpers';

// Conflicts injected by fault plans (test deployments): a client below the real stores cancels
// their TransactWriteItems exactly as DynamoDB does on a TransactionConflict, so the adapters'
// classification and the shells' backoff are what is exercised — over an in-memory stand-in for
// DynamoDB (no network).

type Item = Record<string, unknown>;

/**
 * Just enough DynamoDB: Get by key, the Faults table's ADD of hit counters (with the claim's
 * condition), TransactWriteItems recorded and granted. `failUpdates`: every Update throws.
 */
function fakeDynamo(items: Record<string, Item> = {}, failUpdates = false) {
  const written: Array<NonNullable<TransactWriteCommand['input']['TransactItems']>> = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetCommand) {
        return { Item: items[Object.values(command.input.Key ?? {})[0] as string] };
      }
      if (command instanceof UpdateCommand) {
        if (failUpdates) throw new Error('throttled');
        return add(items, command.input);
      }
      if (command instanceof TransactWriteCommand) {
        written.push(command.input.TransactItems ?? []);
        return {};
      }
      throw new Error(`unexpected command ${command?.constructor.name}`);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, items, written };
}

/** `ADD #a :x, …`, conditioned (if at all) as the conflict claim is: below `:n`. */
function add(items: Record<string, Item>, input: UpdateCommand['input']) {
  const { pk } = input.Key as { pk: string };
  items[pk] ??= { ...input.Key };
  const item = items[pk];
  const name = (placeholder: string) => input.ExpressionAttributeNames?.[placeholder] as string;
  const value = (placeholder: string) => input.ExpressionAttributeValues?.[placeholder] as number;
  if (input.ConditionExpression !== undefined) {
    expect(input.ConditionExpression).toBe('attribute_not_exists(#hits) OR #hits < :n');
    const current = item[name('#hits')] as number | undefined;
    if (current !== undefined && current >= value(':n')) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
  }
  for (const [, attr, n] of (input.UpdateExpression ?? '').matchAll(/(#\w+) (:\w+)/g)) {
    item[name(attr!)] = ((item[name(attr!)] as number | undefined) ?? 0) + value(n!);
  }
  return {};
}

/** Pacing that sleeps no real time. */
const pacing: Pacing = {
  sleep: async () => {},
  random: () => 0.5,
  deadlineMs: () => Number.POSITIVE_INFINITY,
};
const clock = { nowMs: () => preparing(1).createdAtMs + 1 };
const fence = { slot: 7, owner: 'env-a', epoch: 3 };
const leases = { fence: async () => fence, forget: () => {} };
const transport = { toParticipant: async () => {}, scheduleCheck: async () => {} };
const granted = async () => true;

const prepare = (participantId: string): ParticipantMessage => ({
  type: 'Prepare',
  txId: TX,
  participantId,
  operations: [{ action: 'debit', accountId: `${participantId}-acc`, amount: 5 }],
});

/** The plan item of TX as a test arms it, next to the transaction record. */
const armed = (plan: FaultPlan, extra: Item = {}) => ({
  [faultPlanKey(TX).pk]: { ...faultPlanKey(TX), ...plan, ...extra },
  [TX]: txItemOf({ record: preparing(1), requestHash: 'h' }),
});

const conflictOf = (error: unknown) => (error as ContentionError).cause as TransactionCanceledException;

describe('a conflicting client', () => {
  it('cancels the coordinator save as DynamoDB would: TransactionConflict on the record, None on the fence', async () => {
    // Prepare
    const base = fakeDynamo({ [TX]: txItemOf({ record: preparing(1), requestHash: 'h' }) });
    const txs = new DynamoTxStore(conflictingClient(base.client, 'coordinator.save', TX, granted), 't', 's');
    const record = preparing(1);

    // Act
    const loaded = await txs.load(TX);
    const saved = txs.save({ record: { ...record, version: 2 }, requestHash: 'h' }, 1, fence);

    // Assess: the read went through, the write was refused by contention and never sent.
    expect(loaded?.record.txId).toBe(TX);
    const error = await saved.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentionError);
    expect(error).toMatchObject({ reason: 'conflict' });
    expect(cancellationCodes(conflictOf(error))).toEqual(['TransactionConflict', 'None']);
    expect(base.written).toEqual([]);
  });

  it('cancels a participant write with TransactionConflict on the barrier and None on the business change', async () => {
    const base = fakeDynamo();
    const store = new DynamoParticipantStore(
      conflictingClient(base.client, 'participant.write', TX, granted),
      {
        table: 'ledger-0',
        definition: LEDGER.definition,
        transactionsTable: 'txs',
      },
    );
    const barrier = {
      txId: TX,
      participantId: 'ledger-0',
      state: 'PREPARED',
      vote: 'YES',
      reason: null,
      reservation: [{ id: 'a', action: 'take', amount: 5 }],
      createdAtMs: 1,
      updatedAtMs: 1,
    } as const;

    const error = await store
      .write(undefined, barrier, { type: 'reserve', reservation: barrier.reservation })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ContentionError);
    expect(cancellationCodes(conflictOf(error))).toEqual(['TransactionConflict', 'None']);
    expect(base.written).toEqual([]);
  });

  it('lets through what is not its point and transaction, and what the claim does not grant, without asking twice', async () => {
    const base = fakeDynamo();
    const claims: string[] = [];
    const claim = (answer: boolean) => async () => {
      claims.push(String(answer));
      return answer;
    };
    const record = { record: { ...preparing(1), version: 2 }, requestHash: 'h' } satisfies StoredTx;
    const other = { record: { ...record.record, txId: 'tx-other' }, requestHash: 'h' } satisfies StoredTx;

    // another transaction's record; a barrier client seeing a record; a claim refused
    await new DynamoTxStore(
      conflictingClient(base.client, 'coordinator.save', TX, claim(true)),
      't',
      's',
    ).save(other, 1, fence);
    await new DynamoTxStore(
      conflictingClient(base.client, 'participant.write', TX, claim(true)),
      't',
      's',
    ).save(record, 1, fence);
    await new DynamoTxStore(
      conflictingClient(base.client, 'coordinator.save', TX, claim(false)),
      't',
      's',
    ).save(record, 1, fence);

    expect(base.written).toHaveLength(3);
    expect(claims).toEqual(['false']);
  });

  it('builds what DynamoDB answers, which the adapters read as a conflict', () => {
    const error = transactionConflict(3, 1);

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.name).toBe('TransactionCanceledException');
    expect(cancellationCodes(error)).toEqual(['None', 'TransactionConflict', 'None']);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None]',
    );
    expect(contentionOf(error)).toBe('conflict');
  });

  it('targets the record at the save and the barrier at the write, of its transaction only', () => {
    const recordPut = { Put: { TableName: 't', Item: { txId: TX, version: 2 } } };
    const barrierPut = {
      Put: { TableName: 'p', Item: { pk: `barrier#${TX}#ledger-0`, kind: 'barrier', txId: TX } },
    };
    const noteUpdate = { Update: { TableName: 't', Key: { txId: TX }, UpdateExpression: 'SET x = :x' } };

    expect(isConflictTarget('coordinator.save', TX, recordPut)).toBe(true);
    expect(isConflictTarget('coordinator.save', TX, barrierPut)).toBe(false);
    expect(isConflictTarget('coordinator.save', TX, noteUpdate)).toBe(false);
    expect(isConflictTarget('coordinator.save', 'tx-other', recordPut)).toBe(false);
    expect(isConflictTarget('participant.write', TX, barrierPut)).toBe(true);
    expect(isConflictTarget('participant.write', TX, recordPut)).toBe(false);
    expect(isConflictTarget('participant.write', 'tx-other', barrierPut)).toBe(false);
  });

  it('finds the record of a keyed transaction by its key and incarnation (regression: keyed ids)', () => {
    const txId = 'tx_key.inc1';
    const recordPut = {
      Put: { TableName: 't', Item: txItemOf({ record: { ...preparing(1), txId }, requestHash: 'h' }) },
    };
    const laterAtKey = { Put: { TableName: 't', Item: { ...recordPut.Put.Item, incarnation: 'inc2' } } };

    expect(isConflictTarget('coordinator.save', txId, recordPut)).toBe(true);
    expect(isConflictTarget('coordinator.save', txId, laterAtKey)).toBe(false);
    expect(isConflictTarget('coordinator.save', 'tx_key', recordPut)).toBe(false);
  });
});

describe('DynamoFaultSource: conflicts of a plan', () => {
  it('cancels the first n participant writes of the transaction, across participants, each counted on the plan', async () => {
    // Prepare: two participants of TX handle their Prepare at once, with 6 conflicts planned.
    const dynamo = fakeDynamo(armed({ conflict: { 'participant.write': 6 } }));
    const source = new DynamoFaultSource(dynamo.client, 'Faults');
    const plain = new DynamoParticipantStore(dynamo.client, {
      table: 'ledger',
      definition: LEDGER.definition,
    });
    const over = (client: DynamoDBDocumentClient) =>
      new DynamoParticipantStore(client, { table: 'ledger', definition: LEDGER.definition });
    const contention: string[] = [];
    const deliver = (participantId: string) =>
      source.run(TX, 1, (faults, _hit, conflicts) =>
        handleParticipantMessage(prepare(participantId), {
          store: conflicts.storeAt('participant.write', plain, over),
          kind: LEDGER,
          clock,
          replies: { send: async () => {} },
          faults,
          pacing,
          onContention: (error) => contention.push(`${participantId} ${error.reason}`),
        }),
      );

    // Act
    const outcomes = await Promise.all([deliver('ledger-0'), deliver('ledger-1')]);
    const later = await source.run(TX, 2, async (_f, _h, conflicts) =>
      conflicts.storeAt('participant.write', plain, over),
    );

    // Assess: both vote YES; 6 conflicts in all, then the plan has none left.
    expect(outcomes.map((o) => o.reply)).toMatchObject([{ vote: 'YES' }, { vote: 'YES' }]);
    expect(contention).toHaveLength(6);
    expect(new Set(contention.map((c) => c.split(' ')[1]))).toEqual(new Set(['conflict']));
    expect(dynamo.written).toHaveLength(2);
    expect(dynamo.items[faultPlanKey(TX).pk]).toMatchObject({ 'hits.conflict.participant.write': 6 });
    expect(later).toBe(plain);
  });

  it('makes six conflicts in a row at one participant end in its YES vote', async () => {
    const dynamo = fakeDynamo(armed({ conflict: { 'participant.write': 6 } }));
    const source = new DynamoFaultSource(dynamo.client, 'Faults');
    const over = (client: DynamoDBDocumentClient) =>
      new DynamoParticipantStore(client, { table: 'ledger', definition: LEDGER.definition });

    const outcome = await source.run(TX, 1, (faults, _hit, conflicts) =>
      handleParticipantMessage(prepare('ledger-0'), {
        store: conflicts.storeAt('participant.write', over(dynamo.client), over),
        kind: LEDGER,
        clock,
        replies: { send: async () => {} },
        faults,
        pacing,
      }),
    );

    expect(outcome).toMatchObject({ reply: { vote: 'YES' }, attempts: 7 });
    expect(dynamo.items[faultPlanKey(TX).pk]).toMatchObject({ 'hits.conflict.participant.write': 6 });
  });

  it('makes the coordinator decide after the conflicts planned at its save, each counted on the plan', async () => {
    const dynamo = fakeDynamo(armed({ conflict: { 'coordinator.save': 3 } }));
    const source = new DynamoFaultSource(dynamo.client, 'Faults');
    const over = (client: DynamoDBDocumentClient) => new DynamoTxStore(client, 'txs', 'slots');
    const contention: string[] = [];

    const outcome = await source.run(TX, 1, (faults, _hit, conflicts) =>
      handleCoordinatorInput(
        { type: 'Vote', txId: TX, participantId: 'ledger-0', vote: 'YES' },
        {
          txs: conflicts.storeAt('coordinator.save', over(dynamo.client), over),
          leases,
          clock,
          transport,
          config,
          faults,
          pacing,
          onContention: (error) => contention.push(error.reason),
        },
      ),
    );

    expect((outcome as { record: TxRecord }).record.state).toBe('COMMITTING');
    expect(contention).toEqual(['conflict', 'conflict', 'conflict']);
    expect(dynamo.written).toHaveLength(1);
    expect(dynamo.items[faultPlanKey(TX).pk]).toMatchObject({ 'hits.conflict.coordinator.save': 3 });
  });

  it('hands out the plain store when there is no table, no plan, no conflict at that point, or none left', async () => {
    const plain = { store: 'plain' };
    const storeAt = async (dynamo: ReturnType<typeof fakeDynamo>, table: string | undefined) => {
      const source = new DynamoFaultSource(dynamo.client, table);
      return source.run(TX, 1, async (_f, _h, conflicts) =>
        conflicts.storeAt('coordinator.save', plain, () => ({ store: 'conflicting' })),
      );
    };

    const stores = [
      await storeAt(fakeDynamo(), undefined),
      await storeAt(fakeDynamo({}), 'Faults'),
      await storeAt(fakeDynamo(armed({ conflict: { 'participant.write': 2 } })), 'Faults'),
      await storeAt(
        fakeDynamo(armed({ conflict: { 'coordinator.save': 2 } }, { 'hits.conflict.coordinator.save': 2 })),
        'Faults',
      ),
      await storeAt(fakeDynamo(armed({ conflict: { 'coordinator.save': 2 } })), 'Faults'),
    ];

    expect(stores).toEqual([plain, plain, plain, plain, { store: 'conflicting' }]);
  });

  it('injects nothing when a claim cannot be counted, and reports it', async () => {
    const dynamo = fakeDynamo(armed({ conflict: { 'coordinator.save': 1 } }), true);
    const failures: unknown[] = [];
    const source = new DynamoFaultSource(dynamo.client, 'Faults', (error) => failures.push(error));
    const over = (client: DynamoDBDocumentClient) => new DynamoTxStore(client, 'txs', 'slots');
    const record = { record: { ...preparing(1), version: 2 }, requestHash: 'h' } satisfies StoredTx;

    await source.run(TX, 1, (_f, _h, conflicts) =>
      conflicts.storeAt('coordinator.save', over(dynamo.client), over).save(record, 1, fence),
    );

    expect(dynamo.written).toHaveLength(1);
    expect(failures).toHaveLength(1);
  });
});

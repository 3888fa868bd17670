import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoEntityDirectory } from '../../../shared/adapters/dynamo-entity-directory';
import { MemoryEntityStore } from '../../../shared/adapters/memory-entities';
import { MemoryEntityDirectory } from '../../../shared/adapters/memory-entity-directory';
import { SqsTransport } from '../../../shared/adapters/sqs-transport';
import { newEntity } from '../../../shared/entities';
import { InfrastructureError } from '../../../shared/errors';
import type { EntityRef } from '../../../shared/ports';
import { slotOf } from '../../../shared/protocol';

type Keys = Array<{ pk: string }>;
interface BatchInput {
  RequestItems: Record<
    string,
    { Keys: Keys; ConsistentRead: boolean; ProjectionExpression: string; ExpressionAttributeNames: object }
  >;
}

/** A document client whose BatchGetItem answers from `existing` (table → pks), scripted per call. */
function fakeDynamo(
  existing: Record<string, string[]>,
  script: Array<(input: BatchInput) => { Responses?: object; UnprocessedKeys?: object }> = [],
) {
  const inputs: BatchInput[] = [];
  const answerFromTables = (input: BatchInput) => ({
    Responses: Object.fromEntries(
      Object.entries(input.RequestItems).map(([table, { Keys }]) => [
        table,
        Keys.filter((k) => existing[table]?.includes(k.pk)).map((k) => ({ pk: k.pk })),
      ]),
    ),
  });
  const client = {
    send: async (command: { input: BatchInput }) => {
      inputs.push(structuredClone(command.input));
      const scripted = script.shift();
      return scripted ? scripted(command.input) : answerFromTables(command.input);
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, inputs, answerFromTables };
}

const tables = { 'ledger-0': 'ledger0', 'ledger-1': 'ledger1', inventory: 'inventory' };
const refs: EntityRef[] = [
  { participantId: 'ledger-0', entity: 'account', id: 'alice' },
  { participantId: 'ledger-1', entity: 'account', id: 'bob' },
  { participantId: 'inventory', entity: 'item', id: 'book' },
  { participantId: 'ledger-1', entity: 'account', id: 'ghost' },
  { participantId: 'inventory', entity: 'item', id: 'unicorn' },
];

describe('DynamoEntityDirectory', () => {
  it('asks one consistent BatchGetItem projecting pk only, and returns the missing refs in input order', async () => {
    const dynamo = fakeDynamo({
      ledger0: ['account#alice'],
      ledger1: ['account#bob'],
      inventory: ['item#book'],
    });
    const missing = await new DynamoEntityDirectory(dynamo.client, tables).missing(refs);
    expect(missing).toEqual([refs[3], refs[4]]);
    expect(dynamo.inputs).toHaveLength(1);
    const request = dynamo.inputs[0]!.RequestItems;
    expect(Object.keys(request).sort()).toEqual(['inventory', 'ledger0', 'ledger1']);
    expect(request.ledger1).toEqual({
      Keys: [{ pk: 'account#bob' }, { pk: 'account#ghost' }],
      ConsistentRead: true,
      ProjectionExpression: '#pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
    });
  });

  it('asks for a repeated ref once (BatchGetItem refuses duplicate keys)', async () => {
    const dynamo = fakeDynamo({});
    const twice = [refs[0]!, refs[0]!];
    expect(await new DynamoEntityDirectory(dynamo.client, tables).missing(twice)).toEqual(twice);
    expect(dynamo.inputs[0]!.RequestItems.ledger0!.Keys).toEqual([{ pk: 'account#alice' }]);
  });

  it('retries unprocessed keys with backoff', async () => {
    const sleeps: number[] = [];
    const dynamo = fakeDynamo({ ledger0: ['account#alice'], inventory: ['item#book'] }, [
      () => ({
        Responses: { inventory: [{ pk: 'item#book' }] },
        UnprocessedKeys: { ledger0: { Keys: [{ pk: 'account#alice' }] } },
      }),
    ]);
    const directory = new DynamoEntityDirectory(dynamo.client, tables, {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    expect(await directory.missing([refs[0]!, refs[2]!])).toEqual([]);
    expect(dynamo.inputs.map((input) => Object.keys(input.RequestItems))).toEqual([
      ['ledger0', 'inventory'],
      ['ledger0'],
    ]);
    expect(sleeps).toEqual([25]);
  });

  it('gives up with a 503 when throttled round after round, or when the call fails', async () => {
    const throttled = () => ({ UnprocessedKeys: { ledger0: { Keys: [{ pk: 'account#alice' }] } } });
    const dynamo = fakeDynamo(
      {},
      Array.from({ length: 10 }, () => throttled),
    );
    const directory = new DynamoEntityDirectory(dynamo.client, tables, { sleep: async () => {} });
    await expect(directory.missing([refs[0]!])).rejects.toThrow(InfrastructureError);
    expect(dynamo.inputs).toHaveLength(6);

    const failing = {
      send: async () => Promise.reject(new Error('boom')),
    } as unknown as DynamoDBDocumentClient;
    await expect(new DynamoEntityDirectory(failing, tables).missing([refs[0]!])).rejects.toThrow(
      InfrastructureError,
    );
  });

  it('refuses a participant it has no table for', async () => {
    const directory = new DynamoEntityDirectory(fakeDynamo({}).client, tables);
    await expect(
      directory.missing([{ participantId: 'ledger-2', entity: 'account', id: 'x' }]),
    ).rejects.toThrow(RangeError);
    await expect(
      directory.missing([{ participantId: 'toString', entity: 'account', id: 'x' }]),
    ).rejects.toThrow(RangeError);
  });
});

describe('MemoryEntityDirectory', () => {
  it('finds entities in the stores of their kind', async () => {
    const ledger = new MemoryEntityStore(2);
    const inventory = new MemoryEntityStore(1);
    await ledger.insert(0, newEntity('alice', 1, 0));
    await ledger.insert(1, newEntity('bob', 1, 0));
    await inventory.insert(0, newEntity('book', 1, 0));
    const directory = new MemoryEntityDirectory((ref) =>
      ref.entity === 'account'
        ? { store: ledger, shard: Number(ref.participantId.slice('ledger-'.length)) }
        : { store: inventory, shard: 0 },
    );
    expect(await directory.missing(refs)).toEqual([refs[3], refs[4]]);
    // An account looked up on the wrong shard does not exist there.
    expect(
      await directory.missing([{ participantId: 'ledger-1', entity: 'account', id: 'alice' }]),
    ).toHaveLength(1);
  });
});

describe('SqsTransport: replies', () => {
  const vote = { type: 'Vote', txId: 'tx_abc', participantId: 'ledger-0', vote: 'YES' } as const;
  const groupOf = async (slot: number | undefined, slotCount: number) => {
    const sent: Array<{ MessageGroupId?: string }> = [];
    const sqs = {
      send: async (command: { input: never }) => sent.push(command.input),
    } as unknown as SQSClient;
    await new SqsTransport(sqs, { coordinatorQueueUrl: 'q.fifo', slotCount }, { nowMs: () => 0 }).reply(
      vote,
      slot,
    );
    return sent[0]?.MessageGroupId;
  };

  it("goes to the group of the slot the coordinator's message named, whatever the slot count is now (regression)", async () => {
    // Before: replies were routed by slotOf(txId, SLOT_COUNT), so after a redeploy with another
    // slot count they went to a group other than the slot that holds the record.
    expect(await groupOf(37, 4)).toBe('slot-37');
    expect(await groupOf(37, 64)).toBe('slot-37');
  });

  it('falls back to the slot of the txId for a message of an older coordinator without one', async () => {
    expect(await groupOf(undefined, 64)).toBe(`slot-${slotOf('tx_abc', 64)}`);
  });

  it("refuses to reply without the coordinator's queue (a producer is given none), sending nothing", async () => {
    const sent: unknown[] = [];
    const sqs = {
      send: async (command: { input: never }) => sent.push(command.input),
    } as unknown as SQSClient;
    const producerSide = new SqsTransport(sqs, { slotCount: 64, timerQueueUrl: 't' }, { nowMs: () => 0 });
    await expect(producerSide.reply(vote)).rejects.toThrow(InfrastructureError);
    await expect(producerSide.forwardCheck('tx_abc', 1, 0)).rejects.toThrow(/no coordinator queue/);
    expect(sent).toEqual([]);
  });
});

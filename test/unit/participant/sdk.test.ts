import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DynamoParticipantStore } from '../../../shared/adapters/dynamo-participant-store';
import { ConfigurationError } from '../../../shared/errors';
import { NO_FAULTS } from '../../../shared/faults';
import { counterWrite, handleParticipantMessage, participantKind } from '../../../shared/participant';
import {
  defineParticipant,
  type OperationContext,
  type ParticipantDefinition,
  refuse,
} from '../../../shared/participant/sdk';
import type { ParticipantReply } from '../../../shared/protocol';
import { ProtocolAssertionError } from '../../../shared/protocol';
import { abort, cancelled, commit, ManualClock, P, prepare, TX } from './helpers';

// The participant SDK with a participant of a new kind — seat booking, whose rules are not a
// counter's — over a scripted DynamoDB client: what Tandem writes around the team's writes, and
// how a failed condition becomes a NO vote.

const Seat = z.strictObject({
  action: z.literal('book'),
  flight: z.string().regex(/^[A-Z]{2}\d{1,4}$/),
  seat: z.string().regex(/^\d{1,2}[A-F]$/),
  passenger: z.string().min(1),
});

const seatKey = (op: z.output<typeof Seat>) => ({ pk: `seat#${op.flight}#${op.seat}` });

const seats = defineParticipant({
  operation: Seat,
  itemKey: ['flight', 'seat'],
  prepare: async (op, tx) => {
    if (op.passenger === 'nobody') return refuse('a booking needs a passenger');
    return {
      Update: {
        TableName: 'seats',
        Key: seatKey(op),
        UpdateExpression: 'SET heldBy = :tx, passenger = :p',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(heldBy) AND attribute_not_exists(bookedBy)',
        ExpressionAttributeValues: { ':tx': tx.txId, ':p': op.passenger },
      },
      refusal: (item) =>
        item === undefined
          ? `flight ${op.flight} has no seat ${op.seat}`
          : item.bookedBy !== undefined || item.heldBy !== undefined
            ? `seat ${op.seat} on ${op.flight} is taken`
            : undefined,
    };
  },
  commit: (op, tx) => ({
    Update: {
      TableName: 'seats',
      Key: seatKey(op),
      UpdateExpression: 'SET bookedBy = heldBy REMOVE heldBy',
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
  abort: (op, tx) => ({
    Update: {
      TableName: 'seats',
      Key: seatKey(op),
      UpdateExpression: 'REMOVE heldBy, passenger',
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
});

const BOOK = { action: 'book', flight: 'TA42', seat: '12C', passenger: 'Ada' };

/** The participant over a client whose writes answer `answers` in turn (then succeed). */
function seatParticipant(
  answers: Array<Error | undefined> = [],
  items: Record<string, Record<string, unknown>> = {},
) {
  const writes: NonNullable<TransactWriteCommand['input']['TransactItems']>[] = [];
  const gets: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof TransactWriteCommand) {
        writes.push(command.input.TransactItems!);
        const answer = answers.shift();
        if (answer) throw answer;
        // Keep what was Put (the barriers), for the next message's read.
        for (const item of command.input.TransactItems!) {
          if (item.Put) items[item.Put.Item!.pk as string] = item.Put.Item!;
        }
        return {};
      }
      if (command instanceof GetCommand) {
        gets.push(command.input.Key);
        return { Item: items[command.input.Key?.pk as string] };
      }
      throw new Error('unexpected command');
    },
  } as unknown as DynamoDBDocumentClient;
  const store = new DynamoParticipantStore(client, {
    table: 'seats',
    definition: seats as ParticipantDefinition,
  });
  const replies: ParticipantReply[] = [];
  const clock = new ManualClock();
  const deliver = (message: Parameters<typeof handleParticipantMessage>[0]) =>
    handleParticipantMessage(message, {
      store,
      kind: participantKind('seats', seats as ParticipantDefinition),
      clock,
      replies: { send: async (reply) => void replies.push(reply) },
      faults: NO_FAULTS,
    });
  return { writes, gets, replies, deliver };
}

describe('a participant of a new kind on the SDK', () => {
  it('writes its prepare in one TransactWriteItems after the barrier, asking for the item a refusal saw', async () => {
    const { writes, replies, deliver } = seatParticipant();
    const outcome = await deliver(prepare([BOOK]));
    expect(outcome.reply).toEqual({ type: 'Vote', txId: TX, participantId: P, vote: 'YES' });
    expect(replies).toHaveLength(1);
    const [barrier, hold] = writes[0]!;
    expect(barrier?.Put).toMatchObject({
      TableName: 'seats',
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(barrier?.Put?.Item).toMatchObject({
      pk: `barrier#${TX}#${P}`,
      state: 'PREPARED',
      reservation: [BOOK],
    });
    expect(hold).toEqual({
      Update: {
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        TableName: 'seats',
        Key: { pk: 'seat#TA42#12C' },
        UpdateExpression: 'SET heldBy = :tx, passenger = :p',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(heldBy) AND attribute_not_exists(bookedBy)',
        ExpressionAttributeValues: { ':tx': TX, ':p': 'Ada' },
      },
    });
    expect(writes[0]).toHaveLength(2);
  });

  it('commits and aborts with the operations its barrier kept (a Commit carries none)', async () => {
    const booked = seatParticipant();
    await booked.deliver(prepare([BOOK]));
    await booked.deliver(commit());
    expect(booked.writes[1]![1]?.Update).toMatchObject({
      UpdateExpression: 'SET bookedBy = heldBy REMOVE heldBy',
    });
    expect(booked.writes[1]![1]?.Update).not.toHaveProperty('ReturnValuesOnConditionCheckFailure');
    expect(booked.replies.at(-1)).toMatchObject({ type: 'Ack', outcome: 'COMMITTED' });

    const released = seatParticipant();
    await released.deliver(prepare([BOOK]));
    await released.deliver(abort());
    expect(released.writes[1]![1]?.Update).toMatchObject({ UpdateExpression: 'REMOVE heldBy, passenger' });
    expect(released.replies.at(-1)).toMatchObject({ type: 'Ack', outcome: 'ABORTED' });
  });

  it('votes NO with its refusal, from the item the condition saw (unmarshalled)', async () => {
    const { writes, replies, deliver } = seatParticipant([
      cancelled(
        { Code: 'None' },
        { Code: 'ConditionalCheckFailed', Item: { pk: { S: 'seat#TA42#12C' }, bookedBy: { S: 'tx_other' } } },
      ),
    ]);
    const outcome = await deliver(prepare([BOOK]));
    expect(outcome.reply).toMatchObject({ vote: 'NO', reason: 'seat 12C on TA42 is taken' });
    // The NO is written as a VOTED_NO barrier alone: nothing of the participant's.
    expect(writes[1]).toHaveLength(1);
    expect(writes[1]![0]?.Put?.Item).toMatchObject({
      state: 'VOTED_NO',
      reason: 'seat 12C on TA42 is taken',
    });
    expect(replies).toHaveLength(1);
  });

  it('reads the item when the refusal came without one, and retries when it no longer explains the refusal', async () => {
    const gone = seatParticipant([cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' })]);
    expect((await gone.deliver(prepare([BOOK]))).reply).toMatchObject({
      vote: 'NO',
      reason: 'flight TA42 has no seat 12C',
    });
    expect(gone.gets).toEqual([{ pk: 'seat#TA42#12C' }]);

    // The seat was held when the condition failed and is free again now: a lost race, tried again.
    const freed = seatParticipant([cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' })], {
      'seat#TA42#12C': { pk: 'seat#TA42#12C' },
    });
    const outcome = await freed.deliver(prepare([BOOK]));
    expect(outcome).toMatchObject({ reply: { vote: 'YES' }, attempts: 2 });
  });

  it('votes NO without writing for a refuse(), and for operations its schema refuses', async () => {
    const refused = seatParticipant();
    expect((await refused.deliver(prepare([{ ...BOOK, passenger: 'nobody' }]))).reply).toMatchObject({
      vote: 'NO',
      reason: 'a booking needs a passenger',
    });
    expect(refused.writes.map((items) => items.length)).toEqual([1]);

    const malformed = seatParticipant();
    const { reply } = await malformed.deliver(prepare([{ ...BOOK, seat: '99Z' }]));
    expect(reply).toMatchObject({
      vote: 'NO',
      reason: expect.stringMatching(/^seats operations is invalid: 0\.seat: /),
    });
    const twice = seatParticipant();
    expect((await twice.deliver(prepare([BOOK, { ...BOOK, passenger: 'Bob' }]))).reply).toMatchObject({
      vote: 'NO',
      reason: 'seats operations is invalid: 1.flight: names the same item as operation 0 (flight, seat)',
    });
    expect([...malformed.writes, ...twice.writes].map((items) => items.length)).toEqual([1, 1]);
  });

  it('sends a commit whose condition fails to the DLQ as a broken invariant', async () => {
    const { deliver } = seatParticipant([
      undefined,
      cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }),
    ]);
    await deliver(prepare([BOOK]));
    await expect(deliver(commit())).rejects.toBeInstanceOf(ProtocolAssertionError);
  });

  it('refuses, at prepare, a schema whose output is not plain JSON (the barrier keeps it)', () => {
    const dated = participantKind(
      'dated',
      defineParticipant({
        operation: z.strictObject({ at: z.string() }).transform((op) => ({ at: new Date(op.at) })),
        prepare: () => [],
        commit: () => undefined,
        abort: () => undefined,
      }) as ParticipantDefinition,
    );
    expect(() => dated.parseOperations([{ at: '2026-12-03T00:00:00Z' }])).toThrow(
      'dated operation 0 as parsed is not plain JSON: the operation schema must produce JSON data',
    );
  });

  it('refuses a definition without its functions or schema, naming what is missing', () => {
    const noSchema = { prepare: () => [], commit: () => undefined, abort: () => undefined };
    expect(() => defineParticipant(noSchema as unknown as ParticipantDefinition)).toThrow(ConfigurationError);
    expect(() => defineParticipant(noSchema as unknown as ParticipantDefinition)).toThrow(
      /needs `operation`/,
    );
    expect(() =>
      defineParticipant({ ...seats, commit: undefined } as unknown as ParticipantDefinition),
    ).toThrow(/needs `commit`/);
  });
});

describe('counter writes (the ledger and the inventory)', () => {
  const spec = { entity: 'account', quantity: 'funds' };
  const at = (action: 'take' | 'give', step: Parameters<typeof counterWrite>[3]) => {
    const write = counterWrite(spec, 't', { id: 'a', action, amount: 5 }, step);
    return write && (write.Update ?? write.ConditionCheck);
  };

  it.each([
    [
      'take',
      'reserve',
      'SET #held = #held + :a, #available = #available - :a',
      'attribute_exists(pk) AND #available >= :a',
    ],
    ['take', 'apply', 'SET #total = #total - :a, #held = #held - :a', 'attribute_exists(pk) AND #held >= :a'],
    [
      'take',
      'release',
      'SET #held = #held - :a, #available = #available + :a',
      'attribute_exists(pk) AND #held >= :a',
    ],
    [
      'take',
      'direct',
      'SET #total = #total - :a, #available = #available - :a',
      'attribute_exists(pk) AND #available >= :a',
    ],
    ['give', 'apply', 'SET #total = #total + :a, #available = #available + :a', 'attribute_exists(pk)'],
    ['give', 'direct', 'SET #total = #total + :a, #available = #available + :a', 'attribute_exists(pk)'],
  ] as const)('%s at %s: %s if %s', (action, step, update, condition) => {
    expect(at(action, step)).toMatchObject({ Key: { pk: 'account#a' }, ConditionExpression: condition });
    expect((at(action, step) as { UpdateExpression: string }).UpdateExpression).toBe(update);
  });

  it('only checks that the entity exists when a give is reserved, and does nothing when it is released', () => {
    expect(counterWrite(spec, 't', { id: 'a', action: 'give', amount: 5 }, 'reserve')).toMatchObject({
      ConditionCheck: { Key: { pk: 'account#a' }, ConditionExpression: 'attribute_exists(pk)' },
    });
    expect(counterWrite(spec, 't', { id: 'a', action: 'give', amount: 5 }, 'release')).toBeUndefined();
  });

  it('explains a refused take from the entity the condition saw', () => {
    const write = counterWrite(spec, 't', { id: 'a', action: 'take', amount: 5 }, 'reserve')!;
    expect(write.refusal?.({ available: 3 })).toBe(
      "insufficient funds on account 'a' (available 3, needed 5)",
    );
    expect(write.refusal?.(undefined)).toBe("unknown account 'a'");
    expect(write.refusal?.({ available: 9 })).toBeUndefined();
  });
});

// OperationContext is part of the public API; keep its shape in view.
const _context: OperationContext = { txId: TX, participantId: P, table: 'seats' };
void _context;

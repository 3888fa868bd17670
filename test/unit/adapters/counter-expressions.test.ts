import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoOnePhaseCommitter } from '../../../shared/adapters/dynamo-one-phase';
import { LEDGER_COUNTER } from '../../../shared/ledger/participant';
import { counterParticipant, type TransactItem } from '../../../shared/participant';
import { writesOf } from '../../../shared/participant/definition';
import { type JsonValue, onePhaseRecord } from '../../../shared/protocol';
import { config, TX } from '../protocol/helpers';

// The one-phase fast path writes a counter's entities with the same conditions as the counter
// participant's prepare, and to the same effect as its prepare and commit together: an entity a
// two-phase transaction could not take from, a one-phase one cannot either.

type Entity = Record<'total' | 'held' | 'available', number>;
type Update = NonNullable<TransactItem['Update']>;

/** The Updates (and ConditionChecks) the one-phase commit of `operations` on `ledger-0` sends. */
async function onePhaseItems(operations: JsonValue[]): Promise<TransactItem[]> {
  const sent: TransactItem[][] = [];
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof TransactWriteCommand)) throw new Error(`unexpected ${String(command)}`);
      sent.push(command.input.TransactItems ?? []);
      return {};
    },
  } as unknown as DynamoDBDocumentClient;
  const committer = new DynamoOnePhaseCommitter(client, 'txs', {
    'ledger-0': { table: 'ledger-0', kind: 'ledger', counter: LEDGER_COUNTER },
  });
  const tx = { txId: TX, slot: 0, participants: [{ id: 'ledger-0', kind: 'ledger', operations }] };
  const record = onePhaseRecord(tx, 1, config, { decision: 'COMMIT' });
  expect(await committer.commit({ record, requestHash: 'h' })).toEqual({ kind: 'committed' });
  return sent[0]!.slice(1); // index 0 is the transaction record
}

/** The writes of the ledger participant's prepare and commit of `operation` on `ledger-0`. */
async function twoPhaseWrites(operation: JsonValue) {
  const ledger = counterParticipant(LEDGER_COUNTER);
  const op = ledger.operation.parse(operation);
  const context = { txId: TX, participantId: 'ledger-0', table: 'ledger-0' };
  const prepare = await ledger.prepare(op, context);
  if ('refuse' in prepare) throw new Error(`refused: ${prepare.refuse}`);
  return { prepare: writesOf(prepare), commit: writesOf(await ledger.commit(op, context)) };
}

/** `SET #x = #x ± :a, …` of `update` applied to `entity` (the only form a counter writes). */
function applied(entity: Entity, update: Update | undefined): Entity {
  if (update === undefined) return entity;
  const next = { ...entity };
  const amount = update.ExpressionAttributeValues?.[':a'] as number;
  const assignments = update.UpdateExpression!.replace(/^SET /, '').split(', ');
  for (const assignment of assignments) {
    const [, target, source, sign] = /^#(\w+) = #(\w+) ([+-]) :a$/.exec(assignment) ?? [];
    expect(source, assignment).toBe(target);
    const name = update.ExpressionAttributeNames?.[`#${target}`] as keyof Entity;
    next[name] = entity[name] + (sign === '+' ? amount : -amount);
  }
  return next;
}

const conditionOf = (item: TransactItem) => (item.Update ?? item.ConditionCheck)!.ConditionExpression;

describe('the take/give expressions of the one-phase commit and of the counter participant', () => {
  it.each([
    ['debit (take)', { action: 'debit', accountId: 'alice', amount: 5 }],
    ['credit (give)', { action: 'credit', accountId: 'alice', amount: 5 }],
  ])(
    '%s: the same entity, the same condition as prepare, the effect of prepare and commit',
    async (_name, operation) => {
      const [direct] = await onePhaseItems([operation]);
      const { prepare, commit } = await twoPhaseWrites(operation);
      expect(prepare).toHaveLength(1);

      expect(direct!.Update).toMatchObject({ TableName: 'ledger-0', Key: { pk: 'account#alice' } });
      expect((prepare[0]!.Update ?? prepare[0]!.ConditionCheck)!.Key).toEqual(direct!.Update!.Key);
      expect(conditionOf(direct!)).toBe(conditionOf(prepare[0]!));
      expect(direct!.Update!.ExpressionAttributeValues).toEqual({ ':a': 5 });

      const entity: Entity = { total: 100, held: 7, available: 93 };
      const twoPhase = commit.reduce(
        (state, write) => applied(state, write.Update),
        applied(entity, prepare[0]!.Update),
      );
      expect(applied(entity, direct!.Update)).toEqual(twoPhase);
    },
  );
});

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  DynamoFaultSource,
  faultPlanItem,
  parseFaultHits,
  parseFaultPlan,
} from '../../../shared/adapters/dynamo-faults';
import {
  CONFLICTS_MAX,
  type FaultHit,
  FaultPlanError,
  InjectedCrashError,
  NO_FAULTS,
  plannedFaults,
} from '../../../shared/faults';

const TX = 'tx_1';

describe('plannedFaults', () => {
  it('crashes at a planned point on the first delivery only, and reports the hit', () => {
    // Prepare
    const hits: FaultHit[] = [];
    const first = plannedFaults(TX, 1, { crash: ['coordinator.after-save'] }, (h) => hits.push(h));
    const redelivery = plannedFaults(TX, 2, { crash: ['coordinator.after-save'] }, (h) => hits.push(h));

    // Act + Assess
    expect(() => first.crashPoint('coordinator.after-save', TX)).toThrow(InjectedCrashError);
    expect(() => first.crashPoint('coordinator.after-decision', TX)).not.toThrow();
    expect(() => first.crashPoint('coordinator.after-save', 'tx_other')).not.toThrow();
    expect(() => redelivery.crashPoint('coordinator.after-save', TX)).not.toThrow();
    expect(hits).toEqual(['coordinator.after-save']);
  });

  it('drops at a planned point on every delivery and says whether to duplicate', () => {
    const hits: FaultHit[] = [];
    const faults = plannedFaults(TX, 3, { drop: ['participant.vote'], duplicate: true }, (h) => hits.push(h));

    expect(faults.drop('participant.vote', TX)).toBe(true);
    expect(faults.drop('participant.vote', 'tx_other')).toBe(false);
    expect(faults.duplicate).toBe(true);
    expect(hits).toEqual(['participant.vote']);
    expect(plannedFaults(TX, 1, {}).duplicate).toBe(false);
  });
});

describe('fault plan items', () => {
  it('reads known points and ignores unknown ones', () => {
    expect(
      parseFaultPlan({
        pk: `tx#${TX}`,
        crash: ['participant.after-write', 'nope'],
        drop: 'x',
        duplicate: true,
        conflict: { 'participant.write': 6, 'api.create': 2 },
      }),
    ).toEqual({
      crash: ['participant.after-write'],
      drop: [],
      duplicate: true,
      conflict: { 'participant.write': 6 },
    });
  });

  it.each([0, -1, 2.5, CONFLICTS_MAX + 1, '3', null])('ignores a conflict count of %j', (n) => {
    expect(parseFaultPlan({ conflict: { 'coordinator.save': n, 'participant.write': 1 } }).conflict).toEqual({
      'participant.write': 1,
    });
    expect(parseFaultPlan({ conflict: n }).conflict).toEqual({});
  });

  it('writes a plan item keyed by transaction, and refuses a bad conflict count with a readable error', () => {
    const plan = {
      crash: ['coordinator.after-save'],
      conflict: { 'coordinator.save': CONFLICTS_MAX },
    } as const;

    expect(faultPlanItem(TX, plan)).toEqual({ pk: `tx#${TX}`, ...plan });
    expect(() =>
      faultPlanItem(TX, { conflict: { 'coordinator.save': 0, 'participant.write': 1.5 } }),
    ).toThrow(
      new FaultPlanError(
        `a conflict count must be an integer from 1 to ${CONFLICTS_MAX} (conflict at coordinator.save: 0; conflict at participant.write: 1.5)`,
      ),
    );
  });

  it('reads the hit counters', () => {
    expect(
      parseFaultHits({
        pk: 'tx#1',
        crash: [],
        'hits.coordinator.after-save': 2,
        'hits.duplicate.Vote': 4,
        'hits.conflict.participant.write': 6,
      }),
    ).toEqual({ 'coordinator.after-save': 2, 'duplicate.Vote': 4, 'conflict.participant.write': 6 });
  });
});

function scriptedClient(plan: Record<string, unknown> | undefined, failUpdate = false) {
  const updates: UpdateCommand['input'][] = [];
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetCommand) return { Item: plan };
      if (command instanceof UpdateCommand) {
        updates.push(command.input);
        if (failUpdate) throw new Error('throttled');
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, updates };
}

describe('DynamoFaultSource', () => {
  it('counts the faults that fired on the plan item, also when the work crashed', async () => {
    // Prepare
    const { client, updates } = scriptedClient({ pk: `tx#${TX}`, crash: ['participant.after-write'] });
    const source = new DynamoFaultSource(client, 'Faults');

    // Act
    const run = source.run(TX, 1, async (faults, hit) => {
      hit('duplicate.Vote');
      hit('duplicate.Vote');
      faults.crashPoint('participant.after-write', TX);
    });

    // Assess
    await expect(run).rejects.toBeInstanceOf(InjectedCrashError);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      Key: { pk: `tx#${TX}` },
      UpdateExpression: 'ADD #h0 :n0, #h1 :n1',
      ExpressionAttributeNames: { '#h0': 'hits.duplicate.Vote', '#h1': 'hits.participant.after-write' },
      ExpressionAttributeValues: { ':n0': 2, ':n1': 1 },
    });
  });

  it('runs without faults and writes nothing when there is no plan or no table', async () => {
    const { client, updates } = scriptedClient(undefined);
    const seen: unknown[] = [];

    await new DynamoFaultSource(client, 'Faults').run(TX, 1, async (faults) => void seen.push(faults));
    await new DynamoFaultSource(client, undefined).run(TX, 1, async (faults) => void seen.push(faults));

    expect(seen).toEqual([NO_FAULTS, NO_FAULTS]);
    expect(updates).toEqual([]);
  });

  it('does not let a failed count change the outcome of the work', async () => {
    const { client } = scriptedClient({ pk: `tx#${TX}`, drop: ['participant.vote'] }, true);
    const failures: unknown[] = [];
    const source = new DynamoFaultSource(client, 'Faults', (error) => failures.push(error));

    const result = await source.run(TX, 1, async (faults) => faults.drop('participant.vote', TX));

    expect(result).toBe(true);
    expect(failures).toHaveLength(1);
  });
});

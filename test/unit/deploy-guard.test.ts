import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  type FixedSettings,
  type GuardRequest,
  guardProperties,
  parseProperties,
  physicalIdOf,
  settingsOfPhysicalId,
} from '../../shared/deploy-guard';

/** The stack's settings with `shards` ledger shards, participants sorted as the guard records them. */
const settings = (shards: number, ...extra: string[]): FixedSettings =>
  sorted({
    ledgerShards: shards,
    participants: [...Array.from({ length: shards }, (_, i) => `ledger-${i}`), 'inventory', ...extra],
  });
/** The properties as CloudFormation sends them: primitives as strings. */
const wire = (s: FixedSettings) => guardProperties(s);

const create = (to: FixedSettings): GuardRequest => ({ RequestType: 'Create', ResourceProperties: wire(to) });
/** An update of a stack deployed with `from`: its physical id records `from`, as the guard answered it. */
const update = (from: FixedSettings, to: FixedSettings): GuardRequest => ({
  RequestType: 'Update',
  ResourceProperties: wire(to),
  OldResourceProperties: wire(from),
  PhysicalResourceId: physicalIdOf(from),
});
const reasonOf = (request: GuardRequest) => {
  const answer = decide(request);
  if (answer.status !== 'FAILED') throw new Error(`expected a refusal, got ${JSON.stringify(answer)}`);
  return answer.reason;
};

describe('the deploy guard', () => {
  it('lets a stack be created, and records its settings in the physical id', () => {
    // Act
    const answer = decide(create(settings(2)));
    // Assess
    expect(answer).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'tandem-deploy-guard/v1/ledgerShards=2/participants=inventory,ledger-0,ledger-1',
    });
    expect(settingsOfPhysicalId(answer.physicalResourceId)).toEqual(settings(2));
  });

  it('lets an update through that keeps the shard count and every participant', () => {
    // Prepare: the same settings, listed in another order
    const deployed = settings(2);
    const reordered = { ...deployed, participants: [...deployed.participants].reverse() };
    // Act
    const answer = decide(update(deployed, reordered));
    // Assess
    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: physicalIdOf(deployed) });
  });

  it('refuses more ledger shards, saying what it was, what was asked and what to do', () => {
    // Act
    const reason = reasonOf(update(settings(2), settings(3)));
    // Assess
    expect(reason).toMatch(/^Tandem refused this deploy before it changed any table, queue or function/);
    expect(reason).toContain(
      'ledgerShards cannot change on a deployed stack (it was 2, this deploy asks for 3)',
    );
    expect(reason).toContain("an account's shard is a hash of its id over the shard count");
    expect(reason).toContain('Deploy with -c ledgerShards=2, or deploy a new stack and move the accounts');
    expect(reason).not.toContain('remove participant');
  });

  it('refuses fewer ledger shards, and names the shard that would be removed with its data', () => {
    // Act
    const reason = reasonOf(update(settings(3), settings(2)));
    // Assess
    expect(reason).toContain('(it was 3, this deploy asks for 2)');
    expect(reason).toContain('Deploy with -c ledgerShards=3');
    expect(reason).toContain(
      'This deploy would remove participant ledger-2 with its table, inbox queue and function: ledger-2 may still hold accounts, holds and barrier items',
    );
  });

  it('refuses the removal of a participant even when the shard count stays', () => {
    // Prepare: a later version of the app without the inventory
    const deployed = settings(2, 'loyalty');
    const requested = { ledgerShards: 2, participants: ['ledger-0', 'ledger-1'] };
    // Act
    const reason = reasonOf(update(deployed, requested));
    // Assess
    expect(reason).not.toContain('ledgerShards cannot change');
    expect(reason).toContain(
      'This deploy would remove participants inventory, loyalty with their tables, inbox queues and functions',
    );
    expect(reason).toContain('Deploy with the settings that keep every participant the stack has.');
  });

  it('keeps the physical id of a refused update, so the stack still records what it has', () => {
    // Act
    const answer = decide(update(settings(2), settings(4)));
    // Assess
    expect(answer.status).toBe('FAILED');
    expect(answer.physicalResourceId).toBe(physicalIdOf(settings(2)));
  });

  it('lets a participant be added, with a new physical id that records it', () => {
    // Act
    const answer = decide(update(settings(2), settings(2, 'loyalty')));
    // Assess
    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: physicalIdOf(settings(2, 'loyalty')) });
    expect(answer.physicalResourceId).not.toBe(physicalIdOf(settings(2)));
  });

  it("lets the rollback of a refused update through: CloudFormation's update back to the deployed settings", () => {
    // Prepare: 2 shards deployed, 3 refused; the rollback sends the guard from 3 back to 2, with the
    // physical id it kept (the deployed one)
    const rollback: GuardRequest = {
      RequestType: 'Update',
      ResourceProperties: wire(settings(2)),
      OldResourceProperties: wire(settings(3)),
      PhysicalResourceId: physicalIdOf(settings(2)),
    };
    // Act
    const answer = decide(rollback);
    // Assess
    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: physicalIdOf(settings(2)) });
  });

  it('compares with the old properties when the physical id is not one of its own', () => {
    // Prepare: a guard whose physical id says nothing (another version, or CloudFormation's request id)
    const foreign = (from: FixedSettings, to: FixedSettings): GuardRequest => ({
      ...update(from, to),
      PhysicalResourceId: '2c1f8e0a-request-id',
    });
    // Act + Assess
    expect(reasonOf(foreign(settings(2), settings(3)))).toContain('(it was 2, this deploy asks for 3)');
    expect(decide(foreign(settings(2), settings(2)))).toEqual({
      status: 'SUCCESS',
      physicalResourceId: physicalIdOf(settings(2)),
    });
  });

  it('refuses an update when it cannot tell what the stack was deployed with', () => {
    // Prepare: neither the physical id nor the old properties can be read
    const request: GuardRequest = {
      RequestType: 'Update',
      ResourceProperties: wire(settings(2)),
      OldResourceProperties: { ServiceToken: 'arn:aws:lambda:…', Shards: 2 },
      PhysicalResourceId: 'something-else',
    };
    // Act
    const answer = decide(request);
    // Assess
    expect(answer.status).toBe('FAILED');
    expect(answer.physicalResourceId).toBe('something-else');
    expect(reasonOf(request)).toContain(
      'cannot tell which settings the stack was deployed with (physical id "something-else"; old properties: LedgerShards must be a positive integer, got nothing)',
    );
  });

  it.each([
    [{ LedgerShards: 'x', Participants: ['inventory'] }, 'LedgerShards must be a positive integer, got "x"'],
    [{ LedgerShards: '0', Participants: ['inventory'] }, 'LedgerShards must be a positive integer, got "0"'],
    [
      { LedgerShards: '-1', Participants: ['inventory'] },
      'LedgerShards must be a positive integer, got "-1"',
    ],
    [
      { LedgerShards: '1.5', Participants: ['inventory'] },
      'LedgerShards must be a positive integer, got "1.5"',
    ],
    [{ LedgerShards: 2.5, Participants: ['inventory'] }, 'LedgerShards must be a positive integer, got 2.5'],
    [{ Participants: ['inventory'] }, 'LedgerShards must be a positive integer, got nothing'],
    [{ LedgerShards: '2' }, 'Participants must be a non-empty list of participant ids, got nothing'],
    [
      { LedgerShards: '2', Participants: [] },
      'Participants must be a non-empty list of participant ids, got []',
    ],
    [
      { LedgerShards: '2', Participants: 'ledger-0,ledger-1' },
      'Participants must be a non-empty list of participant ids, got "ledger-0,ledger-1"',
    ],
    [
      { LedgerShards: '2', Participants: ['ledger-0', 'a,b'] },
      'Participants holds an invalid participant id: "a,b"',
    ],
    [{ LedgerShards: '2', Participants: ['ledger-0', 7] }, 'Participants holds an invalid participant id: 7'],
    [null, 'no properties'],
  ])('refuses malformed properties %j with a message that says what is wrong', (properties, message) => {
    // Act
    const onCreate = reasonOf({ RequestType: 'Create', ResourceProperties: properties });
    const onUpdate = decide({ ...update(settings(2), settings(2)), ResourceProperties: properties });
    // Assess
    expect(onCreate).toContain(`cannot read the settings this deploy asks for (${message}):`);
    expect(onUpdate).toMatchObject({ status: 'FAILED', physicalResourceId: physicalIdOf(settings(2)) });
  });

  it('reads the shard count as CloudFormation sends it (a string) and as a template writes it (a number)', () => {
    expect(parseProperties({ LedgerShards: '3', Participants: ['inventory'] })).toEqual({
      ledgerShards: 3,
      participants: ['inventory'],
    });
    expect(parseProperties({ LedgerShards: 3, Participants: ['inventory', 'inventory'] })).toEqual({
      ledgerShards: 3,
      participants: ['inventory'],
    });
  });

  it('lets a delete through whatever it carries (deleting the stack is a decision of its own)', () => {
    expect(
      decide({
        RequestType: 'Delete',
        ResourceProperties: null,
        PhysicalResourceId: physicalIdOf(settings(2)),
      }),
    ).toEqual({ status: 'SUCCESS', physicalResourceId: physicalIdOf(settings(2)) });
  });

  it('keeps the physical id of the largest stack within what CloudFormation accepts (1 KB)', () => {
    // 32 is the largest ledgerShards the app accepts (infra/config.ts).
    const largest = physicalIdOf(settings(32));
    expect(largest.length).toBeLessThan(400);
    expect(settingsOfPhysicalId(largest)).toEqual(settings(32));
    expect(settingsOfPhysicalId('tandem-deploy-guard/v1/refused')).toBeUndefined();
    expect(settingsOfPhysicalId(undefined)).toBeUndefined();
  });

  it('never lets the shard count change or a participant go, lets everything else through, and always lets a rollback back', () => {
    const ids = fc.uniqueArray(
      fc.constantFrom('ledger-0', 'ledger-1', 'ledger-2', 'inventory', 'loyalty', 'x'),
      {
        minLength: 1,
      },
    );
    const settingsArb = fc.record({ ledgerShards: fc.integer({ min: 1, max: 4 }), participants: ids });
    fc.assert(
      fc.property(settingsArb, settingsArb, (deployed, requested) => {
        const answer = decide(update(deployed, requested));
        const removes = deployed.participants.some((p) => !requested.participants.includes(p));
        const allowed = deployed.ledgerShards === requested.ledgerShards && !removes;
        expect(answer.status).toBe(allowed ? 'SUCCESS' : 'FAILED');
        // What the stack records afterwards: the new settings if accepted, else the deployed ones.
        const recorded = settingsOfPhysicalId(answer.physicalResourceId);
        expect(recorded).toEqual(sorted(allowed ? requested : deployed));
        if (!allowed) {
          // CloudFormation's rollback: back to the deployed settings, with the kept physical id.
          const rollback = decide({
            RequestType: 'Update',
            ResourceProperties: wire(deployed),
            OldResourceProperties: wire(requested),
            PhysicalResourceId: answer.physicalResourceId,
          });
          expect(rollback).toEqual({ status: 'SUCCESS', physicalResourceId: answer.physicalResourceId });
        }
      }),
    );
  });
});

function sorted(s: FixedSettings): FixedSettings {
  return { ledgerShards: s.ledgerShards, participants: [...s.participants].sort() };
}

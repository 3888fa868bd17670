import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bankAndShopSpecs } from '../../shared/bank-and-shop';
import {
  decide,
  digestOf,
  type FixedSettings,
  GUARD_SHARDS_MAX,
  type GuardRequest,
  guardProperties,
  parseProperties,
  physicalIdOf,
  READABLE_ID_MAX_CHARS,
  recordedIn,
  settingsOfPhysicalId,
} from '../../shared/deploy-guard';
import { participantIdsOf, SHARDS_MAX } from '../../shared/registry';

/** An app's settings: `shards` (name → count) and its unsharded participants, sorted as the guard records them. */
const app = (shards: Record<string, number>, ...unsharded: string[]): FixedSettings =>
  sorted({
    shards,
    participants: [
      ...Object.entries(shards).flatMap(([name, count]) =>
        participantIdsOf({ name, shards: { count, key: 'k' } }),
      ),
      ...unsharded,
    ],
  });
/** The bank-and-shop app: `ledgerShards` ledger shards, the inventory, and `extra` unsharded participants. */
const settings = (ledgerShards: number, ...extra: string[]) =>
  app({ ledger: ledgerShards }, 'inventory', ...extra);
/** The properties as CloudFormation sends them: primitives as strings. */
const wire = (s: FixedSettings) => guardProperties(s);
/** The properties the previous version of the guard set (it knew only the ledger). */
const wireV1 = (s: FixedSettings) => ({
  LedgerShards: String(s.shards.ledger),
  Participants: [...s.participants],
});
const v1IdOf = (s: FixedSettings) =>
  `tandem-deploy-guard/v1/ledgerShards=${s.shards.ledger}/participants=${s.participants.join(',')}`;

const create = (to: FixedSettings): GuardRequest => ({ RequestType: 'Create', ResourceProperties: wire(to) });
/** An update of a stack deployed with `from`: its physical id records `from`, as the guard answered it. */
const update = (from: FixedSettings, to: FixedSettings): GuardRequest => ({
  RequestType: 'Update',
  ResourceProperties: wire(to),
  OldResourceProperties: wire(from),
  PhysicalResourceId: physicalIdOf(from),
});
/** CloudFormation's rollback of a refused update from `deployed`: back to it, with the id the guard kept. */
const rollbackOf = (refused: GuardRequest, physicalResourceId: string): GuardRequest => ({
  RequestType: 'Update',
  ResourceProperties: refused.OldResourceProperties,
  OldResourceProperties: refused.ResourceProperties,
  PhysicalResourceId: physicalResourceId,
});
const reasonOf = (request: GuardRequest) => {
  const answer = decide(request);
  if (answer.status !== 'FAILED') throw new Error(`expected a refusal, got ${JSON.stringify(answer)}`);
  return answer.reason;
};
/** Unsharded participants with long ids, enough to make the readable physical id too long. */
const many = (count: number) =>
  Array.from({ length: count }, (_, i) => `team-participant-with-a-long-name-${String(i).padStart(2, '0')}`);

describe('the deploy guard', () => {
  it('lets a stack be created, and records its shards and participants in the physical id', () => {
    // Act
    const answer = decide(create(app({ ledger: 2, seats: 3 }, 'inventory')));
    // Assess
    expect(answer).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'tandem-deploy-guard/v2/shards=ledger:2,seats:3/unsharded=inventory',
    });
    expect(settingsOfPhysicalId(answer.physicalResourceId)).toEqual(
      app({ ledger: 2, seats: 3 }, 'inventory'),
    );
  });

  it('writes each shard count as a decimal string under the participant name, and every participant id', () => {
    expect(
      guardProperties({ shards: { seats: 3, ledger: 2 }, participants: settings(2).participants }),
    ).toEqual({
      Shards: { ledger: '2', seats: '3' },
      Participants: ['inventory', 'ledger-0', 'ledger-1'],
    });
    expect(guardProperties(app({}, 'inventory', 'shipping'))).toEqual({
      Shards: {},
      Participants: ['inventory', 'shipping'],
    });
  });

  it("accepts the settings of the registry's own specs (same names, same ids, same most shards)", () => {
    // Prepare: what an app computes from its participants' specs
    const specs = bankAndShopSpecs(SHARDS_MAX);
    const fromSpecs: FixedSettings = {
      shards: Object.fromEntries(specs.flatMap((s) => (s.shards ? [[s.name, s.shards.count]] : []))),
      participants: specs.flatMap(participantIdsOf),
    };
    // Act + Assess
    expect(GUARD_SHARDS_MAX).toBe(SHARDS_MAX);
    expect(parseProperties(wire(fromSpecs))).toEqual(sorted(fromSpecs));
    expect(fromSpecs.shards).toEqual({ ledger: SHARDS_MAX });
  });

  it('lets an update through that keeps every shard count and every participant, with the same id', () => {
    // Prepare: the same settings, listed in another order
    const deployed = app({ ledger: 2, seats: 4 }, 'inventory');
    const reordered = {
      shards: { seats: 4, ledger: 2 },
      participants: [...deployed.participants].reverse(),
    };
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
      "Participant 'ledger' cannot change its shard count on a deployed stack (it was 2, this deploy asks for 3)",
    );
    expect(reason).toContain("an item's shard is a hash of its key over the shard count");
    expect(reason).toContain(
      "Keep shards: 2 for participant 'ledger' (in Tandem's own app: deploy with -c ledgerShards=2), " +
        "or deploy a new stack and move the data of 'ledger' to it.",
    );
    expect(reason).not.toContain('remove participant');
  });

  it('refuses fewer ledger shards, and names the shard that would be removed with its data', () => {
    // Act
    const reason = reasonOf(update(settings(3), settings(2)));
    // Assess
    expect(reason).toContain('(it was 3, this deploy asks for 2)');
    expect(reason).toContain('deploy with -c ledgerShards=3');
    expect(reason).toContain(
      'This deploy would remove participant ledger-2 with its table, inbox queue and function: ledger-2 may still hold items and the barrier items of transactions',
    );
  });

  it("refuses a change of any sharded participant's count, naming it and what to keep, one sentence each", () => {
    // Prepare: a team's own sharded participant next to the ledger
    const deployed = app({ ledger: 2, seats: 4 }, 'inventory');
    const requested = app({ ledger: 3, seats: 8 }, 'inventory');
    // Act
    const reason = reasonOf(update(deployed, requested));
    // Assess
    expect(reason).toContain(
      "Participant 'seats' cannot change its shard count on a deployed stack (it was 4, this deploy asks for 8)",
    );
    expect(reason).toContain(
      "Keep shards: 4 for participant 'seats', or deploy a new stack and move the data of 'seats' to it.",
    );
    expect(reason).toContain('(it was 2, this deploy asks for 3)');
    // The ledger's own hint belongs to the ledger's sentence only
    expect(reason.match(/-c ledgerShards/g)).toEqual(['-c ledgerShards']);
    expect(reason).toContain("Keep shards: 2 for participant 'ledger' (in Tandem's own app");
  });

  it('lets participants be added, sharded or not, with a new physical id that records them', () => {
    // Prepare
    const deployed = settings(2);
    const requested = app({ ledger: 2, seats: 4 }, 'inventory', 'loyalty');
    // Act
    const answer = decide(update(deployed, requested));
    // Assess
    expect(answer).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'tandem-deploy-guard/v2/shards=ledger:2,seats:4/unsharded=inventory,loyalty',
    });
    expect(settingsOfPhysicalId(answer.physicalResourceId)).toEqual(requested);
  });

  it.each([
    ['unsharded to 4 shards', app({ ledger: 2 }, 'seats'), app({ ledger: 2, seats: 4 }), 'participant seats'],
    ['unsharded to 1 shard', app({ ledger: 2 }, 'seats'), app({ ledger: 2, seats: 1 }), 'participant seats'],
    [
      '2 shards to unsharded',
      app({ ledger: 2, seats: 2 }),
      app({ ledger: 2 }, 'seats'),
      'participants seats-0, seats-1',
    ],
  ])(
    'refuses a participant going from %s: its ids change, so the removal rule applies',
    (change, from, to, removed) => {
      // Act
      const reason = reasonOf(update(from, to));
      // Assess
      expect(reason).toContain(`This deploy would remove ${removed} with`);
      expect(reason).toContain(`Participant 'seats' cannot go from ${change} on a deployed stack`);
      expect(reason).not.toContain('cannot change its shard count');
    },
  );

  it('names the ids a participant would go from and to when it becomes sharded or unsharded', () => {
    expect(reasonOf(update(app({}, 'seats'), app({ seats: 4 })))).toContain(
      "Participant 'seats' cannot go from unsharded to 4 shards on a deployed stack: its participant ids would change from seats to seats-0 … seats-3, and its items would be left on the tables of the ids it had. Keep it unsharded, or deploy a new stack and move the data of 'seats' to it.",
    );
    expect(reasonOf(update(app({ seats: 1 }), app({}, 'seats')))).toContain(
      "Participant 'seats' cannot go from 1 shard to unsharded on a deployed stack: its participant ids would change from seats-0 to seats,",
    );
  });

  it('refuses the removal of a participant even when every shard count stays', () => {
    // Prepare: a later version of the app without the inventory
    const deployed = settings(2, 'loyalty');
    const requested = app({ ledger: 2 });
    // Act
    const reason = reasonOf(update(deployed, requested));
    // Assess
    expect(reason).not.toContain('cannot change its shard count');
    expect(reason).toContain(
      'This deploy would remove participants inventory, loyalty with their tables, inbox queues and functions',
    );
    expect(reason).toContain('which would be lost with them');
    expect(reason).toContain('Deploy with the settings that keep every participant the stack has.');
  });

  it('refuses the removal of a whole sharded participant', () => {
    const reason = reasonOf(update(app({ ledger: 2, seats: 2 }), app({ ledger: 2 })));
    expect(reason).toContain('This deploy would remove participants seats-0, seats-1 with');
  });

  it('keeps the physical id of a refused update, so the stack still records what it has', () => {
    // Act
    const answer = decide(update(settings(2), settings(4)));
    // Assess
    expect(answer.status).toBe('FAILED');
    expect(answer.physicalResourceId).toBe(physicalIdOf(settings(2)));
  });

  it("lets the rollback of a refused update through: CloudFormation's update back to the deployed settings", () => {
    // Prepare: 2 shards deployed, 3 refused; the rollback sends the guard from 3 back to 2, with the
    // physical id it kept (the deployed one)
    const refused = update(settings(2), settings(3));
    // Act
    const answer = decide(rollbackOf(refused, physicalIdOf(settings(2))));
    // Assess
    expect(answer).toEqual({ status: 'SUCCESS', physicalResourceId: physicalIdOf(settings(2)) });
  });

  it('compares with the old properties when the physical id is not one of its own', () => {
    // Prepare: a guard whose physical id says nothing (CloudFormation's request id, say)
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
      'cannot tell which settings the stack was deployed with (physical id "something-else"; old properties: Shards must be an object of participant name → shard count, got 2)',
    );
  });

  const participants = ['inventory', 'ledger-0', 'ledger-1'];
  it.each([
    [
      { Shards: 2, Participants: participants },
      'Shards must be an object of participant name → shard count, got 2',
    ],
    [
      { Shards: ['ledger'], Participants: participants },
      'Shards must be an object of participant name → shard count, got ["ledger"]',
    ],
    [
      { Shards: null, Participants: participants },
      'Shards must be an object of participant name → shard count, got null',
    ],
    [
      { Shards: { ledger: 'x' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "x"',
    ],
    [
      { Shards: { ledger: '0' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "0"',
    ],
    [
      { Shards: { ledger: '-1' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "-1"',
    ],
    [
      { Shards: { ledger: '1.5' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "1.5"',
    ],
    [
      { Shards: { ledger: '02' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "02"',
    ],
    [
      { Shards: { ledger: '33' }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got "33"',
    ],
    [
      { Shards: { ledger: 2.5 }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got 2.5',
    ],
    [
      { Shards: { ledger: null }, Participants: participants },
      'Shards.ledger must be a shard count from 1 to 32, got null',
    ],
    [
      { Shards: { Ledger: '2' }, Participants: participants },
      'Shards holds an invalid participant name: "Ledger" (a name is 1–48 characters: a lower-case letter, then a-z 0-9 -)',
    ],
    [
      { Shards: { 'ledger:2': '2' }, Participants: participants },
      'Shards holds an invalid participant name: "ledger:2"',
    ],
    [
      { Shards: { ['a'.repeat(49)]: '1' }, Participants: participants },
      `invalid participant name: "${'a'.repeat(49)}"`,
    ],
    [
      { Shards: { ledger: '2' }, LedgerShards: '2', Participants: participants },
      'Shards and LedgerShards are both set',
    ],
    [
      { LedgerShards: '0', Participants: participants },
      'LedgerShards must be a shard count from 1 to 32, got "0"',
    ],
    [{ Shards: { ledger: '2' } }, 'Participants must be a non-empty list of participant ids, got nothing'],
    [
      { Shards: { ledger: '2' }, Participants: [] },
      'Participants must be a non-empty list of participant ids, got []',
    ],
    [
      { Shards: { ledger: '2' }, Participants: 'ledger-0,ledger-1' },
      'Participants must be a non-empty list of participant ids, got "ledger-0,ledger-1"',
    ],
    [
      { Shards: { ledger: '2' }, Participants: ['ledger-0', 'a,b'] },
      'Participants holds an invalid participant id: "a,b"',
    ],
    [
      { Shards: { ledger: '2' }, Participants: ['ledger-0', 7] },
      'Participants holds an invalid participant id: 7',
    ],
    [
      { Shards: { ledger: '3' }, Participants: participants },
      "Shards gives participant 'ledger' 3 shards, but Participants lacks ledger-2",
    ],
    [
      { Shards: { ledger: '2' }, Participants: [...participants, 'ledger'] },
      "participant 'ledger' is both sharded (Shards gives it 2) and unsharded (Participants holds 'ledger')",
    ],
    [null, 'no properties'],
  ])('refuses malformed properties %j with a message that says what is wrong', (properties, message) => {
    // Act
    const onCreate = reasonOf({ RequestType: 'Create', ResourceProperties: properties });
    const onUpdate = decide({ ...update(settings(2), settings(2)), ResourceProperties: properties });
    // Assess
    expect(onCreate).toMatch(
      /cannot read the settings this deploy asks for \(.*\): the template was not made by Tandem's app\.$/,
    );
    expect(onCreate).toContain(message);
    expect(onUpdate).toMatchObject({ status: 'FAILED', physicalResourceId: physicalIdOf(settings(2)) });
  });

  it('reads shard counts as CloudFormation sends them (strings) and as a template may write them (numbers)', () => {
    expect(parseProperties({ Shards: { ledger: '3' }, Participants: settings(3).participants })).toEqual(
      settings(3),
    );
    expect(
      parseProperties({ Shards: { ledger: 3 }, Participants: [...settings(3).participants, 'inventory'] }),
    ).toEqual(settings(3));
    expect(
      parseProperties({ Shards: { seats: '32' }, Participants: app({ seats: 32 }).participants }),
    ).toEqual(app({ seats: 32 }));
  });

  it('reads a missing Shards as no sharded participant (an empty object may not survive the trip)', () => {
    expect(parseProperties({ Participants: ['inventory', 'shipping'] })).toEqual(
      app({}, 'inventory', 'shipping'),
    );
    expect(parseProperties(wire(app({}, 'inventory')))).toEqual(app({}, 'inventory'));
    expect(decide(create(app({}, 'inventory')))).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'tandem-deploy-guard/v2/shards=/unsharded=inventory',
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

  it('reads back only the ids it answers itself', () => {
    const id = physicalIdOf(app({ ledger: 2, seats: 3 }, 'inventory'));
    expect(recordedIn(id)).toEqual({ kind: 'settings', settings: app({ ledger: 2, seats: 3 }, 'inventory') });
    for (const other of [
      'tandem-deploy-guard/v2/shards=ledger:2,ledger:3/unsharded=inventory',
      'tandem-deploy-guard/v2/shards=seats:3,ledger:2/unsharded=inventory',
      'tandem-deploy-guard/v2/shards=ledger:2/unsharded=shipping,inventory',
      'tandem-deploy-guard/v2/shards=ledger:2/unsharded=inventory,ledger-1',
      'tandem-deploy-guard/v2/shards=ledger:99999999/unsharded=inventory',
      'tandem-deploy-guard/v2/shards=ledger/unsharded=inventory',
      'tandem-deploy-guard/v2/shards=/unsharded=',
      'tandem-deploy-guard/v2/sha256=abc',
      'tandem-deploy-guard/v2/refused',
      'tandem-deploy-guard/v1/refused',
      'tandem-deploy-guard/v1/ledgerShards=99999999/participants=inventory',
    ]) {
      expect(recordedIn(other), other).toBeUndefined();
    }
    expect(recordedIn(undefined)).toBeUndefined();
  });

  it('keeps the physical id of a large stack readable and within what CloudFormation accepts', () => {
    // 32 shards of two participants and some unsharded ones: the shards' ids are not listed one by one
    const large = app({ ledger: 32, seats: 32 }, 'inventory', 'loyalty', 'shipping');
    const id = physicalIdOf(large);
    expect(id).toBe('tandem-deploy-guard/v2/shards=ledger:32,seats:32/unsharded=inventory,loyalty,shipping');
    expect(settingsOfPhysicalId(id)).toEqual(large);
  });
});

describe('the deploy guard on a stack whose settings do not fit a readable id', () => {
  const deployed = app({ ledger: 2 }, 'inventory', ...many(12));
  const deployedId = physicalIdOf(deployed);

  it('records a digest of the settings instead, well within 1 KB', () => {
    expect(deployedId).toMatch(/^tandem-deploy-guard\/v2\/sha256=[0-9a-f]{64}$/);
    expect(deployedId).toBe(`tandem-deploy-guard/v2/sha256=${digestOf(deployed)}`);
    expect(recordedIn(deployedId)).toEqual({ kind: 'digest', digest: digestOf(deployed) });
    expect(settingsOfPhysicalId(deployedId)).toBeUndefined();
    // The digest does not depend on the order the settings are listed in
    expect(digestOf({ shards: deployed.shards, participants: [...deployed.participants].reverse() })).toBe(
      digestOf(deployed),
    );
  });

  it(`switches to the digest only past ${READABLE_ID_MAX_CHARS} characters`, () => {
    // Prepare: add long participants one by one until the id becomes a digest
    let count = 0;
    while (recordedIn(physicalIdOf(app({ ledger: 2 }, 'inventory', ...many(count + 1))))?.kind === 'settings')
      count++;
    // Assess: the last readable id was close to the limit (a participant id is at most 64 characters)
    const lastReadable = physicalIdOf(app({ ledger: 2 }, 'inventory', ...many(count)));
    expect(lastReadable.length).toBeLessThanOrEqual(READABLE_ID_MAX_CHARS);
    expect(lastReadable.length).toBeGreaterThan(READABLE_ID_MAX_CHARS - 65);
  });

  it('compares with the old properties when they are what the digest records', () => {
    // Act
    const added = decide(
      update(deployed, { ...deployed, participants: [...deployed.participants, 'seats'] }),
    );
    const reason = reasonOf(
      update(deployed, {
        ...deployed,
        shards: { ledger: 3 },
        participants: [...deployed.participants, 'ledger-2'],
      }),
    );
    // Assess
    expect(added).toEqual({
      status: 'SUCCESS',
      physicalResourceId: physicalIdOf({ ...deployed, participants: [...deployed.participants, 'seats'] }),
    });
    expect(added.physicalResourceId).not.toBe(deployedId);
    expect(reason).toContain('(it was 2, this deploy asks for 3)');
  });

  it('refuses a removal, keeps its id, and lets the rollback through', () => {
    // Prepare
    const refused = update(deployed, { ...deployed, participants: deployed.participants.slice(1) });
    // Act
    const answer = decide(refused);
    const rollback = decide(rollbackOf(refused, answer.physicalResourceId));
    // Assess
    expect(answer).toMatchObject({ status: 'FAILED', physicalResourceId: deployedId });
    expect(rollback).toEqual({ status: 'SUCCESS', physicalResourceId: deployedId });
  });

  it('refuses when the old properties are not what the digest records', () => {
    // Prepare: old properties of some other deployment
    const request: GuardRequest = {
      ...update(deployed, { ...deployed, participants: [...deployed.participants, 'seats'] }),
      OldResourceProperties: wire(settings(2)),
    };
    // Act
    const reason = reasonOf(request);
    // Assess
    expect(reason).toContain(
      `cannot tell which settings the stack was deployed with (physical id "${deployedId}"; old properties: not the settings the physical id records)`,
    );
  });
});

describe('the deploy guard on a stack deployed by its previous version (v1 physical id)', () => {
  const deployed = settings(2);
  const v1Id = 'tandem-deploy-guard/v1/ledgerShards=2/participants=inventory,ledger-0,ledger-1';
  /** The first update with this version: the v1 id, the v1 properties as old ones. */
  const upgrade = (to: FixedSettings): GuardRequest => ({
    RequestType: 'Update',
    ResourceProperties: wire(to),
    OldResourceProperties: wireV1(deployed),
    PhysicalResourceId: v1Id,
  });

  it('reads the v1 id as the ledger sharded that many ways', () => {
    expect(v1IdOf(deployed)).toBe(v1Id);
    expect(settingsOfPhysicalId(v1Id)).toEqual({
      shards: { ledger: 2 },
      participants: deployed.participants,
    });
  });

  it('lets the upgrade through when it keeps the settings, keeping the v1 id (no replacement)', () => {
    expect(decide(upgrade(settings(2)))).toEqual({ status: 'SUCCESS', physicalResourceId: v1Id });
  });

  it('lets a participant be added on upgrade, recording the settings in a v2 id', () => {
    expect(decide(upgrade(app({ ledger: 2, seats: 4 }, 'inventory')))).toEqual({
      status: 'SUCCESS',
      physicalResourceId: 'tandem-deploy-guard/v2/shards=ledger:2,seats:4/unsharded=inventory',
    });
  });

  it('refuses another ledger shard count on upgrade, and lets the rollback back to the v1 properties through', () => {
    // Prepare
    const refused = upgrade(settings(3));
    // Act
    const answer = decide(refused);
    // The rollback sends back the properties the previous version wrote (LedgerShards, not Shards)
    const rollback = decide(rollbackOf(refused, answer.physicalResourceId));
    // Assess
    expect(answer).toMatchObject({ status: 'FAILED', physicalResourceId: v1Id });
    expect(reasonOf(refused)).toContain(
      "Participant 'ledger' cannot change its shard count on a deployed stack (it was 2, this deploy asks for 3)",
    );
    expect(rollback).toEqual({ status: 'SUCCESS', physicalResourceId: v1Id });
  });

  it('still compares with v1 old properties when the id is not its own', () => {
    const request = { ...upgrade(settings(1)), PhysicalResourceId: 'request-id' };
    expect(reasonOf(request)).toContain('(it was 2, this deploy asks for 1)');
  });
});

describe('the deploy guard, over any two settings', () => {
  /** A participant of the model: absent, unsharded, or sharded 1–3 ways. */
  const shape = fc.constantFrom<number | 'unsharded' | 'absent'>('absent', 'unsharded', 1, 2, 3);
  const names = ['ledger', 'seats', 'inventory', 'loyalty'] as const;
  const settingsArb = (padding: readonly string[]) =>
    fc
      .tuple(...names.map(() => shape))
      .map((shapes): FixedSettings => {
        const shards = Object.fromEntries(
          names.flatMap((name, i) => (typeof shapes[i] === 'number' ? [[name, shapes[i]]] : [])),
        );
        const unsharded = names.filter((_, i) => shapes[i] === 'unsharded');
        return app(shards, ...unsharded, ...padding);
      })
      .filter((s) => s.participants.length > 0);

  it.each([
    ['readable ids', []],
    ['digest ids', many(12)],
  ])(
    'never lets a shard count change or a participant id go, lets everything else through, and always lets a rollback back (%s)',
    (_, padding) => {
      fc.assert(
        fc.property(settingsArb(padding), settingsArb(padding), (deployed, requested) => {
          const request = update(deployed, requested);
          const answer = decide(request);
          const recounted = Object.keys(deployed.shards).filter(
            (n) => Object.hasOwn(requested.shards, n) && requested.shards[n] !== deployed.shards[n],
          );
          const removes = deployed.participants.some((p) => !requested.participants.includes(p));
          const allowed = recounted.length === 0 && !removes;
          expect(answer.status).toBe(allowed ? 'SUCCESS' : 'FAILED');
          // What the stack records afterwards: the new settings if accepted, else the deployed ones.
          expect(answer.physicalResourceId).toBe(physicalIdOf(allowed ? requested : deployed));
          if (answer.status === 'FAILED') {
            for (const name of recounted)
              expect(answer.reason).toContain(`Participant '${name}' cannot change its shard count`);
            // CloudFormation's rollback: back to the deployed settings, with the kept physical id.
            expect(decide(rollbackOf(request, answer.physicalResourceId))).toEqual({
              status: 'SUCCESS',
              physicalResourceId: answer.physicalResourceId,
            });
          }
        }),
      );
    },
  );

  it('reads back every readable id it answers, and its properties', () => {
    fc.assert(
      fc.property(settingsArb([]), (s) => {
        expect(settingsOfPhysicalId(physicalIdOf(s))).toEqual(s);
        expect(parseProperties(wire(s))).toEqual(s);
      }),
    );
  });
});

function sorted(s: FixedSettings): FixedSettings {
  return {
    shards: Object.fromEntries(Object.entries(s.shards).sort(([a], [b]) => (a < b ? -1 : 1))),
    participants: [...new Set(s.participants)].sort(),
  };
}

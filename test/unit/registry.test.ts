import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { bankAndShopSpecs } from '../../shared/bank-and-shop';
import { ConfigurationError, ValidationError } from '../../shared/errors';
import { shardOf } from '../../shared/ledger/sharding';
import { defineParticipant } from '../../shared/participant/sdk';
import {
  checkSpecs,
  decodeSpecs,
  encodeSpecs,
  ParticipantRegistry,
  participantIdsOf,
  participantSpec,
} from '../../shared/registry';

// The registry: what the construct registers of each participant and what the API makes of it.

const shipping = defineParticipant({
  operation: z.strictObject({
    action: z.enum(['ship', 'hold']),
    orderId: z.string().min(1).max(40),
    parcels: z.number().int().min(1).max(10).optional(),
  }),
  itemKey: ['orderId'],
  prepare: () => [],
  commit: () => undefined,
  abort: () => undefined,
});

const registry = new ParticipantRegistry([...bankAndShopSpecs(2), participantSpec('shipping', shipping)]);
const valid = [
  { participant: 'ledger', action: 'debit', accountId: 'alice', amount: 5 },
  { participant: 'shipping', action: 'ship', orderId: 'o-1', parcels: 2 },
];

describe('participantSpec', () => {
  it("registers a participant's operation schema as JSON Schema, the input a client sends", () => {
    const spec = participantSpec('shipping', shipping);
    expect(spec).toEqual({
      name: 'shipping',
      itemKey: ['orderId'],
      operation: {
        type: 'object',
        properties: {
          action: { type: 'string', enum: ['ship', 'hold'] },
          orderId: { type: 'string', minLength: 1, maxLength: 40 },
          parcels: { type: 'integer', minimum: 1, maximum: 10 },
        },
        required: ['action', 'orderId'],
        additionalProperties: false,
      },
    });
    expect(participantIdsOf(spec)).toEqual(['shipping']);
  });

  it('shards a counter by its id field, and gives each shard its id', () => {
    const [ledger] = bankAndShopSpecs(3);
    expect(ledger?.shards).toEqual({ count: 3, key: 'accountId' });
    expect(participantIdsOf(ledger!)).toEqual(['ledger-0', 'ledger-1', 'ledger-2']);
  });

  it.each([
    [
      'a name that is not lower-case',
      () => participantSpec('Shipping', shipping),
      /name: must be 1–48 characters/,
    ],
    [
      'shards without a key',
      () => participantSpec('shipping', shipping, { shards: 2 }),
      /has 2 shards but no shardKey/,
    ],
    [
      'a shard key that is no field',
      () => participantSpec('shipping', shipping, { shards: 2, shardKey: 'order' }),
      /'order' is not a field of its operations \(they have action, orderId, parcels\)/,
    ],
    [
      'an operation with its own `participant` field',
      () =>
        participantSpec('odd', {
          ...shipping,
          itemKey: undefined,
          operation: z.object({ participant: z.string() }),
        }),
      /must not have a field 'participant'/,
    ],
    [
      'too many shards',
      () => participantSpec('shipping', shipping, { shards: 33, shardKey: 'orderId' }),
      /shards\.count: Too big/,
    ],
  ])('refuses %s, saying what to change', (_name, make, message) => {
    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(message);
  });

  it("refuses a participant added twice, or ids that collide with another participant's shards", () => {
    expect(() =>
      checkSpecs([participantSpec('shipping', shipping), participantSpec('shipping', shipping)]),
    ).toThrow("participant 'shipping' is added twice: give each participant its own name");
    expect(() => checkSpecs([...bankAndShopSpecs(2), participantSpec('ledger-1', shipping)])).toThrow(
      "participant id 'ledger-1' of 'ledger-1' is also one of 'ledger': rename one of them",
    );
  });
});

describe('ParticipantRegistry', () => {
  it('accepts operations that match their participants', () => {
    expect(registry.validate(valid)).toEqual(valid);
    expect(registry.issuesOf(valid)).toEqual([]);
  });

  it('names every field that fails, by path, and an unknown participant with the known ones', () => {
    const issues = registry.issuesOf([
      { participant: 'ledger', action: 'steal', accountId: 'alice', amount: 0 },
      { participant: 'shipping', action: 'ship', orderId: '', memo: 'x' },
      { participant: 'payments', amount: 1 },
      'not an object',
    ]);
    expect(issues.map((issue) => issue.path)).toEqual([
      'operations.0.action',
      'operations.0.amount',
      'operations.1.orderId',
      'operations.1',
      'operations.2.participant',
    ]);
    expect(issues[4]?.message).toBe(
      "unknown participant 'payments' (this deployment has: ledger, inventory, shipping)",
    );
    expect(() => registry.validate([{ participant: 'payments' }])).toThrow(ValidationError);
  });

  it('refuses two operations on one item of a participant, and allows one item on two participants', () => {
    expect(
      registry.issuesOf([
        { participant: 'shipping', action: 'ship', orderId: 'o-1' },
        { participant: 'shipping', action: 'hold', orderId: 'o-1' },
      ]),
    ).toEqual([
      {
        path: 'operations.1.orderId',
        message:
          'the shipping item orderId="o-1" is already used by operations.0: at most one operation per item per transaction',
      },
    ]);
    expect(
      registry.issuesOf([
        { participant: 'ledger', action: 'debit', accountId: 'x', amount: 1 },
        { participant: 'inventory', action: 'reserve', sku: 'x', quantity: 1 },
      ]),
    ).toEqual([]);
  });

  it('routes an operation to its participant, or to the shard its key hashes to', () => {
    expect(registry.route({ participant: 'shipping', action: 'ship', orderId: 'o-1' })).toMatchObject({
      participantId: 'shipping',
      fields: { action: 'ship', orderId: 'o-1' },
    });
    expect(
      registry.route({ participant: 'ledger', action: 'debit', accountId: 'alice', amount: 1 }).participantId,
    ).toBe(`ledger-${shardOf('alice', 2)}`);
    expect(registry.participantIds()).toEqual(['ledger-0', 'ledger-1', 'inventory', 'shipping']);
  });

  it('refuses specs read back that cannot work (a corrupt registration fails at cold start)', () => {
    expect(() => new ParticipantRegistry([{ name: 'x', operation: { type: 'object' }, extra: 1 }])).toThrow(
      ConfigurationError,
    );
    expect(
      () => new ParticipantRegistry([{ name: 'x', operation: { type: 'object' }, counter: { entity: 'a' } }]),
    ).toThrow(/participant 'x' counter is invalid/);
  });
});

describe('the specs in the API function environment', () => {
  it('compress and read back the same specs (and plain JSON too)', () => {
    const specs = bankAndShopSpecs(2);
    const encoded = encodeSpecs(specs);
    expect(encoded).toMatch(/^deflate:[A-Za-z0-9+/=]+$/);
    expect(encoded.length).toBeLessThan(JSON.stringify(specs).length / 1.8);
    expect(decodeSpecs(encoded)).toEqual(specs);
    expect(decodeSpecs(JSON.stringify(specs))).toEqual(specs);
  });

  it('refuses specs that are not JSON with a readable error', () => {
    expect(() => decodeSpecs('{not json')).toThrow(
      'the participant specs (TANDEM_PARTICIPANTS) are not JSON',
    );
  });
});

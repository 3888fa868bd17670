import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  fnv1a32,
  type LeaseConfig,
  mayAct,
  ProtocolAssertionError,
  planAcquire,
  type SlotRow,
  shouldRenew,
  slotOf,
} from '../../../shared/protocol';

const lease: LeaseConfig = { leaseDurationMs: 10_000, skewMarginMs: 500 };
const T0 = 1_000_000;
const SLOT = 3;
const held = (owner: string | null, epoch: number, leaseExpiresAtMs: number): SlotRow => ({
  slot: SLOT,
  owner,
  epoch,
  leaseExpiresAtMs,
});

describe('hash and slots', () => {
  it('implements FNV-1a 32 (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes, not UTF-16 code units', () => {
    expect(fnv1a32('é€😀')).toBe(0x04a2e806);
  });

  it('maps a txId to a stable slot in range', () => {
    expect(slotOf('tx-1', 64)).toBe(0x5e031cef % 64);
    expect(slotOf('tx-1', 1)).toBe(0);
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (txId, slotCount) => {
        const slot = slotOf(txId, slotCount);
        return Number.isInteger(slot) && slot >= 0 && slot < slotCount && slot === slotOf(txId, slotCount);
      }),
    );
  });

  it.each([0, -1, 1.5])('rejects slot count %s', (count) => {
    expect(() => bucketOf('tx-1', count)).toThrow(RangeError);
  });
});

describe('planAcquire', () => {
  it('acquires a slot with no row at epoch 1, on condition that the row still does not exist', () => {
    expect(planAcquire(undefined, SLOT, 'me', T0, lease)).toEqual({
      kind: 'acquire',
      next: held('me', 1, T0 + 10_000),
      condition: { rowExists: false },
    });
  });

  it('acquires a released slot with epoch + 1, conditioned on the row it read', () => {
    const row = held(null, 7, T0 - 1);
    expect(planAcquire(row, SLOT, 'me', T0, lease)).toEqual({
      kind: 'acquire',
      next: held('me', 8, T0 + 10_000),
      condition: { rowExists: true, expectedOwner: null, expectedEpoch: 7, expectedLeaseExpiresAtMs: T0 - 1 },
    });
  });

  it('renews its own lease at the same epoch, even when it has lapsed', () => {
    for (const expiresAtMs of [T0 + 9_000, T0 - 60_000]) {
      const plan = planAcquire(held('me', 4, expiresAtMs), SLOT, 'me', T0, lease);
      expect(plan).toEqual({
        kind: 'renew',
        next: held('me', 4, T0 + 10_000),
        condition: {
          rowExists: true,
          expectedOwner: 'me',
          expectedEpoch: 4,
          expectedLeaseExpiresAtMs: expiresAtMs,
        },
      });
    }
  });

  it('is busy while another owner holds the lease, until expiry + skew margin', () => {
    // Prepare
    const row = held('other', 4, T0);

    // Act
    const beforeExpiry = planAcquire(row, SLOT, 'me', T0 - 1, lease);
    const withinMargin = planAcquire(row, SLOT, 'me', T0 + 499, lease);
    const atBoundary = planAcquire(row, SLOT, 'me', T0 + 500, lease);

    // Assess
    expect(beforeExpiry).toEqual({ kind: 'busy', owner: 'other', retryAtMs: T0 + 500 });
    expect(withinMargin).toEqual({ kind: 'busy', owner: 'other', retryAtMs: T0 + 500 });
    expect(atBoundary).toEqual({
      kind: 'takeover',
      next: held('me', 5, T0 + 500 + 10_000),
      condition: { rowExists: true, expectedOwner: 'other', expectedEpoch: 4, expectedLeaseExpiresAtMs: T0 },
    });
  });

  it('asserts on a row of another slot and on a bad config', () => {
    expect(() => planAcquire({ ...held('x', 1, T0), slot: 9 }, SLOT, 'me', T0, lease)).toThrow(
      ProtocolAssertionError,
    );
    expect(() =>
      planAcquire(undefined, SLOT, 'me', T0, { leaseDurationMs: 1_000, skewMarginMs: 500 }),
    ).toThrow(ProtocolAssertionError);
    expect(() => planAcquire(undefined, SLOT, '', T0, lease)).toThrow(ProtocolAssertionError);
  });
});

describe('mayAct', () => {
  const row = held('me', 4, T0 + 10_000);

  it('allows acting strictly before expiry − skew margin', () => {
    expect(mayAct(row, 'me', 4, T0, lease)).toBe(true);
    expect(mayAct(row, 'me', 4, T0 + 9_499, lease)).toBe(true);
    expect(mayAct(row, 'me', 4, T0 + 9_500, lease)).toBe(false);
    expect(mayAct(row, 'me', 4, T0 + 10_000, lease)).toBe(false);
  });

  it('refuses another owner or a stale epoch', () => {
    expect(mayAct(row, 'other', 4, T0, lease)).toBe(false);
    expect(mayAct(row, 'me', 3, T0, lease)).toBe(false);
    expect(mayAct(held(null, 4, T0 + 10_000), 'me', 4, T0, lease)).toBe(false);
  });
});

describe('shouldRenew', () => {
  const row = held('me', 4, T0 + 10_000);

  it('turns true once less than half the lease remains', () => {
    expect(shouldRenew(row, 'me', 4, T0 + 4_999, lease)).toBe(false);
    expect(shouldRenew(row, 'me', 4, T0 + 5_000, lease)).toBe(false); // exactly half remains
    expect(shouldRenew(row, 'me', 4, T0 + 5_001, lease)).toBe(true);
  });

  it('is false for a lease that is not mine (re-acquire instead)', () => {
    expect(shouldRenew(row, 'other', 4, T0 + 9_000, lease)).toBe(false);
    expect(shouldRenew(row, 'me', 3, T0 + 9_000, lease)).toBe(false);
  });
});

describe('lease properties', () => {
  // A small world: actors with their own skewed clocks race to plan against the row they read
  // (possibly stale), and the store applies a plan only if its condition matches (the CAS).
  const action = fc.record({
    actor: fc.constantFrom('a', 'b', 'c'),
    advanceMs: fc.integer({ min: 0, max: 6_000 }),
    staleRead: fc.boolean(),
  });

  it('epochs only ever increase and each (slot, epoch) has exactly one owner', () => {
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 60 }),
        fc.record({
          a: fc.integer({ min: -400, max: 400 }),
          b: fc.integer({ min: -400, max: 400 }),
          c: fc.constant(0),
        }),
        (actions, skewMs) => {
          let row: SlotRow | undefined;
          let previous: SlotRow | undefined;
          let trueNowMs = T0;
          const ownerOfEpoch = new Map<number, string>();
          for (const { actor, advanceMs, staleRead } of actions) {
            trueNowMs += advanceMs;
            const read = staleRead ? previous : row;
            const plan = planAcquire(read, SLOT, actor, trueNowMs + skewMs[actor], lease);
            if (plan.kind === 'busy') continue;
            const c = plan.condition;
            const matches = c.rowExists
              ? row !== undefined &&
                row.owner === c.expectedOwner &&
                row.epoch === c.expectedEpoch &&
                row.leaseExpiresAtMs === c.expectedLeaseExpiresAtMs
              : row === undefined;
            if (!matches) continue; // lost the race
            if (row !== undefined && plan.next.epoch < row.epoch) return false;
            const recorded = ownerOfEpoch.get(plan.next.epoch);
            if (recorded !== undefined && recorded !== actor) return false;
            ownerOfEpoch.set(plan.next.epoch, actor);
            previous = row;
            row = plan.next;
          }
          return true;
        },
      ),
    );
  });

  it('two holders never both may act when clocks disagree by less than twice the skew margin', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30_000 }),
        fc.integer({ min: -999, max: 999 }),
        fc.integer({ min: 0, max: 30_000 }),
        (acquiredAfterMs, skewMs, probeAfterMs) => {
          // 'a' holds the lease (by its clock); 'b', whose clock is skewMs ahead, takes over as
          // soon as its clock allows.
          const aRow = held('a', 1, T0 + 10_000);
          const bNowMs = T0 + acquiredAfterMs + skewMs;
          const plan = planAcquire(aRow, SLOT, 'b', bNowMs, lease);
          if (plan.kind !== 'takeover') return true;
          // At any true instant from then on, 'a' (clock = true time) must no longer act.
          const trueMs = T0 + acquiredAfterMs + probeAfterMs;
          return !mayAct(aRow, 'a', 1, trueMs, lease);
        },
      ),
    );
  });
});

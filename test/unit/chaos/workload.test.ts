import { describe, expect, it } from 'vitest';
import {
  CHAOS_CONFLICTS_MAX,
  DEFAULT_RATES,
  hasFaults,
  planWorkload,
  SINGLE_FAULTS,
  type WorkloadOptions,
} from '../../../dev/chaos/workload';
import { CONFLICT_POINTS } from '../../../shared/faults';
import { shardOf } from '../../../shared/ledger/sharding';
import { keyedRecordKey } from '../../../shared/txid';

const options: WorkloadOptions = {
  seed: 7,
  runId: 'run1',
  accounts: 20,
  transfers: 300,
  shardCount: 2,
  rates: DEFAULT_RATES,
  forcedCoverage: 2,
};

describe('planWorkload', () => {
  it('is a function of the seed', () => {
    expect(planWorkload(options)).toEqual(planWorkload(options));
    expect(planWorkload({ ...options, seed: 8 }).transfers).not.toEqual(planWorkload(options).transfers);
  });

  it('spreads the accounts evenly over the shards', () => {
    const { accounts } = planWorkload({ ...options, shardCount: 3, accounts: 21 });
    const perShard = [0, 1, 2].map((s) => accounts.filter((a) => a.shard === s).length);
    expect(perShard).toEqual([7, 7, 7]);
    for (const a of accounts) expect(shardOf(a.accountId, 3)).toBe(a.shard);
    expect(new Set(accounts.map((a) => a.accountId)).size).toBe(21);
  });

  it('forces every single fault on the first valid transfers, then draws them at the rates', () => {
    const { transfers } = planWorkload(options);
    const valid = transfers.filter((t) => t.kind !== 'unknown-account');
    expect(valid.slice(0, SINGLE_FAULTS.length * 2).map((t) => t.faults)).toEqual([
      ...SINGLE_FAULTS,
      ...SINGLE_FAULTS,
    ]);
    const rest = valid.slice(SINGLE_FAULTS.length * 2);
    const withFaults = rest.filter((t) => hasFaults(t.faults)).length / rest.length;
    expect(withFaults).toBeGreaterThan(0.08);
    expect(withFaults).toBeLessThan(0.5);
  });

  it('draws conflicts at each point, 1 to CHAOS_CONFLICTS_MAX of them, and counts a conflict-only plan as faults', () => {
    const { transfers } = planWorkload({ ...options, transfers: 2_000 });
    const counts = CONFLICT_POINTS.map((point) =>
      transfers.map((t) => t.faults.conflict?.[point]).filter((n) => n !== undefined),
    );

    for (const drawn of counts) {
      expect(drawn.length).toBeGreaterThan(20);
      expect(new Set(drawn)).toEqual(new Set(Array.from({ length: CHAOS_CONFLICTS_MAX }, (_, i) => i + 1)));
    }
    expect(hasFaults({ conflict: { 'participant.write': 1 } })).toBe(true);
    expect(hasFaults({ conflict: {} })).toBe(false);
  });

  it('makes refused transfers name a ghost account and carry no faults, and overdrafts exceed all money', () => {
    const { accounts, transfers } = planWorkload(options);
    const ids = new Set(accounts.map((a) => a.accountId));
    const total = accounts.reduce((sum, a) => sum + a.openingBalance, 0);
    const unknown = transfers.filter((t) => t.kind === 'unknown-account');
    const overdraws = transfers.filter((t) => t.kind === 'overdraw');

    expect(unknown.length).toBeGreaterThan(0);
    for (const t of unknown) {
      expect(ids.has(t.from) && ids.has(t.to)).toBe(false);
      expect(hasFaults(t.faults)).toBe(false);
    }
    expect(overdraws.length).toBeGreaterThan(0);
    for (const t of overdraws) expect(t.amount).toBeGreaterThan(total);
    for (const t of transfers) {
      expect(t.from).not.toBe(t.to);
      expect(t.recordKey).toBe(keyedRecordKey(t.idempotencyKey));
    }
    expect(new Set(transfers.map((t) => t.retry))).toEqual(new Set(['none', 'same', 'changed']));
  });
});

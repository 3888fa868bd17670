import {
  CONFLICT_POINTS,
  type ConflictPoint,
  CRASH_POINTS,
  DROP_POINTS,
  type FaultPlan,
} from '../../shared/faults';
import { shardOf } from '../../shared/ledger/sharding';
import { keyedRecordKey } from '../../shared/txid';
import { Prng } from '../../sim/prng';

/** How often each kind of trouble is asked for (probabilities per transfer). */
export interface ChaosRates {
  /** An amount larger than all the money there is: must abort (a NO vote). */
  readonly overdraw: number;
  /** One side is an account that does not exist: must be refused with 422, nothing written. */
  readonly unknownAccount: number;
  /** The client sends the same request again with the same idempotency key: same transaction. */
  readonly retrySame: number;
  /** The client re-uses the idempotency key with another amount: 409, never a second transaction. */
  readonly retryChanged: number;
  /** Each crash point, independently. */
  readonly crash: number;
  /** Each drop point, independently. */
  readonly drop: number;
  /** Every message of the transaction sent twice. */
  readonly duplicate: number;
  /**
   * Each conflict point, independently: the transaction's first 1 to CHAOS_CONFLICTS_MAX writes
   * there are cancelled with `TransactionConflict`, as DynamoDB does when another transaction
   * holds the item.
   */
  readonly conflict: number;
}

/** Most conflicts a chaos plan asks for at one point: more than the 5 lost races participants once gave up after. */
export const CHAOS_CONFLICTS_MAX = 6;

export interface WorkloadOptions {
  readonly seed: number;
  /** Prefix of every account id and idempotency key of this run (unique per run). */
  readonly runId: string;
  readonly accounts: number;
  readonly transfers: number;
  readonly shardCount: number;
  readonly rates: ChaosRates;
  /**
   * The first valid transfers are given each fault (every crash point, every drop point,
   * `duplicate`, every conflict point) this many times each, so a short run still injects every
   * one of them.
   */
  readonly forcedCoverage: number;
}

export const DEFAULT_RATES: ChaosRates = {
  overdraw: 0.08,
  unknownAccount: 0.05,
  retrySame: 0.1,
  retryChanged: 0.05,
  crash: 0.02,
  drop: 0.02,
  duplicate: 0.1,
  conflict: 0.05,
};

export interface AccountSpec {
  readonly accountId: string;
  readonly shard: number;
  readonly openingBalance: number;
}

export type TransferKind = 'normal' | 'overdraw' | 'unknown-account';

export interface TransferSpec {
  readonly index: number;
  readonly idempotencyKey: string;
  /**
   * Where the transaction's record is stored, derived from the key (shared/txid.ts): its fault
   * plan is armed there before it exists; its id (the key and an incarnation) comes in the answer.
   */
  readonly recordKey: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly kind: TransferKind;
  readonly retry: 'none' | 'same' | 'changed';
  /** Faults armed for the transaction (none for a transfer the API must refuse). */
  readonly faults: FaultPlan;
}

export interface Workload {
  readonly accounts: readonly AccountSpec[];
  readonly transfers: readonly TransferSpec[];
}

/** Every fault a plan can hold, each alone in a plan (conflicts as many as a chaos plan asks for). */
export const SINGLE_FAULTS: readonly FaultPlan[] = [
  ...CRASH_POINTS.map((point) => ({ crash: [point] })),
  ...DROP_POINTS.map((point) => ({ drop: [point] })),
  { duplicate: true },
  ...CONFLICT_POINTS.map((point) => ({ conflict: { [point]: CHAOS_CONFLICTS_MAX } })),
];

/**
 * The accounts and transfers of a chaos run, all from the seed. Accounts are spread evenly over
 * the ledger shards (ids are picked by their shard), so most transfers cross shards.
 */
export function planWorkload(options: WorkloadOptions): Workload {
  const rng = new Prng(options.seed);
  const accounts = chooseAccounts(options, rng);
  const total = accounts.reduce((sum, a) => sum + a.openingBalance, 0);
  const ids = accounts.map((a) => a.accountId);
  const transfers: TransferSpec[] = [];
  let valid = 0;
  for (let index = 0; index < options.transfers; index++) {
    const { rates } = options;
    const from = rng.pick(ids);
    let to = rng.pick(ids);
    if (to === from) to = ids[(ids.indexOf(from) + 1) % ids.length] as string;
    let kind: TransferKind = 'normal';
    // Mostly small amounts, so accounts drain now and then and some transfers overdraw by chance.
    let amount = rng.int(1, 300);
    if (rng.chance(rates.unknownAccount)) kind = 'unknown-account';
    else if (rng.chance(rates.overdraw)) {
      kind = 'overdraw';
      amount = total + rng.int(1, 1_000);
    }
    const ghost = `${options.runId}-ghost${index}`;
    const ghostIsSender = rng.chance(0.5);
    const retryRoll = rng.float();
    const retry =
      retryRoll < rates.retrySame
        ? 'same'
        : retryRoll < rates.retrySame + rates.retryChanged
          ? 'changed'
          : 'none';
    const faults = kind === 'unknown-account' ? {} : faultPlan(rng, rates, valid++, options.forcedCoverage);
    const idempotencyKey = `${options.runId}-t${index}`;
    transfers.push({
      index,
      idempotencyKey,
      recordKey: keyedRecordKey(idempotencyKey),
      from: kind === 'unknown-account' && ghostIsSender ? ghost : from,
      to: kind === 'unknown-account' && !ghostIsSender ? ghost : to,
      amount,
      kind,
      retry,
      faults,
    });
  }
  return { accounts, transfers };
}

function chooseAccounts(options: WorkloadOptions, rng: Prng): AccountSpec[] {
  const perShard = Array.from({ length: options.shardCount }, () => 0);
  const quota = Math.ceil(options.accounts / options.shardCount);
  const accounts: AccountSpec[] = [];
  // Bounded: ids hash evenly, so quota × shards × 50 candidates are plenty.
  for (let i = 0; accounts.length < options.accounts && i < options.accounts * options.shardCount * 50; i++) {
    const accountId = `${options.runId}-a${i}`;
    const shard = shardOf(accountId, options.shardCount);
    if ((perShard[shard] ?? 0) >= quota) continue;
    perShard[shard] = (perShard[shard] ?? 0) + 1;
    accounts.push({ accountId, shard, openingBalance: rng.int(500, 1_500) });
  }
  if (accounts.length < options.accounts) throw new Error('could not spread the accounts over the shards');
  return accounts;
}

/** The `validIndex`-th valid transfer's faults: forced coverage first, then the random rates. */
function faultPlan(rng: Prng, rates: ChaosRates, validIndex: number, forcedCoverage: number): FaultPlan {
  if (validIndex < SINGLE_FAULTS.length * forcedCoverage) {
    return SINGLE_FAULTS[validIndex % SINGLE_FAULTS.length] as FaultPlan;
  }
  const crash = CRASH_POINTS.filter(() => rng.chance(rates.crash));
  const drop = DROP_POINTS.filter(() => rng.chance(rates.drop));
  const duplicate = rng.chance(rates.duplicate);
  const conflict: Partial<Record<ConflictPoint, number>> = {};
  for (const point of CONFLICT_POINTS) {
    if (rng.chance(rates.conflict)) conflict[point] = rng.int(1, CHAOS_CONFLICTS_MAX);
  }
  return {
    ...(crash.length > 0 ? { crash } : {}),
    ...(drop.length > 0 ? { drop } : {}),
    ...(duplicate ? { duplicate } : {}),
    ...(Object.keys(conflict).length > 0 ? { conflict } : {}),
  };
}

export const hasFaults = (plan: FaultPlan) =>
  (plan.crash?.length ?? 0) > 0 ||
  (plan.drop?.length ?? 0) > 0 ||
  plan.duplicate === true ||
  Object.keys(plan.conflict ?? {}).length > 0;

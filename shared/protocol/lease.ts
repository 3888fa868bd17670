import { assert } from './assert';
import { bucketOf } from './hash';

/**
 * The leader-slot lease. Transactions hash to a fixed number of slots; a coordinator execution
 * environment drives a slot's transactions while it holds that slot's lease.
 *
 * THE LEASE IS LIVENESS ONLY. It keeps two coordinators from routinely working the same slot,
 * but clocks drift and Lambdas pause, so it can never be trusted for safety. SAFETY comes from
 * the epoch: it only ever increases, every takeover bumps it, and every coordinator write
 * carries `ConditionCheck(slot.owner = me AND slot.epoch = myEpoch)`. A zombie that lost its
 * lease (paused past expiry, then resumed) fails that check and can no longer change anything.
 *
 * Expiry is judged with a skew margin on both sides, so with clocks that disagree by less than
 * 2 × skewMarginMs the holder has stopped before anyone may take over:
 *
 *                          leaseExpiresAtMs
 *   holder    ──acts──────────┤ stops           │
 *                  expiry − skewMarginMs        │                    expiry + skewMarginMs
 *   others    ──busy────────────────────────────┼───────────────────┤ takeover (epoch + 1) ──▶
 */

/** One row of the Slots table. Plain JSON: stored as a DynamoDB item. */
export interface SlotRow {
  readonly slot: number;
  /** The environment holding the lease, or null when released / never taken. */
  readonly owner: string | null;
  /** Fencing token: only ever increases. 0 means never taken. */
  readonly epoch: number;
  readonly leaseExpiresAtMs: number;
}

export interface LeaseConfig {
  readonly leaseDurationMs: number;
  /** Assumed bound on clock disagreement; see the timeline above. */
  readonly skewMarginMs: number;
}

/**
 * What the adapter must put in the ConditionExpression of its write: the row exactly as it was
 * read. Of several concurrent acquirers that read the same row, only one write can match.
 */
export type LeaseCondition =
  | { readonly rowExists: false }
  | {
      readonly rowExists: true;
      readonly expectedOwner: string | null;
      readonly expectedEpoch: number;
      /**
       * Also matched so a takeover cannot overwrite a renewal that landed after our read (the
       * epoch would still fence the old owner, but it would be needlessly deposed).
       */
      readonly expectedLeaseExpiresAtMs: number;
    };

export type AcquirePlan =
  | {
      /** renew: I hold it (same epoch); acquire: it was free; takeover: it expired (epoch + 1). */
      readonly kind: 'renew' | 'acquire' | 'takeover';
      readonly next: SlotRow;
      readonly condition: LeaseCondition;
    }
  | {
      readonly kind: 'busy';
      readonly owner: string;
      /** The earliest instant a takeover may be attempted. */
      readonly retryAtMs: number;
    };

/** The slot of a transaction: FNV-1a 32 of the txId (UTF-8), mod slotCount. */
export function slotOf(txId: string, slotCount: number): number {
  return bucketOf(txId, slotCount);
}

function assertLeaseConfig(config: LeaseConfig): void {
  const { leaseDurationMs, skewMarginMs } = config;
  assert(
    Number.isSafeInteger(leaseDurationMs) && leaseDurationMs > 0,
    `leaseDurationMs must be a positive integer, got ${leaseDurationMs}`,
  );
  assert(
    Number.isSafeInteger(skewMarginMs) && skewMarginMs >= 0,
    `skewMarginMs must be a natural number, got ${skewMarginMs}`,
  );
  // Otherwise a fresh lease would never allow acting.
  assert(
    leaseDurationMs > 2 * skewMarginMs,
    `leaseDurationMs (${leaseDurationMs}) must exceed 2 × skewMarginMs (${skewMarginMs})`,
  );
}

/**
 * Plans an attempt by `me` to hold the slot: `row` is what was read (undefined: no row yet).
 * The adapter writes `next` under `condition`; a failed condition means someone else won the
 * race — read again and re-plan.
 */
export function planAcquire(
  row: SlotRow | undefined,
  slot: number,
  me: string,
  nowMs: number,
  config: LeaseConfig,
): AcquirePlan {
  assertLeaseConfig(config);
  assert(me.length > 0, 'owner id must not be empty');
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, `nowMs must be a natural number of ms, got ${nowMs}`);
  const leaseExpiresAtMs = nowMs + config.leaseDurationMs;
  if (row === undefined) {
    return {
      kind: 'acquire',
      next: { slot, owner: me, epoch: 1, leaseExpiresAtMs },
      condition: { rowExists: false },
    };
  }
  assert(row.slot === slot, `row of slot ${row.slot} read for slot ${slot}`);
  assert(Number.isSafeInteger(row.epoch) && row.epoch >= 0, `bad epoch ${row.epoch} on slot ${slot}`);
  const condition: LeaseCondition = {
    rowExists: true,
    expectedOwner: row.owner,
    expectedEpoch: row.epoch,
    expectedLeaseExpiresAtMs: row.leaseExpiresAtMs,
  };
  if (row.owner === null) {
    return { kind: 'acquire', next: { slot, owner: me, epoch: row.epoch + 1, leaseExpiresAtMs }, condition };
  }
  if (row.owner === me) {
    // Still the same epoch: nobody else held the slot since our last write (or it would say so).
    return { kind: 'renew', next: { slot, owner: me, epoch: row.epoch, leaseExpiresAtMs }, condition };
  }
  const takeoverAtMs = row.leaseExpiresAtMs + config.skewMarginMs;
  if (nowMs >= takeoverAtMs) {
    return { kind: 'takeover', next: { slot, owner: me, epoch: row.epoch + 1, leaseExpiresAtMs }, condition };
  }
  return { kind: 'busy', owner: row.owner, retryAtMs: takeoverAtMs };
}

/**
 * May `me`, holding `myEpoch`, still act on the slot? Only strictly before
 * `leaseExpiresAtMs − skewMarginMs`. This is a courtesy that keeps zombies rare; the epoch
 * ConditionCheck on every write is what makes them harmless.
 */
export function mayAct(
  row: SlotRow,
  me: string,
  myEpoch: number,
  nowMs: number,
  config: LeaseConfig,
): boolean {
  assertLeaseConfig(config);
  return row.owner === me && row.epoch === myEpoch && nowMs < row.leaseExpiresAtMs - config.skewMarginMs;
}

/** Time to renew: `me` holds the slot at `myEpoch` and less than half the lease remains. */
export function shouldRenew(
  row: SlotRow,
  me: string,
  myEpoch: number,
  nowMs: number,
  config: LeaseConfig,
): boolean {
  assertLeaseConfig(config);
  return (
    row.owner === me && row.epoch === myEpoch && 2 * (row.leaseExpiresAtMs - nowMs) < config.leaseDurationMs
  );
}

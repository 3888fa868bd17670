import type { Fence, SlotStore } from '../ports';
import type { SlotRow } from '../protocol';
import type { LeaseCondition } from '../protocol/lease';

/** The leader slot table in memory, with the DynamoDB adapter's conditional-write semantics. */
export class MemorySlotStore implements SlotStore {
  private readonly rows = new Map<number, SlotRow>();

  async read(slot: number): Promise<SlotRow | undefined> {
    const row = this.rows.get(slot);
    return row ? { ...row } : undefined;
  }

  async write(next: SlotRow, condition: LeaseCondition): Promise<boolean> {
    const row = this.rows.get(next.slot);
    const matches = condition.rowExists
      ? row !== undefined &&
        row.owner === condition.expectedOwner &&
        row.epoch === condition.expectedEpoch &&
        row.leaseExpiresAtMs === condition.expectedLeaseExpiresAtMs
      : row === undefined;
    if (matches) this.rows.set(next.slot, { ...next });
    return matches;
  }

  /** The ConditionCheck of a coordinator write: is the slot still `fence.owner`'s at `fence.epoch`? */
  readonly fenceHolds = (fence: Fence): boolean => {
    const row = this.rows.get(fence.slot);
    return row !== undefined && row.owner === fence.owner && row.epoch === fence.epoch;
  };
}

import { InfrastructureError } from '../errors';
import type { Clock, Fence, SlotStore } from '../ports';
import {
  type AcquirePlan,
  type LeaseConfig,
  mayAct,
  planAcquire,
  type SlotRow,
  shouldRenew,
} from '../protocol';

/**
 * Holds this execution environment's slot leases and hands out the fence for a slot.
 *
 * A lease is cached: while it is ours and has more than half its duration left, taking the fence
 * costs no request. Renewing reuses the cached row as the write condition (no read); only a failed
 * condition makes it read and re-plan.
 *
 * Handoff. Lambda's SQS FIFO integration delivers a message group's next batch to whichever
 * environment polls, not to the one that processed the previous batch. When this environment
 * holds a batch of the slot's group, SQS guarantees no other environment is processing that group
 * (a previous holder whose visibility timeout ran out is, by definition, a zombie). So a FIFO
 * consumer that finds the slot leased to someone else takes it over at once with a new epoch
 * (`handoff: true`) instead of waiting for the lease to expire: the epoch ConditionCheck on every
 * coordinator write, not the lease, is what keeps the old holder from changing anything.
 *
 * That argument holds only while the environment really holds the batch. A zombie — an invocation
 * still running past its deadline, after its batch may have gone to another environment (paused,
 * or its requests delayed) — holds nothing. So a caller that passes a BatchHold may change the
 * slot's owner (acquire, take over, hand off) only before the hold ends; past it, `fence` throws
 * BatchLostError and the caller drops the batch, instead of fencing the live owner off and being
 * fenced off in turn (ping-pong) until a timeout ends it.
 */
export class LeaseManager {
  private readonly held = new Map<number, SlotRow>();

  constructor(
    private readonly store: SlotStore,
    readonly owner: string,
    private readonly clock: Clock,
    private readonly config: LeaseConfig,
    private readonly options: { handoff: boolean; maxAttempts?: number } = { handoff: true },
  ) {}

  /**
   * The fence to put on a write for `slot`, acquiring, renewing or taking over the lease as needed.
   * With `hold`, the owner changes only while the batch is held (see the class comment).
   */
  async fence(slot: number, hold?: BatchHold): Promise<Fence> {
    const cached = this.held.get(slot);
    const nowMs = this.clock.nowMs();
    if (cached && mayAct(cached, this.owner, cached.epoch, nowMs, this.config)) {
      if (!shouldRenew(cached, this.owner, cached.epoch, nowMs, this.config)) return this.toFence(cached);
      // Renew without reading first: the cached row is our best guess of what is stored.
      const plan = planAcquire(cached, slot, this.owner, nowMs, this.config);
      if (plan.kind !== 'busy' && (await this.store.write(plan.next, plan.condition)))
        return this.keep(plan.next);
    }
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const row = await this.store.read(slot);
      const plan = this.plan(row, slot);
      if (plan.kind === 'busy') {
        throw new LeaseBusyError(slot, plan.owner, plan.retryAtMs);
      }
      if (plan.kind !== 'renew' && hold !== undefined && this.clock.nowMs() >= hold.heldUntilMs) {
        throw new BatchLostError(slot, hold.heldUntilMs);
      }
      if (await this.store.write(plan.next, plan.condition)) return this.keep(plan.next);
    }
    throw new InfrastructureError(`could not take the lease of slot ${slot} after ${attempts} attempts`);
  }

  /** Drops a lease this environment learned it lost (a write was fenced off). */
  forget(slot: number): void {
    this.held.delete(slot);
  }

  private plan(row: SlotRow | undefined, slot: number): AcquirePlan {
    const nowMs = this.clock.nowMs();
    const plan = planAcquire(row, slot, this.owner, nowMs, this.config);
    if (plan.kind !== 'busy' || !this.options.handoff || row === undefined) return plan;
    return {
      kind: 'takeover',
      next: {
        slot,
        owner: this.owner,
        epoch: row.epoch + 1,
        leaseExpiresAtMs: nowMs + this.config.leaseDurationMs,
      },
      condition: {
        rowExists: true,
        expectedOwner: row.owner,
        expectedEpoch: row.epoch,
        expectedLeaseExpiresAtMs: row.leaseExpiresAtMs,
      },
    };
  }

  private keep(row: SlotRow): Fence {
    this.held.set(row.slot, row);
    return this.toFence(row);
  }

  private toFence(row: SlotRow): Fence {
    return { slot: row.slot, owner: this.owner, epoch: row.epoch };
  }
}

/**
 * Until when an invocation surely holds the batch of the slot's FIFO group it is working on: its own
 * deadline (the instant Lambda would stop it), on its own clock. A batch is held for the queue's
 * visibility timeout from its receive; the timeout is at least 6 × the function's (enforced at
 * synth), which leaves the poller 5 function timeouts to start the invocation — retries of a
 * throttled invoke included — so every invocation that is still inside its own deadline still holds
 * its batch. One that runs past it (a paused process, a stalled request) is a zombie.
 */
export interface BatchHold {
  readonly heldUntilMs: number;
}

/**
 * This invocation can no longer show it holds its batch (it runs past its own deadline): another
 * environment may hold the batch and the slot by now. It must not take the slot; it drops the batch
 * (reports it failed, without deleting it) and the live holder does the work.
 */
export class BatchLostError extends Error {
  override readonly name = 'BatchLostError';
  constructor(
    readonly slot: number,
    readonly heldUntilMs: number,
  ) {
    super(`past its deadline (${heldUntilMs}), it no longer holds the batch of slot ${slot}: dropping it`);
  }
}

/** The slot is leased to a live owner and this manager may not hand it off; retry at `retryAtMs`. */
export class LeaseBusyError extends Error {
  override readonly name = 'LeaseBusyError';
  constructor(
    readonly slot: number,
    readonly holder: string,
    readonly retryAtMs: number,
  ) {
    super(`slot ${slot} is leased to ${holder} until ${retryAtMs}`);
  }
}

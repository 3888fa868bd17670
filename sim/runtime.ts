import type { Pacing } from '../shared/backoff';
import {
  ContentionError,
  type ContentionReason,
  FenceLostError,
  InfrastructureError,
} from '../shared/errors';
import { ProtocolAssertionError } from '../shared/protocol';
import {
  FUNCTION_TIMEOUT_MS,
  type Invocation,
  type InvocationKind,
  type Node,
  type SimCore,
  T0_MS,
  VISIBILITY_TIMEOUT_MS,
} from './core';
import { type CallKind, drawMs, type Latency } from './profile';
import type { SimMessage } from './sqs';

/** Longest a write holds its items at the service (the rest of its latency is the network's). */
const SERVICE_MS_MAX = 40;

/**
 * A write's footprint at the service: the items it touches (`tx:<key>`, `slot:<n>`,
 * `<participant>:barrier:<txId>`, `<participant>:<entity id>`) and whether it is a transaction.
 */
export interface WriteFootprint {
  readonly items: readonly string[];
  readonly transactional: boolean;
}

/** The kind of a footprint's item, as a report names it. */
function itemKind(item: string): string {
  if (item.startsWith('tx:')) return 'the transaction record';
  if (item.startsWith('slot:')) return 'a slot row';
  return item.includes(':barrier:') ? "a participant's barrier" : 'an account';
}

/**
 * Lambda and the services, as the scheduler runs them: invocations that start, fail and crash,
 * and port calls that it delays, fails, crashes, pauses, throttles and cancels.
 */
export class Runtime {
  /** Writes in flight at the service (see `call`), by a number of their own. */
  private readonly inFlight = new Map<number, WriteFootprint>();
  /** How many transactional writes in flight touch each item (an index of `inFlight`). */
  private readonly transactionsOn = new Map<string, number>();
  private nextWriteId = 1;
  private nextInvocationId = 1;
  liveInvocations = 0;
  /** Timed mode: requests made (port calls, deliveries, the API's), by what made them. */
  readonly requests = new Map<string, number>();
  /** Timed mode: invocations that needed a new execution environment. */
  coldStarts = 0;
  /** Timed mode: when the shared server (the profile's, if any) is next free. */
  private serverFreeAtMs = 0;
  /** Timed mode: when the FIFO queue's SendMessage quota next has room. */
  private fifoSendFreeAtMs = 0;
  /** Timed mode: when each item's partition next has write capacity (profile.partitionWritesPerS). */
  private readonly itemFreeAtMs = new Map<string, number>();
  /** Timed mode: write calls that waited for an item's partition, and how long in all (ms). */
  readonly partitionWaits = { writes: 0, totalMs: 0 };
  /** Timed mode: each function's invocations running and execution environments made. */
  private readonly functions = new Map<string, { running: number; environments: number }>();
  /** Timed mode: writes cancelled by a TransactionConflict, by the kind of item they met on. */
  readonly conflictsOn = new Map<string, number>();
  /** Timed mode: deliveries that found their function at its concurrency limit and waited. */
  concurrencyWaits = 0;
  /** Timed mode: SendMessage calls that waited for the FIFO queue's quota, and how long in all (ms). */
  readonly fifoSendWaits = { sends: 0, totalMs: 0 };
  /**
   * Timed mode: invocations of every function running now and at most (what the account's
   * concurrency quota counts), and by kind the invocations and the time they ran (ms).
   */
  readonly concurrency = { running: 0, peak: 0 };
  readonly invocations = new Map<InvocationKind, { readonly count: number; readonly ms: number }>();

  constructor(private readonly core: SimCore) {}

  /**
   * Timed mode: how long from now `requests` requests taking `latency` take — the wait for the
   * profile's shared server (it holds each for 1000 / requestsPerS ms, one at a time), then the
   * drawn time (which includes the service time: on an idle server there is no wait).
   */
  timedMs(latency: Latency, requests: number, what: string): number {
    const { profile } = this.core.options.timed!;
    this.requests.set(what, (this.requests.get(what) ?? 0) + requests);
    let waitMs = 0;
    if (profile.server) {
      const startMs = Math.max(this.core.now, this.serverFreeAtMs);
      waitMs = startMs - this.core.now;
      this.serverFreeAtMs = startMs + (requests * 1000) / profile.server.requestsPerS;
    }
    return waitMs + drawMs(this.core.timing!, latency);
  }

  /** Timed mode: how long a call of `kind` waits for its quota (the FIFO queue's sends) from now. */
  private quotaWaitMs(kind: CallKind): number {
    const perS = this.core.options.timed!.profile.fifoSendsPerS;
    if (kind !== 'sendFifo' || perS === null) return 0;
    const startMs = Math.max(this.core.now, this.fifoSendFreeAtMs);
    this.fifoSendFreeAtMs = startMs + 1000 / perS;
    if (startMs > this.core.now) {
      this.fifoSendWaits.sends++;
      this.fifoSendWaits.totalMs += startMs - this.core.now;
    }
    return startMs - this.core.now;
  }

  /**
   * Timed mode: how long a write waits from now for capacity at the partitions of its items (each
   * item its own partition): it starts when every item has room, and holds each for its units.
   */
  private partitionWaitMs(footprint: WriteFootprint | undefined): number {
    const perS = this.core.options.timed!.profile.partitionWritesPerS;
    if (footprint === undefined || perS === null) return 0;
    const units = footprint.transactional ? 2 : 1;
    let startMs = this.core.now;
    for (const item of footprint.items) startMs = Math.max(startMs, this.itemFreeAtMs.get(item) ?? 0);
    for (const item of footprint.items) this.itemFreeAtMs.set(item, startMs + (units * 1000) / perS);
    const waitMs = startMs - this.core.now;
    if (waitMs > 0) {
      this.partitionWaits.writes++;
      this.partitionWaits.totalMs += waitMs;
    }
    return waitMs;
  }

  /**
   * Timed mode: takes an execution environment of function `fn` for an invocation, within the
   * profile's concurrency limit. Null at the limit; else the cold start it pays (0 when warm).
   */
  acquire(fn: string): number | null {
    const { profile } = this.core.options.timed!;
    const state = this.functions.get(fn) ?? { running: 0, environments: 0 };
    this.functions.set(fn, state);
    if (state.running >= profile.lambdaConcurrency) {
      this.concurrencyWaits++;
      return null;
    }
    state.running++;
    if (state.running <= state.environments) return 0;
    state.environments++;
    this.coldStarts++;
    return drawMs(this.core.timing!, profile.coldStart);
  }

  /** Timed mode: an invocation of `fn` ended; its environment is warm for the next. */
  release(fn: string): void {
    this.functions.get(fn)!.running--;
  }

  latencyMs(): number {
    if (this.core.faultsOn && this.core.rng.chance(this.core.plan.slowPerCall))
      return this.core.rng.int(500, 5_000);
    return this.core.rng.chance(0.1) ? this.core.rng.int(10, 200) : this.core.rng.int(1, 10);
  }

  /**
   * One port call of `inv`. `effect` runs (synchronously: the memory adapters do all their work
   * before their first await) when the scheduler completes the call. Before it does, the call may
   * be paused (coordinator environments only: a zombie), crash the invocation (the effect took
   * place or not; the handler never continues), or fail with an InfrastructureError (the effect
   * took place or not: an ambiguous failure).
   *
   * A write (`footprint`) is in flight at the service for the last few ms before it completes
   * (SERVICE_MS_MAX at most). When it completes while a transactional write on one of its items is
   * in flight, DynamoDB may cancel it
   * (TransactionConflict: ContentionError, nothing written) — with the chance `plan.conflicts`, on
   * and after faults alike; while faults last it may also be throttled.
   *
   * In the timed mode the call takes the profile's time for its `kind` (by default: a read; with a
   * footprint, a write — a transaction when transactional), after its wait for a quota (the FIFO
   * queue's sends) and for write capacity at its items' partitions.
   */
  call<T>(
    inv: Invocation,
    what: string,
    effect: () => Promise<T>,
    footprint?: WriteFootprint,
    kind: CallKind = footprint ? (footprint.transactional ? 'transact' : 'write') : 'read',
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (inv.dead) return;
      const timed = this.core.options.timed;
      const latencyMs = timed
        ? this.quotaWaitMs(kind) +
          this.partitionWaitMs(footprint) +
          this.timedMs(timed.profile.calls[kind], 1, kind)
        : this.latencyMs();
      const id = footprint ? this.nextWriteId++ : undefined;
      if (id !== undefined && footprint) {
        // At the service for its last few ms only: the rest of a slow call is the network's.
        const serviceMs = Math.min(latencyMs, this.core.rng.int(1, SERVICE_MS_MAX));
        this.core.at(this.core.now + latencyMs - serviceMs, () => {
          if (inv.dead) return;
          this.inFlight.set(id, footprint);
          if (footprint.transactional) this.countTransaction(footprint, 1);
        });
      }
      this.core.at(this.core.now + latencyMs, () => this.complete(inv, what, effect, resolve, reject, id));
    });
  }

  private complete<T>(
    inv: Invocation,
    what: string,
    effect: () => Promise<T>,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    writeId?: number,
    resumed?: WriteFootprint,
  ): void {
    const footprint = writeId === undefined ? resumed : this.inFlight.get(writeId);
    if (writeId !== undefined && footprint) {
      this.inFlight.delete(writeId);
      if (footprint.transactional) this.countTransaction(footprint, -1);
    }
    if (inv.dead) return;
    // A paused request has not reached the service yet: it holds no item while paused.
    const retry = () => this.complete(inv, what, effect, resolve, reject, undefined, footprint);
    if (inv.node.pausedUntilMs > this.core.now) {
      this.core.at(inv.node.pausedUntilMs + this.core.rng.int(0, 5), retry);
      return;
    }
    if (
      this.core.faultsOn &&
      inv.kind === 'coordinator' &&
      this.core.rng.chance(this.core.plan.pausePerCoordinatorCall)
    ) {
      // Resume just after the message is visible again (another environment may be mid-takeover),
      // or much later.
      const pausedUntilMs = this.core.rng.chance(0.6)
        ? Math.max(this.core.now + 1, inv.receivedAtMs + VISIBILITY_TIMEOUT_MS + this.core.rng.int(0, 80))
        : this.core.now + this.core.rng.int(VISIBILITY_TIMEOUT_MS, 3 * VISIBILITY_TIMEOUT_MS);
      inv.node.pausedUntilMs = pausedUntilMs;
      this.core.stats.zombies++;
      this.core.log(
        `${inv.name} ⏸ paused before ${what} until +${((pausedUntilMs - T0_MS) / 1000).toFixed(3)}s`,
      );
      this.core.at(pausedUntilMs, () => this.core.log(`${inv.node.name} ▶ resumes`));
      this.core.at(pausedUntilMs + this.core.rng.int(0, 5), retry);
      return;
    }
    if (this.core.faultsOn && this.core.rng.chance(this.core.plan.crashPerCall)) {
      const applied = this.core.rng.chance(0.5);
      this.core.log(`${inv.name} ✗ CRASH at ${what} (${applied ? 'after' : 'before'} it took effect)`);
      if (applied) effect().catch(() => {});
      this.crash(inv);
      return;
    }
    if (this.core.faultsOn && this.core.rng.chance(this.core.plan.errorPerCall)) {
      const applied = this.core.rng.chance(0.5);
      this.core.stats.injectedErrors++;
      this.core.log(`${inv.name} ✗ error from ${what} (${applied ? 'it took effect' : 'no effect'})`);
      if (applied) effect().catch(() => {});
      reject(new InfrastructureError(`simulated failure of ${what}`));
      return;
    }
    const contention = footprint ? this.contentionOf(footprint) : null;
    if (contention !== null) {
      this.core.stats[contention === 'conflict' ? 'conflicts' : 'throttles']++;
      this.core.log(
        `${inv.name} ${what} ✗ ${contention === 'conflict' ? 'TransactionConflict' : 'throttled'}`,
      );
      reject(new ContentionError(contention, `simulated ${contention} on ${what}`));
      return;
    }
    this.core.log(`${inv.name} ${what}`);
    effect().then(resolve, reject);
  }

  private countTransaction(footprint: WriteFootprint, by: 1 | -1): void {
    for (const item of new Set(footprint.items)) {
      const count = (this.transactionsOn.get(item) ?? 0) + by;
      if (count === 0) this.transactionsOn.delete(item);
      else this.transactionsOn.set(item, count);
    }
  }

  /** Whether the service cancels a write completing now: a conflict, a throttle, or neither. */
  private contentionOf(footprint: WriteFootprint): ContentionReason | null {
    const met = footprint.items.find((item) => (this.transactionsOn.get(item) ?? 0) > 0);
    if (met !== undefined && this.core.rng.chance(this.core.plan.conflicts)) {
      if (this.core.options.timed) {
        const kind = itemKind(met);
        this.conflictsOn.set(kind, (this.conflictsOn.get(kind) ?? 0) + 1);
      }
      return 'conflict';
    }
    if (this.core.faultsOn && this.core.rng.chance(this.core.plan.throttlePerWrite)) return 'throttle';
    return null;
  }

  /**
   * How a shell waits out contention: world timers, the world's randomness, a deadline on the
   * invocation's clock — by default its function's timeout less a second (none when the
   * contention-retry switch is off).
   */
  pacing(
    inv: Invocation,
    deadlineMs = this.core.switches.contentionRetry
      ? inv.node.clock.nowMs() + FUNCTION_TIMEOUT_MS - 1_000
      : Number.NEGATIVE_INFINITY,
  ): Pacing {
    return {
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          this.core.at(this.core.now + ms, () => {
            if (!inv.dead) resolve();
          });
        }),
      random: () => this.core.rng.float(),
      deadlineMs: () => deadlineMs,
    };
  }

  spawn(
    node: Node,
    kind: InvocationKind,
    label: string,
    body: (inv: Invocation) => Promise<void>,
    after: (error: unknown) => void,
  ): Invocation {
    const inv: Invocation = {
      id: this.nextInvocationId++,
      kind,
      node,
      name: `${node.name}/${this.nextInvocationId - 1}`,
      receivedAtMs: this.core.now,
      dead: false,
    };
    this.liveInvocations++;
    const timed = this.core.options.timed !== undefined;
    if (timed) this.concurrency.peak = Math.max(this.concurrency.peak, ++this.concurrency.running);
    this.core.log(`${inv.name} ← ${label}`);
    const finish = (error: unknown) => {
      if (inv.dead) return;
      inv.dead = true;
      this.liveInvocations--;
      if (timed) {
        this.concurrency.running--;
        const { count, ms } = this.invocations.get(kind) ?? { count: 0, ms: 0 };
        this.invocations.set(kind, { count: count + 1, ms: ms + this.core.now - inv.receivedAtMs });
      }
      after(error);
    };
    body(inv).then(
      () => finish(null),
      (error: unknown) => finish(error ?? new Error('rejected without a reason')),
    );
    return inv;
  }

  crash(inv: Invocation): void {
    inv.dead = true;
    this.core.stats.crashes++;
    this.liveInvocations--;
    inv.onCrash?.();
  }

  handlerFailed(error: unknown, message: SimMessage): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (error instanceof ProtocolAssertionError) {
      // The handler would move it to the DLQ at once; in the simulation it is a broken invariant.
      this.core.violation(`protocol assertion on m${message.id} ${message.body}: ${error.message}`);
      return;
    }
    if (!(error instanceof InfrastructureError || error instanceof FenceLostError)) {
      this.core.violation(`unexpected ${text} on m${message.id} ${message.body}`);
      return;
    }
    this.core.log(`   ↳ m${message.id} failed (${text}); visible again after the visibility timeout`);
  }
}

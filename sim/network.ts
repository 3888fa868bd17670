import type { InvariantChecker } from './checker';
import { type Invocation, type InvocationKind, type Node, type SimCore, VISIBILITY_TIMEOUT_MS } from './core';
import type { Runtime } from './runtime';
import { type SimMessage, SimQueue } from './sqs';

/** Most messages Lambda's poller hands a function at once (the stack's batch size). */
const STANDARD_BATCH = 10;

/** A standard queue and the function its event source delivers to. */
export interface StandardQueue {
  readonly queue: SimQueue;
  readonly node: Node;
  readonly kind: InvocationKind;
  readonly handle: (inv: Invocation, message: SimMessage) => Promise<void>;
}

/** A consumer of the FIFO queue: a coordinator execution environment, busy or idle. */
export interface FifoConsumer {
  readonly current: Invocation | null;
}

/**
 * The simulated network of queues: sends that the faults duplicate and reorder (delay jitter),
 * deliveries to the event sources' handlers with redelivery after the visibility timeout, lost
 * deletes, dead letters and the operator's redrive; the coordinator's FIFO queue delivered a
 * group's batch at a time to an idle environment (sticky or not). Queue semantics: ./sqs.
 */
export class SimNetwork<Env extends FifoConsumer> {
  readonly fifo: SimQueue;
  readonly inboxes = new Map<string, StandardQueue>();
  timerQueue!: StandardQueue;
  private readonly lastEnvOfGroup = new Map<string, Env>();
  nextMessageId = 1;
  /** Timed mode: FIFO sends on their way (not in the queue yet), and when each group's last lands. */
  private inTransit = 0;
  private readonly groupLandsAtMs = new Map<string, number>();
  /** Timed mode: each standard queue's receive on its way, and the messages it will hand over. */
  private readonly polls = new Map<StandardQueue | 'fifo', { readonly atMs: number; count: number }>();
  /** Timed mode: deliveries waiting for an execution environment of their function (at its limit). */
  private readonly waiting = new Map<StandardQueue, SimMessage[]>();
  /** Timed mode: when each FIFO message landed in the queue, until its first receive. */
  private readonly landedAtMs = new Map<number, number>();
  /**
   * Timed mode: FIFO messages received, and how long in all they waited in the queue for their
   * group (one batch in flight per group) and an idle coordinator environment (ms).
   */
  readonly fifoWaits = { messages: 0, totalMs: 0 };

  constructor(
    private readonly core: SimCore,
    private readonly runtime: Runtime,
    private readonly checker: InvariantChecker,
    private readonly envs: readonly Env[],
    private readonly startCoordinator: (env: Env, batch: readonly SimMessage[]) => void,
  ) {
    this.fifo = new SimQueue({
      name: 'coordinator.fifo',
      fifo: true,
      visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
      maxReceiveCount: core.plan.maxReceiveCount,
    });
  }

  queues(): SimQueue[] {
    return [this.fifo, ...[...this.inboxes.values()].map((q) => q.queue), this.timerQueue.queue];
  }

  liveMessages(): number {
    return this.queues().reduce((sum, queue) => sum + queue.live, this.inTransit);
  }

  standardQueue(name: string, visibilityTimeoutMs = VISIBILITY_TIMEOUT_MS): SimQueue {
    return new SimQueue({
      name,
      fifo: false,
      visibilityTimeoutMs,
      maxReceiveCount: this.core.plan.maxReceiveCount,
    });
  }

  sendStandard(target: StandardQueue, body: string, delayMs: number): void {
    if (this.core.options.timed) {
      const message = target.queue.send(body, this.core.now, { delayMs, id: this.nextMessageId++ })!;
      this.core.at(message.invisibleUntilMs, () =>
        this.core.at(this.handOverAtMs(target), () => this.deliverStandard(target, message)),
      );
      return;
    }
    const copies = this.core.faultsOn && this.core.rng.chance(this.core.plan.duplicatePerSend) ? 2 : 1;
    if (copies > 1) this.core.stats.duplicates++;
    for (let copy = 0; copy < copies; copy++) {
      const jitter =
        this.core.faultsOn && this.core.rng.chance(this.core.plan.reorderPerSend)
          ? this.core.rng.int(0, 3_000)
          : this.core.rng.int(0, 20);
      const message = target.queue.send(body, this.core.now, {
        delayMs: delayMs + jitter,
        id: this.nextMessageId++,
      })!;
      this.core.at(message.invisibleUntilMs + this.core.rng.int(0, 20), () =>
        this.deliverStandard(target, message),
      );
    }
  }

  /** A poller tries to receive `message`; if it gets it, a handler runs it. */
  deliverStandard(target: StandardQueue, message: SimMessage): void {
    if (this.core.options.timed) {
      this.deliverTimed(target, message);
      return;
    }
    const attempt = target.queue.tryReceive(message, this.core.now);
    if (attempt === 'dead-lettered') this.deadLettered(target.queue, message);
    if (attempt !== 'received') return;
    this.checker.received(message);
    if (message.receiveCount > 1) this.core.stats.redeliveries++;
    // Comes back after the visibility timeout unless deleted by then.
    this.core.at(message.invisibleUntilMs + this.core.rng.int(0, 50), () =>
      this.deliverStandard(target, message),
    );
    this.spawnHandler(target, message, message.receipt);
  }

  /** Runs `target`'s handler on a received message; deletes it if the handler succeeded. */
  private spawnHandler(
    target: StandardQueue,
    message: SimMessage,
    receipt: number,
    ended?: () => void,
  ): void {
    this.runtime.spawn(
      target.node,
      target.kind,
      `m${message.id} ${message.body} (receive ${message.receiveCount})`,
      (inv) => target.handle(inv, message),
      (error) => {
        ended?.();
        if (error === null) return this.deleteMessage(target.queue, message, receipt);
        this.runtime.handlerFailed(error, message);
      },
    );
  }

  /**
   * Timed mode: when the event source's poller hands over a message it can see now — with the
   * receive on its way if there is one (up to STANDARD_BATCH messages), else in a new receive the
   * profile's delivery time later, whose receive, delete and invoke requests the batch pays once.
   * For the FIFO queue the batch spans groups, as Lambda's poller reads it; the world still hands
   * each group's messages to its own coordinator invocation.
   */
  private handOverAtMs(poller: StandardQueue | 'fifo'): number {
    const pending = this.polls.get(poller);
    if (pending && pending.atMs > this.core.now && pending.count < STANDARD_BATCH) {
      pending.count++;
      return pending.atMs;
    }
    const { profile } = this.core.options.timed!;
    const [latency, what] =
      poller === 'fifo'
        ? [profile.fifoDelivery, 'receive (FIFO)']
        : [profile.standardDelivery, 'receive (standard)'];
    const atMs = this.core.now + this.runtime.timedMs(latency, profile.requestsPerDelivery, what);
    this.polls.set(poller, { atMs, count: 1 });
    return atMs;
  }

  /**
   * Timed mode: a delivery within the function's concurrency limit (else it waits for an
   * invocation to end), after its cold start if it needs a new execution environment.
   */
  private deliverTimed(target: StandardQueue, message: SimMessage): void {
    const coldMs = this.runtime.acquire(target.node.name);
    if (coldMs === null) {
      const queue = this.waiting.get(target) ?? [];
      queue.push(message);
      this.waiting.set(target, queue);
      return;
    }
    const attempt = target.queue.tryReceive(message, this.core.now);
    if (attempt !== 'received') {
      this.runtime.release(target.node.name);
      return;
    }
    this.checker.received(message);
    // Visible again after the visibility timeout unless deleted by then: the poller receives it again.
    this.core.at(message.invisibleUntilMs, () => {
      if (!message.deleted)
        this.core.at(this.handOverAtMs(target), () => this.deliverStandard(target, message));
    });
    const receipt = message.receipt;
    this.core.at(this.core.now + coldMs, () =>
      this.spawnHandler(target, message, receipt, () => {
        this.runtime.release(target.node.name);
        const next = this.waiting.get(target)?.shift();
        if (next) this.core.at(this.core.now, () => this.deliverStandard(target, next));
      }),
    );
  }

  sendFifo(group: string, body: string, dedupId: string): void {
    if (this.core.options.timed) {
      // Received by the poller (in send order within its group), then at once to an idle coordinator.
      const landsAtMs = Math.max(this.handOverAtMs('fifo'), this.groupLandsAtMs.get(group) ?? 0);
      this.groupLandsAtMs.set(group, landsAtMs);
      this.inTransit++;
      this.core.at(landsAtMs, () => {
        this.inTransit--;
        const message = this.fifo.send(body, this.core.now, { group, dedupId, id: this.nextMessageId++ });
        if (message) this.landedAtMs.set(message.id, this.core.now);
      });
      return;
    }
    const sent = this.fifo.send(body, this.core.now, { group, dedupId, id: this.nextMessageId++ });
    if (!sent) this.core.log(`   ↳ FIFO dropped duplicate ${dedupId}`);
  }

  /**
   * Delivers the head of every ready message group (not in flight) to a random idle coordinator
   * environment. Returns true when a handler started.
   */
  pumpFifo(): boolean {
    let started = false;
    for (;;) {
      // After every event: the cheap test first, the list of idle environments only when needed.
      if (!this.envs.some((env) => env.current === null)) return started;
      const heads = this.fifo.readyHeads(this.core.now);
      if (heads.length === 0) return started;
      const idle = this.envs.filter((env) => env.current === null);
      const head = this.core.rng.pick(heads);
      const group = head.group!;
      const { batch, deadLettered } = this.fifo.receiveGroup(head, this.core.now, this.core.plan.fifoBatch);
      for (const message of deadLettered) this.deadLettered(this.fifo, message);
      if (batch.length === 0) continue;
      const last = this.lastEnvOfGroup.get(group);
      const env =
        last !== undefined && idle.includes(last) && this.core.rng.chance(this.core.plan.stickiness)
          ? last
          : this.core.rng.pick(idle);
      this.lastEnvOfGroup.set(group, env);
      for (const message of batch) {
        this.checker.received(message);
        if (message.receiveCount > 1) this.core.stats.redeliveries++;
        const landedAtMs = this.landedAtMs.get(message.id);
        if (landedAtMs === undefined) continue;
        this.landedAtMs.delete(message.id);
        this.fifoWaits.messages++;
        this.fifoWaits.totalMs += this.core.now - landedAtMs;
      }
      this.core.at(batch[0]!.invisibleUntilMs, () => {}); // wake up when it is visible again
      this.startCoordinator(env, batch);
      started = true;
    }
  }

  /** Deletes a handled message, unless the delete is lost (while faults last). */
  deleteMessage(queue: SimQueue, message: SimMessage, receipt: number): void {
    if (this.core.faultsOn && !message.deleted && this.core.rng.chance(this.core.plan.lostDelete)) {
      this.core.log(`   ↳ delete of m${message.id} lost`);
      return;
    }
    const deleted = queue.delete(message, receipt);
    if (deleted === 'stale-receipt') {
      this.core.log(`   ↳ delete of m${message.id} with a stale receipt ignored`);
    }
    if (deleted === 'deleted') this.checker.deleted(queue, message);
  }

  deadLettered(queue: SimQueue, message: SimMessage): void {
    this.core.stats.dlqMoves++;
    this.checker.deadLettered(queue, message);
    this.core.log(
      `m${message.id} → DLQ of ${queue.name} after ${message.receiveCount} receives: ${message.body}`,
    );
  }

  redriveAll(): void {
    for (const message of this.fifo.redrive(this.core.now, () => this.nextMessageId++))
      this.core.log(`redriven as m${message.id}`);
    for (const target of [...this.inboxes.values(), this.timerQueue]) {
      for (const message of target.queue.redrive(this.core.now, () => this.nextMessageId++)) {
        this.core.at(this.core.now + this.core.rng.int(0, 20), () => this.deliverStandard(target, message));
      }
    }
  }
}

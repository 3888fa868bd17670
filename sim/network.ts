import type { InvariantChecker } from './checker';
import { type Invocation, type InvocationKind, type Node, type SimCore, VISIBILITY_TIMEOUT_MS } from './core';
import type { Runtime } from './runtime';
import { type SimMessage, SimQueue } from './sqs';

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
    return this.queues().reduce((sum, queue) => sum + queue.live, 0);
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
    const attempt = target.queue.tryReceive(message, this.core.now);
    if (attempt === 'dead-lettered') this.deadLettered(target.queue, message);
    if (attempt !== 'received') return;
    this.checker.received(message);
    if (message.receiveCount > 1) this.core.stats.redeliveries++;
    // Comes back after the visibility timeout unless deleted by then.
    this.core.at(message.invisibleUntilMs + this.core.rng.int(0, 50), () =>
      this.deliverStandard(target, message),
    );
    const receipt = message.receipt;
    this.runtime.spawn(
      target.node,
      target.kind,
      `m${message.id} ${message.body} (receive ${message.receiveCount})`,
      (inv) => target.handle(inv, message),
      (error) => {
        if (error === null) return this.deleteMessage(target.queue, message, receipt);
        this.runtime.handlerFailed(error, message);
      },
    );
  }

  sendFifo(group: string, body: string, dedupId: string): void {
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
      const idle = this.envs.filter((env) => env.current === null);
      if (idle.length === 0) return started;
      const heads = this.fifo.readyHeads(this.core.now);
      if (heads.length === 0) return started;
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

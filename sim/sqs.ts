/**
 * Simulated SQS: the queue semantics the protocol relies on, in virtual time. The simulation's world
 * delivers from these queues; the conformance suite (test/integration/conformance.test.ts) runs the
 * same scripts against them and against real queues on the emulator, so the model cannot drift.
 *
 * - Standard: at-least-once; a received message is invisible for the visibility timeout and comes
 *   back unless deleted with its latest receipt; an optional delay; no order.
 * - FIFO: per message group, in send order; a group's next message is not delivered while an
 *   earlier one is in flight (received, not deleted, visibility not expired); a deduplication id
 *   seen within the window drops the send.
 * - Redrive: a receive attempt on a message already received `maxReceiveCount` times moves it to
 *   the dead-letter queue instead.
 */
export interface SimMessage {
  readonly id: number;
  readonly body: string;
  readonly group: string | null;
  receiveCount: number;
  /** Bumped on every receive: a delete must name the latest one. */
  receipt: number;
  invisibleUntilMs: number;
  deleted: boolean;
}

export interface SimQueueOptions {
  readonly name: string;
  readonly fifo: boolean;
  readonly visibilityTimeoutMs: number;
  /** The redrive policy; null: no dead-letter queue. */
  readonly maxReceiveCount: number | null;
  readonly dedupWindowMs?: number;
}

export type ReceiveAttempt = 'received' | 'dead-lettered' | 'unavailable';

const FIFO_DEDUP_WINDOW_MS = 5 * 60_000;

export class SimQueue {
  readonly dlq: SimMessage[] = [];
  /** Messages sent and neither deleted nor dead-lettered. */
  live = 0;
  private readonly messages = new Map<number, SimMessage>();
  private readonly groups = new Map<string, SimMessage[]>();
  private readonly dedup = new Map<string, number>();
  private nextId = 1;

  constructor(readonly options: SimQueueOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Sends a message; null when a FIFO queue drops it as a duplicate. */
  send(
    body: string,
    nowMs: number,
    options: { delayMs?: number; group?: string; dedupId?: string; id?: number } = {},
  ): SimMessage | null {
    if (this.options.fifo) {
      if (options.group === undefined || options.dedupId === undefined) {
        throw new Error(`${this.name}: a FIFO message needs a group and a deduplication id`);
      }
      const sentAtMs = this.dedup.get(options.dedupId);
      if (sentAtMs !== undefined && nowMs - sentAtMs < (this.options.dedupWindowMs ?? FIFO_DEDUP_WINDOW_MS)) {
        return null;
      }
      this.dedup.set(options.dedupId, nowMs);
      if ((options.delayMs ?? 0) > 0) throw new Error(`${this.name}: FIFO queues have no per-message delay`);
    }
    const message: SimMessage = {
      id: options.id ?? this.nextId++,
      body,
      group: this.options.fifo ? options.group! : null,
      receiveCount: 0,
      receipt: 0,
      invisibleUntilMs: nowMs + (options.delayMs ?? 0),
      deleted: false,
    };
    this.live++;
    if (message.group === null) {
      this.messages.set(message.id, message);
    } else {
      const group = this.groups.get(message.group) ?? [];
      group.push(message);
      this.groups.set(message.group, group);
    }
    return message;
  }

  /** Receives `message` if it can be delivered now (for FIFO: it heads a group not in flight). */
  tryReceive(message: SimMessage, nowMs: number): ReceiveAttempt {
    if (message.deleted || message.invisibleUntilMs > nowMs) return 'unavailable';
    if (message.group !== null && this.groups.get(message.group)?.[0] !== message) return 'unavailable';
    return this.receiveOne(message, nowMs);
  }

  /**
   * FIFO: receives the ready head of a group and the messages after it in its group, in order, up
   * to `max` in all — one batch, as Lambda's poller hands a FIFO consumer. A message past its
   * maxReceiveCount is dead-lettered on the way (and ends the batch, which keeps the order).
   */
  receiveGroup(
    head: SimMessage,
    nowMs: number,
    max: number,
  ): { batch: SimMessage[]; deadLettered: SimMessage[] } {
    const batch: SimMessage[] = [];
    const deadLettered: SimMessage[] = [];
    const group = head.group === null ? undefined : this.groups.get(head.group);
    if (!group || group[0] !== head || head.deleted || head.invisibleUntilMs > nowMs)
      return { batch, deadLettered };
    for (const message of [...group].slice(0, max)) {
      if (message.invisibleUntilMs > nowMs) break;
      const attempt = this.receiveOne(message, nowMs);
      if (attempt === 'dead-lettered') {
        deadLettered.push(message);
        if (batch.length > 0) break;
        continue;
      }
      batch.push(message);
    }
    return { batch, deadLettered };
  }

  private receiveOne(message: SimMessage, nowMs: number): ReceiveAttempt {
    const max = this.options.maxReceiveCount;
    if (max !== null && message.receiveCount >= max) {
      this.remove(message);
      this.dlq.push(message);
      return 'dead-lettered';
    }
    message.receiveCount++;
    message.receipt++;
    message.invisibleUntilMs = nowMs + this.options.visibilityTimeoutMs;
    return 'received';
  }

  /** What a ReceiveMessage call returns now: up to `max` messages, one per FIFO group. */
  receive(nowMs: number, max: number): SimMessage[] {
    const received: SimMessage[] = [];
    const candidates = this.options.fifo
      ? [...this.groups.values()].map((group) => group[0]).filter((m): m is SimMessage => m !== undefined)
      : [...this.messages.values()];
    for (const message of candidates) {
      if (received.length >= max) break;
      if (this.tryReceive(message, nowMs) === 'received') received.push(message);
    }
    return received;
  }

  /** Heads of the FIFO groups that can be delivered now. */
  readyHeads(nowMs: number): SimMessage[] {
    const heads: SimMessage[] = [];
    for (const group of this.groups.values()) {
      const head = group[0];
      if (head && head.invisibleUntilMs <= nowMs) heads.push(head);
    }
    return heads;
  }

  /** DeleteMessage: only the latest receipt deletes (an older one is ignored). */
  delete(message: SimMessage, receipt: number): 'deleted' | 'stale-receipt' | 'gone' {
    if (message.deleted) return 'gone';
    if (message.receipt !== receipt) return 'stale-receipt';
    this.remove(message);
    return 'deleted';
  }

  /** Moves a message to the DLQ at once (a consumer's poison-message path). */
  deadLetter(message: SimMessage): void {
    if (message.deleted) return;
    this.remove(message);
    this.dlq.push(message);
  }

  /** Moves every dead-lettered message back (an operator's redrive), as new messages. */
  redrive(nowMs: number, nextId: () => number = () => this.nextId++): SimMessage[] {
    return this.dlq.splice(0).map((message) => {
      const sent = this.send(message.body, nowMs, {
        id: nextId(),
        ...(message.group === null ? {} : { group: message.group, dedupId: `redrive-${message.id}` }),
      });
      if (!sent) throw new Error(`${this.name}: redrive of ${message.id} deduplicated`);
      return sent;
    });
  }

  private remove(message: SimMessage): void {
    message.deleted = true;
    this.live--;
    if (message.group === null) {
      this.messages.delete(message.id);
      return;
    }
    const group = this.groups.get(message.group)!;
    group.splice(group.indexOf(message), 1);
    if (group.length === 0) this.groups.delete(message.group);
  }
}

import type {
  BusEvent,
  ConsoleActionEvent,
  EventPublisher,
  PublishFailure,
  TransactionEvent,
} from '../../../shared/events';
import type {
  LiveKey,
  MessageAttribute,
  MoveTaskStatus,
  OpsClock,
  OpsDeps,
  OutgoingMessage,
  QueueService,
  ReceivedMessage,
  StackInfo,
  StackResource,
  TxReader,
} from '../../../shared/ops/ports';
import type {
  CoordinatorConfig,
  CoordinatorInput,
  SlotRow,
  TxParticipant,
  TxRecord,
} from '../../../shared/protocol';
import { coordinatorStep, startTransaction } from '../../../shared/protocol';
import { recordKeyOf } from '../../../shared/txid';

// ─── transactions ────────────────────────────────────────────────────────────────────────────

export const T0 = 1_800_000_000_000;
const config: CoordinatorConfig = {
  prepareTimeoutMs: 30_000,
  resendBaseMs: 5_000,
  resendCapMs: 60_000,
};

function participants(...ids: string[]): TxParticipant[] {
  return ids.map((id) => ({
    id,
    kind: id.replace(/-\d+$/, ''),
    operations: [{ id: `acc-${id}`, amount: 1 }],
  }));
}

/** A transaction created (PREPARING, Prepare sent) at `createdAtMs`, fed `inputs` (each at its own time). */
export function tx(
  txId: string,
  createdAtMs: number,
  inputs: ReadonlyArray<readonly [CoordinatorInput['type'], number, Record<string, unknown>?]> = [],
  ids: readonly string[] = ['ledger-0', 'ledger-1'],
): TxRecord {
  let record = startTransaction(
    { txId, slot: txId.length % 4, participants: participants(...ids) },
    createdAtMs,
    config,
  ).state;
  for (const [type, atMs, extra] of inputs) {
    record = coordinatorStep(record, { type, txId, ...extra } as CoordinatorInput, atMs, config).state;
  }
  return record;
}

export const vote = (participantId: string, v: 'YES' | 'NO', atMs: number) =>
  ['Vote', atMs, { participantId, vote: v }] as const;
export const ackOf = (participantId: string, outcome: 'COMMITTED' | 'ABORTED', atMs: number) =>
  ['Ack', atMs, { participantId, outcome }] as const;

export class FakeTxReader implements TxReader {
  readonly records = new Map<string, TxRecord>();

  constructor(records: readonly TxRecord[] = []) {
    for (const r of records) this.records.set(r.txId, r);
  }

  async load(txId: string) {
    return this.records.get(txId);
  }

  async endedBetween(fromMs: number, toMs: number) {
    return [...this.records.values()].filter(
      (r) => r.completedAtMs !== null && r.completedAtMs >= fromMs && r.completedAtMs <= toMs,
    );
  }

  async scan(max: number) {
    const all = [...this.records.values()];
    return { records: all.slice(0, max), truncated: all.length > max };
  }

  async loadAt(recordKey: string) {
    return [...this.records.values()].find((r) => recordKeyOf(r.txId) === recordKey);
  }

  /** Like the sparse `due` index: only records with a next check, in every slot. */
  async liveKeys(max: number): Promise<LiveKey[]> {
    return [...this.records.values()]
      .filter((r) => r.nextCheckAtMs !== null)
      .map((r) => ({ recordKey: recordKeyOf(r.txId), slot: r.slot, nextCheckAtMs: r.nextCheckAtMs! }))
      .slice(0, max);
  }
}

// ─── queues ──────────────────────────────────────────────────────────────────────────────────

interface StoredMessage {
  messageId: string;
  body: string;
  groupId: string | undefined;
  deduplicationId: string | undefined;
  attributes: Record<string, MessageAttribute>;
  receiveCount: number;
  visibleAtMs: number;
  receiptHandle: string | undefined;
  sentAtMs: number;
}

interface FakeQueue {
  url: string;
  arn: string;
  redrivePolicy: string | undefined;
  messages: StoredMessage[];
}

/** An in-memory SQS: visibility timeouts on a manual clock, FIFO groups locked while in flight. */
export class FakeQueues implements QueueService {
  readonly queues = new Map<string, FakeQueue>();
  /** Every call, for assertions: `name url`. */
  readonly calls: string[] = [];
  moveTask: 'unsupported' | 'moves-all' = 'unsupported';
  /** Queue URL → ids the next sendBatch to it fails (then cleared). */
  failNextSend = new Map<string, string[]>();
  /** Queue URL → its DLQ, for a source whose consumer dead-letters every message at once (poison). */
  bounceTo = new Map<string, string>();
  private nextId = 1;
  private lastTask: MoveTaskStatus | undefined;

  constructor(readonly clock: ManualClock) {}

  add(url: string, options: { dlqOf?: string } = {}): this {
    const name = url.slice(url.lastIndexOf('/') + 1);
    this.queues.set(url, {
      url,
      arn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
      redrivePolicy: undefined,
      messages: [],
    });
    if (options.dlqOf) {
      this.queue(options.dlqOf).redrivePolicy = JSON.stringify({
        deadLetterTargetArn: this.queue(url).arn,
        maxReceiveCount: 5,
      });
    }
    return this;
  }

  queue(url: string): FakeQueue {
    const queue = this.queues.get(url);
    if (!queue)
      throw Object.assign(new Error(`The specified queue does not exist: ${url}`), {
        name: 'QueueDoesNotExist',
      });
    return queue;
  }

  arnOf = (url: string) => this.queue(url).arn;

  put(url: string, body: string, extra: Partial<Pick<StoredMessage, 'groupId' | 'attributes'>> = {}): string {
    const message: StoredMessage = {
      messageId: `m-${this.nextId++}`,
      body,
      groupId: extra.groupId,
      deduplicationId: undefined,
      attributes: extra.attributes ?? {},
      receiveCount: 0,
      visibleAtMs: 0,
      receiptHandle: undefined,
      sentAtMs: this.clock.nowMs(),
    };
    const bounce = this.bounceTo.get(url);
    this.queue(bounce ?? url).messages.push(message);
    return message.messageId;
  }

  bodies(url: string): string[] {
    return this.queue(url).messages.map((m) => m.body);
  }

  messages(url: string): readonly StoredMessage[] {
    return this.queue(url).messages;
  }

  async attributes(url: string, names: readonly string[]) {
    this.calls.push(`attributes ${url}`);
    const q = this.queue(url);
    const now = this.clock.nowMs();
    const all: Record<string, string | undefined> = {
      QueueArn: q.arn,
      RedrivePolicy: q.redrivePolicy,
      ApproximateNumberOfMessages: String(q.messages.filter((m) => m.visibleAtMs <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.visibleAtMs > now).length),
    };
    return Object.fromEntries(names.flatMap((n) => (all[n] === undefined ? [] : [[n, all[n]!]])));
  }

  async urlOfArn(arn: string) {
    this.calls.push(`urlOfArn ${arn}`);
    const q = [...this.queues.values()].find((x) => x.arn === arn);
    if (!q) throw new Error(`no queue ${arn}`);
    return q.url;
  }

  async send(url: string, message: Omit<OutgoingMessage, 'id'>) {
    this.calls.push(`send ${url}`);
    const id = this.put(url, message.body, {
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      attributes: { ...(message.attributes ?? {}) },
    });
    const stored = this.queue(url).messages.find((m) => m.messageId === id);
    if (stored) stored.deduplicationId = message.deduplicationId;
  }

  async receive(url: string, options: { max: number; visibilityTimeoutS: number; waitS: number }) {
    this.calls.push(`receive ${url}`);
    const now = this.clock.nowMs();
    const q = this.queue(url);
    const fifo = url.endsWith('.fifo');
    const lockedGroups = new Set(q.messages.filter((m) => m.visibleAtMs > now).map((m) => m.groupId));
    const out: ReceivedMessage[] = [];
    for (const m of q.messages) {
      if (out.length >= options.max) break;
      if (m.visibleAtMs > now || (fifo && lockedGroups.has(m.groupId))) continue;
      m.receiveCount++;
      m.visibleAtMs = now + options.visibilityTimeoutS * 1000;
      m.receiptHandle = `rh-${m.messageId}-${m.receiveCount}`;
      out.push({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle,
        body: m.body,
        receiveCount: m.receiveCount,
        sentAtMs: m.sentAtMs,
        groupId: m.groupId,
        attributes: { ...m.attributes },
      });
    }
    return out;
  }

  async release(url: string, handles: readonly string[]) {
    this.calls.push(`release ${url}`);
    for (const m of this.queue(url).messages) {
      if (m.receiptHandle && handles.includes(m.receiptHandle)) m.visibleAtMs = 0;
    }
  }

  async sendBatch(url: string, messages: readonly OutgoingMessage[]) {
    this.calls.push(`sendBatch ${url}`);
    if (messages.length > 10) throw new Error('TooManyEntriesInBatchRequest');
    const failing = this.failNextSend.get(url) ?? [];
    this.failNextSend.delete(url);
    for (const m of messages) {
      if (!failing.includes(m.id)) await this.send(url, m);
    }
    return { failedIds: messages.filter((m) => failing.includes(m.id)).map((m) => m.id) };
  }

  async deleteBatch(url: string, handles: readonly string[]) {
    this.calls.push(`deleteBatch ${url}`);
    if (handles.length > 10) throw new Error('TooManyEntriesInBatchRequest');
    const q = this.queue(url);
    q.messages = q.messages.filter((m) => !(m.receiptHandle && handles.includes(m.receiptHandle)));
  }

  async startMoveTask(sourceArn: string, destinationArn: string) {
    this.calls.push(`startMoveTask ${sourceArn} ${destinationArn}`);
    if (this.moveTask === 'unsupported') return 'unsupported' as const;
    const source = [...this.queues.values()].find((q) => q.arn === sourceArn)!;
    const destination = [...this.queues.values()].find((q) => q.arn === destinationArn)!;
    const moved = source.messages.length;
    destination.messages.push(...source.messages.map((m) => ({ ...m, visibleAtMs: 0 })));
    source.messages = [];
    this.lastTask = { status: 'COMPLETED', moved, toMove: moved, failureReason: undefined };
    return { taskHandle: 'task-1' };
  }

  async moveTaskStatus() {
    return this.lastTask;
  }
}

export class ManualClock implements OpsClock {
  constructor(public now = T0) {}
  nowMs() {
    return this.now;
  }
  async sleep(ms: number) {
    this.now += ms;
  }
}

// ─── the stack ───────────────────────────────────────────────────────────────────────────────

export const STACK = 'Tandem-test';
export const URL_BASE = 'http://sqs.local/000000000000';
export const COORDINATOR_URL = `${URL_BASE}/Tandem-test-CoordinatorInboxQueueFD6BBFEA-1.fifo`;
export const COORDINATOR_DLQ_URL = `${URL_BASE}/Tandem-test-CoordinatorInboxDlqD378A245-2.fifo`;
export const TIMERS_URL = `${URL_BASE}/Tandem-test-CoordinatorTimersQueueE4D29673-3`;
export const TIMERS_DLQ_URL = `${URL_BASE}/Tandem-test-CoordinatorTimersDlqF90B169F-4`;
export const LEDGER0_URL = `${URL_BASE}/Tandem-test-Ledger0InboxQueue3070A92C-5`;
export const LEDGER0_DLQ_URL = `${URL_BASE}/Tandem-test-Ledger0InboxDlq0AA91DF3-6`;

export class FakeStack implements StackInfo {
  outputsByStack: Record<string, Record<string, string>> = {
    [STACK]: {
      TransactionsTable: 'Tandem-test-Transactions',
      SlotsTable: 'Tandem-test-Slots',
      SlotCount: '4',
      CoordinatorQueueUrl: COORDINATOR_URL,
      ParticipantQueues: JSON.stringify({ 'ledger-0': LEDGER0_URL }),
    },
  };
  resourcesByStack: Record<string, StackResource[]> = {
    [STACK]: [
      ['CoordinatorInboxQueueFD6BBFEA', COORDINATOR_URL],
      ['CoordinatorInboxDlqD378A245', COORDINATOR_DLQ_URL],
      ['CoordinatorTimersQueueE4D29673', TIMERS_URL],
      ['CoordinatorTimersDlqF90B169F', TIMERS_DLQ_URL],
      ['Ledger0InboxQueue3070A92C', LEDGER0_URL],
      ['Ledger0InboxDlq0AA91DF3', LEDGER0_DLQ_URL],
    ].map(([logicalId, physicalId]) => ({
      logicalId: logicalId!,
      physicalId: physicalId!,
      type: 'AWS::SQS::Queue',
    })),
  };

  async outputs(stackName: string) {
    const outputs = this.outputsByStack[stackName];
    if (!outputs) {
      throw Object.assign(new Error(`Stack with id ${stackName} does not exist`), {
        name: 'ValidationError',
      });
    }
    return outputs;
  }

  async resources(stackName: string) {
    return this.resourcesByStack[stackName] ?? [];
  }
}

/** The test stack's queues: coordinator (FIFO), timers and ledger-0, each with its DLQ. */
function stackQueues(clock: ManualClock): FakeQueues {
  return new FakeQueues(clock)
    .add(COORDINATOR_URL)
    .add(COORDINATOR_DLQ_URL, { dlqOf: COORDINATOR_URL })
    .add(TIMERS_URL)
    .add(TIMERS_DLQ_URL, { dlqOf: TIMERS_URL })
    .add(LEDGER0_URL)
    .add(LEDGER0_DLQ_URL, { dlqOf: LEDGER0_URL });
}

export interface World {
  readonly clock: ManualClock;
  readonly stack: FakeStack;
  readonly queues: FakeQueues;
  readonly txs: FakeTxReader;
  readonly bus: FakeBus;
  /** The slot table: slot → row. */
  readonly slots: Map<number, SlotRow>;
  readonly deps: OpsDeps;
}

export function world(records: readonly TxRecord[] = []): World {
  const clock = new ManualClock();
  const stack = new FakeStack();
  const queues = stackQueues(clock);
  const txs = new FakeTxReader(records);
  const bus = new FakeBus();
  const slots = new Map<number, SlotRow>();
  return {
    clock,
    stack,
    queues,
    txs,
    bus,
    slots,
    deps: {
      stack,
      queues,
      clock,
      txReader: () => txs,
      slotReader: () => ({ read: async (slot: number) => slots.get(slot) }),
      publisher: () => bus,
    },
  };
}

/** The stack's bus: keeps what was put; refuses the event ids in `refuse`. */
export class FakeBus implements EventPublisher {
  readonly put: TransactionEvent[] = [];
  /** The console's actions put on the bus. */
  readonly actions: ConsoleActionEvent[] = [];
  /** Makes every publish throw (the bus is unreachable). */
  down = false;
  refuse: string[] = [];

  async publish(events: readonly BusEvent[]): Promise<readonly PublishFailure[]> {
    const failures = events
      .filter((e) => this.refuse.includes(e.eventId))
      .map((e) => ({ eventId: e.eventId, reason: 'refused by the fake bus' }));
    if (this.down) throw new Error('the fake bus is down');
    for (const e of events.filter((x) => !this.refuse.includes(x.eventId))) {
      if ('detailType' in e) this.actions.push(e);
      else this.put.push(e);
    }
    return failures;
  }
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { DynamoParticipantStore } from '../../shared/adapters/dynamo-participant-store';
import { DynamoSlotStore } from '../../shared/adapters/dynamo-slots';
import { MemoryParticipantStore } from '../../shared/adapters/memory-participant-store';
import { MemorySlotStore } from '../../shared/adapters/memory-slots';
import { MemoryTxStore } from '../../shared/adapters/memory-tx-store';
import { newEntity } from '../../shared/entities';
import { LEDGER_COUNTER } from '../../shared/ledger/participant';
import type { ParticipantBarrier, ParticipantStore, Reservation } from '../../shared/participant';
import type { Fence, SlotStore, StoredTx, TxStore } from '../../shared/ports';
import {
  endOf,
  newTransaction,
  noteOf,
  type ParticipantReply,
  type TxRecord,
  timelineOf,
} from '../../shared/protocol';
import { SimQueue } from '../../sim/sqs';
import { LEDGER } from '../support/entity-shaped';
import { testTxStore } from '../support/test-records';

/**
 * Keeps the simulation honest: the same scripted scenarios run against the in-memory world the
 * simulation uses (memory adapters, simulated SQS queues) and against the emulator (DynamoDB
 * adapters on the deployed tables, real SQS queues made for this test), and must observe the same
 * results — which are also spelled out, so both cannot be wrong the same way.
 */
const deployment = inject('deployment');
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: deployment.endpoint }), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient({ endpoint: deployment.endpoint });
const run = `cf${Date.now().toString(36)}`;
const T0 = 1_700_000_000_000;
const config = { prepareTimeoutMs: 60_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
// Slots from 30_000 up: never used by the deployed coordinator (64 slots) nor the other tests.
let nextSlot = 30_000 + (Date.now() % 1000) * 10;

/** What a call did: its value, or the name of the error it threw. */
async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    return value === undefined ? 'ok' : value;
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

// ─── DynamoDB: the transaction log and the slot table ───────────────────────────────────────────

interface CoordinatorTables {
  readonly txs: TxStore;
  readonly slots: SlotStore;
}

const memoryCoordinatorTables = (): CoordinatorTables => {
  const slots = new MemorySlotStore();
  return { slots, txs: new MemoryTxStore(slots.fenceHolds) };
};
const dynamoCoordinatorTables = (): CoordinatorTables => ({
  txs: testTxStore(dynamo, deployment.outputs.TransactionsTable!, deployment.outputs.SlotsTable!),
  slots: new DynamoSlotStore(dynamo, deployment.outputs.SlotsTable!),
});

async function transactionLogScenario(tables: CoordinatorTables, txId: string, slot: number) {
  const { txs, slots } = tables;
  const tx = newTransaction(
    {
      txId,
      slot,
      participants: [
        { id: 'ledger-0', kind: 'ledger', operations: [{ id: 'a', action: 'take', amount: 1 }] },
      ],
    },
    T0,
    config,
  );
  const at = (version: number, state: TxRecord['state']): StoredTx => ({
    record: { ...tx, version, state },
    requestHash: 'h1',
  });
  const lease = T0 + 30_000;
  const fenceA: Fence = { slot, owner: 'A', epoch: 1 };
  const fenceB: Fence = { slot, owner: 'B', epoch: 2 };
  const seen: Array<[string, unknown]> = [];
  const note = async (what: string, promise: Promise<unknown>) => {
    seen.push([what, await outcome(promise)]);
  };
  const created = await txs.create({ record: tx, requestHash: 'h1' });
  seen.push(['create', created]);
  const again = await txs.create({ record: { ...tx, version: 9 }, requestHash: 'h2' });
  seen.push([
    'create again',
    again.created
      ? 'created twice'
      : { requestHash: again.existing.requestHash, version: again.existing.record.version },
  ]);
  await note(
    'A acquires the free slot',
    slots.write({ slot, owner: 'A', epoch: 1, leaseExpiresAtMs: lease }, { rowExists: false }),
  );
  await note(
    'B races for it',
    slots.write({ slot, owner: 'B', epoch: 1, leaseExpiresAtMs: lease }, { rowExists: false }),
  );
  await note('A saves v2', txs.save(at(2, 'PREPARING'), 1, fenceA));
  await note('A saves on a stale version', txs.save(at(3, 'PREPARING'), 1, fenceA));
  const read = {
    rowExists: true,
    expectedOwner: 'A',
    expectedEpoch: 1,
    expectedLeaseExpiresAtMs: lease,
  } as const;
  await note('B takes over', slots.write({ slot, owner: 'B', epoch: 2, leaseExpiresAtMs: lease }, read));
  await note(
    'C takes over on the same read',
    slots.write({ slot, owner: 'C', epoch: 2, leaseExpiresAtMs: lease }, read),
  );
  await note('A (zombie) saves on the current version', txs.save(at(3, 'COMMITTING'), 2, fenceA));
  await note('A (zombie) saves on a stale version', txs.save(at(3, 'COMMITTING'), 1, fenceA));
  await note('B saves on a stale version', txs.save(at(3, 'ABORTING'), 1, fenceB));
  await note('B saves v3', txs.save(at(3, 'ABORTING'), 2, fenceB));
  const stored = await txs.load(txId);
  seen.push([
    'load',
    { version: stored?.record.version, state: stored?.record.state, requestHash: stored?.requestHash },
  ]);
  seen.push(['slot', await slots.read(slot)]);
  const held = {
    rowExists: true,
    expectedOwner: 'B',
    expectedEpoch: 2,
    expectedLeaseExpiresAtMs: lease,
  } as const;
  await note('B releases', slots.write({ slot, owner: null, epoch: 2, leaseExpiresAtMs: lease }, held));
  seen.push(['slot released', await slots.read(slot)]);
  await note('B saves after releasing', txs.save(at(4, 'ABORTED'), 3, fenceB));
  await note(
    'D acquires the released slot',
    slots.write(
      { slot, owner: 'D', epoch: 3, leaseExpiresAtMs: lease },
      { rowExists: true, expectedOwner: null, expectedEpoch: 2, expectedLeaseExpiresAtMs: lease },
    ),
  );
  // The emulator's log is shared by every test: only this transaction's entry is compared.
  const due = await txs.due(T0 + 10_000_000, 10_000);
  seen.push(['due', due.due.filter((d) => d.recordKey === txId)]);
  return seen;
}

// ─── DynamoDB: the participant barrier ─────────────────────────────────────────────────────────

interface ParticipantTable {
  readonly store: ParticipantStore;
  seed(id: string, total: number): Promise<void>;
  balances(id: string): Promise<{ total: number; held: number; available: number } | undefined>;
}

/** `notes`: the transaction records the store notes votes and acks on (none: notes are ignored). */
function memoryParticipantTable(notes?: MemoryTxStore): ParticipantTable {
  const store = new MemoryParticipantStore(LEDGER_COUNTER, [], notes);
  return {
    store,
    seed: async (id, total) => store.seed(newEntity(id, total, T0)),
    balances: async (id) => {
      const e = store.entity(id);
      return e && { total: e.total, held: e.held, available: e.available };
    },
  };
}

/** `transactionsTable`: where the store notes votes and acks (none: notes are ignored). */
function dynamoParticipantTable(transactionsTable?: string): ParticipantTable {
  const table = deployment.outputs.LedgerShardTables!.split(',')[0]!;
  const entities = new DynamoEntityStore(dynamo, 'account', [table]);
  return {
    store: new DynamoParticipantStore(dynamo, {
      table,
      definition: LEDGER.definition,
      ...(transactionsTable !== undefined ? { transactionsTable } : {}),
    }),
    seed: async (id, total) => {
      if (!(await entities.insert(0, newEntity(id, total, T0)))) throw new Error(`${id} exists`);
    },
    balances: async (id) => {
      const e = await entities.get(0, id);
      return e && { total: e.total, held: e.held, available: e.available };
    },
  };
}

async function barrierScenario(table: ParticipantTable, prefix: string) {
  const { store } = table;
  const P = 'ledger-0';
  const rich = `${prefix}-rich`;
  const poor = `${prefix}-poor`;
  await table.seed(rich, 100);
  await table.seed(poor, 5);
  const barrier = (txId: string, state: ParticipantBarrier['state'], reservation: Reservation | null) =>
    ({
      txId: `${prefix}-${txId}`,
      participantId: P,
      state,
      vote: state === 'ABORTED' ? null : state === 'VOTED_NO' ? 'NO' : 'YES',
      reason: state === 'VOTED_NO' ? 'no' : null,
      reservation,
      createdAtMs: T0,
      updatedAtMs: T0,
    }) as ParticipantBarrier;
  const hold: Reservation = [
    { id: poor, action: 'give', amount: 7 },
    { id: rich, action: 'take', amount: 30 },
  ];
  const seen: Array<[string, unknown]> = [];
  const write = async (
    what: string,
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: Parameters<ParticipantStore['write']>[2],
  ) => {
    const result = await outcome(store.write(prev, next, action));
    seen.push([what, JSON.parse(JSON.stringify(result).replaceAll(prefix, '<p>'))]);
  };
  const balances = async (what: string) =>
    seen.push([what, [await table.balances(rich), await table.balances(poor)]]);

  const a = barrier('a', 'PREPARED', hold);
  await write('reserve', undefined, a, { type: 'reserve', reservation: hold });
  await balances('after reserve');
  await write('reserve again (duplicate Prepare)', undefined, a, { type: 'reserve', reservation: hold });
  const tooMuch: Reservation = [
    { id: rich, action: 'give', amount: 1 },
    { id: poor, action: 'take', amount: 10 },
  ];
  await write('reserve more than available', undefined, barrier('b', 'PREPARED', tooMuch), {
    type: 'reserve',
    reservation: tooMuch,
  });
  const ghost: Reservation = [{ id: `${prefix}-ghost`, action: 'give', amount: 1 }];
  await write('reserve on an unknown account', undefined, barrier('c', 'PREPARED', ghost), {
    type: 'reserve',
    reservation: ghost,
  });
  await write('barrier race beats the rejection', undefined, barrier('a', 'PREPARED', tooMuch), {
    type: 'reserve',
    reservation: tooMuch,
  });
  await balances('after the refusals (nothing written)');
  await write('commit', a, barrier('a', 'COMMITTED', hold), { type: 'apply', reservation: hold });
  await write('commit again (duplicate Commit)', a, barrier('a', 'COMMITTED', hold), {
    type: 'apply',
    reservation: hold,
  });
  await balances('after commit');
  await write('abort before prepare (tombstone)', undefined, barrier('d', 'ABORTED', null), { type: 'none' });
  await write('the late Prepare', undefined, barrier('d', 'PREPARED', hold), {
    type: 'reserve',
    reservation: hold,
  });
  seen.push(['tombstone', (await store.loadBarrier(`${prefix}-d`, P))?.state]);
  const e = barrier('e', 'PREPARED', [{ id: rich, action: 'take', amount: 20 }]);
  await write('reserve e', undefined, e, { type: 'reserve', reservation: e.reservation! });
  await write('release e', e, barrier('e', 'ABORTED', e.reservation), {
    type: 'release',
    reservation: e.reservation!,
  });
  await write(
    'apply after the release (the hold is gone)',
    barrier('e', 'ABORTED', e.reservation),
    barrier('e', 'COMMITTED', e.reservation),
    {
      type: 'apply',
      reservation: e.reservation!,
    },
  );
  const gone: Reservation = [{ id: rich, action: 'take', amount: 500 }];
  await write(
    'apply under a barrier that is not there',
    barrier('f', 'PREPARED', gone),
    barrier('f', 'COMMITTED', gone),
    {
      type: 'apply',
      reservation: gone,
    },
  );
  await balances('at the end');
  return seen;
}

// ─── DynamoDB: participants' notes on the transaction record ─────────────────────────────────

interface NoteTables {
  readonly participant: ParticipantTable;
  readonly txs: TxStore;
}

function memoryNoteTables(): NoteTables {
  const txs = new MemoryTxStore();
  return { txs, participant: memoryParticipantTable(txs) };
}

function dynamoNoteTables(): NoteTables {
  const { TransactionsTable, SlotsTable } = deployment.outputs;
  return {
    txs: testTxStore(dynamo, TransactionsTable!, SlotsTable!),
    participant: dynamoParticipantTable(TransactionsTable!),
  };
}

/**
 * A participant notes its vote or ack on the coordinator's record after its barrier write (a
 * conditional update that returns the record): applied only while the record is in the state the
 * note requires and holds no entry of this participant yet, refused (null, nothing written)
 * otherwise; and the participant whose ack completed the set ends the record — only if it is still
 * at the version the note left.
 */
async function noteScenario(tables: NoteTables, prefix: string, slot: number) {
  const { participant, txs } = tables;
  const { store } = participant;
  const P = 'ledger-0';
  const txIdOf = (name: string) => `${prefix}-${name}`;
  const record = async (name: string, state: TxRecord['state']) => {
    const tx = newTransaction(
      { txId: txIdOf(name), slot, participants: [{ id: P, kind: 'ledger', operations: [] }] },
      T0,
      config,
    );
    const created = await txs.create({ record: { ...tx, state }, requestHash: 'h' });
    if (!created.created) throw new Error(`${name} exists`);
  };
  const vote = (name: string, value: 'YES' | 'NO'): ParticipantReply =>
    value === 'YES'
      ? { type: 'Vote', txId: txIdOf(name), participantId: P, vote: 'YES' }
      : { type: 'Vote', txId: txIdOf(name), participantId: P, vote: 'NO', reason: 'no' };
  const ack = (name: string, outcome: 'COMMITTED' | 'ABORTED'): ParticipantReply => ({
    type: 'Ack',
    txId: txIdOf(name),
    participantId: P,
    outcome,
  });
  const seen: Array<[string, unknown]> = [];
  const clean = (value: unknown) => JSON.parse(JSON.stringify(value ?? null).replaceAll(prefix, '<p>'));
  const brief = (r: TxRecord | null | undefined) =>
    r && {
      state: r.state,
      version: r.version,
      votes: r.votes,
      acks: r.acks,
      completedAtMs: r.completedAtMs,
      nextCheckAtMs: r.nextCheckAtMs,
      timeline: timelineOf(r),
    };
  let last: TxRecord | null = null;
  const note = async (what: string, reply: ParticipantReply, atMs: number) => {
    last = (await store.note?.(noteOf(reply, atMs))) ?? null;
    seen.push([what, clean(brief(last))]);
  };
  const end = async (what: string, ended: TxRecord | null) => {
    seen.push([what, ended === null ? 'nothing to end' : await outcome(store.end!(ended))]);
  };
  const look = async (what: string, name: string) =>
    seen.push([what, clean(brief((await txs.load(txIdOf(name)))?.record))]);

  await record('prep', 'PREPARING');
  await note('note YES', vote('prep', 'YES'), T0 + 1);
  await note('note YES again (duplicate)', vote('prep', 'YES'), T0 + 2);
  await look('after the YES', 'prep');

  await record('no', 'PREPARING');
  await note('note NO with its reason', vote('no', 'NO'), T0 + 4);

  await record('late', 'ABORTING');
  await note('note YES after the decision (needs PREPARING)', vote('late', 'YES'), T0 + 5);
  await note('note with no record', vote('ghost', 'YES'), T0 + 7);

  await record('commit', 'COMMITTING');
  await note('ack ABORTED (the decision is COMMIT)', ack('commit', 'ABORTED'), T0 + 8);
  await note('ack COMMITTED', ack('commit', 'COMMITTED'), T0 + 9);
  const acked = last as TxRecord | null;
  const ended = acked && endOf(acked, T0 + 10);
  await end('end it (the set is complete)', ended);
  await end('end it again (the record moved on)', ended);
  await look('after the end', 'commit');
  const due = (await txs.due(T0 + 1_000_000, 100_000)).due.map((d) => d.recordKey);
  seen.push(['due', clean(due.filter((key) => key.startsWith(prefix)).sort())]);
  return seen;
}

describe('conformance: the memory adapters and DynamoDB agree', () => {
  it('transaction log and slot table: conditional creates, version conflicts, fence precedence, takeovers', async () => {
    const slot = nextSlot++;
    const txId = `${run}-log`;
    const memory = await transactionLogScenario(memoryCoordinatorTables(), txId, slot);
    const emulator = await transactionLogScenario(dynamoCoordinatorTables(), txId, slot);

    expect(emulator).toEqual(memory);
    const lease = T0 + 30_000;
    expect(Object.fromEntries(memory)).toEqual({
      create: { created: true },
      'create again': { requestHash: 'h1', version: 1 },
      'A acquires the free slot': true,
      'B races for it': false,
      'A saves v2': 'ok',
      'A saves on a stale version': 'VersionConflictError',
      'B takes over': true,
      'C takes over on the same read': false,
      'A (zombie) saves on the current version': 'FenceLostError',
      'A (zombie) saves on a stale version': 'FenceLostError',
      'B saves on a stale version': 'VersionConflictError',
      'B saves v3': 'ok',
      load: { version: 3, state: 'ABORTING', requestHash: 'h1' },
      slot: { slot, owner: 'B', epoch: 2, leaseExpiresAtMs: lease },
      'B releases': true,
      'slot released': { slot, owner: null, epoch: 2, leaseExpiresAtMs: lease },
      'B saves after releasing': 'FenceLostError',
      'D acquires the released slot': true,
      due: [{ recordKey: txId, slot, nextCheckAtMs: T0 + 1_000 }],
    });
  });

  it('participant barrier: ok / barrier-conflict / rejected with its reason, all-or-nothing', async () => {
    const memory = await barrierScenario(memoryParticipantTable(), `${run}-m`);
    const emulator = await barrierScenario(dynamoParticipantTable(), `${run}-d`);

    expect(emulator).toEqual(memory);
    const ok = { ok: true };
    const conflict = { ok: false, kind: 'barrier-conflict' };
    expect(Object.fromEntries(memory)).toEqual({
      reserve: ok,
      'after reserve': [
        { total: 100, held: 30, available: 70 },
        { total: 5, held: 0, available: 5 },
      ],
      'reserve again (duplicate Prepare)': conflict,
      'reserve more than available': {
        ok: false,
        kind: 'rejected',
        reason: "insufficient funds on account '<p>-poor' (available 5, needed 10)",
      },
      'reserve on an unknown account': { ok: false, kind: 'rejected', reason: "unknown account '<p>-ghost'" },
      'barrier race beats the rejection': conflict,
      'after the refusals (nothing written)': [
        { total: 100, held: 30, available: 70 },
        { total: 5, held: 0, available: 5 },
      ],
      commit: ok,
      'commit again (duplicate Commit)': conflict,
      'after commit': [
        { total: 70, held: 0, available: 70 },
        { total: 12, held: 0, available: 12 },
      ],
      'abort before prepare (tombstone)': ok,
      'the late Prepare': conflict,
      tombstone: 'ABORTED',
      'reserve e': ok,
      'release e': ok,
      'apply after the release (the hold is gone)': 'ProtocolAssertionError',
      'apply under a barrier that is not there': conflict,
      'at the end': [
        { total: 70, held: 0, available: 70 },
        { total: 12, held: 0, available: 12 },
      ],
    });
  });

  it("participants' notes: applied on the record's state, refused otherwise or on a duplicate; the last ack ends it", async () => {
    const slot = nextSlot++;
    const memory = await noteScenario(memoryNoteTables(), `${run}-nm`, slot);
    const emulator = await noteScenario(dynamoNoteTables(), `${run}-nd`, slot);

    expect(emulator).toEqual(memory);
    // The steps a fresh record's timeline tells; a note stores no event of its own.
    const created = [
      { atMs: T0, event: 'created' },
      { atMs: T0, event: 'begin: Prepare sent to 1 participant(s)' },
    ];
    const yes = {
      state: 'PREPARING',
      version: 2,
      votes: { 'ledger-0': { vote: 'YES', atMs: T0 + 1 } },
      acks: {},
      completedAtMs: null,
      nextCheckAtMs: T0 + 1_000,
      timeline: [...created, { atMs: T0 + 1, event: 'vote YES from ledger-0' }],
    };
    const acked = {
      state: 'COMMITTING',
      version: 2,
      votes: {},
      acks: { 'ledger-0': { outcome: 'COMMITTED', atMs: T0 + 9 } },
      completedAtMs: null,
      nextCheckAtMs: T0 + 1_000,
      timeline: [...created, { atMs: T0 + 9, event: 'ack COMMITTED from ledger-0' }],
    };
    expect(Object.fromEntries(memory)).toEqual({
      'note YES': yes,
      'note YES again (duplicate)': null,
      'after the YES': yes,
      'note NO with its reason': {
        ...yes,
        votes: { 'ledger-0': { vote: 'NO', reason: 'no', atMs: T0 + 4 } },
        timeline: [...created, { atMs: T0 + 4, event: 'vote NO from ledger-0: no' }],
      },
      'note YES after the decision (needs PREPARING)': null,
      'note with no record': null,
      'ack ABORTED (the decision is COMMIT)': null,
      'ack COMMITTED': acked,
      'end it (the set is complete)': true,
      'end it again (the record moved on)': false,
      'after the end': {
        ...acked,
        state: 'COMMITTED',
        version: 3,
        completedAtMs: T0 + 10,
        nextCheckAtMs: null,
        timeline: [...acked.timeline, { atMs: T0 + 10, event: 'COMMITTED' }],
      },
      // The ended record left the `due` index; the live ones are still on it.
      due: ['<p>-late', '<p>-no', '<p>-prep'],
    });
  });
});

// ─── SQS: the semantics the simulated queues model ────────────────────────────────────────────

interface Received {
  readonly body: string;
  readonly receiveCount: number;
  readonly receipt: string;
}

/** One queue as a scenario sees it; `sleep` is virtual for the model and real for the emulator. */
interface QueueDriver {
  send(body: string, options?: { group?: string; dedupId?: string; delayS?: number }): Promise<void>;
  receive(max: number): Promise<Received[]>;
  delete(receipt: string): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Bodies now in the dead-letter queue. */
  deadLetters(): Promise<string[]>;
}

const VISIBILITY_S = 2;

function modelQueue(fifo: boolean, maxReceiveCount: number | null): QueueDriver {
  let now = T0;
  const queue = new SimQueue({
    name: 'model',
    fifo,
    visibilityTimeoutMs: VISIBILITY_S * 1000,
    maxReceiveCount,
  });
  const byId = new Map<number, ReturnType<SimQueue['send']>>();
  return {
    send: async (body, options = {}) => {
      const sent = queue.send(body, now, {
        ...(options.group === undefined ? {} : { group: options.group }),
        ...(options.dedupId === undefined ? {} : { dedupId: options.dedupId }),
        delayMs: (options.delayS ?? 0) * 1000,
      });
      if (sent) byId.set(sent.id, sent);
    },
    receive: async (max) =>
      queue
        .receive(now, max)
        .map((m) => ({ body: m.body, receiveCount: m.receiveCount, receipt: `${m.id}:${m.receipt}` })),
    delete: async (receipt) => {
      const [id, handle] = receipt.split(':').map(Number);
      queue.delete(byId.get(id!)!, handle!);
    },
    sleep: async (ms) => {
      now += ms;
    },
    deadLetters: async () => queue.dlq.map((m) => m.body),
  };
}

const createdQueues: string[] = [];

async function createQueue(name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  createdQueues.push(QueueUrl!);
  return QueueUrl!;
}

async function emulatorQueue(
  name: string,
  fifo: boolean,
  maxReceiveCount: number | null,
): Promise<QueueDriver> {
  const suffix = fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  let dlqUrl: string | undefined;
  let redrive: Record<string, string> = {};
  if (maxReceiveCount !== null) {
    dlqUrl = await createQueue(`${run}-${name}-dlq${suffix}`, fifoAttributes);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    redrive = {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount }),
    };
  }
  const url = await createQueue(`${run}-${name}${suffix}`, {
    ...fifoAttributes,
    VisibilityTimeout: String(VISIBILITY_S),
    ...redrive,
  });
  const receiveFrom = async (queueUrl: string, max: number): Promise<Received[]> => {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return (Messages ?? []).map((m) => ({
      body: m.Body!,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount),
      receipt: m.ReceiptHandle!,
    }));
  };
  return {
    send: async (body, options = {}) => {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: body,
          ...(options.group === undefined ? {} : { MessageGroupId: options.group }),
          ...(options.dedupId === undefined ? {} : { MessageDeduplicationId: options.dedupId }),
          ...(options.delayS === undefined ? {} : { DelaySeconds: options.delayS }),
        }),
      );
    },
    receive: (max) => receiveFrom(url, max),
    delete: async (receipt) => {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receipt }));
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    deadLetters: async () => (dlqUrl ? (await receiveFrom(dlqUrl, 10)).map((m) => m.body) : []),
  };
}

/** Visibility timeout, receive count and redrive to the DLQ after maxReceiveCount (2). */
async function visibilityScenario(q: QueueDriver) {
  const seen: Array<[string, unknown]> = [];
  const got = async (what: string) => {
    const received = await q.receive(10);
    seen.push([what, received.map((m) => [m.body, m.receiveCount])]);
    return received;
  };
  await q.send('a');
  await got('first receive');
  await got('while invisible');
  await q.sleep(VISIBILITY_S * 1000 - 1200);
  await got('still before the timeout');
  await q.sleep(1200 + 600);
  await got('after the timeout');
  await q.sleep(VISIBILITY_S * 1000 + 600);
  await got('after maxReceiveCount receives');
  seen.push(['dead letters', await q.deadLetters()]);
  await q.send('b');
  const [b] = await got('b');
  await q.delete(b!.receipt);
  await q.sleep(VISIBILITY_S * 1000 + 600);
  await got('b after delete and the timeout');
  return seen;
}

/** FIFO: one message of a group in flight at a time, redelivered in order; deduplication. */
async function fifoScenario(q: QueueDriver) {
  const seen: Array<[string, unknown]> = [];
  const got = async (what: string) => {
    const received = await q.receive(1);
    seen.push([what, received.map((m) => [m.body, m.receiveCount])]);
    return received;
  };
  await q.send('a1', { group: 'A', dedupId: 'a1' });
  await q.send('a2', { group: 'A', dedupId: 'a2' });
  await q.send('b1', { group: 'B', dedupId: 'b1' });
  const [a1] = await got('first');
  await got('second (group A is busy)');
  await got('third (both groups busy)');
  await q.delete(a1!.receipt);
  await got('after deleting a1');
  await q.sleep(VISIBILITY_S * 1000 + 600);
  const again = await q.receive(10);
  seen.push(['after the visibility timeout', again.map((m) => [m.body, m.receiveCount]).sort()]);
  for (const m of again) await q.delete(m.receipt);
  await q.send('a1', { group: 'A', dedupId: 'a1' });
  const rest = await q.receive(10);
  seen.push([
    'after a duplicate send of a1 (same deduplication id)',
    rest.map((m) => [m.body, m.receiveCount]),
  ]);
  return seen;
}

/** Standard queue: a per-message delay. */
async function delayScenario(q: QueueDriver) {
  const seen: Array<[string, unknown]> = [];
  await q.send('late', { delayS: 2 });
  seen.push(['at once', (await q.receive(10)).map((m) => m.body)]);
  await q.sleep(2_600);
  seen.push(['after the delay', (await q.receive(10)).map((m) => m.body)]);
  return seen;
}

describe('conformance: simulated SQS and the emulator agree', () => {
  afterAll(async () => {
    for (const url of createdQueues)
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
  });

  it('standard queue: visibility timeout, receive count, redrive to the DLQ after maxReceiveCount', async () => {
    const model = await visibilityScenario(modelQueue(false, 2));
    const emulator = await visibilityScenario(await emulatorQueue('std', false, 2));

    expect(emulator).toEqual(model);
    expect(Object.fromEntries(model)).toEqual({
      'first receive': [['a', 1]],
      'while invisible': [],
      'still before the timeout': [],
      'after the timeout': [['a', 2]],
      'after maxReceiveCount receives': [],
      'dead letters': ['a'],
      b: [['b', 1]],
      'b after delete and the timeout': [],
    });
  });

  it('FIFO queue: a group is blocked while its message is in flight; order and deduplication', async () => {
    const model = await fifoScenario(modelQueue(true, null));
    const emulator = await fifoScenario(await emulatorQueue('fifo', true, null));

    expect(emulator).toEqual(model);
    expect(Object.fromEntries(model)).toEqual({
      first: [['a1', 1]],
      'second (group A is busy)': [['b1', 1]],
      'third (both groups busy)': [],
      'after deleting a1': [['a2', 1]],
      'after the visibility timeout': [
        ['a2', 2],
        ['b1', 2],
      ],
      'after a duplicate send of a1 (same deduplication id)': [],
    });
  });

  it('standard queue: a delayed message is invisible until its delay has passed', async () => {
    const model = await delayScenario(modelQueue(false, null));
    const emulator = await delayScenario(await emulatorQueue('delay', false, null));

    expect(emulator).toEqual(model);
    expect(Object.fromEntries(model)).toEqual({ 'at once': [], 'after the delay': ['late'] });
  });
});

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoEntityStore } from '../../shared/adapters/dynamo-entities';
import { barrierKey, DynamoParticipantStore } from '../../shared/adapters/dynamo-participant-store';
import { newEntity } from '../../shared/entities';
import { NO_FAULTS } from '../../shared/faults';
import {
  handleParticipantMessage,
  OPERATIONS_MAX,
  type ParticipantBarrier,
  type ParticipantKind,
  type Reservation,
} from '../../shared/participant';
import {
  newTransaction,
  noteOf,
  type ParticipantReply,
  ProtocolAssertionError,
  TOMBSTONE_REASON,
  type TxRecord,
  timelineOf,
} from '../../shared/protocol';
import { INVENTORY, LEDGER } from '../support/entity-shaped';
import { testTxStore } from '../support/test-records';

// The participant's DynamoDB adapter against the emulator, on the deployed ledger shard and
// inventory tables: real TransactWriteItems, real condition failures. Every test makes its own
// entities and transactions with unique ids, so the deployed participants never see them.
const deployment = inject('deployment');
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: deployment.endpoint }), {
  marshallOptions: { removeUndefinedValues: true },
});
const ledgerTable = deployment.outputs.LedgerShardTables!.split(',')[0]!;
const inventoryTable = deployment.outputs.InventoryTable!;
const transactionsTable = deployment.outputs.TransactionsTable!;
const txs = testTxStore(client, transactionsTable, deployment.outputs.SlotsTable!);
// Records made here live on slots the deployed coordinator never serves (it has 64), so its
// sweeper leaves them alone.
const SLOT = 40_000 + (Date.now() % 1000);
const run = Date.now().toString(36);
let counter = 0;
const unique = (name: string) => `${name}-${run}-${counter++}`;
const P = 'ledger-0';
const T0 = 1_700_000_000_000;

/** `notes`: whether the store notes votes and acks on the Transactions table. */
function participantOn(table: string, kind: ParticipantKind, notes = false) {
  const store = new DynamoParticipantStore(client, {
    table,
    definition: kind.definition,
    ...(notes ? { transactionsTable } : {}),
  });
  const entities = new DynamoEntityStore(client, kind.definition.counter!.entity, [table]);
  const create = async (name: string, total: number) => {
    const id = unique(name);
    expect(await entities.insert(0, newEntity(id, total, T0))).toBe(true);
    return id;
  };
  const balances = async (id: string) => {
    const entity = await entities.get(0, id);
    return entity && { total: entity.total, held: entity.held, available: entity.available };
  };
  return { store, create, balances };
}

const ledger = (notes = false) => participantOn(ledgerTable, LEDGER, notes);
const inventory = () => participantOn(inventoryTable, INVENTORY);

function prepared(txId: string, reservation: Reservation): ParticipantBarrier {
  return {
    txId,
    participantId: P,
    state: 'PREPARED',
    vote: 'YES',
    reason: null,
    reservation,
    createdAtMs: T0,
    updatedAtMs: T0,
  };
}
const moved = (barrier: ParticipantBarrier, state: ParticipantBarrier['state']): ParticipantBarrier => ({
  ...barrier,
  state,
  updatedAtMs: barrier.updatedAtMs + 1,
});
/** A coordinator record of `txId` with the participant P, in `state`. */
async function recordOf(txId: string, state: TxRecord['state']): Promise<void> {
  const tx = newTransaction(
    { txId, slot: SLOT, participants: [{ id: P, kind: 'ledger', operations: [] }] },
    T0,
    { prepareTimeoutMs: 60_000, resendBaseMs: 1_000, resendCapMs: 8_000 },
  );
  expect(await txs.create({ record: { ...tx, state }, requestHash: 'h' })).toEqual({ created: true });
}
/** The parts of a record that notes change. */
async function notesOn(txId: string) {
  const record = (await txs.load(txId))?.record;
  return (
    record && {
      version: record.version,
      votes: record.votes,
      acks: record.acks,
      // Steps told by the timeline; a note stores no event of its own.
      events: timelineOf(record).length,
      stored: record.timeline.length,
    }
  );
}
const yes = (txId: string): ParticipantReply => ({ type: 'Vote', txId, participantId: P, vote: 'YES' });
const tombstone = (txId: string): ParticipantBarrier => ({
  ...prepared(txId, []),
  state: 'ABORTED',
  vote: null,
  reservation: null,
});

describe('DynamoParticipantStore on the emulator', () => {
  it('reserve then apply: holds the take, checks the give, then moves the amount', async () => {
    // Prepare
    const { store, create, balances } = ledger();
    const [alice, bob] = [await create('alice', 100), await create('bob', 50)];
    const txId = unique('tx');
    const reservation = [
      { id: alice, action: 'take', amount: 30 },
      { id: bob, action: 'give', amount: 30 },
    ] as const;
    const barrier = prepared(txId, reservation);

    // Act
    const reserved = await store.write(undefined, barrier, { type: 'reserve', reservation });
    const afterReserve = { alice: await balances(alice), bob: await balances(bob) };
    const loaded = await store.loadBarrier(txId, P);
    const applied = await store.write(barrier, moved(barrier, 'COMMITTED'), { type: 'apply', reservation });

    // Assess
    expect([reserved, applied]).toEqual([{ ok: true }, { ok: true }]);
    expect(loaded).toEqual(barrier);
    expect(afterReserve).toEqual({
      alice: { total: 100, held: 30, available: 70 },
      bob: { total: 50, held: 0, available: 50 },
    });
    expect({ alice: await balances(alice), bob: await balances(bob) }).toEqual({
      alice: { total: 70, held: 0, available: 70 },
      bob: { total: 80, held: 0, available: 80 },
    });
    expect(await store.loadBarrier(txId, P)).toEqual(moved(barrier, 'COMMITTED'));
  });

  it('reserve then release: the hold goes back, the give never happens', async () => {
    // Prepare
    const { store, create, balances } = ledger();
    const [alice, bob] = [await create('alice', 100), await create('bob', 50)];
    const txId = unique('tx');
    const reservation = [
      { id: alice, action: 'take', amount: 100 },
      { id: bob, action: 'give', amount: 100 },
    ] as const;
    const barrier = prepared(txId, reservation);
    await store.write(undefined, barrier, { type: 'reserve', reservation });
    expect(await balances(alice)).toEqual({ total: 100, held: 100, available: 0 });

    // Act
    const released = await store.write(barrier, moved(barrier, 'ABORTED'), { type: 'release', reservation });

    // Assess
    expect(released).toEqual({ ok: true });
    expect([await balances(alice), await balances(bob)]).toEqual([
      { total: 100, held: 0, available: 100 },
      { total: 50, held: 0, available: 50 },
    ]);
    expect((await store.loadBarrier(txId, P))?.state).toBe('ABORTED');
  });

  it('rejects a take beyond the available funds with the reason, and writes nothing', async () => {
    // Prepare
    const { store, create, balances } = ledger();
    const [alice, bob] = [await create('alice', 5), await create('bob', 50)];
    const txId = unique('tx');
    const reservation = [
      { id: bob, action: 'take', amount: 10 },
      { id: alice, action: 'take', amount: 10 },
    ] as const;

    // Act
    const outcome = await store.write(undefined, prepared(txId, reservation), {
      type: 'reserve',
      reservation,
    });

    // Assess
    expect(outcome).toEqual({
      ok: false,
      kind: 'rejected',
      reason: `insufficient funds on account '${alice}' (available 5, needed 10)`,
    });
    expect([await balances(alice), await balances(bob)]).toEqual([
      { total: 5, held: 0, available: 5 },
      { total: 50, held: 0, available: 50 },
    ]);
    expect(await store.loadBarrier(txId, P)).toBeUndefined();
  });

  it.each(['take', 'give'] as const)(
    'rejects a %s on an unknown account, and creates no phantom item',
    async (action) => {
      // Prepare
      const { store, create, balances } = ledger();
      const alice = await create('alice', 100);
      const bob = unique('bob');
      const txId = unique('tx');
      const reservation = [
        { id: alice, action: 'take', amount: 10 },
        { id: bob, action, amount: 10 },
      ] as const;

      // Act
      const outcome = await store.write(undefined, prepared(txId, reservation), {
        type: 'reserve',
        reservation,
      });

      // Assess
      expect(outcome).toEqual({ ok: false, kind: 'rejected', reason: `unknown account '${bob}'` });
      expect(await balances(alice)).toEqual({ total: 100, held: 0, available: 100 });
      expect(await balances(bob)).toBeUndefined();
      expect(await store.loadBarrier(txId, P)).toBeUndefined();
    },
  );

  it('speaks of stock and items on the inventory table', async () => {
    // Prepare
    const { store, create } = inventory();
    const book = await create('book', 2);
    const pen = unique('pen');
    const take3 = [{ id: book, action: 'take', amount: 3 }] as const;
    const givePen = [{ id: pen, action: 'give', amount: 1 }] as const;

    // Act
    const short = await store.write(undefined, prepared(unique('tx'), take3), {
      type: 'reserve',
      reservation: take3,
    });
    const unknown = await store.write(undefined, prepared(unique('tx'), givePen), {
      type: 'reserve',
      reservation: givePen,
    });

    // Assess
    expect(short).toEqual({
      ok: false,
      kind: 'rejected',
      reason: `insufficient stock on item '${book}' (available 2, needed 3)`,
    });
    expect(unknown).toEqual({ ok: false, kind: 'rejected', reason: `unknown item '${pen}'` });
  });

  it('a second write with the same prev is a barrier-conflict and applies nothing twice', async () => {
    // Prepare
    const { store, create, balances } = ledger();
    const alice = await create('alice', 100);
    const txId = unique('tx');
    const reservation = [{ id: alice, action: 'take', amount: 40 }] as const;
    const barrier = prepared(txId, reservation);
    await store.write(undefined, barrier, { type: 'reserve', reservation });

    // Act
    const prepareAgain = await store.write(undefined, barrier, { type: 'reserve', reservation });
    const commit = await store.write(barrier, moved(barrier, 'COMMITTED'), { type: 'apply', reservation });
    const commitAgain = await store.write(barrier, moved(barrier, 'COMMITTED'), {
      type: 'apply',
      reservation,
    });
    const abortAfterCommit = await store.write(barrier, moved(barrier, 'ABORTED'), {
      type: 'release',
      reservation,
    });

    // Assess
    expect([prepareAgain, commit, commitAgain, abortAfterCommit]).toEqual([
      { ok: false, kind: 'barrier-conflict' },
      { ok: true },
      { ok: false, kind: 'barrier-conflict' },
      { ok: false, kind: 'barrier-conflict' },
    ]);
    expect(await balances(alice)).toEqual({ total: 60, held: 0, available: 60 });
    expect((await store.loadBarrier(txId, P))?.state).toBe('COMMITTED');
  });

  it('a barrier conflict wins over a business refusal', async () => {
    // Prepare
    const { store, create } = ledger();
    const alice = await create('alice', 10);
    const txId = unique('tx');
    await store.write(undefined, tombstone(txId), { type: 'none' });
    const reservation = [{ id: alice, action: 'take', amount: 50 }] as const;

    // Act
    const outcome = await store.write(undefined, prepared(txId, reservation), {
      type: 'reserve',
      reservation,
    });

    // Assess
    expect(outcome).toEqual({ ok: false, kind: 'barrier-conflict' });
  });

  it('an abort-before-prepare tombstone makes the late reserve a barrier-conflict that holds nothing', async () => {
    // Prepare
    const { store, create, balances } = ledger();
    const alice = await create('alice', 100);
    const txId = unique('tx');
    const reservation = [{ id: alice, action: 'take', amount: 40 }] as const;

    // Act
    const tomb = await store.write(undefined, tombstone(txId), { type: 'none' });
    const late = await store.write(undefined, prepared(txId, reservation), { type: 'reserve', reservation });

    // Assess
    expect([tomb, late]).toEqual([{ ok: true }, { ok: false, kind: 'barrier-conflict' }]);
    expect(await store.loadBarrier(txId, P)).toEqual(tombstone(txId));
    expect(await balances(alice)).toEqual({ total: 100, held: 0, available: 100 });
  });

  it('moves VOTED_NO to ABORTED with the barrier alone, conditioned on VOTED_NO', async () => {
    // Prepare
    const { store } = ledger();
    const txId = unique('tx');
    const votedNo: ParticipantBarrier = { ...tombstone(txId), state: 'VOTED_NO', vote: 'NO', reason: 'no' };
    await store.write(undefined, votedNo, { type: 'none' });

    // Act
    const aborted = await store.write(votedNo, moved(votedNo, 'ABORTED'), { type: 'none' });
    const again = await store.write(votedNo, moved(votedNo, 'ABORTED'), { type: 'none' });

    // Assess
    expect([aborted, again]).toEqual([{ ok: true }, { ok: false, kind: 'barrier-conflict' }]);
    expect(await store.loadBarrier(txId, P)).toEqual(moved(votedNo, 'ABORTED'));
  });

  it('refuses to apply a hold that is not there (a broken invariant), changing nothing', async () => {
    // Prepare: a PREPARED barrier written without its hold.
    const { store, create, balances } = ledger();
    const alice = await create('alice', 100);
    const txId = unique('tx');
    const reservation = [{ id: alice, action: 'take', amount: 40 }] as const;
    const barrier = prepared(txId, reservation);
    await store.write(undefined, barrier, { type: 'none' });

    // Act
    const apply = store.write(barrier, moved(barrier, 'COMMITTED'), { type: 'apply', reservation });

    // Assess
    await expect(apply).rejects.toBeInstanceOf(ProtocolAssertionError);
    expect(await balances(alice)).toEqual({ total: 100, held: 0, available: 100 });
    expect((await store.loadBarrier(txId, P))?.state).toBe('PREPARED');
  });

  it('stores the barrier at barrier#<txId>#<participantId>, next to the entities', async () => {
    // Prepare
    const { store } = ledger();
    const txId = unique('tx');

    // Act
    await store.write(undefined, tombstone(txId), { type: 'none' });

    // Assess
    const { Item } = await client.send(
      new GetCommand({ TableName: ledgerTable, Key: barrierKey(txId, P), ConsistentRead: true }),
    );
    expect(Item).toMatchObject({ pk: `barrier#${txId}#${P}`, kind: 'barrier', txId, state: 'ABORTED' });
  });
});

describe("DynamoParticipantStore's notes on the transaction record, on the emulator", () => {
  it('writes no note without the Transactions table: null, the record untouched', async () => {
    // Prepare
    const { store } = ledger();
    const txId = unique('tx');
    await recordOf(txId, 'PREPARING');

    // Act
    const noted = await store.note(noteOf(yes(txId), T0 + 1));

    // Assess
    expect(noted).toBeNull();
    expect(await notesOn(txId)).toEqual({ version: 1, votes: {}, acks: {}, events: 2, stored: 0 });
  });

  it('notes after a barrier write of OPERATIONS_MAX operations (the note is not one of its items)', async () => {
    // Prepare: OPERATIONS_MAX accounts, one take from each: barrier + 99 = the 100 items a
    // TransactWriteItems holds, which once left no room for the note.
    const { store, create, balances } = ledger(true);
    const accounts: string[] = [];
    for (let i = 0; i < OPERATIONS_MAX; i++) accounts.push(await create('many', 10));
    const reservation: Reservation = accounts.map((id) => ({ id, action: 'take', amount: 1 }));
    const txId = unique('tx');
    await recordOf(txId, 'PREPARING');

    // Act
    const written = await store.write(undefined, prepared(txId, reservation), {
      type: 'reserve',
      reservation,
    });
    const noted = await store.note(noteOf(yes(txId), T0 + 1));

    // Assess
    expect(written).toEqual({ ok: true });
    expect(noted?.votes).toEqual({ [P]: { vote: 'YES', atMs: T0 + 1 } });
    expect((await notesOn(txId))?.votes).toEqual({ [P]: { vote: 'YES', atMs: T0 + 1 } });
    expect(await balances(accounts[OPERATIONS_MAX - 1]!)).toEqual({ total: 10, held: 1, available: 9 });
  });
});

describe('the participant shell over DynamoDB', () => {
  function shell(notes = false) {
    const { store, create, balances } = ledger(notes);
    const sent: ParticipantReply[] = [];
    const deps = {
      store,
      kind: LEDGER,
      clock: { nowMs: Date.now },
      replies: { send: async (reply: ParticipantReply) => void sent.push(reply) },
      faults: NO_FAULTS,
    };
    return { create, balances, sent, deps };
  }

  it('prepares, re-votes on a duplicate, and commits a transfer', async () => {
    // Prepare
    const { create, balances, sent, deps } = shell();
    const [alice, bob] = [await create('alice', 100), await create('bob', 0)];
    const txId = unique('tx');
    const operations = [
      { id: alice, action: 'take', amount: 25 },
      { id: bob, action: 'give', amount: 25 },
    ];

    // Act
    await handleParticipantMessage({ type: 'Prepare', txId, participantId: P, operations }, deps);
    await handleParticipantMessage({ type: 'Prepare', txId, participantId: P, operations }, deps);
    await handleParticipantMessage({ type: 'Commit', txId, participantId: P }, deps);

    // Assess
    const vote = { type: 'Vote', txId, participantId: P, vote: 'YES' };
    expect(sent).toEqual([vote, vote, { type: 'Ack', txId, participantId: P, outcome: 'COMMITTED' }]);
    expect([await balances(alice), await balances(bob)]).toEqual([
      { total: 75, held: 0, available: 75 },
      { total: 25, held: 0, available: 25 },
    ]);
  });

  it('votes NO with the reason on insufficient funds, and a late Prepare after a tombstone votes NO', async () => {
    // Prepare
    const { create, balances, sent, deps } = shell();
    const alice = await create('alice', 10);
    const [short, late] = [unique('tx'), unique('tx')];
    const operations = [{ id: alice, action: 'take', amount: 11 }];
    const small = [{ id: alice, action: 'take', amount: 1 }];

    // Act
    await handleParticipantMessage({ type: 'Prepare', txId: short, participantId: P, operations }, deps);
    await handleParticipantMessage({ type: 'Abort', txId: late, participantId: P }, deps);
    await handleParticipantMessage(
      { type: 'Prepare', txId: late, participantId: P, operations: small },
      deps,
    );

    // Assess
    expect(sent).toEqual([
      {
        type: 'Vote',
        txId: short,
        participantId: P,
        vote: 'NO',
        reason: `insufficient funds on account '${alice}' (available 10, needed 11)`,
      },
      { type: 'Ack', txId: late, participantId: P, outcome: 'ABORTED' },
      { type: 'Vote', txId: late, participantId: P, vote: 'NO', reason: TOMBSTONE_REASON },
    ]);
    expect(await balances(alice)).toEqual({ total: 10, held: 0, available: 10 });
  });

  it('notes its vote and, once COMMIT is decided, its ack; the ack completes the set and ends it', async () => {
    // Prepare
    const { create, balances, sent, deps } = shell(true);
    const [alice, bob] = [await create('alice', 100), await create('bob', 0)];
    const txId = unique('tx');
    await recordOf(txId, 'PREPARING');
    const operations = [
      { id: alice, action: 'take', amount: 25 },
      { id: bob, action: 'give', amount: 25 },
    ];

    // Act
    const prepared = await handleParticipantMessage(
      { type: 'Prepare', txId, participantId: P, operations },
      deps,
    );
    const afterPrepare = await notesOn(txId);
    await markCommitting(txId);
    const committed = await handleParticipantMessage({ type: 'Commit', txId, participantId: P }, deps);

    // Assess: the only vote completes the set, so it goes as a message; the only ack ends the
    // transaction, so no Ack message goes at all.
    expect(afterPrepare).toEqual({
      version: 2,
      votes: { [P]: { vote: 'YES', atMs: expect.any(Number) } },
      acks: {},
      events: 3,
      stored: 0,
    });
    expect(await notesOn(txId)).toEqual({
      version: 5,
      votes: { [P]: { vote: 'YES', atMs: expect.any(Number) } },
      acks: { [P]: { outcome: 'COMMITTED', atMs: expect.any(Number) } },
      events: 5,
      stored: 0,
    });
    const stored = (await txs.load(txId))?.record;
    expect(stored).toMatchObject({
      state: 'COMMITTED',
      completedAtMs: expect.any(Number),
      nextCheckAtMs: null,
    });
    expect([prepared, committed]).toMatchObject([
      { sent: true, noted: true, ended: false },
      { sent: false, noted: true, ended: true },
    ]);
    expect(sent).toEqual([{ type: 'Vote', txId, participantId: P, vote: 'YES' }]);
    expect([await balances(alice), await balances(bob)]).toEqual([
      { total: 75, held: 0, available: 75 },
      { total: 25, held: 0, available: 25 },
    ]);
  });

  it('prepares and votes by message when the record was decided meanwhile (the note is refused)', async () => {
    // Prepare: the coordinator already aborted (say, by timeout) before the Prepare arrived.
    const { create, balances, sent, deps } = shell(true);
    const alice = await create('alice', 100);
    const txId = unique('tx');
    await recordOf(txId, 'ABORTING');
    const operations = [{ id: alice, action: 'take', amount: 25 }];

    // Act
    const outcome = await handleParticipantMessage(
      { type: 'Prepare', txId, participantId: P, operations },
      deps,
    );

    // Assess
    expect(outcome).toMatchObject({ wrote: true, sent: true, noted: false, attempts: 1 });
    expect(sent).toEqual([{ type: 'Vote', txId, participantId: P, vote: 'YES' }]);
    expect(await balances(alice)).toEqual({ total: 100, held: 25, available: 75 });
    expect(await notesOn(txId)).toEqual({ version: 1, votes: {}, acks: {}, events: 2, stored: 0 });
  });
});

/** What the coordinator's decision does to the record, as far as notes care: state and version. */
async function markCommitting(txId: string): Promise<void> {
  const stored = await txs.load(txId);
  if (!stored) throw new Error(`no record of ${txId}`);
  const { record } = stored;
  await client.send(
    new UpdateCommand({
      TableName: transactionsTable,
      Key: { txId },
      UpdateExpression: 'SET #state = :committing, version = :next',
      ConditionExpression: 'version = :read',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':committing': 'COMMITTING',
        ':next': record.version + 1,
        ':read': record.version,
      },
    }),
  );
}

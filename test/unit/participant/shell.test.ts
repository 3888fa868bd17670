import { describe, expect, it } from 'vitest';
import type { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { InfrastructureError } from '../../../shared/errors';
import { InjectedCrashError } from '../../../shared/faults';
import { type ParticipantStore, REASON_LENGTH_MAX, WRITE_ATTEMPTS_MAX } from '../../../shared/participant';
import {
  coordinatorStep,
  newTransaction,
  noteOf,
  type ParticipantMessage,
  ProtocolAssertionError,
  settledState,
  TOMBSTONE_REASON,
  type TxRecord,
  timelineOf,
} from '../../../shared/protocol';
import {
  abort,
  ackOf,
  balances,
  commit,
  give,
  INVENTORY,
  P,
  participant,
  prepare,
  scriptedFaults,
  TX,
  take,
  voteNo,
  voteYes,
} from './helpers';

// Alice pays Bob 30: both accounts on this ledger shard.
const TRANSFER = [take('alice', 30), give('bob', 30)];
const SEED = [
  ['alice', 100],
  ['bob', 50],
] as const;

const untouched = {
  alice: { total: 100, held: 0, available: 100 },
  bob: { total: 50, held: 0, available: 50 },
};
const snapshot = (store: MemoryParticipantStore) => ({
  alice: balances(store.entity('alice')),
  bob: balances(store.entity('bob')),
});

describe('handleParticipantMessage: the happy paths', () => {
  it('Prepare holds the take, checks the give, writes PREPARED and votes YES', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);

    // Act
    const outcome = await deliver(prepare(TRANSFER));

    // Assess
    expect(outcome).toEqual({
      reply: voteYes(),
      wrote: true,
      sent: true,
      noted: false,
      ended: false,
      attempts: 1,
    });
    expect(replies.sent).toEqual([voteYes()]);
    expect(snapshot(store)).toEqual({
      alice: { total: 100, held: 30, available: 70 },
      bob: { total: 50, held: 0, available: 50 },
    });
    expect(store.barrier(TX, P)).toMatchObject({ state: 'PREPARED', vote: 'YES', reservation: TRANSFER });
  });

  it('Commit applies the reservation and acks COMMITTED', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);
    await deliver(prepare(TRANSFER));

    // Act
    const outcome = await deliver(commit());

    // Assess
    expect(outcome.reply).toEqual(ackOf('COMMITTED'));
    expect(replies.sent).toEqual([voteYes(), ackOf('COMMITTED')]);
    expect(snapshot(store)).toEqual({
      alice: { total: 70, held: 0, available: 70 },
      bob: { total: 80, held: 0, available: 80 },
    });
    expect(store.barrier(TX, P)).toMatchObject({ state: 'COMMITTED', reservation: TRANSFER });
  });

  it('Abort releases the hold and acks ABORTED', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);
    await deliver(prepare(TRANSFER));

    // Act
    await deliver(abort());

    // Assess
    expect(replies.sent).toEqual([voteYes(), ackOf('ABORTED')]);
    expect(snapshot(store)).toEqual(untouched);
    expect(store.barrier(TX, P)).toMatchObject({ state: 'ABORTED', vote: 'YES', reservation: TRANSFER });
  });
});

describe('handleParticipantMessage: NO votes', () => {
  it('votes NO on insufficient funds, with the reason, and holds nothing', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);
    const reason = "insufficient funds on account 'alice' (available 100, needed 150)";

    // Act
    const outcome = await deliver(prepare([give('bob', 150), take('alice', 150)]));

    // Assess
    expect(outcome).toMatchObject({ reply: voteNo(reason), wrote: true, sent: true });
    expect(replies.sent).toEqual([voteNo(reason)]);
    expect(snapshot(store)).toEqual(untouched);
    expect(store.barrier(TX, P)).toMatchObject({ state: 'VOTED_NO', reason, reservation: null });
  });

  it('votes NO on an unknown account and changes nothing', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);

    // Act
    await deliver(prepare([take('alice', 10), give('carol', 10)]));

    // Assess
    expect(replies.sent).toEqual([voteNo("unknown account 'carol'")]);
    expect(snapshot(store)).toEqual(untouched);
  });

  it('speaks of stock and items for the inventory kind', async () => {
    // Prepare
    const { replies, deliver } = participant([['book', 2]], { kind: INVENTORY });

    // Act
    await deliver(prepare([take('book', 3)]));
    await deliver(prepare([take('pen', 1)], 'tx-2'));

    // Assess
    expect(replies.sent).toEqual([
      voteNo("insufficient stock on item 'book' (available 2, needed 3)"),
      voteNo("unknown item 'pen'", 'tx-2'),
    ]);
  });

  it('takes exactly the available amount', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);

    // Act
    await deliver(prepare([take('alice', 100)]));

    // Assess
    expect(replies.sent).toEqual([voteYes()]);
    expect(balances(store.entity('alice'))).toEqual({ total: 100, held: 100, available: 0 });
  });

  it.each<[string, unknown[], RegExp]>([
    [
      'an unknown action',
      [{ id: 'alice', action: 'steal', amount: 5 }],
      /^ledger operations is invalid: 0\.action/,
    ],
    ['a negative amount', [{ id: 'alice', action: 'take', amount: -5 }], /0\.amount/],
    ['a fractional amount', [{ id: 'alice', action: 'take', amount: 0.5 }], /0\.amount/],
    ['a zero amount', [{ id: 'alice', action: 'take', amount: 0 }], /0\.amount/],
    ['an extra field', [{ id: 'alice', action: 'take', amount: 5, to: 'x' }], /0: Unrecognized key/],
    ['a missing id', [{ action: 'take', amount: 5 }], /0\.id/],
    ['a non-object', ['take alice 5'], /0: Invalid input: expected object/],
    ['no operations', [], /at least one operation/],
    [
      'two operations on one account',
      [take('alice', 5), give('alice', 5)],
      /1\.id: names the same item as operation 0/,
    ],
  ])('votes NO with a clear reason for malformed operations: %s', async (_name, operations, reason) => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);

    // Act
    const outcome = await deliver(prepare(operations));

    // Assess
    expect(outcome.reply).toMatchObject({ type: 'Vote', vote: 'NO', reason: expect.stringMatching(reason) });
    expect(replies.sent).toHaveLength(1);
    expect(store.barrier(TX, P)?.state).toBe('VOTED_NO');
    expect(snapshot(store)).toEqual(untouched);
  });

  it(`cuts a long NO reason to ${REASON_LENGTH_MAX} characters`, async () => {
    // Prepare
    const { deliver } = participant(SEED);
    const operations = Array.from({ length: 90 }, (_, i) => ({ id: `a${i}`, action: 'borrow', amount: -1 }));

    // Act
    const { reply } = await deliver(prepare(operations));

    // Assess
    expect(reply).toMatchObject({ vote: 'NO', reason: expect.stringMatching(/…$/) });
    expect(reply.type === 'Vote' && reply.reason?.length).toBe(REASON_LENGTH_MAX);
  });
});

describe('handleParticipantMessage: duplicates and reordering', () => {
  const cases: Array<[string, ParticipantMessage[]]> = [
    ['Prepare (YES)', [prepare(TRANSFER)]],
    ['Prepare (NO)', [prepare([take('alice', 500)])]],
    ['Commit', [prepare(TRANSFER), commit()]],
    ['Abort after YES', [prepare(TRANSFER), abort()]],
    ['Abort after NO', [prepare([take('alice', 500)]), abort()]],
    ['Abort before Prepare', [abort()]],
    ['late Prepare after a tombstone', [abort(), prepare(TRANSFER)]],
  ];

  it.each(cases)('a duplicate %s has no second effect and re-sends the same reply', async (_name, script) => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);
    for (const message of script) await deliver(message);
    const before = { entities: store.entities(), barriers: store.barriers(), writes: store.writes };
    const last = script.at(-1)!;

    // Act
    const again = await deliver(last);
    const thrice = await deliver(last);

    // Assess
    expect(again).toMatchObject({ wrote: false, sent: true });
    expect(thrice).toMatchObject({ wrote: false, sent: true });
    expect(replies.sent.slice(-3)).toEqual([again.reply, again.reply, again.reply]);
    expect({ entities: store.entities(), barriers: store.barriers(), writes: store.writes }).toEqual(before);
  });

  it('re-sends the NO vote with the same reason, never deciding again', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);
    await deliver(prepare([take('alice', 150)]));
    store.seed({ id: 'alice', total: 1000, held: 0, available: 1000, createdAtMs: 0 });

    // Act
    await deliver(prepare([take('alice', 150)]));

    // Assess
    const reason = "insufficient funds on account 'alice' (available 100, needed 150)";
    expect(replies.sent).toEqual([voteNo(reason), voteNo(reason)]);
    expect(store.entity('alice')?.held).toBe(0);
  });

  it('an Abort before its Prepare leaves a tombstone: the late Prepare votes NO and holds nothing', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED);

    // Act
    await deliver(abort());
    await deliver(prepare(TRANSFER));

    // Assess
    expect(replies.sent).toEqual([ackOf('ABORTED'), voteNo(TOMBSTONE_REASON)]);
    expect(store.barrier(TX, P)).toMatchObject({ state: 'ABORTED', vote: null, reservation: null });
    expect(snapshot(store)).toEqual(untouched);
  });

  it.each<[string, ParticipantMessage[], ParticipantMessage]>([
    ['Commit after Abort', [prepare(TRANSFER), abort()], commit()],
    ['Commit after a NO vote', [prepare([take('alice', 500)])], commit()],
    ['Commit before any Prepare', [], commit()],
    ['Commit after a tombstone', [abort()], commit()],
    ['Abort after Commit', [prepare(TRANSFER), commit()], abort()],
  ])(
    'throws on a protocol violation (%s), changing and sending nothing',
    async (_name, script, violation) => {
      // Prepare
      const { store, replies, deliver } = participant(SEED);
      for (const message of script) await deliver(message);
      const before = { entities: store.entities(), barriers: store.barriers(), replies: replies.sent.length };

      // Act
      const attempt = deliver(violation);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ProtocolAssertionError);
      expect({
        entities: store.entities(),
        barriers: store.barriers(),
        replies: replies.sent.length,
      }).toEqual(before);
    },
  );
});

/** Runs `race` against the inner store just before the shell's first write, like a concurrent Lambda. */
function racing(inner: MemoryParticipantStore, race: (store: MemoryParticipantStore) => Promise<unknown>) {
  let raced = false;
  const calls: string[] = [];
  const store: ParticipantStore = {
    loadBarrier: (txId, participantId) => inner.loadBarrier(txId, participantId),
    write: async (prev, next, action) => {
      if (!raced) {
        raced = true;
        await race(inner);
      }
      const outcome = await inner.write(prev, next, action);
      calls.push(outcome.ok ? 'ok' : outcome.kind);
      return outcome;
    },
  };
  return { store, calls };
}

describe('handleParticipantMessage: reads', () => {
  it('writes a first Prepare without reading the barrier, and reads only when that write loses', async () => {
    // Prepare
    const { store: inner, deliver } = participant(SEED);
    const reads: string[] = [];
    const store: ParticipantStore = {
      loadBarrier: (txId, participantId) => {
        reads.push(txId);
        return inner.loadBarrier(txId, participantId);
      },
      write: (prev, next, action) => inner.write(prev, next, action),
    };

    // Act
    const first = await deliver(prepare(TRANSFER), { store });
    const readsAfterFirst = reads.length;
    const duplicate = await deliver(prepare(TRANSFER), { store });

    // Assess
    expect(first).toMatchObject({ reply: voteYes(), wrote: true, attempts: 1 });
    expect(readsAfterFirst).toBe(0);
    expect(duplicate).toMatchObject({ reply: voteYes(), wrote: false, attempts: 2 });
    expect(reads).toEqual([TX]);
    expect(snapshot(inner).alice).toEqual({ total: 100, held: 30, available: 70 });
  });
});

describe('handleParticipantMessage: lost races', () => {
  it('re-loads after a concurrent duplicate Prepare won, and re-sends its vote without holding twice', async () => {
    // Prepare
    const { store: inner, replies, deliver, deps } = participant(SEED);
    const { store, calls } = racing(inner, (s) => deliver(prepare(TRANSFER), { store: s }));

    // Act
    const outcome = await deliver(prepare(TRANSFER), { store });

    // Assess
    expect(calls).toEqual(['barrier-conflict']);
    expect(outcome).toMatchObject({ reply: voteYes(), wrote: false, attempts: 2 });
    expect(replies.sent).toEqual([voteYes(), voteYes()]);
    expect(balances(inner.entity('alice'))).toEqual({ total: 100, held: 30, available: 70 });
    expect(deps.store).toBe(inner);
  });

  it('a Prepare that loses to a concurrent Abort votes NO and holds nothing', async () => {
    // Prepare
    const { store: inner, replies, deliver } = participant(SEED);
    const { store } = racing(inner, (s) => deliver(abort(), { store: s }));

    // Act
    const outcome = await deliver(prepare(TRANSFER), { store });

    // Assess
    expect(outcome).toMatchObject({ reply: voteNo(TOMBSTONE_REASON), attempts: 2 });
    expect(replies.sent).toEqual([ackOf('ABORTED'), voteNo(TOMBSTONE_REASON)]);
    expect(snapshot(inner)).toEqual(untouched);
  });

  it('a Prepare whose hold is refused after losing a race re-steps to NO', async () => {
    // Prepare: another transaction takes 80 of Alice's 100 between our load and our write.
    const { store: inner, replies, deliver } = participant(SEED);
    const { store, calls } = racing(inner, (s) =>
      deliver(prepare([take('alice', 80)], 'tx-other'), { store: s }),
    );

    // Act
    const outcome = await deliver(prepare(TRANSFER), { store });

    // Assess
    const reason = "insufficient funds on account 'alice' (available 20, needed 30)";
    expect(calls).toEqual(['rejected', 'ok']);
    expect(outcome).toMatchObject({ reply: voteNo(reason), wrote: true, attempts: 1 });
    expect(replies.sent).toEqual([voteYes('tx-other'), voteNo(reason)]);
    expect(balances(inner.entity('alice'))).toEqual({ total: 100, held: 80, available: 20 });
  });

  it(`gives up after ${WRITE_ATTEMPTS_MAX} lost races with an InfrastructureError, so SQS retries`, async () => {
    // Prepare
    const { store: inner, replies, deliver } = participant(SEED);
    let writes = 0;
    const store: ParticipantStore = {
      loadBarrier: (txId, participantId) => inner.loadBarrier(txId, participantId),
      write: async () => {
        writes += 1;
        return { ok: false, kind: 'barrier-conflict' };
      },
    };

    // Act
    const attempt = deliver(prepare(TRANSFER), { store });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureError);
    expect(writes).toBe(WRITE_ATTEMPTS_MAX);
    expect(replies.sent).toEqual([]);
  });

  it('lets an infrastructure failure of the store propagate and sends nothing', async () => {
    // Prepare
    const { store: inner, replies, deliver } = participant(SEED);
    const failure = new InfrastructureError('throttled');
    const store: ParticipantStore = {
      loadBarrier: (txId, participantId) => inner.loadBarrier(txId, participantId),
      write: () => Promise.reject(failure),
    };

    // Act
    const attempt = deliver(prepare(TRANSFER), { store });

    // Assess
    await expect(attempt).rejects.toBe(failure);
    expect(replies.sent).toEqual([]);
  });
});

describe('handleParticipantMessage: fault points', () => {
  it.each<[string, ParticipantMessage[], ParticipantMessage, string]>([
    ['Prepare', [], prepare(TRANSFER), 'PREPARED'],
    ['Commit', [prepare(TRANSFER)], commit(), 'COMMITTED'],
    ['Abort', [prepare(TRANSFER)], abort(), 'ABORTED'],
  ])(
    'a crash after the write of %s keeps the write; the redelivery only re-sends the reply',
    async (_name, script, message, state) => {
      // Prepare
      const { store, replies, deliver } = participant(SEED);
      for (const earlier of script) await deliver(earlier);
      const sentBefore = replies.sent.length;
      const faults = scriptedFaults({ crash: ['participant.after-write'] });

      // Act
      const crashed = deliver(message, { faults });
      await expect(crashed).rejects.toBeInstanceOf(InjectedCrashError);
      const durable = { entities: store.entities(), barrier: store.barrier(TX, P) };
      const redelivered = await deliver(message, { faults });

      // Assess
      expect(durable.barrier?.state).toBe(state);
      expect(replies.sent.slice(sentBefore)).toEqual([redelivered.reply]);
      expect(redelivered.wrote).toBe(false);
      expect(store.entities()).toEqual(durable.entities);
    },
  );

  it('the crash point fires only after a write, never for a duplicate', async () => {
    // Prepare: a fault plan that would crash every time.
    const faults = {
      crashPoint: (point: 'participant.after-write' | 'coordinator.after-save', txId: string) => {
        throw new InjectedCrashError(point, txId);
      },
      drop: () => false,
    };
    const { replies, deliver } = participant(SEED, { faults });
    await expect(deliver(prepare(TRANSFER))).rejects.toBeInstanceOf(InjectedCrashError);

    // Act
    const duplicate = await deliver(prepare(TRANSFER));

    // Assess
    expect(duplicate).toMatchObject({ wrote: false, sent: true });
    expect(replies.sent).toEqual([voteYes()]);
  });

  it('the drop point swallows the Vote (every time) but keeps its effect, and never drops an Ack', async () => {
    // Prepare
    const { store, replies, deliver } = participant(SEED, {
      faults: scriptedFaults({ drop: ['participant.vote'] }),
    });

    // Act
    const first = await deliver(prepare(TRANSFER));
    const again = await deliver(prepare(TRANSFER));
    const aborted = await deliver(abort());

    // Assess
    expect(first).toMatchObject({ reply: voteYes(), wrote: true, sent: false });
    expect(again).toMatchObject({ wrote: false, sent: false });
    expect(aborted).toMatchObject({ sent: true });
    expect(replies.sent).toEqual([ackOf('ABORTED')]);
    expect(snapshot(store)).toEqual(untouched);
  });
});

describe('handleParticipantMessage: time', () => {
  it('stamps the barrier with the clock: created on the first write, updated on the next', async () => {
    // Prepare
    const { store, clock, deliver } = participant(SEED);

    // Act
    await deliver(prepare(TRANSFER));
    const createdAtMs = clock.nowMs();
    clock.advance(5_000);
    await deliver(commit());

    // Assess
    expect(store.barrier(TX, P)).toMatchObject({ createdAtMs, updatedAtMs: createdAtMs + 5_001 });
  });
});

describe('handleParticipantMessage: notes on the transaction record', () => {
  const config = { prepareTimeoutMs: 10_000, resendBaseMs: 100, resendCapMs: 1_600 };
  const fence = { slot: 0, owner: 'env', epoch: 1 };

  /** A transaction record of P and ledger-1, PREPARING (as the API created it). */
  async function preparingRecord(): Promise<MemoryTxStore> {
    const txs = new MemoryTxStore();
    const participants = [P, 'ledger-1'].map((id) => ({ id, kind: 'ledger', operations: [] }));
    await txs.create({
      record: newTransaction({ txId: TX, slot: 0, participants }, 0, config),
      requestHash: 'h',
    });
    return txs;
  }
  const recordOf = async (txs: MemoryTxStore) => (await txs.load(TX))?.record as TxRecord;

  it('a Prepare notes its vote after the hold; a vote that leaves one missing goes as no message', async () => {
    // Prepare
    const txs = await preparingRecord();
    const before = await recordOf(txs);
    const { store, replies, deliver } = participant(SEED, { notes: txs });

    // Act
    const outcome = await deliver(prepare(TRANSFER));

    // Assess: ledger-1 has not voted: its note will complete the set, and its message decides.
    const after = await recordOf(txs);
    expect(store.writes).toBe(1);
    expect(after.version).toBe(before.version + 1);
    expect(after.votes[P]).toMatchObject({ vote: 'YES' });
    expect(timelineOf(after).at(-1)?.event).toBe(`vote YES from ${P}`);
    expect(outcome).toMatchObject({ wrote: true, noted: true, sent: false, ended: false });
    expect(replies.sent).toEqual([]);
  });

  it('the vote whose note completes the set goes as the one Vote message', async () => {
    // Prepare: ledger-1 noted its YES first.
    const txs = await preparingRecord();
    txs.note(noteOf({ type: 'Vote', txId: TX, participantId: 'ledger-1', vote: 'YES' }, 3));
    const { replies, deliver } = participant(SEED, { notes: txs });

    // Act
    const outcome = await deliver(prepare(TRANSFER));

    // Assess
    expect(outcome).toMatchObject({ noted: true, sent: true });
    expect(replies.sent).toEqual([voteYes()]);
    expect(Object.keys((await recordOf(txs)).votes).sort()).toEqual([P, 'ledger-1']);
  });

  it('a NO goes as a message even when the other vote is missing: the coordinator aborts at once', async () => {
    const txs = await preparingRecord();
    const { replies, deliver } = participant(SEED, { notes: txs });
    await deliver(prepare([take('alice', 500), give('bob', 500)]));
    expect(replies.sent).toEqual([expect.objectContaining({ type: 'Vote', vote: 'NO' })]);
  });

  it('a note that fails (a conflict, an outage) leaves the reply to its message', async () => {
    // Prepare: the transaction records cannot be written.
    class Unreachable extends MemoryTxStore {
      override note(): never {
        throw new InfrastructureError('the Transactions table is unreachable');
      }
    }
    const txs = new Unreachable();
    const participants = [P, 'ledger-1'].map((id) => ({ id, kind: 'ledger', operations: [] }));
    await txs.create({
      record: newTransaction({ txId: TX, slot: 0, participants }, 0, config),
      requestHash: 'h',
    });
    const failures: unknown[] = [];
    const { store, replies, deliver } = participant(SEED, { notes: txs });

    // Act
    const outcome = await deliver(prepare(TRANSFER), { onNoteFailed: (error) => failures.push(error) });

    // Assess: the hold is there, the vote went as a message.
    expect(store.barrier(TX, P)).toMatchObject({ state: 'PREPARED' });
    expect(outcome).toMatchObject({ wrote: true, noted: false, sent: true });
    expect(replies.sent).toEqual([voteYes()]);
    expect(failures).toEqual([expect.any(InfrastructureError)]);
  });

  it('the drop point loses the vote on both ways: no note, no message', async () => {
    const txs = await preparingRecord();
    const before = await recordOf(txs);
    const { store, replies, deliver } = participant(SEED, {
      notes: txs,
      faults: scriptedFaults({ drop: ['participant.vote'] }),
    });
    await deliver(prepare(TRANSFER));
    expect(store.barrier(TX, P)).toMatchObject({ state: 'PREPARED' });
    expect(await recordOf(txs)).toEqual(before);
    expect(replies.sent).toEqual([]);
  });

  it('a refused Prepare notes its NO with the reason', async () => {
    const txs = await preparingRecord();
    const { deliver } = participant(SEED, { notes: txs });
    await deliver(prepare([take('alice', 500), give('bob', 500)]));
    expect((await recordOf(txs)).votes[P]).toMatchObject({
      vote: 'NO',
      reason: expect.stringContaining('alice'),
    });
  });

  it('when the record refuses the note (already decided), the vote goes as a message, as without notes', async () => {
    // Prepare: the coordinator aborted (prepare timeout) before this Prepare was handled.
    const txs = await preparingRecord();
    const preparing = await recordOf(txs);
    const { state: aborting } = coordinatorStep(preparing, { type: 'Check', txId: TX }, 10_000, config);
    await txs.save({ record: aborting, requestHash: 'h' }, preparing.version, fence);
    const { store, replies, deliver } = participant(SEED, { notes: txs });

    // Act
    const outcome = await deliver(prepare(TRANSFER));

    // Assess: the barrier and hold; the note refused, the record untouched.
    expect(outcome).toMatchObject({ reply: voteYes(), wrote: true, noted: false, sent: true, attempts: 1 });
    expect(store.writes).toBe(1);
    expect(store.barrier(TX, P)).toMatchObject({ state: 'PREPARED' });
    expect(await recordOf(txs)).toEqual(aborting);
    expect(replies.sent).toEqual([voteYes()]);
  });

  /** The record of TX with both YES votes and the COMMIT decision durable; P's store notes on it. */
  async function committing(txs: MemoryTxStore = new MemoryTxStore()) {
    const participants = [P, 'ledger-1'].map((id) => ({ id, kind: 'ledger', operations: [] }));
    await txs.create({
      record: newTransaction({ txId: TX, slot: 0, participants }, 0, config),
      requestHash: 'h',
    });
    const p = participant(SEED, { notes: txs });
    await p.deliver(prepare(TRANSFER));
    txs.note(noteOf({ type: 'Vote', txId: TX, participantId: 'ledger-1', vote: 'YES' }, 3));
    const voted = await recordOf(txs);
    const { state } = coordinatorStep(
      voted,
      { type: 'Vote', txId: TX, participantId: P, vote: 'YES' },
      5,
      config,
    );
    expect(state.state).toBe('COMMITTING');
    await txs.save({ record: state, requestHash: 'h' }, voted.version, fence);
    p.replies.sent.length = 0;
    return { txs, ...p };
  }

  it('the first ack on the record settles nothing and goes as no message', async () => {
    // Prepare
    const { txs, replies, deliver } = await committing();

    // Act
    const outcome = await deliver(commit());

    // Assess: ledger-1's ack will complete the set and end the transaction.
    const after = await recordOf(txs);
    expect(after.acks[P]).toMatchObject({ outcome: 'COMMITTED' });
    expect(after.state).toBe('COMMITTING');
    expect(settledState(after)).toBe('COMMITTING');
    expect(outcome).toMatchObject({ noted: true, sent: false, ended: false });
    expect(replies.sent).toEqual([]);
  });

  it('the ack that completes the set ends the transaction: terminal, off the due index, no message', async () => {
    // Prepare: ledger-1 acked first.
    const { txs, replies, deliver } = await committing();
    txs.note(noteOf(ackOf('COMMITTED', TX, 'ledger-1'), 9));
    const ended: TxRecord[] = [];

    // Act
    const outcome = await deliver(commit(), { onEnded: (record) => ended.push(record) });

    // Assess
    const after = await recordOf(txs);
    expect(after).toMatchObject({
      state: 'COMMITTED',
      nextCheckAtMs: null,
      completedAtMs: expect.any(Number),
    });
    expect(after.acks).toMatchObject({ [P]: { outcome: 'COMMITTED' }, 'ledger-1': { outcome: 'COMMITTED' } });
    expect(outcome).toMatchObject({ noted: true, sent: false, ended: true });
    expect(ended).toEqual([after]);
    expect(replies.sent).toEqual([]);
    expect((await txs.due(Number.MAX_SAFE_INTEGER, 10)).live).toBe(0);
  });

  it('an end that finds the record moved on writes nothing and sends nothing (whoever moved it ends it)', async () => {
    // Prepare: the end's version check fails.
    class MovedOn extends MemoryTxStore {
      override end(): boolean {
        return false;
      }
    }
    const { txs, replies, deliver } = await committing(new MovedOn());
    txs.note(noteOf(ackOf('COMMITTED', TX, 'ledger-1'), 9));

    // Act
    const outcome = await deliver(commit());

    // Assess
    expect((await recordOf(txs)).state).toBe('COMMITTING');
    expect(outcome).toMatchObject({ noted: true, sent: false, ended: false });
    expect(replies.sent).toEqual([]);
  });

  it('an end that fails leaves the ack to its message: the coordinator ends the transaction', async () => {
    class Failing extends MemoryTxStore {
      override end(): never {
        throw new InfrastructureError('throttled');
      }
    }
    const { txs, replies, deliver } = await committing(new Failing());
    txs.note(noteOf(ackOf('COMMITTED', TX, 'ledger-1'), 9));

    const outcome = await deliver(commit());

    expect(outcome).toMatchObject({ noted: true, sent: true, ended: false });
    expect(replies.sent).toEqual([ackOf('COMMITTED')]);
  });

  it('a store that notes but cannot end sends the completing Ack: the coordinator ends it', async () => {
    // Prepare: ledger-1 acked first; P's store has no `end`.
    const { txs, replies, store: full, deliver } = await committing();
    txs.note(noteOf(ackOf('COMMITTED', TX, 'ledger-1'), 9));
    const store: ParticipantStore = {
      loadBarrier: (txId, pid) => full.loadBarrier(txId, pid),
      write: (prev, next, action) => full.write(prev, next, action),
      note: (note) => full.note(note),
    };

    // Act
    const outcome = await deliver(commit(), { store });

    // Assess
    expect(outcome).toMatchObject({ noted: true, sent: true, ended: false });
    expect(replies.sent).toEqual([ackOf('COMMITTED')]);
    expect((await recordOf(txs)).state).toBe('COMMITTING');
  });

  it('a duplicate Commit re-sends its Ack as a message (its note may have been lost with a crash)', async () => {
    const { replies, deliver } = await committing();
    await deliver(commit());
    const again = await deliver(commit());
    expect(again).toMatchObject({ wrote: false, noted: false, sent: true });
    expect(replies.sent).toEqual([ackOf('COMMITTED')]);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import { MemorySlotStore } from '../../../shared/adapters/memory-slots';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { BatchLostError, LeaseManager } from '../../../shared/coordinator/leases';
import {
  type CoordinatorDeps,
  type CoordinatorTransport,
  handleCoordinatorInput,
  RecordCache,
} from '../../../shared/coordinator/shell';
import { FenceLostError } from '../../../shared/errors';
import { type CrashPoint, type Faults, InjectedCrashError, NO_FAULTS } from '../../../shared/faults';
import {
  type CoordinatorConfig,
  type LeaseConfig,
  newTransaction,
  type ParticipantMessage,
  slotOf,
  timelineOf,
} from '../../../shared/protocol';

const config: CoordinatorConfig = { prepareTimeoutMs: 10_000, resendBaseMs: 1_000, resendCapMs: 8_000 };
const leaseConfig: LeaseConfig = { leaseDurationMs: 30_000, skewMarginMs: 1_000 };
const SLOTS = 4;

class RecordingTransport implements CoordinatorTransport {
  readonly sent: Array<{ to: string; message: ParticipantMessage }> = [];
  readonly timers: Array<{ txId: string; atMs: number }> = [];
  failSends = false;
  async toParticipant(participant: { id: string }, message: ParticipantMessage): Promise<void> {
    if (this.failSends) throw new Error('queue unavailable');
    this.sent.push({ to: participant.id, message });
  }
  async scheduleCheck(txId: string, _slot: number, atMs: number): Promise<void> {
    this.timers.push({ txId, atMs });
  }
  types(): string[] {
    return this.sent.map((s) => `${s.message.type}->${s.to}`);
  }
}

describe('coordinator shell', () => {
  let now: number;
  let slots: MemorySlotStore;
  let txs: MemoryTxStore;
  let transport: RecordingTransport;
  let deps: CoordinatorDeps;
  const clock = { nowMs: () => now };
  const txId = 'tx-1';

  function coordinator(owner: string, faults: Faults = NO_FAULTS): CoordinatorDeps {
    return {
      txs,
      leases: new LeaseManager(slots, owner, clock, leaseConfig),
      clock,
      transport,
      config,
      faults,
    };
  }

  beforeEach(async () => {
    now = 1_000_000;
    slots = new MemorySlotStore();
    txs = new MemoryTxStore(slots.fenceHolds);
    transport = new RecordingTransport();
    deps = coordinator('env-a');
    const participants = [
      { id: 'ledger-0', kind: 'ledger', operations: [{ id: 'alice', action: 'take', amount: 5 }] },
      { id: 'ledger-1', kind: 'ledger', operations: [{ id: 'bob', action: 'give', amount: 5 }] },
    ];
    const record = newTransaction({ txId, slot: slotOf(txId, SLOTS), participants }, now, config);
    await txs.create({ record, requestHash: 'h' });
  });

  const vote = (participantId: string, v: 'YES' | 'NO' = 'YES') =>
    ({ type: 'Vote', txId, participantId, vote: v }) as const;
  const ack = (participantId: string, outcome: 'COMMITTED' | 'ABORTED' = 'COMMITTED') =>
    ({ type: 'Ack', txId, participantId, outcome }) as const;

  it('runs a transaction to COMMITTED, sending each message only after its state is durable', async () => {
    // Prepare
    const order: string[] = [];
    const durableStates = () => txs.load(txId).then((t) => t?.record.state);
    transport.toParticipant = async (participant, message) => {
      order.push(`${message.type}->${participant.id} while ${await durableStates()}`);
    };

    // Act
    await handleCoordinatorInput(vote('ledger-0'), deps);
    await handleCoordinatorInput(vote('ledger-1'), deps);
    await handleCoordinatorInput(ack('ledger-0'), deps);
    const last = await handleCoordinatorInput(ack('ledger-1'), deps);

    // Assess
    expect(order).toEqual(['Commit->ledger-0 while COMMITTING', 'Commit->ledger-1 while COMMITTING']);
    expect(last).toMatchObject({ kind: 'changed', record: { state: 'COMMITTED', nextCheckAtMs: null } });
    expect((await txs.load(txId))?.record.state).toBe('COMMITTED');
  });

  it("keeps the record's origin through every save it makes", async () => {
    // Prepare
    const origin = { source: 'events:transfers', key: 'ev-1', eventId: 'ev-1' };
    const stored = (await txs.load(txId))!;
    txs.expire(txId);
    await txs.create({ ...stored, origin });

    // Act
    await handleCoordinatorInput(vote('ledger-0'), deps);
    await handleCoordinatorInput(vote('ledger-1', 'NO'), deps);

    // Assess
    expect(await txs.load(txId)).toMatchObject({ record: { state: 'ABORTING' }, requestHash: 'h', origin });
  });

  it('names the slot and the epoch the decision was written under in its timeline entry', async () => {
    // Prepare
    await handleCoordinatorInput(vote('ledger-0'), deps);
    const epoch = (await slots.read(slotOf(txId, SLOTS)))!.epoch;

    // Act
    await handleCoordinatorInput(vote('ledger-1'), deps);
    await handleCoordinatorInput(ack('ledger-0'), deps);

    // Assess
    const { record } = (await txs.load(txId))!;
    expect(record.decidedEpoch).toBe(epoch);
    const events = timelineOf(record).map((e) => e.event);
    expect(events.filter((e) => e.startsWith('decision '))).toEqual([
      `decision COMMIT (slot ${slotOf(txId, SLOTS)}, epoch ${epoch})`,
    ]);
  });

  describe('with a record cache', () => {
    class CountingStore extends MemoryTxStore {
      loads = 0;
      override async load(id: string) {
        this.loads++;
        return super.load(id);
      }
    }

    it('serves votes after the decision from its copy; reads afresh what participants may have noted', async () => {
      const counting = new CountingStore(slots.fenceHolds);
      await counting.create((await txs.load(txId))!);
      const cached = { ...deps, txs: counting, cache: new RecordCache() };
      // Before the decision a participant may have noted its vote on the record: read afresh.
      await handleCoordinatorInput(vote('ledger-0'), cached);
      await handleCoordinatorInput(vote('ledger-1'), cached);
      expect(counting.loads).toBe(2);
      // Duplicate votes after the decision: the copy is as good as the record (decisions stand).
      const late = await handleCoordinatorInput(vote('ledger-0'), cached);
      expect(late).toMatchObject({ kind: 'unchanged', record: { state: 'COMMITTING' } });
      expect(counting.loads).toBe(2);
      // Acks are noted by participants too: each is judged on a fresh read.
      await handleCoordinatorInput(ack('ledger-0'), cached);
      await handleCoordinatorInput(ack('ledger-1'), cached);
      expect(counting.loads).toBe(4);
      expect((await counting.load(txId))?.record.state).toBe('COMMITTED');
    });

    it('re-reads when its copy is stale: a lost version race, or an input the copy contradicts', async () => {
      const cache = new RecordCache();
      const a = { ...deps, cache };
      await handleCoordinatorInput(vote('ledger-0'), a);
      // Another environment decides (prepare timeout) behind this one's back.
      now += config.prepareTimeoutMs;
      await handleCoordinatorInput({ type: 'Check', txId }, coordinator('env-b'));
      // A late NO from ledger-0 contradicts the cached YES; judged on the durable ABORTING record.
      const late = await handleCoordinatorInput(vote('ledger-0', 'NO'), a);
      expect(late).toMatchObject({ kind: 'unchanged', record: { state: 'ABORTING' } });
      // An ack computed from the stale copy would lose the race; re-read, it is recorded.
      const acked = await handleCoordinatorInput(ack('ledger-1', 'ABORTED'), a);
      expect(acked).toMatchObject({ kind: 'changed', record: { state: 'ABORTING' } });
      expect((await txs.load(txId))?.record.acks['ledger-1']?.outcome).toBe('ABORTED');
    });
  });

  it('re-sends Prepare with the participant operations and the slot to reply to, and arms a timer', async () => {
    // Prepare: the API's Prepares were lost
    now = (await txs.load(txId))!.record.nextCheckAtMs!;

    // Act
    await handleCoordinatorInput({ type: 'Check', txId }, deps);

    // Assess
    expect(transport.types()).toEqual(['Prepare->ledger-0', 'Prepare->ledger-1']);
    expect(transport.sent[0]).toEqual({
      to: 'ledger-0',
      message: {
        type: 'Prepare',
        txId,
        participantId: 'ledger-0',
        operations: [{ id: 'alice', action: 'take', amount: 5 }],
        slot: slotOf(txId, SLOTS),
      },
    });
    expect(transport.timers).toEqual([{ txId, atMs: now + 2 * config.resendBaseMs }]);
  });

  it('ignores duplicates without writing or sending', async () => {
    await handleCoordinatorInput(vote('ledger-0'), deps);
    const version = (await txs.load(txId))?.record.version;
    const sent = transport.sent.length;
    const again = await handleCoordinatorInput(vote('ledger-0'), deps);
    expect(again.kind).toBe('unchanged');
    expect((await txs.load(txId))?.record.version).toBe(version);
    expect(transport.sent).toHaveLength(sent);
  });

  it('answers unknown-transaction for an input about a record that does not exist', async () => {
    expect(await handleCoordinatorInput({ ...vote('ledger-0'), txId: 'nope' }, deps)).toEqual({
      kind: 'unknown-transaction',
    });
  });

  it('keeps the decision when the process dies after it is durable, and a due Check re-sends it', async () => {
    // Prepare: crash at coordinator.after-save on the deciding vote
    await handleCoordinatorInput(vote('ledger-0'), deps);
    let crashes = 0;
    const crashing: Faults = {
      crashPoint: (point: CrashPoint) => {
        if (point === 'coordinator.after-save' && crashes++ === 0) throw new InjectedCrashError(point, txId);
      },
      drop: () => false,
    };
    const sentBefore = transport.sent.length;

    // Act
    await expect(handleCoordinatorInput(vote('ledger-1'), coordinator('env-a', crashing))).rejects.toThrow(
      InjectedCrashError,
    );
    const redelivered = await handleCoordinatorInput(vote('ledger-1'), deps);
    now = (await txs.load(txId))!.record.nextCheckAtMs!;
    await handleCoordinatorInput({ type: 'Check', txId }, deps);

    // Assess
    expect(redelivered.kind).toBe('unchanged'); // the decision was already durable
    expect((await txs.load(txId))?.record.state).toBe('COMMITTING');
    expect(transport.types().slice(sentBefore)).toEqual(['Commit->ledger-0', 'Commit->ledger-1']);
  });

  it('swallows a failed send: the state stays durable and recovery re-sends it', async () => {
    const failures: string[] = [];
    transport.failSends = true;
    now = (await txs.load(txId))!.record.nextCheckAtMs!;
    await handleCoordinatorInput(
      { type: 'Check', txId },
      {
        ...deps,
        onEffectFailed: (effect) => failures.push(effect.type),
      },
    );
    expect((await txs.load(txId))?.record).toMatchObject({ state: 'PREPARING', resendAttempt: 1 });
    expect(failures).toEqual(['SendPrepare', 'SendPrepare']);
    transport.failSends = false;
    now = (await txs.load(txId))!.record.nextCheckAtMs!;
    await handleCoordinatorInput({ type: 'Check', txId }, deps);
    expect(transport.types()).toEqual(['Prepare->ledger-0', 'Prepare->ledger-1']);
  });

  it('fences off a zombie: a coordinator whose lease was taken over cannot record its decision', async () => {
    // Prepare: A holds the slot and has one YES vote recorded.
    const a = coordinator('env-a');
    const b = coordinator('env-b');
    await handleCoordinatorInput(vote('ledger-0'), a);
    // A pauses between computing COMMIT and writing it; meanwhile B takes the slot over and
    // records an operator abort.
    const refused: unknown[] = [];
    let paused = false;
    const pausingTxs = Object.create(txs) as MemoryTxStore;
    pausingTxs.save = async (next, expectedVersion, fence) => {
      if (!paused) {
        paused = true;
        await handleCoordinatorInput({ type: 'OperatorAbort', txId, note: 'while A was paused' }, b);
      }
      return txs.save(next, expectedVersion, fence).catch((error) => {
        refused.push(error);
        throw error;
      });
    };

    // Act
    const zombie = await handleCoordinatorInput(vote('ledger-1'), { ...a, txs: pausingTxs });

    // Assess: A's COMMIT was refused by the fence; on its retry it found the decision and did
    // nothing; the transaction was decided exactly once (by B).
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(FenceLostError);
    expect(zombie.kind).toBe('unchanged');
    const record = (await txs.load(txId))!.record;
    expect(record.state).toBe('ABORTING');
    expect(record.reason).toBe('aborted by operator: while A was paused');
    expect(record.decidedEpoch).toBe((await slots.read(slotOf(txId, SLOTS)))!.epoch);
    expect(timelineOf(record).filter((e) => e.event.startsWith('decision'))).toHaveLength(1);
    expect(transport.types()).not.toContain('Commit->ledger-0');
    expect(transport.types().filter((t) => t.startsWith('Abort'))).toEqual([
      'Abort->ledger-0',
      'Abort->ledger-1',
    ]);
  });

  it('refuses a write carrying a stale epoch, then takes the slot back once instead of stalling it', async () => {
    const a = coordinator('env-a');
    const slot = slotOf(txId, SLOTS);
    await a.leases.fence(slot); // A holds epoch 1
    // B takes the slot over behind A's back (e.g. A was paused past its lease).
    await coordinator('env-b').leases.fence(slot);
    const attempts: Array<{ epoch: number; ok: boolean }> = [];
    const recordingTxs = Object.create(txs) as MemoryTxStore;
    recordingTxs.save = async (next, expectedVersion, fence) => {
      try {
        await txs.save(next, expectedVersion, fence);
        attempts.push({ epoch: fence.epoch, ok: true });
      } catch (error) {
        attempts.push({ epoch: fence.epoch, ok: false });
        throw error;
      }
    };

    // A still believes in its cached lease and records a vote.
    const result = await handleCoordinatorInput(vote('ledger-0'), { ...a, txs: recordingTxs });

    expect(attempts).toEqual([
      { epoch: 1, ok: false },
      { epoch: 3, ok: true },
    ]);
    expect(result.kind).toBe('changed');
    expect((await txs.load(txId))!.record.votes['ledger-0']?.vote).toBe('YES');
  });

  it('a zombie past its batch hold drops its input instead of taking the slot back (regression: ping-pong)', async () => {
    // Prepare: A holds epoch 1; its batch's visibility timeout runs out while it is paused, the
    // batch goes to B, which takes the slot over (epoch 2) and works on.
    const a = coordinator('env-a');
    const slot = slotOf(txId, SLOTS);
    await a.leases.fence(slot);
    await coordinator('env-b').leases.fence(slot, { heldUntilMs: now + 60_000 });
    const before = (await txs.load(txId))!.record;

    // Act: A resumes and tries to record a vote with its batch's hold over.
    const zombie = handleCoordinatorInput(vote('ledger-0'), { ...a, batch: { heldUntilMs: now - 1 } });

    // Assess: before, A took the slot back (epoch 3) and fenced B off, which took it back in turn.
    await expect(zombie).rejects.toBeInstanceOf(BatchLostError);
    expect(await slots.read(slot)).toMatchObject({ owner: 'env-b', epoch: 2 });
    expect((await txs.load(txId))!.record).toEqual(before);
  });

  it('lets an environment that still holds its batch take the slot back', async () => {
    const a = coordinator('env-a');
    const slot = slotOf(txId, SLOTS);
    await a.leases.fence(slot);
    await coordinator('env-b').leases.fence(slot);

    const result = await handleCoordinatorInput(vote('ledger-0'), { ...a, batch: { heldUntilMs: now + 1 } });

    expect(result.kind).toBe('changed');
    expect(await slots.read(slot)).toMatchObject({ owner: 'env-a', epoch: 3 });
  });

  it('gives up, for SQS to retry later, when the slot keeps being taken over', async () => {
    const a = coordinator('env-a');
    const slot = slotOf(txId, SLOTS);
    await a.leases.fence(slot);
    const rival = coordinator('env-b');
    const contestedTxs = Object.create(txs) as MemoryTxStore;
    contestedTxs.save = async (next, expectedVersion, fence) => {
      await rival.leases.forget(slot);
      await rival.leases.fence(slot); // the rival takes the slot over before every write of A
      return txs.save(next, expectedVersion, fence);
    };
    const before = (await txs.load(txId))!.record.version;

    await expect(
      handleCoordinatorInput(vote('ledger-0'), { ...a, txs: contestedTxs }),
    ).rejects.toBeInstanceOf(FenceLostError);
    expect((await txs.load(txId))!.record.version).toBe(before);
  });
});

describe('coordinator shell on a redelivered input', () => {
  it('re-arms the timer of the next check when a crash after the write lost the effects', async () => {
    // Prepare: a vote is durable but the process died right after the write.
    const slots = new MemorySlotStore();
    const txs = new MemoryTxStore(slots.fenceHolds);
    const transport = new RecordingTransport();
    let now = 1_000;
    const clock = { nowMs: () => now };
    const participants = [
      { id: 'ledger-0', kind: 'ledger', operations: [] },
      { id: 'ledger-1', kind: 'ledger', operations: [] },
    ];
    await txs.create({
      record: newTransaction({ txId: 'tx-r', slot: 0, participants }, now, config),
      requestHash: 'h',
    });
    const crashing: Faults = {
      crashPoint: (point) => {
        throw new InjectedCrashError(point, 'tx-r');
      },
      drop: () => false,
    };
    const deps = {
      txs,
      leases: new LeaseManager(slots, 'env', clock, leaseConfig),
      clock,
      transport,
      config,
    };
    const vote = { type: 'Vote', txId: 'tx-r', participantId: 'ledger-0', vote: 'YES' } as const;
    await expect(handleCoordinatorInput(vote, { ...deps, faults: crashing })).rejects.toThrow();
    expect(transport.timers).toEqual([]);

    // Act: SQS redelivers the vote; a first delivery of a duplicate would not arm anything.
    now += 300;
    await handleCoordinatorInput(vote, { ...deps, faults: NO_FAULTS });
    expect(transport.timers).toEqual([]);
    await handleCoordinatorInput(vote, { ...deps, faults: NO_FAULTS, redelivered: true });

    // Assess
    const next = (await txs.load('tx-r'))!.record.nextCheckAtMs!;
    expect(transport.timers).toEqual([{ txId: 'tx-r', atMs: next }]);
  });
});

import { describe, expect, it } from 'vitest';
import { bankAndShopRegistry } from '../../../dev/bank-and-shop';
import { MemoryTxStore } from '../../../shared/adapters/memory-tx-store';
import { ConflictError, UnprocessableError } from '../../../shared/errors';
import type { OnePhaseCommitter, OnePhaseResult, StoredTx } from '../../../shared/ports';
import { coordinatorStep, onePhaseRecord, type TxParticipant, timelineOf } from '../../../shared/protocol';
import { Transactions } from '../../../shared/transactions';

const config = {
  registry: bankAndShopRegistry(2),
  slotCount: 8,
  coordinator: { prepareTimeoutMs: 10_000, resendBaseMs: 100, resendCapMs: 1_600 },
};

const transfer = [
  { participant: 'ledger', action: 'debit', accountId: 'a', amount: 5 },
  { participant: 'ledger', action: 'credit', accountId: 'b', amount: 5 },
] as const;

/**
 * A committer over the memory store: `script` decides each call's result; a `committed` result
 * creates the record (as the one atomic write would), any other writes nothing.
 */
class ScriptedCommitter implements OnePhaseCommitter {
  readonly calls: StoredTx[] = [];
  constructor(
    private readonly store: MemoryTxStore,
    private readonly script: (call: number) => OnePhaseResult,
    private readonly covered = true,
  ) {}
  covers(): boolean {
    return this.covered;
  }
  async commit(tx: StoredTx): Promise<OnePhaseResult> {
    this.calls.push(tx);
    const result = this.script(this.calls.length);
    if (result.kind === 'committed') {
      const created = await this.store.create(tx);
      if (!created.created) return { kind: 'exists' };
    }
    return result;
  }
}

function setup(
  script: (call: number) => OnePhaseResult,
  options: { covered?: boolean; missing?: string[] } = {},
) {
  const store = new MemoryTxStore();
  const committer = new ScriptedCommitter(store, script, options.covered);
  /** The transactions the API sent Prepare for (each once, however many participants). */
  const started: string[] = [];
  const terminal: string[] = [];
  const transactions = new Transactions(
    {
      store,
      transport: {
        toParticipant: async (_participant, message) => {
          if (message.type === 'Prepare' && !started.includes(message.txId)) started.push(message.txId);
        },
        scheduleCheck: async () => {},
      },
      directory: {
        missing: async (refs) => refs.filter((ref) => (options.missing ?? []).includes(ref.id)),
      },
      clock: { nowMs: () => 5_000 },
      sleep: async () => {},
      onePhase: committer,
      onTerminal: (record) => terminal.push(`${record.txId}:${record.state}`),
    },
    config,
  );
  return { store, committer, transactions, started, terminal };
}

describe('the one-phase fast path', () => {
  it('commits in one write: terminal record off the due index, no Prepare', async () => {
    const { store, committer, transactions, started, terminal } = setup(() => ({
      kind: 'committed',
    }));
    const { record, replayed } = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });

    expect(replayed).toBe(false);
    expect(record).toMatchObject({
      mode: 'one-phase',
      state: 'COMMITTED',
      reason: null,
      nextCheckAtMs: null,
    });
    expect(committer.calls).toHaveLength(1);
    expect(started).toEqual([]);
    expect(terminal).toEqual([`${record.txId}:COMMITTED`]);
    expect((await store.load(record.txId))?.record.state).toBe('COMMITTED');
    expect(await store.due(Number.MAX_SAFE_INTEGER, 10)).toEqual({ due: [], live: 0 });
  });

  it('replays the same request and refuses a different one under the same key', async () => {
    const { committer, transactions } = setup(() => ({ kind: 'committed' }));
    const first = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    const again = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    expect(again).toMatchObject({ replayed: true, record: { txId: first.record.txId, state: 'COMMITTED' } });
    const other = [
      { ...transfer[0], amount: 6 },
      { ...transfer[1], amount: 6 },
    ];
    await expect(transactions.submit({ operations: other, idempotencyKey: 'k' })).rejects.toThrow(
      ConflictError,
    );
    expect(committer.calls).toHaveLength(3);
  });

  it('keeps a refusal as an ABORTED one-phase record with the reason, and replays it', async () => {
    const { store, transactions, started, terminal } = setup(() => ({
      kind: 'refused',
      participantId: 'ledger-0',
      reason: "insufficient funds on account 'a' (available 1, needed 5)",
    }));
    const { record } = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    expect(record).toMatchObject({
      mode: 'one-phase',
      state: 'ABORTED',
      reason: "participant ledger-0 refused: insufficient funds on account 'a' (available 1, needed 5)",
    });
    expect((await store.load(record.txId))?.record.state).toBe('ABORTED');
    expect(started).toEqual([]);
    expect(terminal).toEqual([`${record.txId}:ABORTED`]);
    const again = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    expect(again).toMatchObject({ replayed: true, record: { state: 'ABORTED' } });
  });

  it('falls back to two-phase when an item is contended, and answers 422 for an unknown entity', async () => {
    const contended = setup(() => ({ kind: 'contended' }));
    const { record } = await contended.transactions.submit({ operations: transfer });
    expect(record).toMatchObject({ mode: 'two-phase', state: 'PREPARING' });
    expect(contended.started).toEqual([record.txId]);

    const unknown = setup(() => ({ kind: 'unknown-entity' }), { missing: ['b'] });
    await expect(unknown.transactions.submit({ operations: transfer })).rejects.toThrow(UnprocessableError);
    expect(unknown.store.all()).toEqual([]);
  });

  it('answers 422 and writes nothing when an entity is unknown, even if another operation was refused', async () => {
    // Found by the chaos workload: an overdraft to an unknown account was kept as an ABORTED record.
    const { store, transactions } = setup(
      () => ({ kind: 'refused', participantId: 'ledger-0', reason: 'insufficient funds' }),
      { missing: ['b'] },
    );
    await expect(transactions.submit({ operations: transfer, idempotencyKey: 'k' })).rejects.toThrow(
      UnprocessableError,
    );
    expect(store.all()).toEqual([]);
  });

  it('is skipped when the request asks for two-phase or the committer does not cover the participants', async () => {
    const asked = setup(() => ({ kind: 'committed' }));
    const a = await asked.transactions.submit({ operations: transfer, commit: 'two-phase' });
    expect(a.record.mode).toBe('two-phase');
    expect(asked.committer.calls).toEqual([]);

    const uncovered = setup(() => ({ kind: 'committed' }), { covered: false });
    const b = await uncovered.transactions.submit({ operations: transfer });
    expect(b.record.mode).toBe('two-phase');
    expect(uncovered.committer.calls).toEqual([]);
  });

  it('replays a two-phase transaction an earlier attempt with the same key created', async () => {
    let call = 0;
    const { transactions, started } = setup(() =>
      ++call === 1 ? { kind: 'contended' } : { kind: 'exists' },
    );
    const first = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    const again = await transactions.submit({ operations: transfer, idempotencyKey: 'k' });
    expect(again).toMatchObject({ replayed: true, record: { txId: first.record.txId, mode: 'two-phase' } });
    // Prepare went out once: a replay sends nothing (the record's check re-sends a lost Prepare).
    expect(started).toEqual([first.record.txId]);
  });
});

describe('onePhaseRecord', () => {
  const participants: TxParticipant[] = [
    { id: 'ledger-0', kind: 'ledger', operations: [] },
    { id: 'ledger-1', kind: 'ledger', operations: [] },
  ];
  const tx = { txId: 'tx_1', slot: 3, participants };

  it('is born terminal, and every coordinator input leaves it unchanged', () => {
    const committed = onePhaseRecord(tx, 1_000, config.coordinator, { decision: 'COMMIT' });
    expect(committed).toMatchObject({
      state: 'COMMITTED',
      decidedAtMs: 1_000,
      completedAtMs: 1_000,
      version: 1,
    });
    expect(committed.timeline).toEqual([]);
    expect(timelineOf(committed).map((e) => e.event)).toEqual(['created', 'committed in one phase']);
    for (const input of [
      { type: 'Check', txId: 'tx_1' },
      { type: 'Vote', txId: 'tx_1', participantId: 'ledger-0', vote: 'YES' },
    ] as const) {
      expect(coordinatorStep(committed, input, 99_000, config.coordinator).state).toBe(committed);
    }
    const abort = coordinatorStep(
      committed,
      { type: 'OperatorAbort', txId: 'tx_1' },
      2_000,
      config.coordinator,
    );
    expect(abort.rejection?.decision).toBe('COMMIT');
  });

  it('names the refusing participant, which must be part of the transaction', () => {
    const aborted = onePhaseRecord(tx, 1_000, config.coordinator, {
      decision: 'ABORT',
      participantId: 'ledger-1',
      reason: 'insufficient funds',
    });
    expect(aborted).toMatchObject({
      state: 'ABORTED',
      reason: 'participant ledger-1 refused: insufficient funds',
    });
    expect(() =>
      onePhaseRecord(tx, 1_000, config.coordinator, { decision: 'ABORT', participantId: 'x', reason: 'no' }),
    ).toThrow(/no participant x/);
  });
});

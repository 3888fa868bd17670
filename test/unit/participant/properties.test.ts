import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MemoryParticipantStore } from '../../../shared/adapters/memory-participant-store';
import { type Faults, InjectedCrashError, NO_FAULTS } from '../../../shared/faults';
import type { ReservedOp } from '../../../shared/participant';
import { abort, commit, participant, prepare } from './helpers';

// Random ledgers and transactions, their messages duplicated and shuffled (Abort may overtake its
// Prepare), some deliveries crashing right after their write and being redelivered. The script
// respects the protocol: the coordinator decides once, when the first terminal message goes out —
// COMMIT only if the intent was to commit and the participant had voted YES by then, else ABORT.

const ACCOUNTS = ['a', 'b', 'c', 'd'] as const;

const opArb: fc.Arbitrary<ReservedOp> = fc.record({
  id: fc.constantFrom(...ACCOUNTS, 'ghost'),
  action: fc.constantFrom('take' as const, 'give' as const),
  amount: fc.integer({ min: 1, max: 80 }),
});

const txArb = fc.record({
  ops: fc.uniqueArray(opArb, { minLength: 1, maxLength: 4, selector: (op) => op.id }),
  commitIntended: fc.boolean(),
  prepares: fc.integer({ min: 1, max: 3 }),
  terminals: fc.integer({ min: 1, max: 3 }),
});

const scenarioArb = fc
  .record({
    totals: fc.array(fc.integer({ min: 0, max: 120 }), {
      minLength: ACCOUNTS.length,
      maxLength: ACCOUNTS.length,
    }),
    txs: fc.array(txArb, { minLength: 1, maxLength: 6 }),
  })
  .chain(({ totals, txs }) => {
    const events = txs.flatMap((tx, index) => [
      ...Array.from({ length: tx.prepares }, () => ({ tx: index, kind: 'prepare' as const })),
      ...Array.from({ length: tx.terminals }, () => ({ tx: index, kind: 'terminal' as const })),
    ]);
    return fc.record({
      totals: fc.constant(totals),
      txs: fc.constant(txs),
      order: fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      crashes: fc.array(fc.boolean(), { minLength: events.length, maxLength: events.length }),
    });
  });

const crashAlways: Faults = {
  crashPoint: (point, txId) => {
    throw new InjectedCrashError(point, txId);
  },
  drop: () => false,
};

/** held of each entity = the takes of the PREPARED barriers; available = total − held ≥ 0. */
function checkHolds(store: MemoryParticipantStore) {
  const heldByPrepared = new Map<string, number>();
  for (const barrier of store.barriers()) {
    if (barrier.state !== 'PREPARED') continue;
    for (const op of (barrier.reservation ?? []) as readonly ReservedOp[]) {
      if (op.action === 'take') heldByPrepared.set(op.id, (heldByPrepared.get(op.id) ?? 0) + op.amount);
    }
  }
  for (const entity of store.entities()) {
    expect(entity.held).toBe(heldByPrepared.get(entity.id) ?? 0);
    expect(entity.available).toBe(entity.total - entity.held);
    expect(entity.available).toBeGreaterThanOrEqual(0);
  }
}

describe('participant properties', () => {
  it('conserves value: totals move exactly by the committed deltas, and every hold is released', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ totals, txs, order, crashes }) => {
        // Prepare
        const seed = ACCOUNTS.map((id, i) => [id, totals[i]!] as const);
        const { store, deliver } = participant(seed);
        const txId = (index: number) => `tx-${index}`;
        const voted = new Map<number, 'YES' | 'NO'>();
        const decided = new Map<number, 'commit' | 'abort'>();

        // Act
        for (const [step, event] of order.entries()) {
          const tx = txs[event.tx]!;
          let message: ReturnType<typeof commit>;
          if (event.kind === 'prepare') {
            message = prepare(tx.ops, txId(event.tx));
          } else {
            if (!decided.has(event.tx)) {
              const commits = tx.commitIntended && voted.get(event.tx) === 'YES';
              decided.set(event.tx, commits ? 'commit' : 'abort');
            }
            message = decided.get(event.tx) === 'commit' ? commit(txId(event.tx)) : abort(txId(event.tx));
          }
          const outcome = await deliver(message, { faults: crashes[step] ? crashAlways : NO_FAULTS }).catch(
            (error: unknown) => {
              if (!(error instanceof InjectedCrashError)) throw error;
              return deliver(message); // SQS redelivers after the crash.
            },
          );
          if (outcome.reply.type === 'Vote' && !voted.has(event.tx)) voted.set(event.tx, outcome.reply.vote);
          checkHolds(store);
        }

        // Assess
        const expected = new Map<string, number>(seed);
        let committedDelta = 0;
        for (const [index, tx] of txs.entries()) {
          const commits = decided.get(index) === 'commit';
          expect(store.barrier(txId(index), 'ledger-0')?.state).toBe(commits ? 'COMMITTED' : 'ABORTED');
          if (!commits) continue;
          expect(voted.get(index)).toBe('YES');
          for (const op of tx.ops) {
            const delta = op.action === 'give' ? op.amount : -op.amount;
            expected.set(op.id, expected.get(op.id)! + delta);
            committedDelta += delta;
          }
        }
        const entities = store.entities();
        expect(entities.map((e) => [e.id, e.total, e.held])).toEqual(
          seed.map(([id]) => [id, expected.get(id), 0]),
        );
        const sumOf = (values: number[]) => values.reduce((sum, v) => sum + v, 0);
        expect(sumOf(entities.map((e) => e.total))).toBe(sumOf(totals) + committedDelta);
        expect(store.entity('ghost')).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});

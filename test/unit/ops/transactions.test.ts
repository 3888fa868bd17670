import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../../shared/ops/errors';
import {
  abortTransaction,
  findStuck,
  formatStuckTable,
  formatTransaction,
  missingOf,
  retryTransaction,
  selectStuck,
  toOperatorView,
} from '../../../shared/ops/transactions';
import { ackOf, COORDINATOR_URL, FakeTxReader, T0, tx, vote, world } from './fakes';

const S = 1_000;

describe('selectStuck', () => {
  // Prepare: the default config re-checks 5 s after each step; the prepare deadline is 30 s.
  const now = T0 + 300 * S;
  const young = tx('young', now - 10 * S); // next check in the future
  const overdue = tx('overdue', now - 50 * S); // next check 45 s late
  const old = tx('old-one', now - 200 * S);
  const committed = tx('done', now - 250 * S, [
    vote('ledger-0', 'YES', now - 250 * S),
    vote('ledger-1', 'YES', now - 250 * S),
    ackOf('ledger-0', 'COMMITTED', now - 249 * S),
    ackOf('ledger-1', 'COMMITTED', now - 249 * S),
  ]);

  it('keeps unfinished transactions overdue or older than the threshold, oldest first', () => {
    // Act
    const stuck = selectStuck([young, committed, overdue, old], now, 30 * S);

    // Assess
    expect(stuck.map((s) => s.txId)).toEqual(['old-one', 'overdue']);
    expect(stuck[1]).toMatchObject({ state: 'PREPARING', ageMs: 50 * S, overdueMs: 45 * S });
  });

  it('needs more than the threshold, not equal to it', () => {
    // A next check is never before creation, so `overdue` never exceeds `age`: age decides first.
    expect(selectStuck([overdue], now, 49 * S).map((s) => s.txId)).toEqual(['overdue']);
    expect(selectStuck([overdue], now, 50 * S)).toEqual([]);
    expect(selectStuck([young], now, 0).map((s) => s.txId)).toEqual(['young']);
  });

  it('names the missing votes before the decision and the missing acks after it', () => {
    const oneVote = tx('v', T0, [vote('ledger-0', 'YES', T0 + 1)]);
    const aborting = tx('a', T0, [vote('ledger-1', 'NO', T0 + 1), ackOf('ledger-1', 'ABORTED', T0 + 2)]);

    expect(missingOf(oneVote)).toEqual({ kind: 'votes', participants: ['ledger-1'] });
    expect(missingOf(aborting)).toEqual({ kind: 'acks', participants: ['ledger-0'] });
    expect(missingOf(tx('p', T0))).toEqual({ kind: 'votes', participants: ['ledger-0', 'ledger-1'] });
  });

  it('prints a table with age, next check and what is missing', () => {
    const table = formatStuckTable(selectStuck([overdue, old], now, 30 * S), now);

    expect(table.split('\n')).toEqual([
      'TX ID    STATE      AGE     NEXT CHECK      MISSING',
      'old-one  PREPARING  3m 20s  overdue 3m 15s  votes: ledger-0, ledger-1',
      'overdue  PREPARING  50s     overdue 45s     votes: ledger-0, ledger-1',
    ]);
  });
});

describe('findStuck', () => {
  it('reads every slot of the due index and the records, and selects the stuck ones', async () => {
    // Prepare
    const now = T0 + 120 * S;
    const records = [tx('a', T0), tx('bb', T0 + 110 * S), tx('ccc', T0, [vote('ledger-0', 'NO', T0)])];
    const reader = new FakeTxReader(records);

    // Act
    const report = await findStuck(reader, now, 60 * S);

    // Assess
    expect(report.scanned).toBe(3);
    expect(report.truncated).toBe(false);
    expect(report.stuck.map((s) => s.txId)).toEqual(['a', 'ccc']);
  });

  it('skips a record that expired between the index query and the read', async () => {
    const reader = new FakeTxReader([tx('a', T0)]);
    reader.loadAt = async () => undefined;
    expect((await findStuck(reader, T0 + 120 * S, 1)).stuck).toEqual([]);
  });

  it("finds stuck records in slots beyond the stack's slot count (regression: a count that went down)", async () => {
    // Before: `stuck` queried slots 0..SlotCount-1 only, so a record left in slot 37 after a
    // redeploy to 4 slots was invisible to the operator.
    const record = { ...tx('left-behind', T0), slot: 37 };
    const report = await findStuck(new FakeTxReader([record]), T0 + 120 * S, 60 * S);
    expect(report.stuck.map((s) => s.txId)).toEqual(['left-behind']);
  });
});

describe('show', () => {
  const record = tx('tx-show', T0, [
    vote('ledger-0', 'YES', T0 + 40),
    vote('ledger-1', 'NO', T0 + 55),
    ackOf('ledger-0', 'ABORTED', T0 + 90),
  ]);

  it('prints state, reason, participants and the timeline relative to creation', () => {
    const text = formatTransaction(record, T0 + 5 * S);

    expect(text).toContain('Transaction tx-show');
    expect(text).toContain('state      ABORTING (decided ABORT)');
    expect(text).toContain('reason     participant ledger-1 voted NO');
    expect(text).toMatch(/ledger-0 +ledger +YES +ABORTED/);
    expect(text).toMatch(/ledger-1 +ledger +NO +—/);
    expect(text).toMatch(/Timeline\n {2}\S+ \S+ +\+0ms {2}created/);
    expect(text).toMatch(/\+55ms {2}decision ABORT: participant ledger-1 voted NO/);
  });

  it('gives JSON with the API view and the coordinator bookkeeping', () => {
    expect(toOperatorView(record)).toMatchObject({
      txId: 'tx-show',
      state: 'ABORTING',
      reason: 'participant ledger-1 voted NO',
      timeline: expect.arrayContaining([{ atMs: T0, event: 'created' }]),
      coordinator: { slot: record.slot, version: record.version, nextCheckAtMs: record.nextCheckAtMs },
    });
  });
});

describe('retry', () => {
  it("enqueues a Check into the transaction's slot group with a fresh dedup id", async () => {
    // Prepare
    const record = tx('tx-retry', T0);
    const { queues, txs } = world([record]);

    // Act
    const said = await retryTransaction(txs, queues, COORDINATOR_URL, 'tx-retry', T0 + 60 * S);

    // Assess
    expect(queues.messages(COORDINATOR_URL)).toMatchObject([
      {
        body: JSON.stringify({ type: 'Check', txId: 'tx-retry' }),
        groupId: `slot-${record.slot}`,
        deduplicationId: `ops-Check-tx-retry-${T0 + 60 * S}`,
      },
    ]);
    expect(said).toContain(
      'its check is due (overdue 55s), so the coordinator will re-send Prepare to ledger-0, ledger-1',
    );
  });

  it('says when the check is not due yet (the coordinator ignores an early Check)', async () => {
    const { queues, txs } = world([tx('tx-early', T0)]);
    expect(await retryTransaction(txs, queues, COORDINATOR_URL, 'tx-early', T0 + S)).toContain(
      'its next check is not due yet (in 4.0s)',
    );
  });

  it('refuses an unknown or finished transaction and sends nothing', async () => {
    const done = tx('tx-done', T0, [
      ['OperatorAbort', T0],
      ackOf('ledger-0', 'ABORTED', T0),
      ackOf('ledger-1', 'ABORTED', T0),
    ]);
    const { queues, txs } = world([done]);

    await expect(retryTransaction(txs, queues, COORDINATOR_URL, 'nope', T0)).rejects.toThrow(
      new RefusedError('no transaction nope in the transaction log'),
    );
    await expect(retryTransaction(txs, queues, COORDINATOR_URL, 'tx-done', T0)).rejects.toThrow(
      /is ABORTED: it is finished, nothing to retry/,
    );
    expect(queues.messages(COORDINATOR_URL)).toEqual([]);
  });
});

describe('abort', () => {
  it('enqueues OperatorAbort with the note for an undecided transaction', async () => {
    // Prepare
    const record = tx('tx-abort', T0);
    const { queues, txs, clock } = world([record]);

    // Act
    const result = await abortTransaction(
      txs,
      queues,
      COORDINATOR_URL,
      { txId: 'tx-abort', note: 'ops' },
      clock,
    );

    // Assess
    expect(result.exitCode).toBe(0);
    expect(queues.messages(COORDINATOR_URL)).toMatchObject([
      {
        body: JSON.stringify({ type: 'OperatorAbort', txId: 'tx-abort', note: 'ops' }),
        groupId: `slot-${record.slot}`,
      },
    ]);
  });

  it.each([
    ['COMMITTING', [vote('ledger-0', 'YES', T0), vote('ledger-1', 'YES', T0)]],
    ['ABORTING', [vote('ledger-0', 'NO', T0)]],
  ] as const)('refuses a %s transaction: the decision stands', async (state, inputs) => {
    const { queues, txs, clock } = world([tx('tx-decided', T0, inputs)]);

    await expect(
      abortTransaction(txs, queues, COORDINATOR_URL, { txId: 'tx-decided' }, clock),
    ).rejects.toThrow(new RegExp(`is ${state}: the decision (COMMIT|ABORT) is recorded and stands`));
    expect(queues.messages(COORDINATOR_URL)).toEqual([]);
  });

  it('with --wait, reports the recorded decision, and a COMMIT that won the race as a refusal', async () => {
    // Prepare: the coordinator decides while the command waits.
    const { queues, txs, clock } = world([tx('tx-race', T0)]);
    const load = txs.load.bind(txs);
    let reads = 0;
    txs.load = async (txId) => {
      reads++;
      if (reads === 3) {
        txs.records.set(txId, tx('tx-race', T0, [vote('ledger-0', 'YES', T0), vote('ledger-1', 'YES', T0)]));
      }
      return load(txId);
    };

    // Act
    const result = await abortTransaction(
      txs,
      queues,
      COORDINATOR_URL,
      { txId: 'tx-race', waitMs: 10 * S },
      clock,
    );

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.lines.at(-1)).toContain('decided COMMIT before the abort arrived; that decision stands');
  });

  it('with --wait, gives up politely when nothing was decided in time', async () => {
    const { queues, txs, clock } = world([tx('tx-slow', T0)]);
    const result = await abortTransaction(
      txs,
      queues,
      COORDINATOR_URL,
      { txId: 'tx-slow', waitMs: 2 * S },
      clock,
    );
    expect(result).toEqual({
      exitCode: 0,
      lines: [
        expect.stringContaining('Enqueued OperatorAbort'),
        'Still PREPARING after 2.0s; the abort stays queued.',
      ],
    });
  });
});

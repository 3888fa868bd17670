import { describe, expect, it } from 'vitest';
import {
  type AccountObservation,
  buildReport,
  formatReport,
  type ObservedTransaction,
  type RunFacts,
  reasonClass,
  type TransferObservation,
} from '../../../dev/chaos/report';
import type { TransferSpec } from '../../../dev/chaos/workload';

// The judging of a chaos run over fabricated observations: a clean run has no violation, and each
// broken invariant is named.

const facts: RunFacts = {
  seed: 1,
  runId: 'r',
  clients: 2,
  startedAtMs: 0,
  submittedAtMs: 1_000,
  quiescedAtMs: 10_000,
  takeovers: 3,
  takeoverSlots: [1, 2, 3],
  dlq: { found: 0, redriven: 0, foreign: 0, errors: [] },
};

function spec(index: number, overrides: Partial<TransferSpec> = {}): TransferSpec {
  return {
    index,
    idempotencyKey: `k${index}`,
    recordKey: `tx${index}`,
    from: 'a',
    to: 'b',
    amount: 10,
    kind: 'normal',
    retry: 'none',
    faults: {},
    ...overrides,
  };
}

function tx(s: TransferSpec, state: 'COMMITTED' | 'ABORTED', overrides: Partial<ObservedTransaction> = {}) {
  const ack = state;
  const vote = state === 'COMMITTED' ? 'YES' : 'NO';
  return {
    txId: s.recordKey,
    state,
    outcome: state,
    ...(state === 'ABORTED'
      ? { reason: `participant ledger-0 voted NO: insufficient funds on account '${s.from}'` }
      : {}),
    participants: [
      { id: 'ledger-0', operations: [{ accountId: s.from, action: 'debit', amount: s.amount }], vote, ack },
      {
        id: 'ledger-1',
        operations: [{ accountId: s.to, action: 'credit', amount: s.amount }],
        vote: 'YES',
        ack,
      },
    ],
    completedAtMs: 500,
    timeline: [{ atMs: 0, event: 'created' }],
    ...overrides,
  } satisfies ObservedTransaction;
}

function observed(
  s: TransferSpec,
  transaction: ObservedTransaction | undefined,
  extra: Partial<TransferObservation> = {},
) {
  const barrier = transaction?.state === 'COMMITTED' ? 'COMMITTED' : 'ABORTED';
  return {
    spec: s,
    submittedAtMs: 100,
    first: { status: 202, txId: s.recordKey },
    ...(transaction ? { transaction } : {}),
    barriers: transaction ? { 'ledger-0': barrier, 'ledger-1': barrier } : {},
    hits: {},
    ...extra,
  } satisfies TransferObservation;
}

/** Two transfers a → b of 10 (one committed, one aborted), a 422 and a 409, and the balances they leave. */
function cleanRun() {
  const committed = spec(0, {
    faults: { crash: ['coordinator.after-save'], conflict: { 'participant.write': 4 } },
    retry: 'same',
  });
  const aborted = spec(1, { kind: 'overdraw', amount: 5_000, retry: 'changed' });
  const refused = spec(2, { kind: 'unknown-account', to: 'ghost' });
  const transfers: TransferObservation[] = [
    observed(
      committed,
      tx(committed, 'COMMITTED', { timeline: [{ atMs: 1, event: 're-sent Prepare to ledger-0 (round 1)' }] }),
      {
        retry: { status: 200, txId: committed.recordKey },
        hits: { 'coordinator.after-save': 2, 'duplicate.Vote': 3, 'conflict.participant.write': 4 },
      },
    ),
    observed(aborted, tx(aborted, 'ABORTED'), { retry: { status: 409 } }),
    observed(refused, undefined, { first: { status: 422 } }),
  ];
  const accounts: AccountObservation[] = [
    { accountId: 'a', openingBalance: 100, balance: 90, available: 90 },
    { accountId: 'b', openingBalance: 0, balance: 10, available: 10 },
  ];
  return { transfers, accounts };
}

/** Accounts a (opening 100) and b (opening 0) with the given closing balances and no holds. */
const balances = (a: number, b: number): AccountObservation[] => [
  { accountId: 'a', openingBalance: 100, balance: a, available: a },
  { accountId: 'b', openingBalance: 0, balance: b, available: b },
];

describe('buildReport', () => {
  it('finds no violation in a clean run and counts what happened', () => {
    const { transfers, accounts } = cleanRun();

    const report = buildReport(facts, transfers, accounts);

    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({
      transfers: 3,
      transactions: 2,
      committed: 1,
      aborted: 1,
      refused422: 1,
      conflicts409: 1,
      retriedSameKey: 1,
      recoveries: 1,
      duplicatesSent: 3,
      takeovers: 3,
      abortsByReason: { 'voted NO: insufficient funds on account': 1 },
      faultsPlanned: { 'coordinator.after-save': 1, 'conflict.participant.write': 1 },
      latencyMs: { p50: 400, p99: 400, max: 400 },
      durationMs: { submit: 1_000, quiesce: 9_000, total: 10_000 },
    });
    expect(report.faultsInjected).toMatchObject({
      'coordinator.after-save': 2,
      'coordinator.after-decision': 0,
      'participant.vote': 0,
      'conflict.coordinator.save': 0,
      'conflict.participant.write': 4,
    });
    expect(formatReport(report)).toMatch(
      /faults injected .*\n(.*\n)*\s+conflict\.coordinator\.save\s+0\n\s+conflict\.participant\.write\s+4\n/,
    );
  });

  it('judges events out when the run listened: every terminal transaction announced, and only as it ended', () => {
    const { transfers, accounts } = cleanRun();
    const [committed, aborted, refused] = transfers as [
      TransferObservation,
      TransferObservation,
      TransferObservation,
    ];
    const heard = (announced: string[][]) =>
      buildReport(
        facts,
        [
          { ...committed, announced: announced[0]! },
          { ...aborted, announced: announced[1]! },
          { ...refused, announced: [] },
        ],
        accounts,
      );

    const clean = heard([['COMMITTED', 'COMMITTED'], ['ABORTED']]);
    expect(clean.violations).toEqual([]);
    expect(clean.events).toEqual({ announced: 2, duplicates: 1 });
    expect(buildReport(facts, transfers, accounts).events).toBeUndefined();

    expect(heard([[], ['ABORTED', 'COMMITTED']]).violations).toEqual([
      'transfer 0 (tx0): COMMITTED but no event announced it',
      'transfer 1 (tx1): ABORTED but an event announced it COMMITTED',
    ]);
  });

  it('checks a one-phase transaction by the absence of any participant trace', () => {
    const s = spec(0);
    const onePhase = tx(s, 'COMMITTED', {
      mode: 'one-phase',
      participants: [
        { id: 'ledger-0', operations: [{ accountId: s.from, action: 'debit', amount: s.amount }] },
        { id: 'ledger-1', operations: [{ accountId: s.to, action: 'credit', amount: s.amount }] },
      ],
    });
    const clean = observed(s, onePhase, { barriers: {} });
    expect(buildReport(facts, [clean], balances(90, 10)).violations).toEqual([]);

    const traced = observed(s, onePhase, { barriers: { 'ledger-0': 'PREPARED' } });
    expect(buildReport(facts, [traced], balances(90, 10)).violations).toEqual([
      `transfer 0 (${s.recordKey}): one-phase, yet ledger-0 has a barrier (PREPARED)`,
    ]);
  });

  it('names money created or lost, holds left behind and balances that disagree with the log', () => {
    const { transfers } = cleanRun();
    const accounts: AccountObservation[] = [
      { accountId: 'a', openingBalance: 100, balance: 90, available: 80 },
      { accountId: 'b', openingBalance: 0, balance: 11, available: 11 },
    ];

    const { violations } = buildReport(facts, transfers, accounts);

    expect(violations).toEqual([
      'conservation: balances sum to 101, opening balances to 100',
      'account a: a hold is left (balance 90, available 80)',
      'account b: balance 11, but opening + committed transfers give 10',
    ]);
  });

  it('names a negative available balance', () => {
    const { violations } = buildReport(
      facts,
      [],
      [{ accountId: 'a', openingBalance: 0, balance: 0, available: -1 }],
    );
    expect(violations).toContain('account a: available balance -1 < 0');
  });

  it('names participants that disagree with the coordinator, and an undecided transaction', () => {
    const s0 = spec(0);
    const s1 = spec(1);
    const s2 = spec(2);
    const transfers = [
      observed(s0, tx(s0, 'COMMITTED'), { barriers: { 'ledger-0': 'COMMITTED', 'ledger-1': 'ABORTED' } }),
      observed(s1, tx(s1, 'ABORTED'), { barriers: { 'ledger-0': 'PREPARED', 'ledger-1': 'COMMITTED' } }),
      observed(s2, { ...tx(s2, 'ABORTED'), state: 'PREPARING', outcome: undefined }),
    ];

    const { violations, notTerminal } = buildReport(facts, transfers, balances(90, 10));

    expect(violations).toEqual([
      "transfer 0 (tx0): COMMITTED but ledger-1's barrier is ABORTED",
      "transfer 1 (tx1): ABORTED but ledger-0's barrier is PREPARED",
      "transfer 1 (tx1): ABORTED but ledger-1's barrier is COMMITTED",
      'transfer 2 (tx2): not terminal at the end (PREPARING)',
    ]);
    expect(notTerminal).toBe(1);
  });

  it('names a commit without every YES, a committed overdraft and a changed amount', () => {
    const s0 = spec(0, { kind: 'overdraw', amount: 10 });
    const committedOnNo = tx(s0, 'COMMITTED');
    const withNo = {
      ...committedOnNo,
      participants: committedOnNo.participants.map((p, i) => (i === 0 ? { ...p, vote: 'NO' } : p)),
    };
    const s1 = spec(1, { amount: 11 });

    const { violations } = buildReport(
      facts,
      [observed(s0, withNo), observed(s1, tx({ ...s1, amount: 10 }, 'COMMITTED'))],
      balances(80, 20),
    );

    expect(violations).toEqual([
      'transfer 0 (tx0): COMMITTED although ledger-0 voted NO',
      'transfer 0 (tx0): an overdraft of 10 COMMITTED',
      'transfer 1 (tx1): moves 10, but the first request asked for 11',
    ]);
  });

  it('names wrong answers to refused and retried requests, and lost transactions', () => {
    const refused = spec(0, { kind: 'unknown-account' });
    const same = spec(1, { retry: 'same' });
    const changed = spec(2, { retry: 'changed' });
    const lost = spec(3);
    const transfers = [
      observed(refused, tx(refused, 'ABORTED'), { first: { status: 202, txId: refused.recordKey } }),
      observed(same, tx(same, 'ABORTED'), { retry: { status: 202, txId: 'tx_other' } }),
      observed(changed, tx(changed, 'ABORTED'), { retry: { status: 202, txId: changed.recordKey } }),
      observed(lost, undefined),
    ];

    const { violations } = buildReport(facts, transfers, []);

    expect(violations).toEqual([
      'transfer 0 (tx0): names an unknown account but was answered 202, not 422',
      'transfer 0 (tx0): refused with 422 but a transaction was written',
      'transfer 1 (tx1): a retry with the same key answered another transaction tx_other',
      'transfer 2 (tx2): the key re-used with another amount was answered 202, not 409',
      'transfer 3 (tx3): accepted but GET /transactions finds no transaction',
    ]);
  });
});

describe('report helpers', () => {
  it('classes abort reasons without ids and amounts', () => {
    expect(
      reasonClass("participant ledger-1 voted NO: insufficient funds on account 'x' (available 3, needed 9)"),
    ).toBe('voted NO: insufficient funds on account');
    expect(
      reasonClass("participant ledger-0 refused: insufficient funds on account 'x' (available 3, needed 9)"),
    ).toBe('refused: insufficient funds on account');
    expect(reasonClass('prepare timeout')).toBe('prepare timeout');
    expect(reasonClass(undefined)).toBe('(none)');
  });
});

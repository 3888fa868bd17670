import {
  CONFLICT_POINTS,
  type ConflictPoint,
  CRASH_POINTS,
  conflictHit,
  DROP_POINTS,
  type FaultPlan,
} from '../../shared/faults';
import { nearestRank } from '../../shared/percentile';
import { recordKeyOf } from '../../shared/txid';
import type { TransferSpec } from './workload';

/** A barrier item's state at a participant (`barrier#<txId>#<participantId>`), null when absent. */
export type BarrierState = 'PREPARED' | 'VOTED_NO' | 'COMMITTED' | 'ABORTED' | null;

/** The part of `GET /transactions/{txId}` the checks read. */
export interface ObservedTransaction {
  readonly txId: string;
  readonly state: string;
  /** `one-phase` or `two-phase` (absent in answers of older versions: two-phase). */
  readonly mode?: string;
  readonly outcome?: string;
  readonly reason?: string;
  readonly participants: ReadonlyArray<{
    readonly id: string;
    /** The ledger's operations as recorded: `{action: debit | credit, accountId, amount}`. */
    readonly operations: ReadonlyArray<{
      readonly accountId: string;
      readonly action: string;
      readonly amount: number;
    }>;
    readonly vote?: string;
    readonly ack?: string;
  }>;
  readonly completedAtMs?: number;
  readonly timeline: ReadonlyArray<{ readonly atMs: number; readonly event: string }>;
}

export interface Answer {
  readonly status: number;
  readonly txId?: string;
}

/** Everything seen of one transfer: the answers to its requests and the end state. */
export interface TransferObservation {
  readonly spec: TransferSpec;
  readonly submittedAtMs: number;
  readonly first: Answer;
  readonly retry?: Answer;
  /** The transaction at the end; undefined when GET answered 404. */
  readonly transaction?: ObservedTransaction;
  /** Barrier state per participant of the transaction, read from the participants' tables. */
  readonly barriers: Readonly<Record<string, BarrierState>>;
  /** Faults that fired, counted by the handlers on the plan item (`hits.<fault>`). */
  readonly hits: Readonly<Record<string, number>>;
  /**
   * Events out: the outcomes a subscriber to the stack's bus received for this transaction, one
   * per delivery; undefined when the run did not listen (a stack deployed with events off).
   */
  readonly announced?: readonly string[];
}

export interface AccountObservation {
  readonly accountId: string;
  readonly openingBalance: number;
  readonly balance: number;
  readonly available: number;
}

export interface DlqSummary {
  /** Messages of this run found in dead-letter queues (then redriven to their source queue). */
  readonly found: number;
  readonly redriven: number;
  /** Messages of other workloads left where they were. */
  readonly foreign: number;
  /** Why the found ones were dead-lettered (the `error` attribute, when there is one). */
  readonly errors: readonly string[];
}

export interface RunFacts {
  readonly seed: number;
  readonly runId: string;
  readonly clients: number;
  readonly startedAtMs: number;
  /** When the last request of the workload was answered. */
  readonly submittedAtMs: number;
  /** When every transaction was seen terminal (or the wait gave up). */
  readonly quiescedAtMs: number;
  readonly takeovers: number;
  readonly takeoverSlots: readonly number[];
  readonly dlq: DlqSummary;
}

export interface ChaosReport {
  readonly seed: number;
  readonly runId: string;
  readonly clients: number;
  readonly accounts: number;
  readonly transfers: number;
  /** Transactions the API created (every transfer but the refused ones). */
  readonly transactions: number;
  readonly committed: number;
  readonly aborted: number;
  readonly abortsByReason: Readonly<Record<string, number>>;
  readonly notTerminal: number;
  readonly refused422: number;
  readonly conflicts409: number;
  readonly retriedSameKey: number;
  /** Transactions whose plan asked for each fault. */
  readonly faultsPlanned: Readonly<Record<string, number>>;
  /**
   * Faults that fired, summed over the transactions' recorded hits: each crash and drop point, and
   * `conflict.<point>` for the writes cancelled with `TransactionConflict` there (0 when none).
   */
  readonly faultsInjected: Readonly<Record<string, number>>;
  /** Messages sent twice (every `duplicate.*` hit). */
  readonly duplicatesSent: number;
  readonly takeovers: number;
  /** Transactions whose timeline shows a re-send or a begin by a check. */
  readonly recoveries: number;
  readonly durationMs: { readonly submit: number; readonly quiesce: number; readonly total: number };
  /** Terminal transactions per second, over the whole run. */
  readonly throughputPerS: number;
  /** Submit → terminal (the record's completedAtMs). */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly dlq: DlqSummary;
  /** Events out, as a subscriber saw them; undefined when the run did not listen. */
  readonly events?: { readonly announced: number; readonly duplicates: number };
  readonly violations: readonly string[];
}

export const isTerminalState = (state: string | undefined) => state === 'COMMITTED' || state === 'ABORTED';

/** An abort reason without ids and amounts, to count aborts by kind. */
export function reasonClass(reason: string | undefined): string {
  if (!reason) return '(none)';
  const voted = /^participant \S+ (voted NO|refused)(?::\s*([^(']*))?/.exec(reason);
  if (voted) return `${voted[1]}${voted[2] ? `: ${voted[2].trim()}` : ''}`;
  return reason.replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
}

const RECOVERY = /^re-sent |^begin \(by check\)/;

function plannedFaultNames(plan: FaultPlan): string[] {
  const conflicts = Object.keys(plan.conflict ?? {}) as ConflictPoint[];
  return [
    ...(plan.crash ?? []),
    ...(plan.drop ?? []),
    ...(plan.duplicate ? ['duplicate'] : []),
    ...conflicts.map(conflictHit),
  ];
}

/**
 * The report of a chaos run and the invariant violations its observations show. Pure: the runner
 * gathers the observations, this judges them (so the judging is tested on fabricated data).
 */
export function buildReport(
  facts: RunFacts,
  transfers: readonly TransferObservation[],
  accounts: readonly AccountObservation[],
): ChaosReport {
  const violations: string[] = [];
  const flag = (what: string) => violations.push(what);
  const faultsPlanned: Record<string, number> = {};
  const faultsInjected: Record<string, number> = Object.fromEntries(
    [...CRASH_POINTS, ...DROP_POINTS, ...CONFLICT_POINTS.map(conflictHit)].map((p) => [p, 0]),
  );
  const abortsByReason: Record<string, number> = {};
  const latencies: number[] = [];
  const expected = new Map(accounts.map((a) => [a.accountId, a.openingBalance]));
  let [committed, aborted, notTerminal, refused422, conflicts409, retriedSameKey, recoveries] = [
    0, 0, 0, 0, 0, 0, 0,
  ];
  let transactions = 0;
  const listened = transfers.some((o) => o.announced !== undefined);
  let [announced, duplicateEvents] = [0, 0];

  for (const o of transfers) {
    const { spec } = o;
    const label = `transfer ${spec.index} (${o.transaction?.txId ?? o.first.txId ?? spec.recordKey})`;
    if (spec.kind === 'unknown-account') {
      if (o.first.status === 422) refused422++;
      else flag(`${label}: names an unknown account but was answered ${o.first.status}, not 422`);
      if (o.transaction) flag(`${label}: refused with 422 but a transaction was written`);
      continue;
    }
    if (o.first.status !== 202 && o.first.status !== 200) {
      flag(`${label}: answered ${o.first.status}, not 202`);
    } else if (o.first.txId === undefined || recordKeyOf(o.first.txId) !== spec.recordKey) {
      flag(`${label}: answered transaction ${o.first.txId}, not one of its idempotency key`);
    } else if (o.transaction && o.transaction.txId !== o.first.txId) {
      flag(`${label}: answered transaction ${o.first.txId}, but its key holds ${o.transaction.txId}`);
    }
    if (spec.retry === 'same') {
      retriedSameKey++;
      if (o.retry?.status !== 200 && o.retry?.status !== 202) {
        flag(`${label}: a retry with the same key and body was answered ${o.retry?.status}`);
      } else if (o.retry.txId !== o.first.txId) {
        flag(`${label}: a retry with the same key answered another transaction ${o.retry.txId}`);
      }
    }
    if (spec.retry === 'changed') {
      if (o.retry?.status === 409) conflicts409++;
      else flag(`${label}: the key re-used with another amount was answered ${o.retry?.status}, not 409`);
    }
    for (const name of plannedFaultNames(spec.faults)) faultsPlanned[name] = (faultsPlanned[name] ?? 0) + 1;
    for (const [name, n] of Object.entries(o.hits)) faultsInjected[name] = (faultsInjected[name] ?? 0) + n;

    const tx = o.transaction;
    if (!tx) {
      flag(`${label}: accepted but GET /transactions finds no transaction`);
      continue;
    }
    transactions++;
    if (tx.timeline.some((e) => RECOVERY.test(e.event))) recoveries++;
    if (!isTerminalState(tx.state)) {
      notTerminal++;
      flag(`${label}: not terminal at the end (${tx.state})`);
      continue;
    }
    if (tx.outcome !== tx.state) flag(`${label}: state ${tx.state} but outcome ${tx.outcome}`);
    if (o.announced !== undefined) {
      if (o.announced.length === 0) flag(`${label}: ${tx.state} but no event announced it`);
      else announced++;
      duplicateEvents += Math.max(0, o.announced.length - 1);
      for (const outcome of new Set(o.announced)) {
        if (outcome !== tx.state) flag(`${label}: ${tx.state} but an event announced it ${outcome}`);
      }
    }
    if (tx.completedAtMs !== undefined) latencies.push(tx.completedAtMs - o.submittedAtMs);
    const takes = tx.participants
      .flatMap((p) => p.operations)
      .filter((op) => op.action === 'debit')
      .reduce((sum, op) => sum + op.amount, 0);
    if (takes !== spec.amount)
      flag(`${label}: moves ${takes}, but the first request asked for ${spec.amount}`);

    for (const p of tx.participants) {
      const barrier = o.barriers[p.id] ?? null;
      if (tx.mode === 'one-phase') {
        // One atomic write applied every operation (or none): no participant ever saw it.
        if (barrier !== null) flag(`${label}: one-phase, yet ${p.id} has a barrier (${barrier})`);
        if (p.vote !== undefined || p.ack !== undefined)
          flag(`${label}: one-phase, yet ${p.id} voted or acknowledged`);
        continue;
      }
      if (tx.state === 'COMMITTED') {
        if (p.vote !== 'YES') flag(`${label}: COMMITTED although ${p.id} voted ${p.vote ?? 'nothing'}`);
        if (barrier !== 'COMMITTED')
          flag(`${label}: COMMITTED but ${p.id}'s barrier is ${barrier ?? 'absent'}`);
      } else if (barrier === 'COMMITTED' || barrier === 'PREPARED') {
        flag(`${label}: ABORTED but ${p.id}'s barrier is ${barrier}`);
      }
      if (p.ack !== tx.state) flag(`${label}: ${tx.state} but ${p.id} acknowledged ${p.ack ?? 'nothing'}`);
    }
    if (tx.state === 'COMMITTED') {
      committed++;
      if (spec.kind === 'overdraw') flag(`${label}: an overdraft of ${spec.amount} COMMITTED`);
      for (const op of tx.participants.flatMap((p) => p.operations)) {
        const before = expected.get(op.accountId);
        if (before === undefined)
          flag(`${label}: moved money of ${op.accountId}, which is not an account of this run`);
        else expected.set(op.accountId, before + (op.action === 'credit' ? op.amount : -op.amount));
      }
    } else {
      aborted++;
      const cls = reasonClass(tx.reason);
      abortsByReason[cls] = (abortsByReason[cls] ?? 0) + 1;
      if (!tx.reason) flag(`${label}: ABORTED without a reason`);
    }
  }

  const opening = accounts.reduce((sum, a) => sum + a.openingBalance, 0);
  const closing = accounts.reduce((sum, a) => sum + a.balance, 0);
  if (closing !== opening) flag(`conservation: balances sum to ${closing}, opening balances to ${opening}`);
  for (const a of accounts) {
    if (a.available < 0) flag(`account ${a.accountId}: available balance ${a.available} < 0`);
    if (a.available !== a.balance) {
      flag(`account ${a.accountId}: a hold is left (balance ${a.balance}, available ${a.available})`);
    }
    const want = expected.get(a.accountId);
    if (a.balance !== want) {
      flag(`account ${a.accountId}: balance ${a.balance}, but opening + committed transfers give ${want}`);
    }
  }

  const duplicatesSent = Object.entries(faultsInjected)
    .filter(([name]) => name.startsWith('duplicate.'))
    .reduce((sum, [, n]) => sum + n, 0);
  latencies.sort((a, b) => a - b);
  const total = facts.quiescedAtMs - facts.startedAtMs;
  return {
    seed: facts.seed,
    runId: facts.runId,
    clients: facts.clients,
    accounts: accounts.length,
    transfers: transfers.length,
    transactions,
    committed,
    aborted,
    abortsByReason,
    notTerminal,
    refused422,
    conflicts409,
    retriedSameKey,
    faultsPlanned,
    faultsInjected,
    duplicatesSent,
    takeovers: facts.takeovers,
    recoveries,
    durationMs: {
      submit: facts.submittedAtMs - facts.startedAtMs,
      quiesce: facts.quiescedAtMs - facts.submittedAtMs,
      total,
    },
    throughputPerS: total > 0 ? Math.round(((committed + aborted) / total) * 1000 * 100) / 100 : 0,
    latencyMs: {
      p50: nearestRank(latencies, 50) ?? 0,
      p99: nearestRank(latencies, 99) ?? 0,
      max: nearestRank(latencies, 100) ?? 0,
    },
    dlq: facts.dlq,
    ...(listened ? { events: { announced, duplicates: duplicateEvents } } : {}),
    violations,
  };
}

/** The report as text for a terminal. */
export function formatReport(r: ChaosReport): string {
  const table = (rows: Record<string, number>) =>
    Object.entries(rows)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `    ${k.padEnd(44)} ${v}`)
      .join('\n') || '    (none)';
  return [
    `chaos run ${r.runId} (seed ${r.seed}): ${r.transfers} transfers by ${r.clients} clients over ${r.accounts} accounts`,
    `  transactions        ${r.transactions} (committed ${r.committed}, aborted ${r.aborted}, not terminal ${r.notTerminal})`,
    `  refused             ${r.refused422} × 422 (unknown account), ${r.conflicts409} × 409 (key re-used), ${r.retriedSameKey} same-key retries`,
    `  aborts by reason`,
    table(r.abortsByReason),
    `  faults planned (transactions)`,
    table(r.faultsPlanned),
    `  faults injected (recorded by the handlers; conflict.*: writes cancelled with TransactionConflict)`,
    table(r.faultsInjected),
    `  duplicates sent     ${r.duplicatesSent}`,
    `  lease takeovers     ${r.takeovers}`,
    `  recoveries          ${r.recoveries} (timeline shows a re-send or a begin by check)`,
    `  DLQ                 ${r.dlq.found} found, ${r.dlq.redriven} redriven, ${r.dlq.foreign} of other workloads left alone`,
    ...r.dlq.errors.map((e) => `    ${e}`),
    `  time                submit ${(r.durationMs.submit / 1000).toFixed(1)} s, quiesce ${(r.durationMs.quiesce / 1000).toFixed(1)} s, total ${(r.durationMs.total / 1000).toFixed(1)} s`,
    ...(r.events
      ? [
          `  events out          ${r.events.announced} of ${r.committed + r.aborted} terminal transactions announced (${r.events.duplicates} duplicate deliveries)`,
        ]
      : []),
    `  throughput          ${r.throughputPerS} terminal transactions/s`,
    `  latency             p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms (submit → terminal)`,
    `  violations          ${r.violations.length}`,
    ...r.violations.map((v) => `    ✗ ${v}`),
  ].join('\n');
}

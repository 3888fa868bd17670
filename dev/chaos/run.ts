import { mapConcurrent } from '../../shared/concurrency';
import { slotOf } from '../../shared/protocol';
import { Prng } from '../../sim/prng';
import type { LocalDeployment } from '../deploy';
import { listenToOutcomes } from '../outcomes';
import {
  type AccountObservation,
  type Answer,
  buildReport,
  type ChaosReport,
  type DlqSummary,
  isTerminalState,
  type ObservedTransaction,
  type TransferObservation,
} from './report';
import { ChaosStack, sleep } from './stack';
import { type ChaosRates, DEFAULT_RATES, hasFaults, planWorkload, type Workload } from './workload';

export interface ChaosOptions {
  readonly seed: number;
  readonly accounts: number;
  readonly clients: number;
  readonly transfers: number;
  /**
   * Each client's POST holds up to this many seconds for the outcome (`?wait=N`) before it goes on
   * to its next transfer: back-pressure, so the load stays near what the stack can decide within
   * its prepare timeout. 0: fire and forget.
   */
  readonly clientWaitS: number;
  readonly rates: ChaosRates;
  /** Each fault is forced on this many of the first valid transfers (coverage in short runs). */
  readonly forcedCoverage: number;
  /** A forced lease takeover this often while transactions are in flight; 0 for none. */
  readonly takeoverEveryMs: number;
  /** Takeovers go on this long after the last transfer was submitted (faults then stop). */
  readonly takeoverWindowMs: number;
  /** The lease a fake owner takes (the stack's leaseDurationMs). */
  readonly leaseDurationMs: number;
  /**
   * How long to wait for every transaction to be terminal once the workload is in. Recovery needs
   * the prepare timeout (20 s on the test stack), a FIFO visibility timeout after a crash (30 s,
   * during which the slot's group waits) and the sweeper (every minute) — several of them in a row.
   */
  readonly quiesceTimeoutMs: number;
  /** Prefix of this run's ids; defaults to one derived from the seed and the time. */
  readonly runId?: string;
  readonly log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: ChaosOptions = {
  seed: 1,
  accounts: 20,
  clients: 8,
  transfers: 300,
  clientWaitS: 5,
  rates: DEFAULT_RATES,
  forcedCoverage: 1,
  takeoverEveryMs: 3_000,
  takeoverWindowMs: 20_000,
  leaseDurationMs: 30_000,
  quiesceTimeoutMs: 600_000,
};

/**
 * The fault-injected bank workload against a deployed stack with `faults=on`: accounts across the
 * shards, concurrent clients making random transfers (overdrafts, unknown accounts, retries with
 * the same idempotency key), a seeded fault plan per transaction, forced lease takeovers; then it
 * waits for quiescence, redrives dead letters of the run, and judges the end state.
 */
export async function runChaos(deployment: LocalDeployment, options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const stack = new ChaosStack(deployment);
  const runId = options.runId ?? `chaos${options.seed}x${Date.now().toString(36)}`;
  const workload = planWorkload({
    seed: options.seed,
    runId,
    accounts: options.accounts,
    transfers: options.transfers,
    shardCount: stack.shardTables.length,
    rates: options.rates,
    forcedCoverage: options.forcedCoverage,
  });
  log(
    `run ${runId}: ${workload.accounts.length} accounts on ${stack.shardTables.length} shards, ${workload.transfers.length} transfers, ${options.clients} clients`,
  );

  await mapConcurrent(workload.accounts, options.clients, (a) =>
    stack.createAccount(a.accountId, a.openingBalance),
  );
  // Events out: a subscriber of this run hears every outcome announced on the bus.
  const listener = await listenToOutcomes(deployment, `${runId}-outcomes`);
  const planned = workload.transfers.filter((t) => hasFaults(t.faults));
  await mapConcurrent(planned, options.clients, (t) => stack.planFaults(t.recordKey, t.faults));
  log(`${planned.length} fault plans armed`);

  const startedAtMs = Date.now();
  const answers = new Map<number, { submittedAtMs: number; first: Answer; retry?: Answer }>();
  // Transactions in flight: the takeovers pick their slots from here.
  const inFlight = { txIds: [] as string[] };
  const takeovers = forceTakeovers(stack, options, runId, inFlight, log);
  let done = 0;
  await mapConcurrent(workload.transfers, options.clients, async (spec) => {
    // A transfer with a fault plan runs the full protocol (its faults are protocol faults); the
    // others take the one-phase fast path, on the same accounts, while the faults hit their neighbours.
    const body = {
      from: spec.from,
      to: spec.to,
      amount: spec.amount,
      idempotencyKey: spec.idempotencyKey,
      ...(hasFaults(spec.faults) ? { commit: 'two-phase' as const } : {}),
    };
    const submittedAtMs = Date.now();
    const first = await stack.transfer(body, options.clientWaitS > 0 ? { wait: options.clientWaitS } : {});
    if (first.txId !== undefined) inFlight.txIds = [...inFlight.txIds.slice(-19), first.txId];
    let retry: Answer | undefined;
    if (spec.retry === 'same') retry = await stack.transfer(body);
    if (spec.retry === 'changed') retry = await stack.transfer({ ...body, amount: spec.amount + 1 });
    answers.set(spec.index, { submittedAtMs, first, ...(retry ? { retry } : {}) });
    if (++done % 100 === 0) log(`${done}/${workload.transfers.length} transfers submitted`);
  });
  const submittedAtMs = Date.now();
  log(`workload in after ${((submittedAtMs - startedAtMs) / 1000).toFixed(1)} s`);
  setTimeout(() => void takeovers.stop(), options.takeoverWindowMs).unref();

  const ours = new Set(workload.transfers.map((t) => t.recordKey));
  let transactions = await quiesce(stack, workload, submittedAtMs + options.quiesceTimeoutMs, log, inFlight);
  const forced = await takeovers.stop();
  log(`${forced.count} lease takeovers forced`);
  const dlq = await stack.redriveDeadLetters(ours);
  let dlqTotal: DlqSummary = dlq;
  if (dlq.found > 0) {
    log(`${dlq.found} dead-lettered messages of this run redriven; waiting again`);
    transactions = await quiesce(stack, workload, Date.now() + options.quiesceTimeoutMs, log, inFlight);
    const again = await stack.redriveDeadLetters(ours);
    dlqTotal = {
      found: dlq.found + again.found,
      redriven: dlq.redriven + again.redriven,
      foreign: again.foreign,
      errors: [...dlq.errors, ...again.errors],
    };
  }
  const quiescedAtMs = Date.now();

  const observations = await mapConcurrent(workload.transfers, options.clients * 2, async (spec) => {
    const answer = answers.get(spec.index);
    if (!answer) throw new Error(`transfer ${spec.index} was never submitted`);
    // The transaction its key holds (none for a refused transfer); its id came with the answers.
    const answered = answer.first.txId ?? answer.retry?.txId;
    const transaction =
      transactions.get(spec.recordKey) ?? (answered ? await stack.transaction(answered) : undefined);
    const barriers: Record<string, Awaited<ReturnType<ChaosStack['barrier']>>> = {};
    for (const p of transaction?.participants ?? [])
      barriers[p.id] = await stack.barrier(transaction?.txId ?? '', p.id);
    const hits = hasFaults(spec.faults) ? await stack.faultHits(spec.recordKey) : {};
    const observation: TransferObservation = {
      spec,
      ...answer,
      ...(transaction ? { transaction } : {}),
      barriers,
      hits,
    };
    return observation;
  });
  if (listener) {
    const ended = observations
      .filter((o) => isTerminalState(o.transaction?.state))
      .map((o) => o.transaction?.txId ?? '');
    try {
      const heard = await listener.collect(ended, 60_000);
      log(`events out: ${ended.filter((txId) => heard.has(txId)).length} of ${ended.length} outcomes heard`);
      for (const [i, o] of observations.entries())
        observations[i] = {
          ...o,
          announced: (heard.get(o.transaction?.txId ?? '') ?? []).map((e) => e.detail.outcome),
        };
    } finally {
      await listener.close();
    }
  }
  const accounts = await mapConcurrent(
    workload.accounts,
    options.clients,
    async (a): Promise<AccountObservation> => {
      const { balance, available } = await stack.account(a.accountId);
      return { accountId: a.accountId, openingBalance: a.openingBalance, balance, available };
    },
  );
  return buildReport(
    {
      seed: options.seed,
      runId,
      clients: options.clients,
      startedAtMs,
      submittedAtMs,
      quiescedAtMs,
      takeovers: forced.count,
      takeoverSlots: forced.slots,
      dlq: dlqTotal,
    },
    observations,
    accounts,
  );
}

/**
 * Polls the coordinator log until every transaction of the run is terminal or `deadlineMs`
 * passes; then reads each transaction once through the API (transfers refused with 422 have
 * none). By record key: the transaction each key holds.
 */
async function quiesce(
  stack: ChaosStack,
  workload: Workload,
  deadlineMs: number,
  log: (line: string) => void,
  inFlight: { txIds: string[] },
): Promise<Map<string, ObservedTransaction>> {
  const all = workload.transfers.filter((t) => t.kind !== 'unknown-account').map((t) => t.recordKey);
  let open = all;
  let states = new Map<string, { txId: string; state: string }>();
  let lastLogMs = Date.now();
  for (;;) {
    states = new Map([...states, ...(await stack.states(open))]);
    open = open.filter((key) => !isTerminalState(states.get(key)?.state));
    inFlight.txIds = open.flatMap((key) => states.get(key)?.txId ?? []);
    if (open.length === 0 || Date.now() >= deadlineMs) break;
    if (Date.now() - lastLogMs > 15_000) {
      lastLogMs = Date.now();
      const counts = new Map<string, number>();
      for (const key of open) {
        const state = states.get(key)?.state ?? 'absent';
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      log(`waiting for ${open.length} transactions: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    }
    await sleep(1_000);
  }
  const seen = new Map<string, ObservedTransaction>();
  await mapConcurrent(all, 16, async (key) => {
    const txId = states.get(key)?.txId;
    const tx = txId === undefined ? undefined : await stack.transaction(txId);
    if (tx) seen.set(key, tx);
  });
  return seen;
}

/** While transactions are in flight, takes over the slot of one of them now and then. */
function forceTakeovers(
  stack: ChaosStack,
  options: ChaosOptions,
  runId: string,
  inFlight: { readonly txIds: readonly string[] },
  log: (line: string) => void,
) {
  let stopped = false;
  let count = 0;
  const slots: number[] = [];
  // Its own stream of choices, so the transfers stay the same whatever the timing.
  const rng = new Prng(options.seed ^ 0x5eed);
  const loop = (async () => {
    if (options.takeoverEveryMs <= 0) return;
    while (!stopped) {
      await sleep(options.takeoverEveryMs);
      if (stopped || inFlight.txIds.length === 0) continue;
      const slot = slotOf(rng.pick(inFlight.txIds), stack.slotCount);
      try {
        if (await stack.forceTakeover(slot, `${runId}-usurper${count}`, options.leaseDurationMs)) {
          count++;
          slots.push(slot);
        }
      } catch (error) {
        log(`takeover of slot ${slot} failed: ${(error as Error).message}`);
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { count, slots };
    },
  };
}

import { Backoff, type Pacing, REAL_PACING } from '../backoff';
import { ContentionError, FenceLostError, InfrastructureError, VersionConflictError } from '../errors';
import type { Faults } from '../faults';
import type { Clock, Fence, StoredTx, TxStore } from '../ports';
import {
  type CoordinatorConfig,
  type CoordinatorEffect,
  type CoordinatorInput,
  coordinatorStep,
  decisionOf,
  isTerminal,
  type Rejection,
  type TxRecord,
} from '../protocol';
import { recordKeyOf } from '../txid';
import { type EffectsDeps, performEffects } from './effects';
import type { BatchHold } from './leases';

export type { CoordinatorTransport } from './effects';

/**
 * The save that records the decision also records the epoch of the fence it is written under
 * (`decidedEpoch`), which only the shell knows: the timeline's decision entry names it —
 * `decision COMMIT (slot 3, epoch 17)` — so an operator can tell which lease holder decided. Any
 * other step's record is returned as it is.
 */
function withDecisionFence(before: TxRecord, after: TxRecord, fence: Fence): TxRecord {
  if (decisionOf(before.state) !== null || decisionOf(after.state) === null) return after;
  return { ...after, decidedEpoch: fence.epoch };
}

export interface FenceProvider {
  /** The fence for a write to `slot`; with `hold`, taking the slot over needs the batch still held. */
  fence(slot: number, hold?: BatchHold): Promise<Fence>;
  forget(slot: number): void;
}

export interface CoordinatorDeps extends EffectsDeps {
  readonly txs: TxStore;
  readonly leases: FenceProvider;
  readonly clock: Clock;
  readonly config: CoordinatorConfig;
  readonly faults: Faults;
  /**
   * The input was delivered before (SQS receive count > 1): an earlier attempt may have died after
   * its write and before its effects. If nothing changes now, the timer for the record's next check
   * is armed again, so recovery does not wait for the sweeper.
   */
  readonly redelivered?: boolean;
  /** Records this environment wrote last (see RecordCache); absent: every input reads the record. */
  readonly cache?: RecordCache;
  /**
   * Until when this invocation holds the slot's batch the input came in (BatchHold: its own
   * deadline): past it, it may not take the slot over and drops the input (BatchLostError).
   * Absent: no such bound.
   */
  readonly batch?: BatchHold;
  /** How to wait out contention (a conflict or a throttle on the save); real timers by default. */
  readonly pacing?: Pacing;
  /** Hears of every write refused by contention (then retried after a backoff). */
  readonly onContention?: (error: ContentionError) => void;
}

/**
 * The records an execution environment wrote last, so that the next input of the same transaction
 * (the second vote, the acks) skips its read. Safe because a cached record is only ever used to
 * compute a write, and that write is conditioned on the cached version: if anyone wrote the record
 * since, it fails with a version conflict and the input is re-done from a fresh read. An input that
 * would change nothing, or that contradicts the copy (a late NO after a YES the copy holds, found
 * by the simulation), is never judged on a cached record: it re-reads, so nothing is dropped or
 * dead-lettered on the word of a stale copy.
 */
export class RecordCache {
  private readonly records = new Map<string, StoredTx>();
  constructor(private readonly capacity = 1_000) {}

  get(txId: string): StoredTx | undefined {
    return this.records.get(txId);
  }

  set(stored: StoredTx): void {
    const { txId } = stored.record;
    this.records.delete(txId);
    if (isTerminal(stored.record.state)) return; // nothing more will come for it
    this.records.set(txId, stored);
    if (this.records.size > this.capacity) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
  }

  forget(txId: string): void {
    this.records.delete(txId);
  }
}

/**
 * The cached copy, when it can serve `input`. Participants note their votes and acks on the record
 * themselves (RecordNote), so a copy this environment wrote is missing them: a Vote before the
 * decision and every Ack are judged on a fresh read, which usually finds the set complete and
 * decides (ends) at once. What the copy still saves is the read for the votes that arrive after
 * the decision.
 */
function usableCopy(cached: StoredTx | undefined, input: CoordinatorInput): StoredTx | undefined {
  if (cached === undefined || input.type === 'Ack') return undefined;
  if (input.type === 'Vote' && decisionOf(cached.record.state) === null) return undefined;
  return cached;
}

export type CoordinatorOutcome =
  | { readonly kind: 'unknown-transaction' }
  | { readonly kind: 'unchanged'; readonly record: TxRecord; readonly rejection: Rejection | null }
  | { readonly kind: 'changed'; readonly record: TxRecord; readonly effects: readonly CoordinatorEffect[] };

/** Re-reads after a lost version race; beyond this the message is retried by SQS. */
const MAX_VERSION_CONFLICTS = 5;
/** Re-tries after finding the slot's lease taken over; beyond this the message is retried by SQS. */
const MAX_FENCE_RETRIES = 1;

/**
 * The coordinator's async shell: load → pure step → durable fenced write → effects.
 *
 * The write is ONE TransactWriteItems (the record, conditioned on the version read, and a
 * ConditionCheck on the slot's owner and epoch: invariant 7). Effects are performed only after it
 * succeeded, so no participant can see a Commit before the decision is durable (invariant 4). If
 * the process dies between the write and the effects (crash point `coordinator.after-save`),
 * nothing is lost: the record's `nextCheckAtMs` makes a timer or the sweeper re-drive it, and the
 * step re-sends what is missing.
 *
 * A refused write is retried from a fresh read: at once after a version conflict (a participant
 * noted its vote, say), after a jittered backoff after contention (another transaction held the
 * record or the slot's row: DynamoDB's TransactionConflict, or a throttle) — so a conflict, common
 * on AWS where participants write the record in their own transactions, does not fail the message
 * and block the slot's FIFO group for a visibility timeout.
 *
 * A failed send is logged, not retried here: redelivering the input would be a no-op (the state
 * is already durable); the re-send on the next check is what completes it.
 */
export async function handleCoordinatorInput(
  input: CoordinatorInput,
  deps: CoordinatorDeps,
): Promise<CoordinatorOutcome> {
  let fenceRetries = 0;
  let versionConflicts = 0;
  let useCache = deps.cache !== undefined;
  const backoff = new Backoff(deps.pacing ?? REAL_PACING, deps.clock);
  // Bounded: each turn returns, throws, or spends one of MAX_VERSION_CONFLICTS, MAX_FENCE_RETRIES,
  // the backoff's waits or the one cache miss.
  for (;;) {
    const cached = useCache ? usableCopy(deps.cache?.get(input.txId), input) : undefined;
    // A Check is about whatever transaction its record key holds (the sweeper knows only keys);
    // every other input about exactly its transaction (not a later one with the same key).
    const stored =
      cached ??
      (await (input.type === 'Check' ? deps.txs.loadAt(recordKeyOf(input.txId)) : deps.txs.load(input.txId)));
    if (!stored) return { kind: 'unknown-transaction' };
    const { record } = stored;
    let result: ReturnType<typeof coordinatorStep>;
    try {
      const about = input.type === 'Check' ? { ...input, txId: record.txId } : input;
      result = coordinatorStep(record, about, deps.clock.nowMs(), deps.config);
    } catch (error) {
      if (!cached) throw error;
      result = { state: record, effects: [], rejection: null }; // a stale copy can contradict the input
    }
    if (result.state === record && cached && input.type !== 'Vote') {
      // Judge "nothing to do" (and "this contradicts the record") on the durable record only —
      // except a vote, which is only served from a decided copy (usableCopy): a decision never
      // changes, so the copy is as good.
      deps.cache?.forget(record.txId);
      useCache = false;
      continue;
    }
    if (result.state === record) {
      if (deps.redelivered && record.nextCheckAtMs !== null) {
        await performEffects([{ type: 'ScheduleCheck', atMs: record.nextCheckAtMs }], record, deps);
      }
      return { kind: 'unchanged', record, rejection: result.rejection };
    }

    // The whole item is replaced: keep what the record carries beside the protocol (hash, origin).
    let next: StoredTx = { ...stored, record: result.state };
    try {
      const fence = await deps.leases.fence(record.slot, deps.batch);
      next = { ...next, record: withDecisionFence(record, next.record, fence) };
      await deps.txs.save(next, record.version, fence);
      deps.cache?.set(next);
    } catch (error) {
      deps.cache?.forget(record.txId);
      useCache = false;
      if (error instanceof VersionConflictError) {
        if (++versionConflicts < MAX_VERSION_CONFLICTS) continue;
        throw new InfrastructureError(
          `transaction ${input.txId}: ${MAX_VERSION_CONFLICTS} version conflicts in a row`,
          { cause: error },
        );
      }
      if (error instanceof ContentionError) {
        deps.onContention?.(error);
        if (await backoff.wait()) continue;
        throw error;
      }
      if (error instanceof FenceLostError) {
        // Another environment took the slot over since this one cached its lease. If this one
        // still holds the slot's FIFO batch, it re-reads, re-steps and takes the slot back (a new
        // epoch) once — rather than stalling the whole slot for a visibility timeout. A zombie
        // (its batch's hold is over) cannot: `fence` throws BatchLostError and it drops the batch.
        // Safe either way: the retried write is version-checked and fenced like any other.
        deps.leases.forget(record.slot);
        if (fenceRetries++ < MAX_FENCE_RETRIES) continue;
      }
      throw error;
    }
    deps.faults.crashPoint('coordinator.after-save', record.txId);
    if (decisionOf(record.state) === null && decisionOf(result.state.state) !== null) {
      deps.faults.crashPoint('coordinator.after-decision', record.txId);
    }
    await performEffects(result.effects, result.state, deps);
    return { kind: 'changed', record: result.state, effects: result.effects };
  }
}

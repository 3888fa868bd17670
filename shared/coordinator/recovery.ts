import { mapConcurrent } from '../concurrency';
import type { Clock, TxStore } from '../ports';
import { isTerminal } from '../protocol';
import type { Timer } from './messages';

/** Puts a `Check` into the slot's FIFO group, so it runs under the slot's lease like every input. */
export interface CheckForwarder {
  forwardCheck(txId: string, slot: number, dueAtMs: number): Promise<void>;
  /** Re-arms a timer whose due time is further away than one queue delay can wait. */
  rearm(timer: Timer): Promise<void>;
}

/**
 * A timer fired. Forward a `Check` to the coordinator only if the record still needs one now —
 * most timers find the transaction already terminal or moved on (its newer check has its own
 * timer), and are dropped here for the price of one read.
 */
export async function handleTimer(
  timer: Timer,
  deps: { txs: TxStore; clock: Clock; forwarder: CheckForwarder },
): Promise<'forwarded' | 'rearmed' | 'dropped'> {
  const nowMs = deps.clock.nowMs();
  if (timer.atMs > nowMs) {
    await deps.forwarder.rearm(timer);
    return 'rearmed';
  }
  const stored = await deps.txs.load(timer.txId);
  const record = stored?.record;
  if (!record || isTerminal(record.state) || record.nextCheckAtMs === null) return 'dropped';
  // Moved on: whoever moved `nextCheckAtMs` later also armed a timer for it.
  if (record.nextCheckAtMs > Math.max(nowMs, timer.atMs)) return 'dropped';
  await deps.forwarder.forwardCheck(record.txId, record.slot, record.nextCheckAtMs);
  return 'forwarded';
}

export interface SweepReport {
  /** Live transactions the sweep read (the `due` index, every slot). */
  readonly live: number;
  readonly checksForwarded: number;
  /** How long the most overdue transaction has been waiting for its check (0 when none). */
  readonly oldestOverdueMs: number;
}

/**
 * The sweeper: the transactions whose next check time has passed (a lost Prepare, missing votes,
 * missing acks, a timer that never fired) get a `Check` in their slot's FIFO group, where the
 * coordinator handles it under the slot's lease. It reads every slot a record holds — not a range
 * of slot numbers — so records keep being driven after the deployment's slot count changed.
 * Bounded: at most `limit` checks per sweep, the most overdue first; the rest wait for the next.
 */
export async function sweep(deps: {
  txs: TxStore;
  clock: Clock;
  forwarder: CheckForwarder;
  limit: number;
  concurrency: number;
}): Promise<SweepReport> {
  const nowMs = deps.clock.nowMs();
  const { due, live } = await deps.txs.due(nowMs, deps.limit);
  await mapConcurrent(due, deps.concurrency, ({ recordKey, slot, nextCheckAtMs }) =>
    deps.forwarder.forwardCheck(recordKey, slot, nextCheckAtMs),
  );
  const oldest = due[0];
  return {
    live,
    checksForwarded: due.length,
    oldestOverdueMs: oldest === undefined ? 0 : Math.max(0, nowMs - oldest.nextCheckAtMs),
  };
}

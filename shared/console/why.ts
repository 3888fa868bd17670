import { formatDurationMs } from '../ops/format';
import { missingOf } from '../ops/transactions';
import { decisionOf, isTerminal, settledState, type TxRecord } from '../protocol';

/**
 * Why a transaction is not finished yet, in words an operator reads at a glance:
 *
 *     waiting for ledger-1's vote since 12s; next check in 3s
 *     decided COMMIT 4s ago; waiting for the acks of ledger-0 and ledger-1 since 4s; next check overdue 9s
 *
 * Null once it is finished (every participant acked counts: see settledState). Pure: the time is
 * an argument.
 */
export function whyNotFinished(record: TxRecord, nowMs: number): string | null {
  if (isTerminal(settledState(record))) return null;
  const parts: string[] = [];
  const decision = decisionOf(record.state);
  const missing = missingOf(record);
  const ago = (atMs: number) => formatDurationMs(Math.max(0, nowMs - atMs));
  if (decision === null) {
    parts.push(
      `waiting for ${whose(missing.participants, 'vote', 'votes')} since ${ago(record.createdAtMs)}`,
    );
    const leftMs = record.prepareDeadlineMs - nowMs;
    parts.push(
      leftMs > 0
        ? `aborts at the prepare deadline in ${formatDurationMs(leftMs)} unless every vote is YES by then`
        : `the prepare deadline passed ${formatDurationMs(-leftMs)} ago: the next check decides ABORT`,
    );
  } else {
    const decidedAtMs = record.decidedAtMs ?? record.createdAtMs;
    parts.push(`decided ${decision} ${ago(decidedAtMs)} ago`);
    parts.push(`waiting for ${whose(missing.participants, 'ack', 'acks')} since ${ago(decidedAtMs)}`);
  }
  if (record.resendAttempt > 0) parts.push(`re-sent ${record.resendAttempt} time(s)`);
  parts.push(nextCheck(record.nextCheckAtMs, nowMs));
  return parts.join('; ');
}

/** `ledger-1's vote`, `the votes of ledger-0 and ledger-1`, `the votes of a, b and c`. */
function whose(ids: readonly string[], one: string, many: string): string {
  if (ids.length === 0) return `no ${one} (all recorded; the coordinator's next write finishes it)`;
  if (ids.length === 1) return `${ids[0]}'s ${one}`;
  return `the ${many} of ${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`;
}

function nextCheck(atMs: number | null, nowMs: number): string {
  if (atMs === null) return 'no check scheduled (retry enqueues one)';
  const deltaMs = atMs - nowMs;
  if (deltaMs > 0) return `next check in ${formatDurationMs(deltaMs)}`;
  if (deltaMs === 0) return 'next check now';
  return `next check overdue ${formatDurationMs(-deltaMs)} (a lost timer? retry enqueues a check)`;
}

import { assert } from './assert';
import {
  type CoordinatorConfig,
  type NewTransaction,
  newTransaction,
  participantOf,
  type TxRecord,
} from './record';

/** The outcome of a one-phase commit: every operation applied, or refused by a participant. */
export type OnePhaseOutcome =
  | { readonly decision: 'COMMIT' }
  | { readonly decision: 'ABORT'; readonly participantId: string; readonly reason: string };

/**
 * The record of a one-phase transaction: written terminal, in the same atomic write as its
 * operations (COMMITTED) or, when a participant's condition refused them, alone (ABORTED with
 * nothing applied). Same record, same API and same idempotency as a two-phase transaction.
 */
export function onePhaseRecord(
  tx: NewTransaction,
  nowMs: number,
  config: CoordinatorConfig,
  outcome: OnePhaseOutcome,
): TxRecord {
  const created = newTransaction(tx, nowMs, config);
  if (outcome.decision === 'ABORT') {
    assert(
      participantOf(created, outcome.participantId) !== undefined,
      `no participant ${outcome.participantId}`,
    );
  }
  const reason =
    outcome.decision === 'COMMIT' ? null : `participant ${outcome.participantId} refused: ${outcome.reason}`;
  return {
    ...created,
    mode: 'one-phase',
    state: outcome.decision === 'COMMIT' ? 'COMMITTED' : 'ABORTED',
    reason,
    decidedAtMs: nowMs,
    completedAtMs: nowMs,
    nextCheckAtMs: null,
  };
}

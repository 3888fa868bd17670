import type { CoordinatorConfig, CoordinatorInput, TxParticipant, TxRecord } from '../../../shared/protocol';
import { coordinatorStep, startTransaction } from '../../../shared/protocol';

export const TX = 'tx-1';
export const T0 = 1_000_000;

export const config: CoordinatorConfig = {
  prepareTimeoutMs: 10_000,
  resendBaseMs: 100,
  resendCapMs: 1_600,
};

export function participants(count: number): TxParticipant[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `ledger-${i}`,
    kind: 'ledger',
    operations: [{ action: 'debit', accountId: `acc-${i}`, amount: 10 + i }],
  }));
}

/** Recursively freezes plain data, so a step that mutates its input throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Feeds inputs one by one at `nowMs`; returns the final record (every input must be valid). */
export function feed(record: TxRecord, inputs: readonly CoordinatorInput[], nowMs: number): TxRecord {
  let current = record;
  for (const input of inputs) current = deepFreeze(coordinatorStep(current, input, nowMs, config).state);
  return current;
}

export const check = { type: 'Check', txId: TX } as const;
export const yes = (i: number) =>
  ({ type: 'Vote', txId: TX, participantId: `ledger-${i}`, vote: 'YES' }) as const;
export const no = (i: number, reason?: string) =>
  reason === undefined
    ? ({ type: 'Vote', txId: TX, participantId: `ledger-${i}`, vote: 'NO' } as const)
    : ({ type: 'Vote', txId: TX, participantId: `ledger-${i}`, vote: 'NO', reason } as const);
export const ack = (i: number, outcome: 'COMMITTED' | 'ABORTED') =>
  ({ type: 'Ack', txId: TX, participantId: `ledger-${i}`, outcome }) as const;

/** A transaction as the API creates it: PREPARING, Prepare sent to every participant. */
export function preparing(count = 2, nowMs = T0): TxRecord {
  const { state } = startTransaction({ txId: TX, slot: 7, participants: participants(count) }, nowMs, config);
  return deepFreeze(state);
}

export function committing(count = 2, nowMs = T0): TxRecord {
  return feed(
    preparing(count, nowMs),
    Array.from({ length: count }, (_, i) => yes(i)),
    nowMs,
  );
}

export function aborting(count = 2, nowMs = T0): TxRecord {
  return feed(preparing(count, nowMs), [no(0, 'insufficient funds')], nowMs);
}

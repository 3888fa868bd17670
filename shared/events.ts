import type { TxRecord } from './protocol';

/** Source of every event Tandem publishes. */
export const EVENT_SOURCE = 'tandem';

/**
 * What other services receive when a transaction ends: on the stack's EventBridge bus, detail type
 * `TransactionCommitted` or `TransactionAborted`. Delivery is at least once; `eventId` is the same
 * on every delivery of one outcome, so subscribers dedupe on it. No operations or amounts: only
 * which participants took part.
 */
export interface TransactionEvent {
  readonly eventId: string;
  readonly txId: string;
  readonly outcome: 'COMMITTED' | 'ABORTED';
  readonly reason: string | null;
  readonly participants: ReadonlyArray<{ readonly id: string; readonly kind: string }>;
  readonly createdAtMs: number;
  readonly decidedAtMs: number | null;
  readonly completedAtMs: number | null;
}

export const detailTypeOf = (outcome: TransactionEvent['outcome']) =>
  outcome === 'COMMITTED' ? 'TransactionCommitted' : 'TransactionAborted';

export function transactionEvent(record: TxRecord): TransactionEvent {
  if (record.state !== 'COMMITTED' && record.state !== 'ABORTED') {
    throw new Error(`transaction ${record.txId} is not terminal (${record.state})`);
  }
  return {
    eventId: `${record.txId}/${record.state}`,
    txId: record.txId,
    outcome: record.state,
    reason: record.reason,
    participants: record.participants.map((p) => ({ id: p.id, kind: p.kind })),
    createdAtMs: record.createdAtMs,
    decidedAtMs: record.decidedAtMs,
    completedAtMs: record.completedAtMs,
  };
}

/** Port: where terminal transactions are announced. EventBridge in Lambda; a list in tests. */
export interface EventPublisher {
  publish(event: TransactionEvent): Promise<void>;
}

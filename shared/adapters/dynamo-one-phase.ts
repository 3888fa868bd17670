import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { InfrastructureError } from '../errors';
import {
  type CounterSpec,
  canReserve,
  counterOpOf,
  OPERATIONS_MAX,
  type ReservedOp,
  rejectionReason,
  type TransactItem,
} from '../participant';
import { counterItem } from '../participant/counter';
import type { OnePhaseCommitter, OnePhaseResult, StoredTx } from '../ports';
import type { TxParticipant } from '../protocol';
import { availableOnRefusal } from './dynamo-entities';
import { cancellationCodes, throwIfContention } from './dynamo-errors';
import { txItemOf } from './dynamo-tx-store';

/** Where a counter participant's entities live, for a committer that writes them directly. */
export interface DirectParticipant {
  readonly table: string;
  /** The participant's name (`TxParticipant.kind`), e.g. `ledger`. */
  readonly kind: string;
  readonly counter: CounterSpec;
}

/**
 * The one-phase fast path on DynamoDB, for counter participants: ONE TransactWriteItems holding the
 * transaction record (a Put conditioned on `attribute_not_exists(txId)` — the same idempotency as a
 * two-phase create) and one Update per operation, `counterItem`'s `direct` step, with the same
 * conditions a counter's prepare checks:
 *
 *   take   total −= a, available −= a   if the entity exists AND available >= a
 *   give   total += a, available += a   if the entity exists
 *
 * Holds of prepared two-phase transactions are respected (they are not `available`), so both paths
 * can run on the same entities at once. Index 0 of the cancellation reasons is the record; index
 * i + 1 is operation i.
 */
export class DynamoOnePhaseCommitter implements OnePhaseCommitter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly transactionsTable: string,
    /** Participant id → its table and kind; participants not listed are never committed here. */
    private readonly participants: Readonly<Record<string, DirectParticipant>>,
  ) {}

  covers(participants: readonly TxParticipant[]): boolean {
    let operations = 0;
    for (const p of participants) {
      const direct = Object.hasOwn(this.participants, p.id) ? this.participants[p.id] : undefined;
      if (!direct || direct.kind !== p.kind) return false;
      operations += p.operations.length;
    }
    // One TransactWriteItems takes 100 actions: the record and at most 99 operations.
    return operations >= 1 && operations <= OPERATIONS_MAX;
  }

  async commit(tx: StoredTx): Promise<OnePhaseResult> {
    const { record } = tx;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.transactionsTable,
          Item: txItemOf(tx),
          ConditionExpression: 'attribute_not_exists(txId)',
        },
      },
    ];
    const opAt: Array<{ participantId: string; direct: DirectParticipant; op: ReservedOp }> = [];
    for (const participant of record.participants) {
      const direct = this.participants[participant.id];
      if (!direct) throw new InfrastructureError(`participant ${participant.id} is not written directly`);
      for (const operation of participant.operations) {
        const op = counterOpOf(direct.counter, operation as Record<string, unknown>);
        items.push(directWrite(direct, op));
        opAt.push({ participantId: participant.id, direct, op });
      }
    }
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { kind: 'committed' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        throwIfContention(error, `one-phase commit of ${record.txId}`);
        throw new InfrastructureError(`could not commit ${record.txId} in one phase`, { cause: error });
      }
      const reasons = error.CancellationReasons ?? [];
      const codes = cancellationCodes(error);
      if (codes[0] === 'ConditionalCheckFailed') return { kind: 'exists' };
      // An unknown entity wins over a refusal: the request is then answered 422, nothing written.
      let refused: OnePhaseResult | undefined;
      for (const [index, { participantId, direct, op }] of opAt.entries()) {
        const reason = reasons[index + 1];
        if (codes[index + 1] !== 'ConditionalCheckFailed') continue;
        const { table, counter } = direct;
        const entity = await availableOnRefusal(this.client, table, counter.entity, op.id, reason?.Item);
        if (!entity) return { kind: 'unknown-entity' };
        if (canReserve(op, entity)) return { kind: 'contended' }; // changed since
        refused ??= { kind: 'refused', participantId, reason: rejectionReason(counter, op, entity) };
      }
      if (refused) return refused;
      // No condition failed: another transaction held an item, or a throttle — contention, which
      // the producer retries after a backoff.
      throwIfContention(error, `one-phase commit of ${record.txId}`);
      throw new InfrastructureError(`one-phase commit of ${record.txId} was cancelled: ${codes.join(', ')}`, {
        cause: error,
      });
    }
  }
}

/** The counter's direct write of `op` (its `direct` step), returning the entity a failed condition saw. */
function directWrite(direct: DirectParticipant, op: ReservedOp): TransactItem {
  const { Update } = counterItem(direct.counter.entity, direct.table, op, 'direct')!;
  return { Update: { ...Update!, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
}

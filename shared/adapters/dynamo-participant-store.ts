import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ConfigurationError, InfrastructureError } from '../errors';
import {
  canReserve,
  type EntityKind,
  OPERATIONS_MAX,
  type ParticipantAction,
  type ParticipantBarrier,
  type ParticipantStore,
  type Reservation,
  type ReservedOp,
  rejectionReason,
  type WriteOutcome,
} from '../participant';
import { assert, noteEntry, ProtocolAssertionError, type RecordNote } from '../protocol';
import { recordKeyOf } from '../txid';
import { availableOnRefusal, entityKey } from './dynamo-entities';
import { cancellationCodes, throwIfContention } from './dynamo-errors';
import { sameTransactionCondition } from './dynamo-tx-store';

type Item = Record<string, unknown>;
type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** TransactWriteItems takes at most this many actions. */
const TRANSACT_ITEMS_MAX = 100;

/** Key of a barrier item on a participant table (next to the entity items `<kind>#<id>`). */
export const barrierKey = (txId: string, participantId: string) => ({
  pk: `barrier#${txId}#${participantId}`,
});

const ReservedOpItem = z.object({ id: z.string(), action: z.enum(['take', 'give']), amount: z.number() });
const BarrierItem = z.object({
  txId: z.string(),
  participantId: z.string(),
  state: z.enum(['PREPARED', 'VOTED_NO', 'COMMITTED', 'ABORTED']),
  vote: z.enum(['YES', 'NO']).nullable(),
  reason: z.string().nullable(),
  reservation: z.array(ReservedOpItem).nullable(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
});

/**
 * The participant store on the participant's own DynamoDB table. A write is ONE TransactWriteItems:
 * the barrier Put (conditioned on the state read, or on absence) and one action per entity:
 *
 *   action   │ barrier Put condition     │ take                                │ give
 *   ─────────┼───────────────────────────┼─────────────────────────────────────┼──────────────────────
 *   reserve  │ attribute_not_exists(pk)  │ held += a, available −= a           │ ConditionCheck exists
 *            │                           │   if exists AND available >= a      │
 *   apply    │ state = PREPARED          │ total −= a, held −= a               │ total += a,
 *            │                           │   if exists AND held >= a           │ available += a if exists
 *   release  │ state = PREPARED          │ held −= a, available += a          │ (nothing)
 *            │                           │   if exists AND held >= a           │
 *   none     │ the state read / absence  │ (nothing)                           │ (nothing)
 *
 * `available` is stored (= total − held) because condition expressions cannot do arithmetic. The
 * `held >= a` conditions on apply/release are invariant checks, not business rules: a prepared hold
 * cannot vanish, and an Update of a missing item would otherwise create a phantom entity.
 *
 * With a note (RecordNote) and the Transactions table configured, one more action goes last: an
 * Update of the coordinator's record, the DynamoDB form of `applyNote` —
 *
 *   SET <votes|acks>.<participant> = entry, version = version + 1, timeline = timeline + [event]
 *   if state = <required state> AND the participant has no entry there yet
 *      AND the record at the key is this transaction (its incarnation: shared/txid.ts)
 *
 * (a missing record fails the condition too). Which condition failed is read from the index of
 * each cancellation reason: barrier (0) before entities before the note, as the port orders them.
 */
export class DynamoParticipantStore implements ParticipantStore {
  /**
   * `transactionsTable`: the coordinator's Transactions table, where notes are written (it must be
   * in this table's account and region: one TransactWriteItems spans no more); without it, notes
   * are ignored.
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly entityKind: EntityKind,
    private readonly transactionsTable?: string,
  ) {
    if (transactionsTable !== undefined && transactionsTable.trim() === '') {
      throw new ConfigurationError(
        'the Transactions table name (TRANSACTIONS_TABLE) is blank: name the table, or leave it out to write no notes',
      );
    }
  }

  async loadBarrier(txId: string, participantId: string): Promise<ParticipantBarrier | undefined> {
    let item: Item | undefined;
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table, Key: barrierKey(txId, participantId), ConsistentRead: true }),
      );
      item = result.Item;
    } catch (error) {
      throw new InfrastructureError(`could not read the barrier of ${txId}/${participantId}`, {
        cause: error,
      });
    }
    if (!item) return undefined;
    const parsed = BarrierItem.safeParse(item);
    if (!parsed.success) {
      throw new ProtocolAssertionError(
        `corrupt barrier item of ${txId}/${participantId}: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  async write(
    prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
    note?: RecordNote,
  ): Promise<WriteOutcome> {
    const ops: Reservation = action.type === 'none' ? [] : action.reservation;
    const where = `${next.txId}/${next.participantId}`;
    if (prev !== undefined) {
      assert(
        prev.txId === next.txId && prev.participantId === next.participantId,
        `prev barrier ${prev.txId}/${prev.participantId} written as ${where}`,
      );
    }
    if (note !== undefined) {
      assert(
        note.txId === next.txId && note.participantId === next.participantId,
        `note of ${note.txId}/${note.participantId} written with the barrier of ${where}`,
      );
    }
    assert(ops.length <= OPERATIONS_MAX, `${where}: ${ops.length} operations exceed ${OPERATIONS_MAX}`);
    assert(new Set(ops.map((op) => op.id)).size === ops.length, `${where}: two operations on one entity`);

    // Index 0 is the barrier; index i + 1 is ops[i] (or nothing, for a give on release).
    const items: TransactItem[] = [this.barrierPut(prev, next)];
    const opAt: (ReservedOp | undefined)[] = [undefined];
    for (const op of ops) {
      const entityItem = this.entityAction(op, action.type);
      if (entityItem) {
        items.push(entityItem);
        opAt.push(op);
      }
    }
    // The note goes last. A write that already fills the TransactWriteItems (OPERATIONS_MAX
    // entity actions) leaves it off, like a store that cannot reach the record: the Vote/Ack
    // message alone is enough.
    let noteAt: number | undefined;
    if (note !== undefined && this.transactionsTable !== undefined && items.length < TRANSACT_ITEMS_MAX) {
      noteAt = items.length;
      items.push(this.noteUpdate(note, this.transactionsTable));
    }

    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        throwIfContention(error, `write of the barrier of ${where}`);
        throw new InfrastructureError(`could not write the barrier of ${where}`, { cause: error });
      }
      return this.explain(error, action, opAt, noteAt, where);
    }
  }

  /**
   * The note as an Update of the transaction record, equivalent to `applyNote`. Every name goes
   * through a placeholder: `state` is a reserved word, and a participant id may hold characters
   * (`-`) that a bare document path cannot.
   */
  private noteUpdate(note: RecordNote, table: string): TransactItem {
    const { field, entry, requires, event } = noteEntry(note);
    // The record at the transaction's key must be this transaction, not a later one with its key.
    const same = sameTransactionCondition(note.txId);
    return {
      Update: {
        TableName: table,
        Key: { txId: recordKeyOf(note.txId) },
        UpdateExpression:
          'SET #field.#participant = :entry, #version = #version + :one, #timeline = list_append(#timeline, :events)',
        ConditionExpression: `#state = :requires AND attribute_not_exists(#field.#participant) AND ${same.expression}`,
        ExpressionAttributeNames: {
          '#field': field,
          '#participant': note.participantId,
          '#state': 'state',
          '#version': 'version',
          '#timeline': 'timeline',
          ...same.names,
        },
        ExpressionAttributeValues: {
          ':entry': entry,
          ':one': 1,
          ':requires': requires,
          ':events': [{ atMs: note.atMs, event }],
          ...same.values,
        },
      },
    };
  }

  private barrierPut(prev: ParticipantBarrier | undefined, next: ParticipantBarrier): TransactItem {
    const Item = { ...barrierKey(next.txId, next.participantId), kind: 'barrier', ...next };
    if (prev === undefined) {
      return { Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' } };
    }
    return {
      Put: {
        TableName: this.table,
        Item,
        ConditionExpression: '#state = :prev',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':prev': prev.state },
      },
    };
  }

  private entityAction(op: ReservedOp, type: ParticipantAction['type']): TransactItem | undefined {
    const base = { TableName: this.table, Key: entityKey(this.entityKind, op.id) };
    // `total` is a DynamoDB reserved word, so every balance attribute goes through a name.
    const names = { '#total': 'total', '#held': 'held', '#available': 'available' };
    const update = (UpdateExpression: string, ConditionExpression: string) => {
      const used = Object.fromEntries(
        Object.entries(names).filter(([name]) => `${UpdateExpression} ${ConditionExpression}`.includes(name)),
      );
      return {
        Update: {
          ...base,
          UpdateExpression,
          ConditionExpression,
          ExpressionAttributeNames: used,
          ExpressionAttributeValues: { ':a': op.amount },
        },
      };
    };
    const take = op.action === 'take';
    switch (type) {
      case 'reserve': {
        if (!take) return { ConditionCheck: { ...base, ConditionExpression: 'attribute_exists(pk)' } };
        const hold = update(
          'SET #held = #held + :a, #available = #available - :a',
          'attribute_exists(pk) AND #available >= :a',
        );
        return { Update: { ...hold.Update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
      }
      case 'apply':
        return take
          ? update('SET #total = #total - :a, #held = #held - :a', 'attribute_exists(pk) AND #held >= :a')
          : update('SET #total = #total + :a, #available = #available + :a', 'attribute_exists(pk)');
      case 'release':
        return take
          ? update(
              'SET #held = #held - :a, #available = #available + :a',
              'attribute_exists(pk) AND #held >= :a',
            )
          : undefined;
      case 'none':
        return undefined;
    }
  }

  /** Maps a cancelled transaction to an outcome, by the index of each cancellation reason. */
  private async explain(
    error: TransactionCanceledException,
    action: ParticipantAction,
    opAt: readonly (ReservedOp | undefined)[],
    noteAt: number | undefined,
    where: string,
  ): Promise<WriteOutcome> {
    const reasons = error.CancellationReasons ?? [];
    const codes = cancellationCodes(error);
    const failed = (index: number) => codes[index] === 'ConditionalCheckFailed';
    if (failed(0)) return { ok: false, kind: 'barrier-conflict' };

    for (let index = 1; index < opAt.length; index++) {
      const op = opAt[index]!;
      if (!failed(index)) continue;
      if (action.type !== 'reserve') {
        throw new ProtocolAssertionError(
          `${where}: ${action.type} of ${op.action} ${op.amount} on ${this.entityKind} '${op.id}' failed its condition (hold or entity gone)`,
        );
      }
      const entity = await availableOnRefusal(
        this.client,
        this.table,
        this.entityKind,
        op.id,
        reasons[index]?.Item,
      );
      // The entity as the condition saw it must explain the refusal. If it does not (the emulator
      // returned no Item and the entity changed since), the write lost a race: re-load and retry.
      if (canReserve(op, entity)) {
        return { ok: false, kind: 'barrier-conflict' };
      }
      return { ok: false, kind: 'rejected', reason: rejectionReason(this.entityKind, op, entity) };
    }

    // Barrier and entities held: the transaction record refused the note (decided, ended, absent,
    // or this participant's entry already there).
    if (noteAt !== undefined && failed(noteAt)) return { ok: false, kind: 'note-refused' };

    // No condition failed: another transaction held one of the items, or DynamoDB throttled the
    // write — contention, which the shell retries after a backoff.
    throwIfContention(error, `write of the barrier of ${where}`);
    throw new InfrastructureError(`write of ${where} was cancelled: ${codes.join(', ')}`, { cause: error });
  }
}

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { ConfigurationError, InfrastructureError } from '../errors';
import type {
  OperationContext,
  ParticipantAction,
  ParticipantBarrier,
  ParticipantDefinition,
  ParticipantStore,
  TransactItem,
  Write,
  WriteOutcome,
} from '../participant';
import { isRefusal, writesOf } from '../participant/definition';
import {
  assert,
  canonicalJson,
  type JsonValue,
  noteEntry,
  ProtocolAssertionError,
  type RecordNote,
  type TxRecord,
} from '../protocol';
import { recordKeyOf } from '../txid';
import { assertOneBarrier } from './barrier-write';
import { cancellationCodes, throwIfContention } from './dynamo-errors';
import { expiresAtSOf, sameTransactionCondition, storedTxOfItem } from './dynamo-tx-store';

type Item = Record<string, unknown>;

/** TransactWriteItems takes at most this many actions. */
const TRANSACT_ITEMS_MAX = 100;

/** Key of a barrier item on a participant table (next to the participant's own items). */
export const barrierKey = (txId: string, participantId: string) => ({
  pk: `barrier#${txId}#${participantId}`,
});

const BarrierItem = z.object({
  txId: z.string(),
  participantId: z.string(),
  state: z.enum(['PREPARED', 'VOTED_NO', 'COMMITTED', 'ABORTED']),
  vote: z.enum(['YES', 'NO']).nullable(),
  reason: z.string().nullable(),
  reservation: z.array(z.json()).nullable(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
});

export interface DynamoParticipantStoreOptions {
  /** The participant's table: its barriers (and, for a counter, its entities) live there. */
  readonly table: string;
  /** What the participant's operations write (see ParticipantDefinition). */
  readonly definition: ParticipantDefinition;
  /**
   * The coordinator's Transactions table, where notes are written (RecordNote); without it, the
   * store writes no notes and the participant's replies all go as messages.
   */
  readonly transactionsTable?: string;
}

/**
 * The participant store on DynamoDB, for any participant (ParticipantDefinition). A write is ONE
 * TransactWriteItems: the barrier Put (conditioned on the state read, or on absence), then the
 * participant's own writes for the step —
 *
 *   action   │ barrier Put condition     │ the participant's writes
 *   ─────────┼───────────────────────────┼──────────────────────────────────────────────
 *   reserve  │ attribute_not_exists(pk)  │ prepare(op) of each operation
 *   apply    │ state = PREPARED          │ commit(op) of each operation
 *   release  │ state = PREPARED          │ abort(op) of each operation
 *   none     │ the state read / absence  │ (nothing)
 *
 * A failed condition of a prepare write is the NO vote (its `refusal` gives the reason, from the
 * item as the condition saw it); a prepare that returns `refuse(reason)` writes nothing and is a NO
 * too. A failed condition of a commit or abort write is a broken invariant (ProtocolAssertionError).
 *
 * With the Transactions table configured, `note` is the DynamoDB form of `applyNote`, a plain
 * UpdateItem of the coordinator's record that returns the record as it left it —
 *
 *   SET <votes|acks>.<participant> = entry, version = version + 1
 *   if state = <required state> AND the participant has no entry there yet
 *      AND the record at the key is this transaction (its incarnation: shared/txid.ts)
 *
 * (a missing record fails the condition too) — and `end` writes the terminal state `endOf` made of
 * that record, if its version has not moved on.
 */
export class DynamoParticipantStore implements ParticipantStore {
  private readonly table: string;
  private readonly definition: ParticipantDefinition;
  private readonly transactionsTable: string | undefined;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    options: DynamoParticipantStoreOptions,
  ) {
    this.table = options.table;
    this.definition = options.definition;
    this.transactionsTable = options.transactionsTable;
    if (this.transactionsTable !== undefined && this.transactionsTable.trim() === '') {
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
  ): Promise<WriteOutcome> {
    assertOneBarrier(prev, next);
    const where = `${next.txId}/${next.participantId}`;
    const context: OperationContext = {
      txId: next.txId,
      participantId: next.participantId,
      table: this.table,
    };
    const writes = await this.writesFor(action, context);
    if ('refused' in writes) return { ok: false, kind: 'rejected', reason: writes.refused };
    const twice = writeOnOneItemTwice(writes);
    if (twice !== undefined) {
      // DynamoDB takes one action per item in a TransactWriteItems. At prepare that is a request the
      // participant cannot serve (two operations on one item: its `itemKey` lets the API refuse
      // them with a 400); later it is a participant whose commit or abort differs from its prepare.
      const reason = `two writes on one item (${twice}) in one transaction`;
      if (action.type === 'reserve') return { ok: false, kind: 'rejected', reason };
      throw new ProtocolAssertionError(`${where}: ${action.type} makes ${reason}`);
    }

    // Index 0 is the barrier; index i + 1 is writes[i].
    const items: TransactItem[] = [this.barrierPut(prev, next)];
    for (const write of writes) items.push(transactItemOf(write, action.type === 'reserve'));
    assert(
      items.length <= TRANSACT_ITEMS_MAX,
      `${where}: ${writes.length} writes and the barrier exceed one TransactWriteItems (${TRANSACT_ITEMS_MAX} actions)`,
    );

    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        throwIfContention(error, `write of the barrier of ${where}`);
        throw new InfrastructureError(`could not write the barrier of ${where}`, { cause: error });
      }
      return this.explain(error, action, writes, where);
    }
  }

  /** The participant's writes for `action`, one operation after the other; or a refusal. */
  private async writesFor(
    action: ParticipantAction,
    context: OperationContext,
  ): Promise<readonly Write[] | { refused: string }> {
    if (action.type === 'none') return [];
    const ops = action.reservation as readonly JsonValue[];
    const writes: Write[] = [];
    for (const op of ops) {
      switch (action.type) {
        case 'reserve': {
          const result = await this.definition.prepare(op, context);
          if (isRefusal(result)) return { refused: result.refuse };
          writes.push(...writesOf(result));
          break;
        }
        case 'apply':
          writes.push(...writesOf(await this.definition.commit(op, context)));
          break;
        case 'release':
          writes.push(...writesOf(await this.definition.abort(op, context)));
          break;
      }
    }
    return writes;
  }

  /**
   * The note (RecordNote) as an UpdateItem of the transaction record, equivalent to `applyNote`:
   * the record it left, or null when its condition refused it (or no Transactions table is
   * configured). Every name goes through a placeholder: `state` is a reserved word, and a
   * participant id may hold characters (`-`) that a bare document path cannot.
   */
  async note(note: RecordNote): Promise<TxRecord | null> {
    if (this.transactionsTable === undefined) return null;
    const { field, entry, requires } = noteEntry(note);
    return this.updateRecord(
      note.txId,
      {
        UpdateExpression: 'SET #field.#participant = :entry, #version = #version + :one',
        ConditionExpression: '#state = :requires AND attribute_not_exists(#field.#participant)',
        ExpressionAttributeNames: {
          '#field': field,
          '#participant': note.participantId,
          '#state': 'state',
          '#version': 'version',
        },
        ExpressionAttributeValues: { ':entry': entry, ':one': 1, ':requires': requires },
      },
      `note of ${note.txId}/${note.participantId}`,
    );
  }

  /** Writes `ended` (endOf of a noted record) if the record is still at the version before it. */
  async end(ended: TxRecord): Promise<boolean> {
    if (this.transactionsTable === undefined || ended.completedAtMs === null) return false;
    const written = await this.updateRecord(
      ended.txId,
      {
        UpdateExpression:
          'SET #state = :state, completedAtMs = :completed, expiresAtS = :expires, #version = :version REMOVE nextCheckAtMs',
        ConditionExpression: '#version = :before',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':state': ended.state,
          ':completed': ended.completedAtMs,
          ':expires': expiresAtSOf(ended.completedAtMs),
          ':version': ended.version,
          ':before': ended.version - 1,
        },
      },
      `end of ${ended.txId}`,
    );
    return written !== null;
  }

  /**
   * A conditional update of the record of `txId` (its condition ANDed with "the record at the key
   * is this transaction, not a later one with its key"): the record after it, or null when the
   * condition failed. Contention throws ContentionError; anything else InfrastructureError.
   */
  private async updateRecord(
    txId: string,
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
    what: string,
  ): Promise<TxRecord | null> {
    const same = sameTransactionCondition(txId);
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.transactionsTable,
          Key: { txId: recordKeyOf(txId) },
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: `${update.ConditionExpression} AND ${same.expression}`,
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, ...same.names },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...same.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!result.Attributes) throw new InfrastructureError(`${what}: the update returned no record`);
      return storedTxOfItem(result.Attributes).record;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      if (error instanceof InfrastructureError) throw error;
      throwIfContention(error, what);
      throw new InfrastructureError(`could not write the ${what}`, { cause: error });
    }
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

  /** Maps a cancelled transaction to an outcome, by the index of each cancellation reason. */
  private async explain(
    error: TransactionCanceledException,
    action: ParticipantAction,
    writes: readonly Write[],
    where: string,
  ): Promise<WriteOutcome> {
    const reasons = error.CancellationReasons ?? [];
    const codes = cancellationCodes(error);
    const failed = (index: number) => codes[index] === 'ConditionalCheckFailed';
    if (failed(0)) return { ok: false, kind: 'barrier-conflict' };

    for (let index = 1; index <= writes.length; index++) {
      if (!failed(index)) continue;
      const write = writes[index - 1]!;
      if (action.type !== 'reserve') {
        throw new ProtocolAssertionError(
          `${where}: a ${action.type} write failed its condition (${describeWrite(write)}): commit and abort must not refuse`,
        );
      }
      if (write.refusal === undefined) {
        return { ok: false, kind: 'rejected', reason: `condition failed: ${describeWrite(write)}` };
      }
      const reason = write.refusal(await this.itemOnRefusal(write, reasons[index]?.Item));
      // The item as the condition saw it must explain the refusal. If it does not (the emulator
      // returned no Item and the item changed since), the write lost a race: re-load and retry.
      if (reason === undefined) return { ok: false, kind: 'barrier-conflict' };
      return { ok: false, kind: 'rejected', reason };
    }

    // No condition failed: another transaction held one of the items, or DynamoDB throttled the
    // write — contention, which the shell retries after a backoff.
    throwIfContention(error, `write of the barrier of ${where}`);
    throw new InfrastructureError(`write of ${where} was cancelled: ${codes.join(', ')}`, { cause: error });
  }

  /**
   * The item a failed condition saw: the one its cancellation reason carries (raw attribute values
   * there: unmarshalled here) or, when it carries none, a consistent read of the write's key.
   * Undefined when there is none (or, for a Put, when the reason carries none: its key is unknown).
   */
  private async itemOnRefusal(
    write: Write,
    reasonItem: Record<string, unknown> | undefined,
  ): Promise<Item | undefined> {
    if (reasonItem !== undefined) return unmarshall(reasonItem as Parameters<typeof unmarshall>[0]);
    const target = write.Update ?? write.Delete ?? write.ConditionCheck;
    if (target === undefined) return undefined;
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: target.TableName, Key: target.Key, ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      throw new InfrastructureError(`could not read ${describeWrite(write)}`, { cause: error });
    }
  }
}

/** The TransactWriteItems action of a write (without `refusal`); a prepare's returns the item it saw. */
function transactItemOf(write: Write, prepare: boolean): TransactItem {
  const { refusal: _refusal, ...item } = write;
  if (!prepare) return item;
  const [kind, action] = Object.entries(item)[0] ?? [];
  if (kind === undefined || action === undefined) return item;
  return { [kind]: { ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...action } } as TransactItem;
}

/** The `<table> <key>` two of `writes` share, if any (Puts, whose key is unknown, are not compared). */
function writeOnOneItemTwice(writes: readonly Write[]): string | undefined {
  const seen = new Set<string>();
  for (const write of writes) {
    const target = write.Update ?? write.Delete ?? write.ConditionCheck;
    if (target === undefined) continue;
    const item = `${target.TableName} ${canonicalJson(target.Key as JsonValue)}`;
    if (seen.has(item)) return item;
    seen.add(item);
  }
  return undefined;
}

/** `Update of <table> <key>`, for messages. */
function describeWrite(write: Write): string {
  const [kind, action] = Object.entries(write).find(([name]) => name !== 'refusal') ?? ['write', {}];
  const { TableName, Key } = action as { TableName?: string; Key?: unknown };
  return `${kind} of ${TableName ?? '?'} ${Key === undefined ? '' : JSON.stringify(Key)}`.trim();
}

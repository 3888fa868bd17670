import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { FenceLostError, InfrastructureError, VersionConflictError } from '../errors';
import {
  type DueReport,
  type DueTx,
  type Fence,
  mostOverdueFirst,
  type StoredTx,
  type TxOrigin,
  type TxStore,
} from '../ports';
import type { TxRecord } from '../protocol';
import { incarnatedTxId, incarnationOf, recordKeyOf } from '../txid';
import { cancellationCodes, throwIfContention } from './dynamo-errors';

/** Name of the sparse index of undecided/unacknowledged transactions by slot and next check time. */
export const DUE_INDEX = 'due';

/** Seconds a terminal record is kept before DynamoDB's TTL may delete it. */
const TERMINAL_RETENTION_S = 30 * 24 * 3600;

/** Most live transactions one `due` reads (the sweeper runs again a minute later). */
const DUE_SCAN_MAX = 100_000;
/** Segments of the parallel Scan of the `due` index. */
const DUE_SCAN_SEGMENTS = 4;

type Item = Record<string, unknown>;

/**
 * The item a stored transaction is written as (by the store, and by the one-phase commit's Put):
 * keyed by the record key (`txId`, the table's partition key: the id without its incarnation),
 * with the incarnation beside it. `nextCheckAtMs` is left out when null (terminal), so the `due`
 * index holds live records only; a terminal record carries its expiry (`expiresAtS`, the TTL).
 */
export function txItemOf(tx: StoredTx): Item {
  const { nextCheckAtMs, txId, ...rest } = tx.record;
  const item: Item = { ...rest, txId: recordKeyOf(txId), requestHash: tx.requestHash };
  if (tx.origin !== undefined) item.origin = tx.origin;
  const incarnation = incarnationOf(txId);
  if (incarnation !== null) item.incarnation = incarnation;
  if (nextCheckAtMs !== null) item.nextCheckAtMs = nextCheckAtMs;
  if (tx.record.completedAtMs !== null) item.expiresAtS = expiresAtSOf(tx.record.completedAtMs);
  return item;
}

/** When DynamoDB's TTL may delete a record completed at `completedAtMs` (epoch seconds). */
export function expiresAtSOf(completedAtMs: number): number {
  return Math.floor(completedAtMs / 1000) + TERMINAL_RETENTION_S;
}

/** The transaction id of a stored item: its record key, and its incarnation if it has one. */
export function txIdOfItem(item: {
  readonly txId: string;
  readonly incarnation?: string | undefined;
}): string {
  return item.incarnation === undefined ? item.txId : incarnatedTxId(item.txId, item.incarnation);
}

/** The stored transaction an item holds (the inverse of txItemOf). */
export function storedTxOfItem(item: Item): StoredTx {
  const { requestHash, origin, expiresAtS: _ttl, nextCheckAtMs, incarnation, txId, ...rest } = item;
  return {
    requestHash: requestHash as string,
    ...(origin !== undefined ? { origin: origin as TxOrigin } : {}),
    record: {
      ...(rest as unknown as Omit<TxRecord, 'txId' | 'nextCheckAtMs'>),
      txId: txIdOfItem({ txId: txId as string, incarnation: incarnation as string | undefined }),
      nextCheckAtMs: (nextCheckAtMs as number | undefined) ?? null,
    },
  };
}

/**
 * The condition that a stored item is still the transaction `txId` (not a later one at its key):
 * its incarnation, or none for an id without one. Names `#incarnation`; values `:incarnation`.
 */
export function sameTransactionCondition(txId: string): {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, string>;
} {
  const incarnation = incarnationOf(txId);
  return incarnation === null
    ? {
        expression: 'attribute_not_exists(#incarnation)',
        names: { '#incarnation': 'incarnation' },
        values: {},
      }
    : {
        expression: '#incarnation = :incarnation',
        names: { '#incarnation': 'incarnation' },
        values: { ':incarnation': incarnation },
      };
}

/**
 * The coordinator log in DynamoDB: one item per transaction at its record key (shared/txid.ts).
 */
export class DynamoTxStore implements TxStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly slotsTable: string,
  ) {}

  async create(tx: StoredTx): Promise<{ created: true } | { created: false; existing: StoredTx }> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: txItemOf(tx),
          ConditionExpression: 'attribute_not_exists(txId)',
        }),
      );
      return { created: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const existing = await this.loadAt(recordKeyOf(tx.record.txId));
        if (existing) return { created: false, existing };
      }
      throwIfContention(error, `create of transaction ${tx.record.txId}`);
      throw new InfrastructureError(`could not create transaction ${tx.record.txId}`, { cause: error });
    }
  }

  async load(txId: string): Promise<StoredTx | undefined> {
    const stored = await this.loadAt(recordKeyOf(txId));
    return stored?.record.txId === txId ? stored : undefined;
  }

  async loadAt(recordKey: string): Promise<StoredTx | undefined> {
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table, Key: { txId: recordKey }, ConsistentRead: true }),
      );
      return result.Item ? storedTxOfItem(result.Item) : undefined;
    } catch (error) {
      throw new InfrastructureError(`could not read transaction ${recordKey}`, { cause: error });
    }
  }

  async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const { txId } = next.record;
    const same = sameTransactionCondition(txId);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: txItemOf(next),
                ConditionExpression: `version = :expected AND ${same.expression}`,
                ExpressionAttributeNames: same.names,
                ExpressionAttributeValues: { ':expected': expectedVersion, ...same.values },
              },
            },
            {
              ConditionCheck: {
                TableName: this.slotsTable,
                Key: { slot: fence.slot },
                ConditionExpression: '#owner = :owner AND epoch = :epoch',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: { ':owner': fence.owner, ':epoch': fence.epoch },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [record, slot] = cancellationCodes(error);
        if (slot === 'ConditionalCheckFailed') throw new FenceLostError(fence, { cause: error });
        if (record === 'ConditionalCheckFailed') throw new VersionConflictError(txId, expectedVersion);
      }
      throwIfContention(error, `save of transaction ${txId}`);
      throw new InfrastructureError(`could not save transaction ${txId}`, { cause: error });
    }
  }

  /**
   * A parallel Scan of the sparse `due` index — every slot that holds a live record, whatever the
   * deployment's slot count is now — filtered to what is due, most overdue first. The index holds
   * live records only (terminal ones leave it), so the Scan reads what is in flight, not the log.
   */
  async due(nowMs: number, limit: number): Promise<DueReport> {
    const due: DueTx[] = [];
    let live = 0;
    try {
      await Promise.all(
        Array.from({ length: DUE_SCAN_SEGMENTS }, async (_, segment) => {
          const pages = paginateScan(
            { client: this.client, pageSize: 1000 },
            {
              TableName: this.table,
              IndexName: DUE_INDEX,
              Segment: segment,
              TotalSegments: DUE_SCAN_SEGMENTS,
              FilterExpression: 'nextCheckAtMs <= :now',
              ExpressionAttributeValues: { ':now': nowMs },
            },
          );
          for await (const page of pages) {
            live += page.ScannedCount ?? 0;
            for (const item of page.Items ?? []) {
              due.push({
                recordKey: item.txId as string,
                slot: item.slot as number,
                nextCheckAtMs: item.nextCheckAtMs as number,
              });
            }
            if (live >= DUE_SCAN_MAX) break;
          }
        }),
      );
    } catch (error) {
      throw new InfrastructureError('could not scan the due transactions', { cause: error });
    }
    return { due: mostOverdueFirst(due).slice(0, Math.max(0, limit)), live };
  }
}

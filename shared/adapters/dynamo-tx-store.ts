import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { FenceLostError, InfrastructureError, VersionConflictError } from '../errors';
import type { DueTx, Fence, StoredTx, TxStore } from '../ports';
import type { TxRecord } from '../protocol';
import { cancellationCodes, throwIfContention } from './dynamo-errors';

/** Name of the sparse index of undecided/unacknowledged transactions by slot and next check time. */
export const DUE_INDEX = 'due';

/** Seconds a terminal record is kept before DynamoDB's TTL may delete it. */
export const TERMINAL_RETENTION_S = 30 * 24 * 3600;

type Item = Record<string, unknown>;

/**
 * The item a stored transaction is written as (by the store, and by the one-phase commit's Put).
 * `nextCheckAtMs` is left out when null (terminal), so the `due` index holds live records only.
 */
export function txItemOf(tx: StoredTx): Item {
  const { nextCheckAtMs, ...rest } = tx.record;
  const item: Item = { ...rest, requestHash: tx.requestHash };
  if (nextCheckAtMs !== null) item.nextCheckAtMs = nextCheckAtMs;
  if (tx.record.completedAtMs !== null) {
    item.expiresAtS = Math.floor(tx.record.completedAtMs / 1000) + TERMINAL_RETENTION_S;
  }
  return item;
}

/**
 * The coordinator log in DynamoDB. A record is one item keyed by `txId`. `nextCheckAtMs` is left
 * out of the item when null (terminal), so the `due` index holds only live transactions.
 */
export class DynamoTxStore implements TxStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly slotsTable: string,
  ) {}

  private fromItem(item: Item): StoredTx {
    const { requestHash, expiresAtS: _ttl, nextCheckAtMs, ...rest } = item;
    return {
      requestHash: requestHash as string,
      record: {
        ...(rest as unknown as TxRecord),
        nextCheckAtMs: (nextCheckAtMs as number | undefined) ?? null,
      },
    };
  }

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
        const existing = await this.load(tx.record.txId);
        if (existing) return { created: false, existing };
      }
      throwIfContention(error, `create of transaction ${tx.record.txId}`);
      throw new InfrastructureError(`could not create transaction ${tx.record.txId}`, { cause: error });
    }
  }

  async load(txId: string): Promise<StoredTx | undefined> {
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table, Key: { txId }, ConsistentRead: true }),
      );
      return result.Item ? this.fromItem(result.Item) : undefined;
    } catch (error) {
      throw new InfrastructureError(`could not read transaction ${txId}`, { cause: error });
    }
  }

  async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const { txId } = next.record;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: txItemOf(next),
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':expected': expectedVersion },
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

  async due(slot: number, nowMs: number, limit: number): Promise<DueTx[]> {
    try {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'slot = :slot AND nextCheckAtMs <= :now',
          ExpressionAttributeValues: { ':slot': slot, ':now': nowMs },
          Limit: limit,
        }),
      );
      return (result.Items ?? []).map((item) => ({
        txId: item.txId as string,
        nextCheckAtMs: item.nextCheckAtMs as number,
      }));
    } catch (error) {
      throw new InfrastructureError(`could not query due transactions of slot ${slot}`, { cause: error });
    }
  }
}

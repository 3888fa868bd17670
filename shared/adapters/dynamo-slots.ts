import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { InfrastructureError } from '../errors';
import type { SlotStore } from '../ports';
import type { SlotRow } from '../protocol';
import type { LeaseCondition } from '../protocol/lease';
import { throwIfContention } from './dynamo-errors';

/**
 * The leader slot table: one item per slot, `{slot, owner?, epoch, leaseExpiresAtMs}`. A free slot
 * has no `owner` attribute. Writes are whole-item puts conditioned on the row exactly as it was
 * read, so of several racing acquirers only one wins.
 */
export class DynamoSlotStore implements SlotStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async read(slot: number): Promise<SlotRow | undefined> {
    try {
      const { Item: item } = await this.client.send(
        new GetCommand({ TableName: this.table, Key: { slot }, ConsistentRead: true }),
      );
      if (!item) return undefined;
      return {
        slot,
        owner: (item.owner as string | undefined) ?? null,
        epoch: item.epoch as number,
        leaseExpiresAtMs: item.leaseExpiresAtMs as number,
      };
    } catch (error) {
      throw new InfrastructureError(`could not read slot ${slot}`, { cause: error });
    }
  }

  async write(next: SlotRow, condition: LeaseCondition): Promise<boolean> {
    const item: Record<string, unknown> = {
      slot: next.slot,
      epoch: next.epoch,
      leaseExpiresAtMs: next.leaseExpiresAtMs,
    };
    if (next.owner !== null) item.owner = next.owner;
    const expected = condition.rowExists
      ? {
          ConditionExpression: `${
            condition.expectedOwner === null ? 'attribute_not_exists(#owner)' : '#owner = :owner'
          } AND epoch = :epoch AND leaseExpiresAtMs = :expires`,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ...(condition.expectedOwner === null ? {} : { ':owner': condition.expectedOwner }),
            ':epoch': condition.expectedEpoch,
            ':expires': condition.expectedLeaseExpiresAtMs,
          },
        }
      : { ConditionExpression: 'attribute_not_exists(slot)' };
    try {
      await this.client.send(new PutCommand({ TableName: this.table, Item: item, ...expected }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      // A coordinator's save holds the row in its transaction (the fence's ConditionCheck).
      throwIfContention(error, `write of slot ${next.slot}`);
      throw new InfrastructureError(`could not write slot ${next.slot}`, { cause: error });
    }
  }
}

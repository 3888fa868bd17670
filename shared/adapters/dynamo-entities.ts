import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EntityRecord, EntityStore } from '../entities';
import { InfrastructureError } from '../errors';
import { entityKey, numberOf } from '../participant/counter';

/** EntityStore over one DynamoDB table per shard. */
export class DynamoEntityStore implements EntityStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly kind: string,
    private readonly tables: readonly string[],
  ) {}

  get shardCount(): number {
    return this.tables.length;
  }

  private table(shard: number): string {
    const name = this.tables[shard];
    if (name === undefined) throw new RangeError(`no ${this.kind} table for shard ${shard}`);
    return name;
  }

  async insert(shard: number, entity: EntityRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table(shard),
          Item: { ...entityKey(this.kind, entity.id), kind: this.kind, ...entity },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new InfrastructureError(`could not write ${this.kind} to shard ${shard}`, { cause: error });
    }
  }

  async get(shard: number, id: string): Promise<EntityRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table(shard), Key: entityKey(this.kind, id), ConsistentRead: true }),
      );
      item = result.Item;
    } catch (error) {
      throw new InfrastructureError(`could not read ${this.kind} from shard ${shard}`, { cause: error });
    }
    if (!item) return undefined;
    return {
      id: item.id as string,
      total: item.total as number,
      held: item.held as number,
      available: item.available as number,
      createdAtMs: item.createdAtMs as number,
    };
  }
}

/**
 * An entity's `available` as a failed condition saw it: from the item a cancellation reason carries
 * (ReturnValuesOnConditionCheckFailure; raw `{N: '5'}` there, errors are not unmarshalled) or, when
 * it carries none, from a consistent read. Undefined when the entity does not exist.
 */
export async function availableOnRefusal(
  client: DynamoDBDocumentClient,
  table: string,
  entityKind: string,
  id: string,
  reasonItem: Record<string, unknown> | undefined,
): Promise<{ available: number } | undefined> {
  if (reasonItem !== undefined) return { available: numberOf(reasonItem.available) };
  try {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: entityKey(entityKind, id), ConsistentRead: true }),
    );
    return Item ? { available: numberOf(Item.available) } : undefined;
  } catch (error) {
    throw new InfrastructureError(`could not read ${entityKind} '${id}'`, { cause: error });
  }
}

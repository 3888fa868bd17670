import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { InfrastructureError } from '../errors';
import type { AccountRecord, AccountStore } from '../ledger/accounts';

/** Key of an account item on a ledger shard table (the table also holds protocol barrier items). */
export const accountKey = (accountId: string) => ({ pk: `account#${accountId}` });

/** AccountStore over one DynamoDB table per shard. */
export class DynamoAccountStore implements AccountStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly shardTables: readonly string[],
  ) {}

  get shardCount(): number {
    return this.shardTables.length;
  }

  private table(shard: number): string {
    const name = this.shardTables[shard];
    if (name === undefined) throw new RangeError(`no table for shard ${shard}`);
    return name;
  }

  async insert(shard: number, account: AccountRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table(shard),
          Item: { ...accountKey(account.accountId), kind: 'account', ...account },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new InfrastructureError(`could not write account to shard ${shard}`, { cause: error });
    }
  }

  async get(shard: number, accountId: string): Promise<AccountRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.table(shard), Key: accountKey(accountId), ConsistentRead: true }),
      );
      item = result.Item;
    } catch (error) {
      throw new InfrastructureError(`could not read account from shard ${shard}`, { cause: error });
    }
    if (!item) return undefined;
    return {
      accountId: item.accountId as string,
      balance: item.balance as number,
      held: (item.held as number | undefined) ?? 0,
      createdAtMs: item.createdAtMs as number,
    };
  }
}

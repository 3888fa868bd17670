import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { InfrastructureError } from '../errors';
import type { ReplayGuard } from '../https/replay-guard';

export interface DynamoReplayGuardOptions {
  /** The participant's table (partition key `pk`, a string), next to its barriers. */
  readonly table: string;
  /**
   * The table's TTL attribute (epoch seconds), which lets DynamoDB delete expired signatures.
   * `expiresAtS` by default. Without TTL on the table they stay, harmless but billed.
   */
  readonly ttlAttribute?: string;
}

/** Key of a remembered signature on the participant's table (beside `barrier#…` items). */
export const replayKey = (signature: string) => ({ pk: `replay#${signature}` });

/**
 * The ReplayGuard on DynamoDB: one item per accepted signature, put only if none is there or the one
 * there has expired (TTL deletes lazily, up to days late, so the condition reads the time itself) —
 *
 *   Put replay#<signature> { expiresAtMs, <ttl>: expiresAtMs / 1000 }
 *   if attribute_not_exists(pk) OR expiresAtMs < :now          failed → a replay
 *
 * Every instance of the endpoint shares it, so a replay is caught whichever instance it reaches.
 */
export class DynamoReplayGuard implements ReplayGuard {
  private readonly table: string;
  private readonly ttlAttribute: string;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    options: DynamoReplayGuardOptions,
  ) {
    this.table = options.table;
    this.ttlAttribute = options.ttlAttribute ?? 'expiresAtS';
  }

  async remember(signature: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...replayKey(signature),
            kind: 'replay',
            expiresAtMs,
            [this.ttlAttribute]: Math.ceil(expiresAtMs / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs < :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if ((error as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
      throw new InfrastructureError('could not remember a call signature', { cause: error });
    }
  }
}

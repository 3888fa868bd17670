import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type CrashPoint, type DropPoint, type Faults, InjectedCrashError, NO_FAULTS } from '../faults';

/**
 * Fault plans for test deployments, read from the Faults table that only a deployment with the
 * `faults` setting has. An item `{pk: 'tx#<txId>', crash: [points], drop: [points]}` targets one
 * transaction: each listed crash point throws on the FIRST delivery of a message of it (the
 * redelivery then succeeds, like a Lambda that died once), each drop point skips its send every time.
 */
export class DynamoFaultSource {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string | undefined,
  ) {}

  get enabled(): boolean {
    return this.table !== undefined;
  }

  async forMessage(txId: string, receiveCount: number): Promise<Faults> {
    if (!this.table) return NO_FAULTS;
    const { Item: plan } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { pk: `tx#${txId}` }, ConsistentRead: true }),
    );
    if (!plan) return NO_FAULTS;
    const crash = new Set((plan.crash as string[] | undefined) ?? []);
    const drop = new Set((plan.drop as string[] | undefined) ?? []);
    return {
      crashPoint: (point: CrashPoint, forTx: string) => {
        if (forTx === txId && receiveCount <= 1 && crash.has(point))
          throw new InjectedCrashError(point, txId);
      },
      drop: (point: DropPoint, forTx: string) => forTx === txId && drop.has(point),
    };
  }
}

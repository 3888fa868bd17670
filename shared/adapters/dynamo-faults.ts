import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CRASH_POINTS,
  type CrashPoint,
  DROP_POINTS,
  type DropPoint,
  type FaultHit,
  type FaultPlan,
  type Faults,
  hitAttribute,
  NO_FAULTS,
  plannedFaults,
} from '../faults';

/** Key of the fault plan item of a transaction in the Faults table. */
export const faultPlanKey = (txId: string) => ({ pk: `tx#${txId}` });

/**
 * Fault plans for test deployments, read from the Faults table that only a deployment with the
 * `faults` setting has. An item `{pk: 'tx#<txId>', crash?: [points], drop?: [points], duplicate?:
 * true}` targets one transaction: each listed crash point throws on the FIRST delivery of a
 * message of it (the redelivery then succeeds, like a Lambda that died once), each drop point
 * skips its send every time, and `duplicate` sends every message of the transaction twice.
 *
 * Every fault that fires is counted on the plan item (`ADD hits.<point> 1`), so a chaos report
 * counts injections that happened, not plans.
 */
export class DynamoFaultSource {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string | undefined,
    private readonly onCountFailed: (error: unknown) => void = () => {},
  ) {}

  get enabled(): boolean {
    return this.table !== undefined;
  }

  /**
   * Runs `work` (the handling of one delivery of a message of `txId`) with the transaction's
   * faults, then counts the faults that fired — also when `work` threw an injected crash.
   * `hit` is for faults injected outside the Faults port (a duplicated send).
   */
  async run<T>(
    txId: string,
    receiveCount: number,
    work: (faults: Faults, hit: (fault: FaultHit) => void) => Promise<T>,
  ): Promise<T> {
    const plan = await this.load(txId);
    if (!plan) return work(NO_FAULTS, () => {});
    const hits: FaultHit[] = [];
    const hit = (fault: FaultHit) => void hits.push(fault);
    try {
      return await work(plannedFaults(txId, receiveCount, plan, hit), hit);
    } finally {
      await this.count(txId, hits);
    }
  }

  private async load(txId: string): Promise<FaultPlan | undefined> {
    if (!this.table) return undefined;
    const { Item: item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: faultPlanKey(txId), ConsistentRead: true }),
    );
    return item ? parseFaultPlan(item) : undefined;
  }

  private async count(txId: string, hits: readonly FaultHit[]): Promise<void> {
    if (!this.table || hits.length === 0) return;
    const counts = new Map<FaultHit, number>();
    for (const fault of hits) counts.set(fault, (counts.get(fault) ?? 0) + 1);
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds = [...counts].map(([fault, n], i) => {
      names[`#h${i}`] = hitAttribute(fault);
      values[`:n${i}`] = n;
      return `#h${i} :n${i}`;
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: faultPlanKey(txId),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // Counting is bookkeeping for the report; it must not change how the message is handled.
      this.onCountFailed(error);
    }
  }
}

/** The plan in a Faults table item; unknown points are ignored (a plan may come from a newer test). */
export function parseFaultPlan(item: Record<string, unknown>): FaultPlan {
  const listed = <P extends string>(value: unknown, known: readonly P[]): P[] =>
    Array.isArray(value) ? value.filter((p): p is P => known.includes(p as P)) : [];
  return {
    crash: listed<CrashPoint>(item.crash, CRASH_POINTS),
    drop: listed<DropPoint>(item.drop, DROP_POINTS),
    duplicate: item.duplicate === true,
  };
}

/** The injections counted on a plan item, by fault (`hits.<fault>` attributes). */
export function parseFaultHits(item: Record<string, unknown>): Record<string, number> {
  const hits: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('hits.') && typeof value === 'number') hits[name.slice('hits.'.length)] = value;
  }
  return hits;
}

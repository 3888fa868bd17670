import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  CONFLICT_POINTS,
  type ConflictPoint,
  CRASH_POINTS,
  type CrashPoint,
  checkFaultPlan,
  conflictCountOf,
  conflictHit,
  DROP_POINTS,
  type DropPoint,
  type FaultHit,
  type FaultPlan,
  type Faults,
  hitAttribute,
  NO_FAULTS,
  plannedFaults,
} from '../faults';
import { recordKeyOf } from '../txid';
import { conflictingClient } from './dynamo-conflicts';

/**
 * Key of the fault plan item of a transaction in the Faults table: by its record key
 * (shared/txid.ts), which a test knows before the transaction exists — `keyedRecordKey(key)` of the
 * idempotency key it will use — while the id's incarnation is drawn at creation. A transaction id
 * and its record key name the same plan.
 */
export const faultPlanKey = (txIdOrRecordKey: string) => ({ pk: `tx#${recordKeyOf(txIdOrRecordKey)}` });

/** The key of the plan item that governs the messages of `txId`. Every read and count goes through here. */
const planKeyOf = (txId: string) => faultPlanKey(txId);

/** The Faults table item of a plan; throws FaultPlanError when the plan asks for a bad count. */
export function faultPlanItem(txId: string, plan: FaultPlan): Record<string, unknown> {
  checkFaultPlan(plan);
  return { ...faultPlanKey(txId), ...plan };
}

/**
 * Where a plan's conflicts are injected: the store of the point's writes, built over a client that
 * cancels them as DynamoDB would (dynamo-conflicts.ts) while the plan has conflicts left there.
 */
export interface ConflictInjection {
  /** `plain` when the plan has no conflict left at `point`; otherwise `over` a conflicting client. */
  storeAt<S>(point: ConflictPoint, plain: S, over: (client: DynamoDBDocumentClient) => S): S;
}

const NO_CONFLICTS: ConflictInjection = { storeAt: (_point, plain) => plain };

/**
 * Fault plans for test deployments, read from the Faults table that only a deployment with the
 * `faults` setting has. An item `{pk: 'tx#<txId>', crash?: [points], drop?: [points], duplicate?:
 * true, conflict?: {<point>: n}}` targets one transaction: each listed crash point throws on the
 * FIRST delivery of a message of it (the redelivery then succeeds, like a Lambda that died once),
 * each drop point skips its send every time, `duplicate` sends every message of the transaction
 * twice, and each conflict point cancels the transaction's first n writes there, whatever the
 * delivery or the participant.
 *
 * Every fault that fires is counted on the plan item (`ADD hits.<point> 1`), so a chaos report
 * counts injections that happened, not plans. A conflict is counted BEFORE it is injected, by a
 * conditional ADD that grants it only while `hits.conflict.<point>` is below n: concurrent
 * deliveries (two participants, a redelivery) never inject more than n between them.
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
   * `hit` is for faults injected outside the Faults port (a duplicated send); `conflicts` gives
   * the stores whose writes the plan cancels (conflicts count themselves as they are claimed).
   */
  async run<T>(
    txId: string,
    receiveCount: number,
    work: (faults: Faults, hit: (fault: FaultHit) => void, conflicts: ConflictInjection) => Promise<T>,
  ): Promise<T> {
    const planned = await this.load(txId);
    if (!planned) return work(NO_FAULTS, () => {}, NO_CONFLICTS);
    const { plan, hits: counted } = planned;
    const hits: FaultHit[] = [];
    const hit = (fault: FaultHit) => void hits.push(fault);
    const conflicts: ConflictInjection = {
      storeAt: (point, plain, over) => {
        const n = plan.conflict?.[point];
        if (n === undefined || (counted[conflictHit(point)] ?? 0) >= n) return plain;
        // Once a claim is refused (all n injected), the rest of this delivery's writes go through.
        let granting = true;
        const claim = async () => {
          granting = granting && (await this.claim(txId, point, n));
          return granting;
        };
        return over(conflictingClient(this.client, point, txId, claim));
      },
    };
    try {
      return await work(plannedFaults(txId, receiveCount, plan, hit), hit, conflicts);
    } finally {
      await this.count(txId, hits);
    }
  }

  private async load(txId: string): Promise<{ plan: FaultPlan; hits: Record<string, number> } | undefined> {
    if (!this.table) return undefined;
    const { Item: item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: planKeyOf(txId), ConsistentRead: true }),
    );
    return item ? { plan: parseFaultPlan(item), hits: parseFaultHits(item) } : undefined;
  }

  /**
   * Counts one more conflict at `point` if fewer than `n` were injected: true when this one is
   * granted. A failed count grants nothing (the write goes through), so the count stays exact.
   */
  private async claim(txId: string, point: ConflictPoint, n: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: planKeyOf(txId),
          UpdateExpression: 'ADD #hits :one',
          ConditionExpression: 'attribute_not_exists(#hits) OR #hits < :n',
          ExpressionAttributeNames: { '#hits': hitAttribute(conflictHit(point)) },
          ExpressionAttributeValues: { ':one': 1, ':n': n },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) this.onCountFailed(error);
      return false;
    }
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
          Key: planKeyOf(txId),
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

/**
 * The plan in a Faults table item. Unknown points are ignored (a plan may come from a newer test),
 * and so is a conflict count that is not an integer from 1 to CONFLICTS_MAX (faultPlanItem refuses
 * to write one): a handler never fails on a plan.
 */
export function parseFaultPlan(item: Record<string, unknown>): FaultPlan {
  const listed = <P extends string>(value: unknown, known: readonly P[]): P[] =>
    Array.isArray(value) ? value.filter((p): p is P => known.includes(p as P)) : [];
  const asked = typeof item.conflict === 'object' && item.conflict !== null ? item.conflict : {};
  const conflict: Partial<Record<ConflictPoint, number>> = {};
  for (const point of CONFLICT_POINTS) {
    const n = conflictCountOf((asked as Record<string, unknown>)[point]);
    if (n !== undefined) conflict[point] = n;
  }
  return {
    crash: listed<CrashPoint>(item.crash, CRASH_POINTS),
    drop: listed<DropPoint>(item.drop, DROP_POINTS),
    duplicate: item.duplicate === true,
    conflict,
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

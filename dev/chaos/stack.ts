import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AccountView,
  TandemApiError,
  type TandemClient,
  TandemNetworkError,
  TandemNotFoundError,
  TandemServerError,
  type TransferInput,
  type WaitOptions,
} from '../../client';
import { faultPlanItem, faultPlanKey, parseFaultHits } from '../../shared/adapters/dynamo-faults';
import { txIdOfItem } from '../../shared/adapters/dynamo-tx-store';
import type { FaultPlan } from '../../shared/faults';
import { awsDeps } from '../../shared/ops/aws';
import { queueNameOfUrl, redriveDlq, stackDlqs } from '../../shared/ops/dlq';
import type { ReceivedMessage } from '../../shared/ops/ports';
import { stackNamesOf } from '../../shared/ops/target';
import { recordKeyOf } from '../../shared/txid';
import { LOCAL_REGION, type LocalDeployment, localApiClient } from '../deploy';
import type { Answer, BarrierState, DlqSummary, ObservedTransaction } from './report';

/** Attempts of one request on a network error or a 5xx (with the same idempotency key). */
const HTTP_ATTEMPTS_MAX = 4;

/** The deployed stack as the chaos workload sees it: its HTTP API, its tables and queues. */
export class ChaosStack {
  readonly api: TandemClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly shardTables: readonly string[];
  readonly slotCount: number;
  /** Requests answered only after a retry (network error or 5xx). */
  serverErrorsRetried = 0;

  constructor(readonly deployment: LocalDeployment) {
    const config = {
      endpoint: deployment.endpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    this.api = localApiClient(deployment);
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    this.shardTables = this.output('LedgerShardTables').split(',');
    this.slotCount = Number(this.output('SlotCount'));
  }

  output(name: string): string {
    const value = this.deployment.outputs[name];
    if (!value) {
      throw new Error(
        `the deployment has no output ${name}${name === 'FaultsTable' ? ' (deploy with -c faults=on)' : ''}`,
      );
    }
    return value;
  }

  /** Sends a request of the API, again on a network error or a 5xx (a transfer with its idempotency key). */
  private async retrying<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await request();
        if (attempt > 1) this.serverErrorsRetried++;
        return result;
      } catch (error) {
        const retriable = error instanceof TandemServerError || error instanceof TandemNetworkError;
        if (!retriable || attempt >= HTTP_ATTEMPTS_MAX) {
          if (attempt > 1 && error instanceof TandemApiError) this.serverErrorsRetried++;
          throw error;
        }
      }
      await sleep(250 * attempt);
    }
  }

  async createAccount(accountId: string, initialBalance: number): Promise<void> {
    await this.retrying(() => this.api.createAccount({ accountId, initialBalance }));
  }

  async account(accountId: string): Promise<AccountView> {
    return this.retrying(() => this.api.getAccount(accountId));
  }

  /** Submits a transfer: the status it was answered with (an error's too) and its transaction's id. */
  async transfer(request: TransferInput, options: WaitOptions = {}): Promise<Answer> {
    try {
      const submitted = await this.retrying(() => this.api.transfer(request, options));
      return { status: submitted.status, txId: submitted.txId };
    } catch (error) {
      if (error instanceof TandemApiError) return { status: error.status };
      throw error;
    }
  }

  async planFaults(txId: string, plan: FaultPlan): Promise<void> {
    await this.dynamo.send(
      new PutCommand({ TableName: this.output('FaultsTable'), Item: faultPlanItem(txId, plan) }),
    );
  }

  async faultHits(txId: string): Promise<Record<string, number>> {
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: this.output('FaultsTable'),
        Key: faultPlanKey(txId),
        ConsistentRead: true,
      }),
    );
    return Item ? parseFaultHits(Item) : {};
  }

  async transaction(txId: string): Promise<ObservedTransaction | undefined> {
    try {
      const view = await this.retrying(() => this.api.getTransaction(txId));
      // A view's operations are JSON as each participant runs them: on the ledger, {id, action, amount}.
      return view as unknown as ObservedTransaction;
    } catch (error) {
      if (error instanceof TandemNotFoundError) return undefined;
      throw error;
    }
  }

  /**
   * The transactions at these record keys (shared/txid.ts) in the coordinator log, read straight
   * from its table (cheap enough to poll, unlike the API): record key → id and state; absent when
   * there is no record.
   */
  async states(recordKeys: readonly string[]): Promise<Map<string, { txId: string; state: string }>> {
    const table = this.output('TransactionsTable');
    const states = new Map<string, { txId: string; state: string }>();
    for (let i = 0; i < recordKeys.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = recordKeys
        .slice(i, i + 100)
        .map((recordKey) => ({ txId: recordKey }));
      // Bounded: unprocessed keys come back under throttling only; 20 rounds are plenty.
      for (let round = 0; keys && keys.length > 0 && round < 20; round++) {
        const answer: BatchGetCommandOutput = await this.dynamo.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ProjectionExpression: 'txId, incarnation, #state',
                ExpressionAttributeNames: { '#state': 'state' },
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of answer.Responses?.[table] ?? []) {
          const txId = txIdOfItem(item as { txId: string; incarnation?: string });
          states.set(item.txId as string, { txId, state: item.state as string });
        }
        keys = answer.UnprocessedKeys?.[table]?.Keys;
        if (keys && keys.length > 0) await sleep(100 * (round + 1));
      }
    }
    return states;
  }

  /** The barrier of (txId, participant) on the participant's table; ledger participants only. */
  async barrier(txId: string, participantId: string): Promise<BarrierState> {
    const shard = /^ledger-(\d+)$/.exec(participantId)?.[1];
    const table = shard === undefined ? undefined : this.shardTables[Number(shard)];
    if (!table) throw new Error(`no table known for participant ${participantId}`);
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `barrier#${txId}#${participantId}` },
        ConsistentRead: true,
      }),
    );
    return (Item?.state as BarrierState | undefined) ?? null;
  }

  /**
   * Takes a slot's lease away like another coordinator would: the row as read, conditionally
   * replaced by a fake owner with the next epoch. The next coordinator batch of that slot finds
   * its cached lease fenced off and hands the slot over again. False when the slot has no row yet
   * or the row changed under us.
   */
  async forceTakeover(slot: number, fakeOwner: string, leaseDurationMs: number): Promise<boolean> {
    const table = this.output('SlotsTable');
    const { Item: row } = await this.dynamo.send(
      new GetCommand({ TableName: table, Key: { slot }, ConsistentRead: true }),
    );
    if (!row) return false;
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            slot,
            owner: fakeOwner,
            epoch: (row.epoch as number) + 1,
            leaseExpiresAtMs: Date.now() + leaseDurationMs,
          },
          ConditionExpression: `${row.owner === undefined ? 'attribute_not_exists(#owner)' : '#owner = :owner'} AND epoch = :epoch AND leaseExpiresAtMs = :expires`,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ...(row.owner === undefined ? {} : { ':owner': row.owner }),
            ':epoch': row.epoch,
            ':expires': row.leaseExpiresAtMs,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Moves every dead-lettered message of `ours` (record keys: by the txId in its body) back to its
   * source queue with the operator tools' redrive; messages of other workloads stay in the DLQs.
   */
  async redriveDeadLetters(ours: ReadonlySet<string>): Promise<DlqSummary> {
    const { stackName, endpoint, outputs } = this.deployment;
    // No environment: the emulator's region and test credentials, as this stack's other clients.
    const ops = awsDeps({ stackName, endpoint }, {});
    let [found, redriven, foreign] = [0, 0, 0];
    const errors: string[] = [];
    for (const dlq of await stackDlqs(stackNamesOf(stackName, outputs), ops.stack, ops.queues)) {
      const ofThisRun = (message: ReceivedMessage) => {
        const txId = txIdOf(message.body);
        if (!txId || !ours.has(recordKeyOf(txId))) return false;
        const error =
          message.attributes.error?.StringValue ?? '(no error attribute: maxReceiveCount exceeded)';
        errors.push(`${queueNameOfUrl(dlq.dlqUrl)}: ${error} — ${message.body}`);
        return true;
      };
      const result = await redriveDlq(dlq, ops.queues, ops.clock, {
        all: true,
        max: 0,
        waitMs: 0,
        select: ofThisRun,
      });
      found += result.moved + result.failed;
      redriven += result.moved;
      foreign += result.skipped ?? 0;
    }
    return { found, redriven, foreign, errors };
  }
}

function txIdOf(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { txId?: unknown };
    return typeof parsed.txId === 'string' ? parsed.txId : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

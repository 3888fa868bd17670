import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AccountView, ItemView, Submitted, TandemClient, TransactionView } from '../../client';
import { type LocalDeployment, localApiClient } from '../../dev/deploy';
import { faultPlanItem, faultPlanKey, parseFaultHits } from '../../shared/adapters/dynamo-faults';
import { mapConcurrent } from '../../shared/concurrency';
import type { FaultPlan } from '../../shared/faults';
import { keyedRecordKey } from '../../shared/txid';

/**
 * The deployed API for e2e tests: `client` is the TandemClient every test calls the API with; the
 * rest reads and arms what the API does not show (fault plans, records in the coordinator log).
 */
export class ApiClient {
  readonly client: TandemClient;
  readonly dynamo: DynamoDBDocumentClient;

  constructor(readonly deployment: LocalDeployment) {
    this.client = localApiClient(deployment);
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: deployment.endpoint }));
  }

  createAccount(accountId: string, initialBalance: number): Promise<AccountView> {
    return this.client.createAccount({ accountId, initialBalance });
  }

  createItem(sku: string, stock: number): Promise<ItemView> {
    return this.client.createItem({ sku, stock });
  }

  /** Polls until the transaction is terminal (every participant applied the outcome) or `deadlineMs` passes. */
  async waitTerminal(txId: string, deadlineMs = Date.now() + 120_000): Promise<TransactionView> {
    for (;;) {
      const view = await this.client.getTransaction(txId, { wait: 10 });
      if (view.state === 'COMMITTED' || view.state === 'ABORTED') return view;
      if (Date.now() > deadlineMs) return view;
      // Decided but still being applied: `?wait` answers at once now, so pace the polls.
      if (view.outcome !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Arms a fault plan for one transaction (the test stack has the Faults table). */
  async planFaults(txId: string, plan: FaultPlan): Promise<void> {
    await this.dynamo.send(
      new PutCommand({ TableName: this.faultsTable(), Item: faultPlanItem(txId, plan) }),
    );
  }

  /**
   * A two-phase transfer between two new accounts (`<name>-from`, `<name>-to`) whose votes a fault
   * plan drops: it stays PREPARING until the prepare timeout (20 s in the test stack) aborts it.
   */
  async stuckTransfer(name: string): Promise<{ readonly txId: string; readonly key: string }> {
    const [from, to] = [`${name}-from`, `${name}-to`];
    await this.createAccount(from, 100);
    await this.createAccount(to, 0);
    await this.planFaults(keyedRecordKey(name), { drop: ['participant.vote'] });
    const { txId } = await this.client.transfer({
      from,
      to,
      amount: 40,
      idempotencyKey: name,
      commit: 'two-phase',
    });
    return { txId, key: name };
  }

  /** The faults the handlers injected for one transaction, as counted on its plan (`hits.<fault>`). */
  async faultHits(txId: string): Promise<Record<string, number>> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.faultsTable(), Key: faultPlanKey(txId), ConsistentRead: true }),
    );
    return Item ? parseFaultHits(Item) : {};
  }

  /** The item of the transaction record stored at `recordKey` (shared/txid.ts), if any. */
  async recordAt(recordKey: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({
        TableName: this.deployment.outputs.TransactionsTable!,
        Key: { txId: recordKey },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  private faultsTable(): string {
    const table = this.deployment.outputs.FaultsTable;
    if (!table) throw new Error('this deployment has no Faults table (deploy with -c faults=on)');
    return table;
  }
}

/** The full view of a submit answered terminal (200); throws if it was only accepted (202). */
export function terminalView(submitted: Submitted): TransactionView {
  if (submitted.status !== 200) {
    throw new Error(
      `${submitted.txId} was answered ${submitted.status} (${submitted.view.state}), not terminal`,
    );
  }
  return submitted.view;
}

/** Runs `tasks` with at most `limit` in flight (the one worker pool, over thunks). */
export function inParallel<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  return mapConcurrent(tasks, limit, (task) => task());
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalDeployment } from '../../scripts/lib/deploy';
import { faultPlanItem, faultPlanKey, parseFaultHits } from '../../shared/adapters/dynamo-faults';
import type { FaultPlan } from '../../shared/faults';

export interface Answer {
  readonly status: number;
  readonly type: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: test client reading JSON answers
  readonly body: any;
}

/** A small client of the deployed API for e2e tests and the chaos workload. */
export class ApiClient {
  readonly dynamo: DynamoDBDocumentClient;

  constructor(readonly deployment: LocalDeployment) {
    this.dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: deployment.endpoint }));
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${this.deployment.apiUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, type: response.headers.get('content-type'), body: parsed };
  }

  async createAccount(accountId: string, initialBalance: number): Promise<Answer> {
    const answer = await this.call('POST', '/accounts', { accountId, initialBalance });
    if (answer.status !== 201)
      throw new Error(`account ${accountId}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  }

  async createItem(sku: string, stock: number): Promise<Answer> {
    const answer = await this.call('POST', '/inventory/items', { sku, stock });
    if (answer.status !== 201)
      throw new Error(`item ${sku}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  }

  /** Polls until the transaction is terminal (every participant applied the outcome) or `deadlineMs` passes. */
  async waitTerminal(txId: string, deadlineMs = Date.now() + 120_000): Promise<Answer> {
    for (;;) {
      const answer = await this.call('GET', `/transactions/${txId}?wait=10`);
      if (answer.status !== 200)
        throw new Error(`GET ${txId}: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (answer.body.state === 'COMMITTED' || answer.body.state === 'ABORTED') return answer;
      if (Date.now() > deadlineMs) return answer;
      // Decided but still being applied: `?wait` answers at once now, so pace the polls.
      if (answer.body.outcome !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Arms a fault plan for one transaction (the test stack has the Faults table). */
  async planFaults(txId: string, plan: FaultPlan): Promise<void> {
    await this.dynamo.send(
      new PutCommand({ TableName: this.faultsTable(), Item: faultPlanItem(txId, plan) }),
    );
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

/** Runs `tasks` with at most `limit` in flight. */
export async function inParallel<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { describe, expect, inject, it } from 'vitest';
import { redeployLocal, TEST_CONTEXT } from '../../dev/deploy';
import { SetupError } from '../../dev/emulator';
import { DEPLOY_GUARD_TYPE, settingsOfPhysicalId } from '../../shared/deploy-guard';
import { shardOf } from '../../shared/ledger/sharding';
import { ApiClient } from '../support/api-client';

// A redeploy of the suite's stack with fewer ledger shards: the deploy guard refuses it, the
// update rolls back, and the stack serves as before. The shared stack is left as it was (same
// resources, same settings; its status is UPDATE_ROLLBACK_COMPLETE).
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const cfn = new CloudFormationClient({});
const StackName = deployment.stackName;
const run = Date.now().toString(36);

/** An account id of this run that lands on `shard` of the stack's two. */
function accountOn(shard: number, name: string): string {
  for (let i = 0; ; i++) {
    const id = `${name}${i}-${run}`;
    if (shardOf(id, 2) === shard) return id;
  }
}

/** Every resource of the stack: logical id → physical id and status. */
async function resources(): Promise<Record<string, string>> {
  const { StackResources = [] } = await cfn.send(new DescribeStackResourcesCommand({ StackName }));
  return Object.fromEntries(StackResources.map((r) => [r.LogicalResourceId, r.PhysicalResourceId]));
}

describe('the deploy guard on the deployed stack', () => {
  it('refuses a redeploy with another ledgerShards before it changes anything, and the stack still commits transfers', async () => {
    // Prepare: money on ledger-1, the shard a one-shard deploy would delete
    const [onShard0, onShard1] = [accountOn(0, 'guardA'), accountOn(1, 'guardB')];
    await api.createAccount(onShard0, 0);
    await api.createAccount(onShard1, 100);
    const before = await resources();
    const guardId = (await cfn.send(new DescribeStackResourcesCommand({ StackName }))).StackResources?.find(
      (r) => r.ResourceType === DEPLOY_GUARD_TYPE,
    )?.LogicalResourceId;
    expect(guardId).toBeDefined();

    // Act
    const outputDir = mkdtempSync(join(tmpdir(), 'tandem-refused-deploy-'));
    const startedMs = Date.now();
    const refused = await redeployLocal(
      deployment.endpoint,
      [...TEST_CONTEXT, '-c', 'ledgerShards=1'],
      outputDir,
    )
      .then(() => undefined)
      .catch((error: unknown) => error)
      .finally(() => rmSync(outputDir, { recursive: true, force: true }));
    console.log(`[e2e] the refused redeploy took ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);

    // Assess: the deploy failed, and what it printed names the refusal
    expect(refused).toBeInstanceOf(SetupError);
    expect((refused as Error).message.replace(/\s+/g, ' ')).toContain(
      'Tandem refused this deploy before it changed any table, queue or function of the app.',
    );
    // CloudFormation's reason for the guard, in full: what it was, what was asked, what to do
    const { StackEvents = [] } = await cfn.send(new DescribeStackEventsCommand({ StackName }));
    const failed = StackEvents.find(
      (e) => e.LogicalResourceId === guardId && e.ResourceStatus === 'UPDATE_FAILED',
    );
    expect(failed?.ResourceStatusReason).toContain(
      "Participant 'ledger' cannot change its shard count on a deployed stack (it was 2, this deploy asks for 1)",
    );
    expect(failed?.ResourceStatusReason).toContain(
      "Keep shards: 2 for participant 'ledger' (in Tandem's own app: deploy with -c ledgerShards=2)",
    );
    expect(failed?.ResourceStatusReason).toContain(
      'This deploy would remove participant ledger-1 with its table, inbox queue and function: ledger-1 may still hold items and the barrier items of transactions',
    );
    // Rolled back, with the same resources as before (none created, replaced or deleted)
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName }));
    expect(Stacks[0]?.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(await resources()).toEqual(before);
    // The guard's physical id still records the deployed settings
    expect(settingsOfPhysicalId(before[guardId ?? ''])).toEqual({
      shards: { ledger: 2 },
      participants: ['inventory', 'ledger-0', 'ledger-1', 'payments'],
    });

    // The stack serves as before: the account on ledger-1 is there, and a two-phase transfer commits
    expect(await api.client.getAccount(onShard1)).toMatchObject({ balance: 100, shard: 1 });
    const transfer = await api.client.transfer(
      { from: onShard1, to: onShard0, amount: 30, commit: 'two-phase' },
      { wait: 20 },
    );
    expect(transfer.status).toBe(200);
    const done = await api.waitTerminal(transfer.txId);
    expect(done).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    const balances = await Promise.all([onShard0, onShard1].map((a) => api.client.getAccount(a)));
    expect(balances.map((b) => b.balance)).toEqual([30, 70]);
  }, 300_000);
});

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { keyedRecordKey } from '../../shared/txid';
import { ApiClient } from '../support/api-client';
import { runOps } from '../support/ops';

// The operator CLI (`npm run ops -- …`) against the deployed local stack, called as a function.
const deployment = inject('deployment');
const api = new ApiClient(deployment);
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;
const ROOT = resolve(import.meta.dirname, '..', '..');

const ops = (...argv: string[]) => runOps(deployment, ...argv);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts a transfer whose participants never get their votes through (a fault plan drops them). */
async function transferWithLostVotes(name: string): Promise<{ txId: string; from: string; to: string }> {
  const [from, to] = [id(`${name}A`), id(`${name}B`)];
  await api.createAccount(from, 100);
  await api.createAccount(to, 0);
  const key = id(name);
  await api.planFaults(keyedRecordKey(key), { drop: ['participant.vote'] });
  const accepted = await api.client.transfer({
    from,
    to,
    amount: 40,
    idempotencyKey: key,
    commit: 'two-phase',
  });
  expect(accepted.status).toBe(202);
  const { txId } = accepted;
  await until(`${txId} to be PREPARING`, async () => {
    const view = await api.client.getTransaction(txId);
    return view.state === 'PREPARING' ? true : undefined;
  });
  return { txId, from, to };
}

interface Peeked {
  messageId: string;
  body: string;
  error?: string;
}

async function peek(queue: string): Promise<Peeked[]> {
  const shown = await ops('dlq', 'show', queue, '--max', '10', '--json');
  expect(shown.stderr).toBe('');
  return JSON.parse(shown.stdout) as Peeked[];
}

describe('operator CLI', () => {
  it('runs as a script: --help exits 0, bad arguments exit 2', () => {
    const help = spawnSync('npx', ['tsx', 'scripts/ops.ts', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Tandem operator tools');
    expect(help.stdout).toContain('dlq redrive <queue>');

    const bad = spawnSync('npx', ['tsx', 'scripts/ops.ts', 'abort'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('error: missing <txId>');
  });

  it('lists a transaction whose votes are lost as stuck, retries it, and aborts it before the deadline', async () => {
    // Prepare
    const { txId, from, to } = await transferWithLostVotes('opsStuck');
    await new Promise((r) => setTimeout(r, 1_200));

    // Act
    const stuck = await ops('stuck', '--older-than', '1s');
    const retry = await ops('retry', txId);
    const abort = await ops('abort', txId, '--note', id('e2e'), '--wait', '15s');

    // Assess
    expect(stuck.code).toBe(0);
    expect(stuck.stdout).toMatch(/^TX ID +STATE +AGE +NEXT CHECK +MISSING$/m);
    expect(stuck.stdout).toMatch(
      new RegExp(`^${txId} +PREPARING +\\S+ +.+ +votes: ledger-\\d, ledger-\\d$`, 'm'),
    );
    expect(retry).toMatchObject({ code: 0, stderr: '' });
    expect(retry.stdout).toContain(`Enqueued a Check for ${txId} (PREPARING)`);
    expect(abort).toMatchObject({ code: 0, stderr: '' });
    expect(abort.stdout).toContain(`Decided ABORT`);
    const done = await api.waitTerminal(txId);
    expect(done).toMatchObject({ state: 'ABORTED', reason: `aborted by operator: ${id('e2e')}` });
    const balances = await Promise.all([from, to].map((a) => api.client.getAccount(a)));
    expect(balances.map((b) => [b.balance, b.available])).toEqual([
      [100, 100],
      [0, 0],
    ]);
    expect((await ops('stuck', '--older-than', '1s')).stdout).not.toContain(txId);
  });

  it('refuses to abort or retry a committed transaction, and shows its timeline', async () => {
    // Prepare
    const [from, to] = [id('opsDoneA'), id('opsDoneB')];
    await api.createAccount(from, 10);
    await api.createAccount(to, 0);
    const transfer = await api.client.transfer({ from, to, amount: 3, commit: 'two-phase' }, { wait: 20 });
    const { txId } = transfer;
    expect((await api.waitTerminal(txId)).state).toBe('COMMITTED');

    // Act
    const abort = await ops('abort', txId);
    const retry = await ops('retry', txId);
    const show = await ops('show', txId);
    const json = await ops('show', txId, '--json');
    const unknown = await ops('show', id('tx_nope'));

    // Assess
    expect(abort).toMatchObject({ code: 1, stdout: '' });
    expect(abort.stderr).toContain(
      `transaction ${txId} is COMMITTED: the decision COMMIT is recorded and stands`,
    );
    expect(retry).toMatchObject({ code: 1, stdout: '' });
    expect(retry.stderr).toContain('it is finished, nothing to retry');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`Transaction ${txId}`);
    expect(show.stdout).toMatch(/state +COMMITTED/);
    expect(show.stdout).toMatch(/Timeline\n.*\+0ms {2}created\n.*begin: Prepare sent to 2 participant\(s\)/);
    expect(show.stdout).toContain('decision COMMIT');
    expect(JSON.parse(json.stdout)).toMatchObject({ txId, state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(unknown).toMatchObject({
      code: 1,
      stderr: `error: no transaction ${id('tx_nope')} in the transaction log\n`,
    });
  });

  it('sees a poison message in its DLQ, and redrive sends it back to its queue (where it fails again)', async () => {
    // Prepare
    const sqs = new SQSClient({ endpoint: deployment.endpoint });
    const inbox = JSON.parse(deployment.outputs.ParticipantQueues!).inventory as string;
    const marker = id('ops-poison');
    await sqs.send(
      new SendMessageCommand({ QueueUrl: inbox, MessageBody: `{"type":"Prepare","poison":"${marker}"` }),
    );
    const first = await until('the poison message in the inventory DLQ', async () =>
      (await peek('inventory')).find((m) => m.body.includes(marker)),
    );

    // Act
    const list = await ops('dlq', 'list', '--json');
    const listed = JSON.parse(list.stdout) as Array<{ name: string; messages: number }>;
    const redrive = await ops('dlq', 'redrive', 'inventory', '--all');

    // Assess
    expect(first.error).toMatch(/not JSON/);
    expect(listed.map((d) => d.name)).toEqual(
      expect.arrayContaining(['coordinator', 'timers', 'inventory', 'ledger-0']),
    );
    expect(listed.find((d) => d.name === 'inventory')!.messages).toBeGreaterThanOrEqual(1);
    expect(redrive).toMatchObject({ code: 0, stderr: '' });
    const moved = Number(/Moved (\d+) message\(s\)/.exec(redrive.stdout)?.[1]);
    expect(moved).toBeGreaterThanOrEqual(1);
    // Poison stays poison: the participant dead-letters it again, as a new message.
    const back = await until('the poison message back in the DLQ', async () =>
      (await peek('inventory')).find((m) => m.body.includes(marker) && m.messageId !== first.messageId),
    );
    expect(back.error).toMatch(/not JSON/);
  });

  it('redrives a valid message from the coordinator DLQ (FIFO) to the coordinator, which applies it', async () => {
    // Prepare: an OperatorAbort parked in the coordinator's DLQ, in the transaction's slot group.
    const { txId } = await transferWithLostVotes('opsFifo');
    const view = JSON.parse((await ops('show', txId, '--json')).stdout);
    const dlqs = JSON.parse((await ops('dlq', 'list', '--json')).stdout) as Array<{
      name: string;
      dlqUrl: string;
    }>;
    const dlqUrl = dlqs.find((d) => d.name === 'coordinator')!.dlqUrl;
    const sqs = new SQSClient({ endpoint: deployment.endpoint });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify({ type: 'OperatorAbort', txId, note: id('via-dlq') }),
        MessageGroupId: `slot-${view.coordinator.slot}`,
        MessageDeduplicationId: id('via-dlq'),
      }),
    );

    // Act
    const redrive = await ops('dlq', 'redrive', 'coordinator');

    // Assess
    expect(redrive).toMatchObject({ code: 0, stderr: '' });
    expect(redrive.stdout).toMatch(/Moved [1-9]\d* message\(s\) from \S+\.fifo back to coordinator/);
    const done = await api.waitTerminal(txId);
    expect(done).toMatchObject({ state: 'ABORTED', reason: `aborted by operator: ${id('via-dlq')}` });
  });
});

import { describe, expect, inject, it } from 'vitest';
import type { FaultPlan } from '../../shared/faults';
import { shardOf } from '../../shared/ledger/sharding';
import { keyedRecordKey } from '../../shared/txid';
import { ApiClient, inParallel } from '../support/api-client';

// Two-phase commit end to end on the deployed local stack: API → coordinator → participants.
const api = new ApiClient(inject('deployment'));
const shardCount = api.deployment.outputs.LedgerShardTables!.split(',').length;
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;

async function balances(accounts: readonly string[]) {
  const answers = await Promise.all(accounts.map((a) => api.call('GET', `/accounts/${a}`)));
  return answers.map(
    (a) => a.body as { accountId: string; balance: number; available: number; shard: number },
  );
}

/** A transfer to an account that does not exist: 422 problem+json, and nothing written under its key. */
async function expectRefusedToGhost(from: string, amount: number, key: string, ghost: string) {
  const answer = await api.call('POST', '/transfers', { from, to: ghost, amount, idempotencyKey: key });
  expect(answer).toMatchObject({ status: 422, type: 'application/problem+json' });
  expect(await api.recordAt(keyedRecordKey(key))).toBeUndefined();
}

/**
 * A two-phase transfer of `amount` from `from` to `to` under a fault plan armed before it exists
 * (by its key's record key); returns its answer once terminal and the faults the handlers injected.
 */
async function twoPhaseUnder(from: string, to: string, amount: number, name: string, plan: FaultPlan) {
  const key = id(name);
  await api.planFaults(keyedRecordKey(key), plan);
  const accepted = await api.call('POST', '/transfers', {
    from,
    to,
    amount,
    idempotencyKey: key,
    commit: 'two-phase',
  });
  const done = await api.waitTerminal(accepted.body.txId, Date.now() + 150_000);
  return { done, hits: await api.faultHits(keyedRecordKey(key)) };
}

describe('transfers on the deployed stack', () => {
  it('runs 200 concurrent transfers among 10 accounts on 2 shards atomically, half of them two-phase and half one-phase, a quarter overdrawing', async () => {
    // Prepare: 10 accounts with 1,000 each, on both shards.
    const accounts = Array.from({ length: 10 }, (_, i) => id(`acct${i}`));
    for (const account of accounts) await api.createAccount(account, 1_000);
    expect(new Set(accounts.map((a) => shardOf(a, shardCount))).size).toBeGreaterThanOrEqual(2);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const transfers = Array.from({ length: 200 }, (_, i) => {
      const from = accounts[random(10)]!;
      let to = accounts[random(10)]!;
      if (to === from) to = accounts[(accounts.indexOf(from) + 1) % 10]!;
      // Every fourth transfer asks for more than any account can ever hold.
      const amount = i % 4 === 0 ? 100_000 + random(1_000) : 1 + random(50);
      // Odd transfers run the full protocol, even ones the one-phase fast path: on the same accounts.
      return {
        from,
        to,
        amount,
        idempotencyKey: id(`t${i}`),
        ...(i % 2 === 1 ? { commit: 'two-phase' } : {}),
      };
    });

    // Act
    const accepted = await inParallel(
      20,
      transfers.map((t) => () => api.call('POST', '/transfers', t)),
    );
    expect(accepted.map((a) => a.status).filter((s) => s !== 202 && s !== 200)).toEqual([]);
    const outcomes = await inParallel(
      20,
      accepted.map((a) => () => api.waitTerminal(a.body.txId)),
    );

    // Assess: every transaction terminal; overdrafts aborted; money conserved; no hold left; and
    // each balance is its opening balance plus committed credits minus committed debits.
    const states = outcomes.map((o) => o.body.state);
    expect(states.filter((s) => s !== 'COMMITTED' && s !== 'ABORTED')).toEqual([]);
    transfers.forEach((t, i) => {
      if (t.amount >= 100_000) expect(outcomes[i]!.body.state, `transfer ${i}`).toBe('ABORTED');
    });
    for (const outcome of outcomes.filter((o) => o.body.state === 'ABORTED')) {
      expect(outcome.body.reason).toMatch(/(voted NO|refused): insufficient funds|prepare timeout/);
    }
    expect(states.filter((s) => s === 'COMMITTED').length).toBeGreaterThan(100);
    const modes = outcomes.map((o, i) => [transfers[i]!.commit ?? 'auto', o.body.mode]);
    expect(modes.filter(([asked, mode]) => asked === 'two-phase' && mode !== 'two-phase')).toEqual([]);
    // Each one-phase attempt commits in one write unless a concurrent transaction held an item.
    expect(modes.filter(([, mode]) => mode === 'one-phase').length).toBeGreaterThan(50);
    const after = await balances(accounts);
    expect(after.reduce((sum, a) => sum + a.balance, 0)).toBe(10 * 1_000);
    for (const account of after) expect(account.available, account.accountId).toBe(account.balance);
    const expected = new Map(accounts.map((a) => [a, 1_000]));
    outcomes.forEach((outcome) => {
      if (outcome.body.state !== 'COMMITTED') return;
      for (const participant of outcome.body.participants) {
        for (const op of participant.operations) {
          expected.set(
            op.accountId,
            expected.get(op.accountId)! + (op.action === 'credit' ? op.amount : -op.amount),
          );
        }
      }
    });
    expect(Object.fromEntries(after.map((a) => [a.accountId, a.balance]))).toEqual(
      Object.fromEntries(expected),
    );
  });

  it('answers a retry with the same idempotency key with the same transaction, and a changed body with 409', async () => {
    const [a, b] = [id('idemA'), id('idemB')];
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);
    const key = id('idem');
    const first = await api.call('POST', '/transfers?wait=15', {
      from: a,
      to: b,
      amount: 10,
      idempotencyKey: key,
    });
    const retry = await api.call('POST', '/transfers', { from: a, to: b, amount: 10, idempotencyKey: key });
    const changed = await api.call('POST', '/transfers', { from: a, to: b, amount: 11, idempotencyKey: key });
    expect(retry.body.txId).toBe(first.body.txId);
    expect(changed).toMatchObject({ status: 409, type: 'application/problem+json' });
    await api.waitTerminal(first.body.txId);
    expect((await balances([a, b])).map((x) => x.balance)).toEqual([90, 10]);
  });

  it('refuses a transfer naming an unknown account with 422 and writes nothing', async () => {
    const a = id('known');
    await api.createAccount(a, 100);
    await expectRefusedToGhost(a, 5, id('unknown'), id('ghost'));
  });
});

describe('checkout across the ledger and the inventory', () => {
  it('commits a debit and a stock reservation together (two-phase)', async () => {
    const [buyer, sku] = [id('buyer'), id('sku')];
    await api.createAccount(buyer, 500);
    await api.createItem(sku, 3);
    const accepted = await api.call('POST', '/transactions', {
      commit: 'two-phase',
      operations: [
        { participant: 'ledger', action: 'debit', accountId: buyer, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku, quantity: 2 },
      ],
    });
    expect(accepted.status).toBe(202);
    const done = await api.waitTerminal(accepted.body.txId);
    expect(done.body).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    expect((await api.call('GET', `/accounts/${buyer}`)).body).toMatchObject({
      balance: 380,
      available: 380,
    });
    expect((await api.call('GET', `/inventory/items/${sku}`)).body).toMatchObject({ stock: 1, available: 1 });
  });

  it('aborts on missing stock and leaves both sides untouched', async () => {
    const [buyer, sku] = [id('buyer2'), id('sku2')];
    await api.createAccount(buyer, 500);
    await api.createItem(sku, 1);
    const accepted = await api.call('POST', '/transactions?wait=20', {
      commit: 'two-phase',
      operations: [
        { participant: 'ledger', action: 'debit', accountId: buyer, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku, quantity: 5 },
      ],
    });
    const done = await api.waitTerminal(accepted.body.txId);
    expect(done.body).toMatchObject({ state: 'ABORTED', outcome: 'ABORTED' });
    expect(done.body.reason).toMatch(/inventory voted NO: insufficient stock/);
    expect((await api.call('GET', `/accounts/${buyer}`)).body).toMatchObject({
      balance: 500,
      available: 500,
    });
    expect((await api.call('GET', `/inventory/items/${sku}`)).body).toMatchObject({ stock: 1, available: 1 });
  });
});

describe('the one-phase fast path', () => {
  it('commits a checkout in one write: answered terminal at once, same record and API', async () => {
    const [buyer, sku] = [id('fastBuyer'), id('fastSku')];
    await api.createAccount(buyer, 500);
    await api.createItem(sku, 3);
    const answer = await api.call('POST', '/transactions', {
      operations: [
        { participant: 'ledger', action: 'debit', accountId: buyer, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku, quantity: 2 },
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED', mode: 'one-phase' });
    expect((await api.call('GET', `/transactions/${answer.body.txId}`)).body).toMatchObject({
      state: 'COMMITTED',
      mode: 'one-phase',
    });
    expect((await api.call('GET', `/accounts/${buyer}`)).body).toMatchObject({
      balance: 380,
      available: 380,
    });
    expect((await api.call('GET', `/inventory/items/${sku}`)).body).toMatchObject({ stock: 1, available: 1 });
  });

  it('refuses in one write with the reason and leaves both sides untouched; the refusal is replayable', async () => {
    const [buyer, sku] = [id('fastBuyer2'), id('fastSku2')];
    await api.createAccount(buyer, 500);
    await api.createItem(sku, 1);
    const request = {
      idempotencyKey: id('fast-refused'),
      operations: [
        { participant: 'ledger', action: 'debit', accountId: buyer, amount: 120 },
        { participant: 'inventory', action: 'reserve', sku, quantity: 5 },
      ],
    };
    const answer = await api.call('POST', '/transactions', request);
    const replay = await api.call('POST', '/transactions', request);

    expect(answer.body).toMatchObject({ state: 'ABORTED', mode: 'one-phase' });
    expect(answer.body.reason).toMatch(/participant inventory refused: insufficient stock on item/);
    expect(replay.body.txId).toBe(answer.body.txId);
    expect((await api.call('GET', `/accounts/${buyer}`)).body).toMatchObject({
      balance: 500,
      available: 500,
    });
    expect((await api.call('GET', `/inventory/items/${sku}`)).body).toMatchObject({ stock: 1, available: 1 });
  });

  it('answers 422 for an unknown account even when the other side is also short of funds', async () => {
    // Found by the chaos workload: the refusal of the debit must not hide the unknown account.
    const a = id('shortA');
    await api.createAccount(a, 5);
    await expectRefusedToGhost(a, 50, id('short-to-ghost'), id('ghost2'));
  });

  it('respects funds held by a prepared two-phase transaction', async () => {
    const [a, b] = [id('holdA'), id('holdB')];
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);
    const key = id('held');
    // Votes are dropped, so the two-phase transfer stays prepared (80 held) until it times out.
    await api.planFaults(keyedRecordKey(key), { drop: ['participant.vote'] });
    await api.call('POST', '/transfers', {
      from: a,
      to: b,
      amount: 80,
      idempotencyKey: key,
      commit: 'two-phase',
    });
    let available = 100;
    for (let i = 0; i < 100 && available === 100; i++) {
      available = (await api.call('GET', `/accounts/${a}`)).body.available;
      if (available === 100) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(available).toBe(20);

    const fast = await api.call('POST', '/transfers', { from: a, to: b, amount: 30 });
    expect(fast.body).toMatchObject({ state: 'ABORTED', mode: 'one-phase' });
    expect(fast.body.reason).toMatch(/insufficient funds on account .* \(available 20, needed 30\)/);
  });
});

describe('crash recovery (fault plans of the test stack)', () => {
  it('commits a transaction whose coordinator died after the decision was durable and before Commit was sent', async () => {
    const [a, b] = [id('crashA'), id('crashB')];
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);
    const { done } = await twoPhaseUnder(a, b, 30, 'crash-after-decision', {
      crash: ['coordinator.after-decision'],
    });

    expect(done.body.state).toBe('COMMITTED');
    expect(done.body.timeline.map((e: { event: string }) => e.event).join('\n')).toMatch(/re-sent Commit/);
    expect((await balances([a, b])).map((x) => [x.balance, x.available])).toEqual([
      [70, 70],
      [30, 30],
    ]);
  });

  it('presumes abort when votes are lost after prepare, releasing every hold', async () => {
    const [a, b] = [id('lostA'), id('lostB')];
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);
    const { done } = await twoPhaseUnder(a, b, 40, 'lost-votes', { drop: ['participant.vote'] });

    expect(done.body).toMatchObject({ state: 'ABORTED', reason: 'prepare timeout' });
    expect((await balances([a, b])).map((x) => [x.balance, x.available])).toEqual([
      [100, 100],
      [0, 0],
    ]);
  });
});

describe('write conflicts (fault plans of the test stack)', () => {
  // The emulator never cancels a TransactWriteItems for a conflict; the plan makes the handler's
  // store meet the TransactionCanceledException DynamoDB would raise, counted on the plan.

  it('commits a two-phase transfer whose coordinator save meets conflicts, and counts each one', async () => {
    // Prepare
    const [a, b] = [id('saveConflictA'), id('saveConflictB')];
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);

    // Act
    const { done, hits } = await twoPhaseUnder(a, b, 25, 'conflicts-at-save', {
      conflict: { 'coordinator.save': 2 },
    });

    // Assess
    expect(done.body).toMatchObject({ state: 'COMMITTED', mode: 'two-phase' });
    expect(hits).toEqual({ 'conflict.coordinator.save': 2 });
    expect((await balances([a, b])).map((x) => [x.balance, x.available])).toEqual([
      [75, 75],
      [25, 25],
    ]);
  }, 180_000);

  it('commits when a participant meets 6 conflicts in a row at its write', async () => {
    // Prepare: both accounts on one shard, so one participant takes every conflict of the plan.
    const a = id('writeConflictA');
    let b = id('writeConflictB');
    for (let i = 0; i < 100 && shardOf(b, shardCount) !== shardOf(a, shardCount); i++) {
      b = id(`writeConflictB${i}`);
    }
    await api.createAccount(a, 100);
    await api.createAccount(b, 0);

    // Act
    const { done, hits } = await twoPhaseUnder(a, b, 40, 'conflicts-at-write', {
      conflict: { 'participant.write': 6 },
    });

    // Assess
    expect(done.body.participants).toHaveLength(1);
    expect(done.body).toMatchObject({ state: 'COMMITTED', mode: 'two-phase' });
    expect(hits).toEqual({ 'conflict.participant.write': 6 });
    expect((await balances([a, b])).map((x) => [x.balance, x.available])).toEqual([
      [60, 60],
      [40, 40],
    ]);
  }, 180_000);
});

describe('poison messages', () => {
  it('moves a malformed participant message to its DLQ and keeps processing the others', async () => {
    const { SQSClient, SendMessageCommand, ReceiveMessageCommand, GetQueueAttributesCommand } = await import(
      '@aws-sdk/client-sqs'
    );
    const sqs = new SQSClient({ endpoint: api.deployment.endpoint });
    const inbox = JSON.parse(api.deployment.outputs.ParticipantQueues!)['ledger-0'] as string;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inbox, AttributeNames: ['RedrivePolicy'] }),
    );
    const dlqArn = JSON.parse(Attributes!.RedrivePolicy!).deadLetterTargetArn as string;
    const dlq = `${inbox.slice(0, inbox.lastIndexOf('/'))}/${dlqArn.split(':').pop()}`;

    await sqs.send(
      new SendMessageCommand({ QueueUrl: inbox, MessageBody: `{"type":"Prepare","poison":"${run}"` }),
    );
    const [a, b] = [id('afterPoisonA'), id('afterPoisonB')];
    await api.createAccount(a, 10);
    await api.createAccount(b, 0);
    const transfer = await api.call('POST', '/transfers?wait=20', { from: a, to: b, amount: 3 });

    expect((await api.waitTerminal(transfer.body.txId)).body.state).toBe('COMMITTED');
    const deadline = Date.now() + 30_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          MessageAttributeNames: ['All'],
        }),
      );
      found = (Messages ?? []).some((m) => m.Body?.includes(run) && m.MessageAttributes?.error?.StringValue);
    }
    expect(found).toBe(true);
  });
});

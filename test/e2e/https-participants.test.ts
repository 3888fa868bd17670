import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PaymentService, paymentServiceOf } from '../../dev/payments-service';
import type { StuckTx } from '../../shared/ops/transactions';
import { ApiClient } from '../support/api-client';
import { runOps } from '../support/ops';

// The payment service, an HTTPS participant of the deployed app, served here on loopback: the
// relay function (a local process of the emulator) calls it with HMAC-signed try/confirm/cancel.
// It is the SDK's endpoint (httpsParticipant) over the app's payments definition, its barriers,
// replay marks and cards on a table of its own on the emulator.
const api = new ApiClient(inject('deployment'));
const { client, deployment } = api;
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;

let service: PaymentService;

beforeAll(async () => {
  service = paymentServiceOf(deployment);
  await service.start();
});

afterAll(async () => {
  await service.close();
});

async function checkout(buyer: string, cardId: string, amount: number) {
  const accepted = await client.transaction({
    commit: 'two-phase',
    operations: [
      { participant: 'ledger', action: 'debit', accountId: buyer, amount },
      { participant: 'payments', action: 'charge', cardId, amount },
    ],
  });
  expect(accepted.status).toBe(202);
  return accepted.txId;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('an HTTPS participant (payments) next to a Lambda participant (the ledger)', () => {
  it('commits a checkout: both applied, the service saw a signed try then a signed confirm', async () => {
    // Prepare
    const [buyer, card] = [id('buyer'), id('card')];
    await api.createAccount(buyer, 500);

    // Act
    const txId = await checkout(buyer, card, 120);
    const done = await api.waitTerminal(txId);

    // Assess
    expect(done).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
    expect(await client.getAccount(buyer)).toMatchObject({ balance: 380, available: 380 });
    expect(await service.card(card)).toEqual({ held: 0, charged: 120 });
    const calls = service.callsOf(txId);
    expect(calls.map((c) => c.phase)).toEqual(['try', 'confirm']);
    expect(calls.every((c) => c.signed && c.status === 200)).toBe(true);
  });

  it('aborts with nothing applied when the service refuses the try (409)', async () => {
    // Prepare
    const [buyer, card] = [id('buyer2'), id('declined')];
    await api.createAccount(buyer, 500);

    // Act
    const txId = await checkout(buyer, card, 120);
    const done = await api.waitTerminal(txId);

    // Assess
    expect(done).toMatchObject({ state: 'ABORTED', outcome: 'ABORTED' });
    expect(done.reason).toMatch(/payments voted NO: card declined/);
    expect(await client.getAccount(buyer)).toMatchObject({ balance: 500, available: 500 });
    expect(await service.card(card)).toEqual({ held: 0, charged: 0 });
    expect(service.callsOf(txId).map((c) => `${c.phase} ${c.status}`)).toEqual(['try 409', 'cancel 200']);
  });

  it.each([
    ['refuses connections', 'closed'],
    ['answers 503', '503'],
  ] as const)(
    'aborts a checkout while the service %s, releasing the ledger hold; the cancel lands once it is back',
    async (_what, how) => {
      // Prepare: the service is down
      const [buyer, card] = [id(`buyer3${how}`), id(`card3${how}`)];
      await api.createAccount(buyer, 500);
      const down = async () =>
        how === 'closed' ? service.stop() : void service.down.add('try').add('cancel');
      const back = async () => {
        service.down.clear();
        await service.start();
      };
      await down();

      try {
        // Act
        const txId = await checkout(buyer, card, 120);
        await until('the abort decision', async () => {
          const view = await client.getTransaction(txId);
          return view.outcome === 'ABORTED';
        });
        // Assess: decided ABORT by the prepare timeout (the relay gives a try up without a vote:
        // only the endpoint votes), and the ledger's hold is released while the service is down
        const decided = await client.getTransaction(txId);
        expect(decided.reason).toBe('prepare timeout');
        await until('the ledger hold released', async () => {
          const account = await client.getAccount(buyer);
          return account.available === 500;
        });
        expect(await client.getAccount(buyer)).toMatchObject({ balance: 500, available: 500 });

        // Act: the service is back, and gets the cancel the coordinator re-sends
        await back();
        const done = await api.waitTerminal(txId);

        // Assess
        expect(done).toMatchObject({ state: 'ABORTED', outcome: 'ABORTED' });
        expect(await service.card(card)).toEqual({ held: 0, charged: 0 });
        expect(service.callsOf(txId).some((c) => c.phase === 'cancel' && c.status === 200)).toBe(true);
        // A try can still reach it after it is back: a Prepare the coordinator re-sent before its
        // decision, whose relay retries outlast the outage. Before the cancel it holds (and the
        // cancel releases: nothing held, above); after it, it finds the cancel's tombstone: refused.
        const calls = service.callsOf(txId);
        const cancelled = calls.findIndex((c) => c.phase === 'cancel' && c.status === 200);
        expect(
          calls.slice(cancelled + 1).filter((c) => c.phase === 'try' && c.status !== 503 && c.status !== 409),
        ).toEqual([]);
      } finally {
        await back();
      }
    },
  );

  it('commits a checkout whose confirm finds the service down: the confirm lands once it is back', async () => {
    // Prepare: tries are served, confirms answered 503
    const [buyer, card] = [id('buyer4'), id('card4')];
    await api.createAccount(buyer, 500);
    service.down.add('confirm');

    try {
      // Act
      const txId = await checkout(buyer, card, 120);
      await until('a confirm refused by the down service', () =>
        service.callsOf(txId).some((c) => c.phase === 'confirm' && c.status === 503),
      );
      // Still decided, not done: the card is held, not charged
      expect(await client.getTransaction(txId)).toMatchObject({ outcome: 'COMMITTED' });
      expect(await service.card(card)).toEqual({ held: 120, charged: 0 });
      await sleep(3_000);
      // The operator sees it: stuck, waiting for the payment service's ack
      const stuck = await runOps(deployment, 'stuck', '--older-than', '2s', '--json');
      expect(stuck.code, stuck.stderr).toBe(0);
      expect((JSON.parse(stuck.stdout) as { stuck: StuckTx[] }).stuck).toContainEqual(
        expect.objectContaining({ txId, missing: { kind: 'acks', participants: ['payments'] } }),
      );
      service.down.delete('confirm');
      const done = await api.waitTerminal(txId);

      // Assess
      expect(done).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
      expect(await client.getAccount(buyer)).toMatchObject({ balance: 380, available: 380 });
      expect(await service.card(card)).toEqual({ held: 0, charged: 120 });
      const confirms = service.callsOf(txId).filter((c) => c.phase === 'confirm');
      expect(confirms.at(-1)?.status).toBe(200);
      expect(confirms.filter((c) => c.status === 503).length).toBeGreaterThanOrEqual(1);
    } finally {
      service.down.delete('confirm');
    }
  });
});

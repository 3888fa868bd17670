import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { answerOf, BranchCall, messageOfCall, type Phase, verifyCall } from '../../shared/https/contract';
import { PAYMENTS_PATH } from '../../shared/payments/participant';
import { type Barrier, participantStep } from '../../shared/protocol';
import { ApiClient } from '../support/api-client';

// The payment service, an HTTPS participant of the deployed app, served here on loopback: the
// relay function (a local process of the emulator) calls it with HMAC-signed try/confirm/cancel.
// It keeps its barriers in memory and charges cards with the participant protocol's own step.
const api = new ApiClient(inject('deployment'));
const { client, deployment } = api;
const run = Date.now().toString(36);
const id = (name: string) => `${name}-${run}`;
const paymentsUrl = new URL(deployment.outputs.PaymentsUrl!);

interface Charge {
  held: number;
  charged: number;
}
type Reservation = { readonly cardId: string; readonly amount: number };

/** The payment service: a barrier per (transaction, branch), and what each card holds and paid. */
class PaymentService {
  readonly barriers = new Map<string, Barrier<Reservation>>();
  readonly cards = new Map<string, Charge>();
  /** Every call that reached the service, signed or not, by transaction. */
  readonly calls: Array<{ phase: Phase; txId: string; signed: boolean; status: number }> = [];
  /** Phases answered 503 (the service is "down" for them). */
  readonly down = new Set<Phase>();
  private server: Server | undefined;

  constructor(private readonly secret: string) {}

  /** Listens on the payments port (again, after `stop`); does nothing while listening. */
  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = createServer((request, response) => void this.serve(request, response));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(paymentsUrl.port), '127.0.0.1', () => resolve());
    });
  }

  /** Stops listening: calls are refused until `start` again. */
  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  callsOf(txId: string) {
    return this.calls.filter((c) => c.txId === txId);
  }

  card(cardId: string): Charge {
    return this.cards.get(cardId) ?? { held: 0, charged: 0 };
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, text: string) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(text);
      return status;
    };
    const verified = verifyCall({
      method: request.method ?? '',
      path: request.url ?? '',
      body,
      header: (name) => request.headers[name] as string | undefined,
      secrets: [this.secret],
      nowMs: Date.now(),
    });
    const parsed = BranchCall.safeParse(JSON.parse(body || 'null'));
    if (!parsed.success || request.url !== `${PAYMENTS_PATH}/${parsed.data.phase}`) {
      answer(400, JSON.stringify({ reason: 'not a call of the contract' }));
      return;
    }
    const call = parsed.data as BranchCall;
    const record = (status: number) =>
      this.calls.push({ phase: call.phase, txId: call.transactionId, signed: verified.ok, status });
    if (!verified.ok) return void record(answer(401, JSON.stringify({ reason: verified.reason })));
    if (this.down.has(call.phase)) return void record(answer(503, '{"reason":"down for maintenance"}'));
    const message = messageOfCall(call);
    const key = `${message.txId}#${message.participantId}`;
    const step = participantStep<Reservation>(this.barriers.get(key), message, Date.now(), (operations) => {
      const [op] = operations as Array<{ cardId: string; amount: number }>;
      return op!.cardId.startsWith('declined')
        ? { ok: false, reason: 'card declined' }
        : { ok: true, reservation: { cardId: op!.cardId, amount: op!.amount } };
    });
    if (step.changed) {
      this.barriers.set(key, step.barrier);
      const { action } = step;
      if (action.type !== 'none') {
        const card = this.card(action.reservation.cardId);
        if (action.type === 'reserve') card.held += action.reservation.amount;
        if (action.type === 'release') card.held -= action.reservation.amount;
        if (action.type === 'apply') {
          card.held -= action.reservation.amount;
          card.charged += action.reservation.amount;
        }
        this.cards.set(action.reservation.cardId, card);
      }
    }
    const { status, body: text } = answerOf(step.reply);
    record(answer(status, text));
  }
}

let service: PaymentService;

beforeAll(async () => {
  const secrets = new SecretsManagerClient({ endpoint: deployment.endpoint, region: 'us-east-1' });
  const { SecretString } = await secrets.send(
    new GetSecretValueCommand({ SecretId: deployment.outputs.PaymentsSecretArn! }),
  );
  expect(SecretString).toBeTruthy();
  service = new PaymentService(SecretString!);
  await service.start();
});

afterAll(async () => {
  await service.stop();
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
    expect(service.card(card)).toEqual({ held: 0, charged: 120 });
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
    expect(service.card(card)).toEqual({ held: 0, charged: 0 });
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
        // Assess: decided ABORT (the relay gave the try up and voted NO, or the prepare timed out),
        // and the ledger's hold is released while the payment service is still down
        const decided = await client.getTransaction(txId);
        expect(decided.reason).toMatch(/payments voted NO: participant unreachable|timed out/);
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
        expect(service.card(card)).toEqual({ held: 0, charged: 0 });
        expect(service.callsOf(txId).some((c) => c.phase === 'cancel' && c.status === 200)).toBe(true);
        // A try that reached it late finds the cancel's tombstone: refused, nothing held
        expect(
          service.callsOf(txId).filter((c) => c.phase === 'try' && c.status !== 503 && c.status !== 409),
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
      expect(service.card(card)).toEqual({ held: 120, charged: 0 });
      await sleep(3_000);
      service.down.delete('confirm');
      const done = await api.waitTerminal(txId);

      // Assess
      expect(done).toMatchObject({ state: 'COMMITTED', outcome: 'COMMITTED' });
      expect(await client.getAccount(buyer)).toMatchObject({ balance: 380, available: 380 });
      expect(service.card(card)).toEqual({ held: 0, charged: 120 });
      const confirms = service.callsOf(txId).filter((c) => c.phase === 'confirm');
      expect(confirms.at(-1)?.status).toBe(200);
      expect(confirms.filter((c) => c.status === 503).length).toBeGreaterThanOrEqual(1);
    } finally {
      service.down.delete('confirm');
    }
  });
});

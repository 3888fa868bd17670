import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { answerOf, BranchCall, messageOfCall, type Phase, verifyCall } from '../../shared/https/contract';
import { type Barrier, participantStep } from '../../shared/protocol';
import { LOCAL_REGION, type LocalDeployment } from './deploy';

/**
 * The app's payment service (shared/payments/participant.ts) as the e2e tests and the bench serve
 * it on loopback: an HTTPS participant of the try/confirm/cancel contract, checking each call's
 * HMAC signature, keeping its barriers in memory and charging cards with the participant
 * protocol's own step. A card whose id starts with `declined` is refused (409).
 */
export interface Charge {
  held: number;
  charged: number;
}
type Reservation = { readonly cardId: string; readonly amount: number };

/** The payment service: a barrier per (transaction, branch), and what each card holds and paid. */
export class PaymentService {
  readonly barriers = new Map<string, Barrier<Reservation>>();
  readonly cards = new Map<string, Charge>();
  /** Every call that reached the service, signed or not, by transaction. */
  readonly calls: Array<{ phase: Phase; txId: string; signed: boolean; status: number }> = [];
  /** Phases answered 503 (the service is "down" for them). */
  readonly down = new Set<Phase>();
  private server: Server | undefined;

  constructor(
    private readonly secret: string,
    /** The service's base URL: `http://127.0.0.1:<port><path>`. */
    private readonly baseUrl: URL,
  ) {}

  /** Listens on the payments port (again, after `stop`); does nothing while listening. */
  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = createServer((request, response) => void this.serve(request, response));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(this.baseUrl.port), '127.0.0.1', () => resolve());
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
    if (!parsed.success || request.url !== `${this.baseUrl.pathname}/${parsed.data.phase}`) {
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

/**
 * The payment service of a local deployment, not yet started: at the URL of its `PaymentsUrl`
 * output, checking signatures with the secret its relay signs with (read from the emulator).
 */
export async function paymentServiceOf(deployment: LocalDeployment): Promise<PaymentService> {
  const { PaymentsUrl: url, PaymentsSecretArn: secretArn } = deployment.outputs;
  if (!url || !secretArn)
    throw new Error('the deployment has no payment service (outputs PaymentsUrl, PaymentsSecretArn)');
  const secrets = new SecretsManagerClient({
    endpoint: deployment.endpoint,
    region: LOCAL_REGION,
    // The emulator takes any key; the bench's own process may have none in its environment.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  });
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!SecretString) throw new Error(`the payment service's secret ${secretArn} has no value`);
  return new PaymentService(SecretString, new URL(url));
}

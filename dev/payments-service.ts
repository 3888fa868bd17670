import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { BranchCall, HEADERS, type Phase } from '../shared/https/contract';
import { type HttpsParticipant, httpsParticipant, phaseOfPath } from '../shared/https/endpoint';
import { secretsManagerSecrets } from '../shared/https/secrets';
import { type CardAmounts, cardKey, PAYMENTS, PAYMENTS_NAME } from '../shared/payments/participant';
import { LOCAL_REGION, type LocalDeployment } from './deploy';

/**
 * The app's payment service (shared/payments/participant.ts) as the e2e tests and the bench serve
 * it on loopback: the SDK's own HTTPS endpoint (`httpsParticipant(PAYMENTS, …).node`), so the
 * signature checks, the DynamoDB replay guard and the participant's barrier are the ones a team
 * ships. Its barriers, replay marks and cards live on a table the service creates on the emulator
 * (`open`, on the first `start`) and deletes on `close`. Around the endpoint, for the tests: phases
 * answered 503 before reaching it (`down`) and a log of each call with the status it answered.
 */
export type Charge = CardAmounts;

/**
 * Creates the table an HTTPS participant endpoint keeps its barriers, replay marks and business
 * items on: partition key `pk`, and TTL on `expiresAtS` where the emulator has it (replay marks
 * expire by themselves; the guard also accepts an expired one again).
 */
export async function createEndpointTable(dynamo: DynamoDBClient, table: string): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 60 }, { TableName: table });
  await dynamo
    .send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: 'expiresAtS', Enabled: true },
      }),
    )
    .catch(() => {});
}

/** One call that reached the service. */
export interface PaymentCall {
  readonly phase: Phase;
  readonly txId: string;
  /**
   * The endpoint accepted the call's signature (it answered anything but 401); for a call answered
   * 503 by `down`, which never reached the endpoint: it bore signature headers.
   */
  readonly signed: boolean;
  readonly status: number;
  /** When it was answered (ms since the epoch). */
  readonly atMs: number;
}

export interface PaymentServiceOptions {
  /** The service's base URL: `http://127.0.0.1:<port><path>`. */
  readonly baseUrl: URL;
  /** The emulator's endpoint. */
  readonly endpoint: string;
  /** The Secrets Manager secret the relay signs with (its name or ARN). */
  readonly secretId: string;
  /** The service's table; `payments-<time>` by default. */
  readonly table?: string;
}

export class PaymentService {
  /** Every call that reached the service, signed or not, in order. */
  readonly calls: PaymentCall[] = [];
  /** Phases answered 503 (the service is "down" for them), before the endpoint sees them. */
  readonly down = new Set<Phase>();
  readonly table: string;
  private readonly dynamo: DynamoDBClient;
  private readonly client: DynamoDBDocumentClient;
  private readonly participant: HttpsParticipant;
  private opened: Promise<void> | undefined;
  private server: Server | undefined;

  constructor(private readonly options: PaymentServiceOptions) {
    this.table = options.table ?? `payments-${Date.now().toString(36)}`;
    // The emulator takes any key; the bench's own process may have none in its environment.
    const config = {
      endpoint: options.endpoint,
      region: LOCAL_REGION,
      credentials: {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      },
    };
    this.dynamo = new DynamoDBClient(config);
    this.client = DynamoDBDocumentClient.from(this.dynamo, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.participant = httpsParticipant(PAYMENTS, {
      table: this.table,
      secrets: secretsManagerSecrets(options.secretId, { client: new SecretsManagerClient(config) }),
      participantId: PAYMENTS_NAME,
      client: this.client,
      // Refusals (bad or replayed signatures) show in `calls`; failures are worth a line.
      logger: {
        error: (message, ...extra) => console.error(`[payments] ${message}`, ...extra),
        warn: () => {},
      },
    });
  }

  /** Creates the service's table (partition key `pk`; TTL on `expiresAtS` where the emulator has it). */
  open(): Promise<void> {
    this.opened ??= createEndpointTable(this.dynamo, this.table);
    return this.opened;
  }

  /** Listens on the payments port (again, after `stop`), its table created; nothing while listening. */
  async start(): Promise<void> {
    await this.open();
    if (this.server) return;
    const server = createServer((request, response) => void this.serve(request, response));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(this.options.baseUrl.port), '127.0.0.1', () => resolve());
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

  /** Stops listening and deletes the service's table. */
  async close(): Promise<void> {
    await this.stop();
    if (this.opened === undefined) return;
    this.opened = undefined;
    await this.dynamo.send(new DeleteTableCommand({ TableName: this.table })).catch(() => {});
  }

  callsOf(txId: string): PaymentCall[] {
    return this.calls.filter((c) => c.txId === txId);
  }

  /** What a card holds and was charged, as its item on the table says (strongly consistent). */
  async card(cardId: string): Promise<Charge> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: cardKey(cardId), ConsistentRead: true }),
    );
    return { held: Number(Item?.held ?? 0), charged: Number(Item?.charged ?? 0) };
  }

  /**
   * Reads the body (kept as `rawBody`, which the endpoint takes as the signed bytes), answers 503
   * for a phase that is `down`, or hands the call to the endpoint; logs the status answered.
   */
  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer);
    } catch {
      return void response.destroy();
    }
    const raw = Buffer.concat(chunks);
    const phase = phaseOfPath(request.url ?? '/');
    const txId = transactionIdOf(raw);
    if (phase === undefined || txId === undefined) {
      // Not a call of the contract: the endpoint answers it (404, 400 …), nothing to log.
      return void this.handle(request, response, raw);
    }
    const record = (status: number, signed: boolean) =>
      this.calls.push({ phase, txId, signed, status, atMs: Date.now() });
    if (this.down.has(phase)) {
      response
        .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
        .end('{"reason":"down for maintenance"}');
      return void record(503, request.headers[HEADERS.signature] !== undefined);
    }
    response.once('finish', () => record(response.statusCode, response.statusCode !== 401));
    this.handle(request, response, raw);
  }

  private handle(request: IncomingMessage, response: ServerResponse, raw: Buffer): void {
    (request as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
    this.participant.node(request, response);
  }
}

/** The transaction id of a call's body, if it is one. */
function transactionIdOf(raw: Buffer): string | undefined {
  try {
    const parsed = BranchCall.safeParse(JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.data.transactionId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The payment service of a local deployment, not yet started: at the URL of its `PaymentsUrl`
 * output, checking signatures with the secret its relay signs with (`PaymentsSecretArn`, read from
 * the emulator's Secrets Manager by the SDK's source).
 */
export function paymentServiceOf(deployment: LocalDeployment): PaymentService {
  const { PaymentsUrl: url, PaymentsSecretArn: secretArn } = deployment.outputs;
  if (!url || !secretArn)
    throw new Error('the deployment has no payment service (outputs PaymentsUrl, PaymentsSecretArn)');
  return new PaymentService({ baseUrl: new URL(url), endpoint: deployment.endpoint, secretId: secretArn });
}

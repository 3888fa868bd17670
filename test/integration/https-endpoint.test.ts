import { execFile } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { createEndpointTable } from '../../dev/payments-service';
import { barrierKey } from '../../shared/adapters/dynamo-participant-store';
import { DynamoReplayGuard, replayKey } from '../../shared/adapters/dynamo-replay-guard';
import { checkConformance, formatReport, RULES } from '../../shared/https/conformance';
import { phaseUrl, SIGNATURE_MAX_AGE_MS, signCall } from '../../shared/https/contract';
import { httpsParticipant } from '../../shared/https/endpoint';
import { defineParticipant } from '../../shared/participant';

// The SDK's Node handler on a loopback server, over a table of its own on the emulator (real
// conditional writes, real TransactWriteItems, the DynamoDB replay guard), checked by the
// conformance kit — which must also fail a deliberately broken endpoint, naming what it breaks.
const deployment = inject('deployment');
const dynamo = new DynamoDBClient({ endpoint: deployment.endpoint });
const client = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
const run = Date.now().toString(36);
const TABLE = `https-endpoint-${run}`;
const SECRET = `secret-${run}`;
const BRANCH = 'tickets';
const execFileAsync = promisify(execFile);

/** A ticket office: a try holds a ticket, a confirm sells it, a cancel frees it. */
const Ticket = z.strictObject({ ticket: z.string().min(1).max(200) });
const key = (op: z.output<typeof Ticket>) => ({ pk: `ticket#${op.ticket}` });
const tickets = defineParticipant({
  operation: Ticket,
  itemKey: ['ticket'],
  prepare: (op, tx) => ({
    Put: {
      TableName: tx.table,
      Item: { ...key(op), heldBy: tx.txId },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
    refusal: () => `ticket ${op.ticket} is taken`,
  }),
  commit: (op, tx) => ({
    Update: {
      TableName: tx.table,
      Key: key(op),
      UpdateExpression: 'SET soldTo = heldBy REMOVE heldBy',
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
  abort: (op, tx) => ({
    Delete: {
      TableName: tx.table,
      Key: key(op),
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
});
/** Each transaction of the kit books a ticket of its own. */
const OPERATIONS = [{ ticket: 't-{{txId}}' }];

/**
 * A broken endpoint, as a team might first write one: it checks no signature, keeps no barrier
 * (so no tombstone, and a confirm or cancel does whatever it is told) and trusts its input.
 */
const broken: RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const call = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const pk = `broken#${call.transactionId}`;
      if (req.url?.endsWith('/try')) {
        const { Item } = await client.send(new GetCommand({ TableName: TABLE, Key: { pk } }));
        if (Item !== undefined && Item.heldBy !== call.transactionId) return answer(409, { reason: 'taken' });
        await client.send(new PutCommand({ TableName: TABLE, Item: { pk, heldBy: call.transactionId } }));
      } else if (req.url?.endsWith('/confirm')) {
        await client.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: { pk },
            UpdateExpression: 'SET sold = :t',
            ExpressionAttributeValues: { ':t': true },
          }),
        );
      } else {
        await client.send(new DeleteCommand({ TableName: TABLE, Key: { pk } }));
      }
      answer(200, { ok: true });
    } catch (error) {
      answer(500, { error: String(error) });
    }
  });
};

const servers: Server[] = [];
async function serve(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${BRANCH}`;
}

let good: string;
let bad: string;

beforeAll(async () => {
  await createEndpointTable(dynamo, TABLE);
  const participant = httpsParticipant(tickets, {
    table: TABLE,
    secrets: [SECRET, 'the-secret-before'],
    participantId: BRANCH,
    client,
    logger: { error: () => {}, warn: () => {} },
  });
  good = await serve(participant.node);
  bad = await serve(broken);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await dynamo.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => {});
});

/** A signed call of the good endpoint, as the relay makes it. */
async function call(phase: 'try' | 'confirm' | 'cancel', txId: string, ticket: string, atMs = Date.now()) {
  const url = phaseUrl(good, phase);
  const base = { phase, transactionId: txId, branch: BRANCH };
  const body = JSON.stringify(phase === 'try' ? { ...base, operations: [{ ticket }] } : base);
  const path = new URL(url).pathname;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signCall(SECRET, { method: 'POST', path, body }, atMs),
    },
    body,
  });
  return { status: response.status, body: await response.text() };
}
const item = async (pk: string) =>
  (await client.send(new GetCommand({ TableName: TABLE, Key: { pk }, ConsistentRead: true }))).Item;

describe('the SDK endpoint on a real table', () => {
  it('holds a ticket on a try and sells it on a confirm, once; a second buyer is refused', async () => {
    const tx = `tx-sell-${run}`;

    const tried = await call('try', tx, `s-${run}`);
    const confirmed = await call('confirm', tx, `s-${run}`);
    const again = await call('confirm', tx, `s-${run}`);
    const other = await call('try', `tx-other-${run}`, `s-${run}`);

    expect([tried.status, confirmed.status, again.status]).toEqual([200, 200, 200]);
    expect(await item(`ticket#s-${run}`)).toEqual({ pk: `ticket#s-${run}`, soldTo: tx });
    expect(other).toEqual({ status: 409, body: JSON.stringify({ reason: `ticket s-${run} is taken` }) });
    expect(await item(barrierKey(tx, BRANCH).pk)).toMatchObject({ state: 'COMMITTED' });
  });

  it('keeps a tombstone for a cancel before the try, and holds nothing for the late try', async () => {
    const tx = `tx-tomb-${run}`;

    expect((await call('cancel', tx, `c-${run}`)).status).toBe(200);
    expect((await call('try', tx, `c-${run}`)).status).toBe(409);

    expect(await item(barrierKey(tx, BRANCH).pk)).toMatchObject({ state: 'ABORTED', vote: null });
    expect(await item(`ticket#c-${run}`)).toBeUndefined();
  });

  it('remembers an accepted signature on the table until it expires, with its TTL', async () => {
    const atMs = Date.now();
    const tx = `tx-replay-${run}`;
    const first = await call('try', tx, `r-${run}`, atMs);

    const replayed = await call('try', tx, `r-${run}`, atMs);

    expect(first.status).toBe(200);
    expect(replayed.status).toBe(401);
    expect(JSON.parse(replayed.body).type).toBe('urn:tandem:problem:replayed-signature');
    const body = JSON.stringify({
      phase: 'try',
      transactionId: tx,
      branch: BRANCH,
      operations: [{ ticket: `r-${run}` }],
    });
    const path = new URL(phaseUrl(good, 'try')).pathname;
    const signature = signCall(SECRET, { method: 'POST', path, body }, atMs)['tandem-signature']!.slice(3);
    const expiresAtMs = atMs + SIGNATURE_MAX_AGE_MS;
    expect(await item(replayKey(signature).pk)).toEqual({
      ...replayKey(signature),
      kind: 'replay',
      expiresAtMs,
      expiresAtS: Math.ceil(expiresAtMs / 1000),
    });
  });

  it('accepts a remembered signature again once it has expired (TTL deletes late)', async () => {
    const guard = new DynamoReplayGuard(client, { table: TABLE });
    const signature = `sig-${run}`;

    expect(await guard.remember(signature, 2_000, 1_000)).toBe(true);
    expect(await guard.remember(signature, 2_000, 1_500)).toBe(false);
    expect(await guard.remember(signature, 9_000, 2_001)).toBe(true);
    expect(await item(replayKey(signature).pk)).toMatchObject({ expiresAtMs: 9_000, expiresAtS: 9 });
  });

  it('passes the conformance kit on every rule', async () => {
    const results = await checkConformance({
      baseUrl: good,
      secret: SECRET,
      operations: OPERATIONS,
      branch: BRANCH,
    });

    expect(formatReport(good, results)).toContain(`all ${RULES.length} rules hold`);
  });
});

describe('participant-check, the command', () => {
  const check = (url: string) =>
    execFileAsync(
      'npx',
      [
        'tsx',
        'shared/https/participant-check.ts',
        '--url',
        url,
        '--operations',
        JSON.stringify(OPERATIONS),
        '--branch',
        BRANCH,
      ],
      { env: { ...process.env, TANDEM_PARTICIPANT_SECRET: SECRET }, timeout: 120_000 },
    ).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        stdout: error.stdout + error.stderr,
      }),
    );

  it('exits 0 for the SDK endpoint', async () => {
    const { code, stdout } = await check(good);

    expect(stdout).toContain('rules hold');
    expect(code).toBe(0);
  });

  it('exits 1 for a broken endpoint, naming each rule it breaks', async () => {
    const { code, stdout } = await check(bad);

    expect(code).toBe(1);
    const brokenRules = [...stdout.matchAll(/^✗ ([a-z-]+):/gm)].map((match) => match[1]);
    expect(brokenRules).toEqual([
      'cancel-before-try',
      'try-after-cancel',
      'cancel-then-confirm',
      'confirm-then-cancel',
      'unsigned-call',
      'wrong-secret',
      'tampered-body',
      'expired-signature',
      'replayed-call',
      'malformed-body',
    ]);
    expect(stdout).toMatch(/a try after that cancel answered 200 .*expected 409/);
    expect(stdout).toMatch(/a try without signature headers answered 200 .*expected 401 or 403/);
    expect(stdout).toMatch(/a try whose body is not JSON answered 500 .*expected 400 or 422/);
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TandemClient, TandemValidationError } from 'tandem/client';
import { SEAT_REQUESTED, type SeatRequested } from '../lib/events.ts';

// The seat-booking service and the bank and the shop, in one atomic transaction — run against the
// stack `npm run deploy:local` deployed to a local emulator (AWS_ENDPOINT_URL).

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) throw new Error('set AWS_ENDPOINT_URL to the emulator the stack is deployed on');
const outputs = JSON.parse(readFileSync('outputs.json', 'utf8')).SeatBooking as Record<string, string>;
// The emulator serves the API on a path of its own endpoint, e.g. …/_aws/execute-api/<id>.
const apiId = /^https?:\/\/([^./]+)\./.exec(outputs.ApiUrl!)?.[1];
const tandem = new TandemClient({ url: `${endpoint}/_aws/execute-api/${apiId}`, auth: 'none' });
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint }));
const eventBridge = new EventBridgeClient({ endpoint });

const run = Date.now().toString(36);
const alice = `alice-${run}`;
const meal = `meal-${run}`;
const flight = `TA${(Number.parseInt(run.slice(-3), 36) % 9000) + 1000}`;

const seat = async (id: string) =>
  (
    await dynamo.send(
      new GetCommand({ TableName: outputs.SeatsTable, Key: { pk: `${flight}#${id}` }, ConsistentRead: true }),
    )
  ).Item;

/** A booking: pay for the seat, take a meal from stock, and book the seat — all or nothing. */
const booking = (seatId: string, passenger: string) => ({
  operations: [
    { participant: 'ledger', action: 'debit', accountId: alice, amount: 120 },
    { participant: 'inventory', action: 'reserve', sku: meal, quantity: 1 },
    { participant: 'seats', action: 'book', flight, seat: seatId, passenger },
  ],
});

before(async () => {
  await tandem.createAccount({ accountId: alice, initialBalance: 500 });
  await tandem.createItem({ sku: meal, stock: 10 });
  for (const id of ['12C', '12D', '14A']) {
    await dynamo.send(new PutCommand({ TableName: outputs.SeatsTable, Item: { pk: `${flight}#${id}` } }));
  }
});

describe('a booking across the ledger, the inventory and the seat-booking service', () => {
  it('commits everywhere at once', async () => {
    const answer = await tandem.transaction(booking('12C', 'Ada Lovelace'), { wait: 20 });
    const done = answer.status === 200 ? answer.view : await tandem.getTransaction(answer.txId, { wait: 20 });
    assert.equal(done.state, 'COMMITTED', JSON.stringify(done));
    assert.equal((await tandem.getAccount(alice)).balance, 380);
    assert.equal((await tandem.getItem(meal)).stock, 9);
    const booked = await seat('12C');
    assert.equal(booked?.bookedBy, answer.txId);
    assert.equal(booked?.passenger, 'Ada Lovelace');
  });

  it('aborts everywhere when the seat-booking service refuses: nothing is applied anywhere', async () => {
    const answer = await tandem.transaction(booking('12C', 'Grace Hopper'), { wait: 20 });
    const done = answer.status === 200 ? answer.view : await tandem.getTransaction(answer.txId, { wait: 20 });
    assert.equal(done.state, 'ABORTED', JSON.stringify(done));
    assert.match(done.reason ?? '', new RegExp(`seat 12C on ${flight} is taken`));
    assert.equal((await tandem.getAccount(alice)).balance, 380);
    assert.equal((await tandem.getAccount(alice)).available, 380);
    assert.equal((await tandem.getItem(meal)).available, 9);
    assert.equal((await seat('12C'))?.passenger, 'Ada Lovelace');
  });

  it("refuses a booking that breaks the service's schema with a 400 naming the field, writing nothing", async () => {
    await assert.rejects(tandem.transaction(booking('99Z', 'Alan Turing')), (error: unknown) => {
      assert.ok(error instanceof TandemValidationError);
      assert.deepEqual(
        error.errors.map((issue) => issue.path),
        ['operations.2.seat'],
      );
      return true;
    });
    assert.equal((await tandem.getAccount(alice)).balance, 380);
    assert.equal((await seat('12D'))?.heldBy, undefined);
  });

  it("books from an event on the shop's bus, once however often it is delivered", async () => {
    const detail: SeatRequested = {
      bookingId: `b-${run}`,
      accountId: alice,
      price: 100,
      meal,
      flight,
      seat: '14A',
      passenger: 'Katherine Johnson',
    };
    const entry = {
      EventBusName: outputs.ShopBusName,
      Source: SEAT_REQUESTED.source,
      DetailType: SEAT_REQUESTED.detailType,
      Detail: JSON.stringify(detail),
    };
    // Two deliveries of one booking (the shop's retry): the key is its bookingId.
    for (let i = 0; i < 2; i++) {
      const put = await eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
      assert.equal(put.FailedEntryCount ?? 0, 0);
    }
    const deadline = Date.now() + 60_000;
    while ((await seat('14A'))?.bookedBy === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal((await seat('14A'))?.passenger, 'Katherine Johnson');
    // Both deliveries settle (the second finds the first's transaction): debited once.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal((await tandem.getAccount(alice)).balance, 280);
    assert.equal((await tandem.getItem(meal)).stock, 8);
  });
});

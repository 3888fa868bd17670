import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { dynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { EventBridgePublisher } from '../../shared/adapters/eventbridge-publisher';
import { type HttpEvent, json, problem, problemFromError, readJsonBody } from '../../shared/api/http';
import { envString } from '../../shared/env';
import type { TransactionEvent } from '../../shared/events';
import { shardOf } from '../../shared/ledger/sharding';
import { instrument, metering } from '../../shared/metering';
import { counterItem } from '../../shared/participant/counter';
import { parseOrThrow, TransferRequest } from '../../shared/schemas';

// Bench baseline (`-c bench=on` only): the transfer a careful engineer would hand-roll without
// Tandem — one TransactWriteItems with the debit (balance condition), the credit, and an
// idempotency item so a retried request is not applied twice. With `?announce=on` it also puts
// the outcome on the stack's bus right after the write, as Tandem's events out does — inline, so
// an outcome is lost if the function dies in between (cheaper than Tandem's guarantee, not dearer).
const client = dynamoDocumentClient();
const shardTables = envString(process.env, 'LEDGER_SHARD_TABLES').split(',');
const benchTable = envString(process.env, 'BENCH_TABLE');
const busName = process.env.EVENT_BUS_NAME || undefined;
const publisher = busName
  ? new EventBridgePublisher(instrument(new EventBridgeClient({}), 'EventBridge'), busName)
  : undefined;

/** The event the hand-rolled transfer announces: the shape of Tandem's, for the same price. */
function outcomeEvent(
  key: string,
  from: string,
  to: string,
  outcome: 'COMMITTED' | 'ABORTED',
): TransactionEvent {
  const nowMs = Date.now();
  const shardOfAccount = (account: string) => `ledger-${shardOf(account, shardTables.length)}`;
  return {
    eventId: `${key}/${outcome}`,
    txId: key,
    outcome,
    reason: outcome === 'ABORTED' ? 'unknown account or insufficient funds' : null,
    participants: [from, to].map((account) => ({ id: shardOfAccount(account), kind: 'ledger' })),
    createdAtMs: nowMs,
    decidedAtMs: nowMs,
    completedAtMs: nowMs,
  };
}

// Lambda's own timeout, as Tandem's functions have (shared/lambda/middleware.ts).
const NO_EARLY_TIMEOUT = { timeoutEarlyInMillis: 0 };

export const handler = middy(async (event: HttpEvent, _context: Context) => {
  const announce = event.queryStringParameters?.announce === 'on';
  if (announce && !publisher) {
    return problem(400, 'no-event-bus', 'No event bus', 'this stack announces no events (events=off)');
  }
  // The transfer being made, once its request is read: what an outcome is announced for.
  let transfer: { key: string; from: string; to: string } | undefined;
  const announced = async (status: number, body: { outcome: 'COMMITTED' | 'ABORTED'; reason?: string }) => {
    if (announce && transfer) {
      await publisher?.publish([outcomeEvent(transfer.key, transfer.from, transfer.to, body.outcome)]);
    }
    return json(status, body);
  };
  try {
    const { from, to, amount, idempotencyKey } = parseOrThrow(
      TransferRequest,
      readJsonBody(event),
      'transfer',
    );
    const key = idempotencyKey ?? randomUUID();
    transfer = { key, from, to };
    const tableOf = (account: string) => shardTables[shardOf(account, shardTables.length)];
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: benchTable,
              Item: { pk: `idem#${key}`, from, to, amount, atMs: Date.now() },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          // The same take and give, with the same conditions, as Tandem's one-phase commit.
          counterItem('account', tableOf(from)!, { id: from, action: 'take', amount }, 'direct')!,
          counterItem('account', tableOf(to)!, { id: to, action: 'give', amount }, 'direct')!,
        ],
      }),
    );
    return await announced(201, { outcome: 'COMMITTED' });
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const [idem, debit, credit] = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (idem === 'ConditionalCheckFailed') return json(200, { outcome: 'COMMITTED', replayed: true });
      if (debit === 'ConditionalCheckFailed' || credit === 'ConditionalCheckFailed') {
        return await announced(200, { outcome: 'ABORTED', reason: 'unknown account or insufficient funds' });
      }
      return problem(
        409,
        'conflict',
        'Conflict',
        'a concurrent transaction touched the same accounts; retry',
      );
    }
    return problemFromError(error, event.rawPath);
  }
}, NO_EARLY_TIMEOUT).use(metering('direct'));

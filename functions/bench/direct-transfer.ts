import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { dynamoDocumentClient } from '../../shared/adapters/aws-clients';
import { entityKey } from '../../shared/adapters/dynamo-entities';
import { type HttpEvent, json, problem, problemFromError, readJsonBody } from '../../shared/api/http';
import { envString } from '../../shared/env';
import { shardOf } from '../../shared/ledger/sharding';
import { metered } from '../../shared/metering';
import { parseOrThrow, TransferRequest } from '../../shared/schemas';

// Bench baseline (`-c bench=on` only): the transfer a careful engineer would hand-roll without
// Tandem — one TransactWriteItems with the debit (balance condition), the credit, and an
// idempotency item so a retried request is not applied twice.
const client = dynamoDocumentClient();
const shardTables = envString(process.env, 'LEDGER_SHARD_TABLES').split(',');
const benchTable = envString(process.env, 'BENCH_TABLE');
const names = { '#total': 'total', '#available': 'available' };

export const handler = metered('direct', async (event: HttpEvent, _context: Context) => {
  try {
    const { from, to, amount, idempotencyKey } = parseOrThrow(
      TransferRequest,
      readJsonBody(event),
      'transfer',
    );
    const tableOf = (account: string) => shardTables[shardOf(account, shardTables.length)];
    await client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: benchTable,
              Item: { pk: `idem#${idempotencyKey ?? randomUUID()}`, from, to, amount, atMs: Date.now() },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: tableOf(from),
              Key: entityKey('account', from),
              UpdateExpression: 'SET #total = #total - :a, #available = #available - :a',
              ConditionExpression: 'attribute_exists(pk) AND #available >= :a',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':a': amount },
            },
          },
          {
            Update: {
              TableName: tableOf(to),
              Key: entityKey('account', to),
              UpdateExpression: 'SET #total = #total + :a, #available = #available + :a',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':a': amount },
            },
          },
        ],
      }),
    );
    return json(201, { outcome: 'COMMITTED' });
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const [idem, debit, credit] = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (idem === 'ConditionalCheckFailed') return json(200, { outcome: 'COMMITTED', replayed: true });
      if (debit === 'ConditionalCheckFailed' || credit === 'ConditionalCheckFailed') {
        return json(200, { outcome: 'ABORTED', reason: 'unknown account or insufficient funds' });
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
});

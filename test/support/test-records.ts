import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll } from 'vitest';
import { DynamoTxStore } from '../../shared/adapters/dynamo-tx-store';
import { recordKeyOf } from '../../shared/txid';

/** Records the stores of this test file created: table → (client, record keys). */
const created = new Map<string, { client: DynamoDBDocumentClient; keys: Set<string> }>();

// Registered once per test file, when it imports this module.
afterAll(async () => {
  for (const [table, { client, keys }] of created) {
    for (const txId of keys) await client.send(new DeleteCommand({ TableName: table, Key: { txId } }));
  }
  created.clear();
});

/**
 * A DynamoTxStore on the deployed stack's tables for integration tests, whose records are deleted
 * once the file's tests are done. The deployed sweeper drives every live record it finds, in any
 * slot: a test's half-made transaction left behind would be re-driven every minute for the rest of
 * the run — noise in the bench's metered windows, and messages in the coordinator's DLQ.
 */
export function testTxStore(client: DynamoDBDocumentClient, transactionsTable: string, slotsTable: string) {
  const store = new DynamoTxStore(client, transactionsTable, slotsTable);
  const entry = created.get(transactionsTable) ?? { client, keys: new Set<string>() };
  created.set(transactionsTable, entry);
  const create = store.create.bind(store);
  store.create = async (tx) => {
    entry.keys.add(recordKeyOf(tx.record.txId));
    return create(tx);
  };
  return store;
}

/**
 * Deletes the records at `recordKeys` once the file's tests are done: for records the deployed
 * stack created (an intake's transactions), whose keys the test knows.
 */
export function deleteRecordsAfterwards(
  client: DynamoDBDocumentClient,
  transactionsTable: string,
  recordKeys: readonly string[],
): void {
  const entry = created.get(transactionsTable) ?? { client, keys: new Set<string>() };
  created.set(transactionsTable, entry);
  for (const key of recordKeys) entry.keys.add(key);
}

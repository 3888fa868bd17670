import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { InfrastructureError } from '../errors';
import { entityKey } from '../participant/counter';
import type { EntityDirectory, EntityRef } from '../ports';

/** BatchGetItem reads at most this many keys per request. */
const BATCH_KEYS_MAX = 100;
/** Rounds of retrying UnprocessedKeys (throttling) before giving up with a 503. */
const UNPROCESSED_ROUNDS_MAX = 6;
const UNPROCESSED_BACKOFF_BASE_MS = 25;

type Key = Record<string, unknown>;

export interface DynamoEntityDirectoryOptions {
  /** Waits between UnprocessedKeys retries; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Which counter entities exist, from one BatchGetItem over the counter participants' tables
 * (consistent reads, projecting only `pk`). `tables` maps a counter participant's id to its table,
 * e.g. `{ 'ledger-0': …, 'ledger-1': …, inventory: … }`.
 */
export class DynamoEntityDirectory implements EntityDirectory {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: Readonly<Record<string, string>>,
    options: DynamoEntityDirectoryOptions = {},
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private tableOf(ref: EntityRef): string {
    const table = Object.hasOwn(this.tables, ref.participantId) ? this.tables[ref.participantId] : undefined;
    if (table === undefined)
      throw new RangeError(`no table for the counter participant ${ref.participantId}`);
    return table;
  }

  async missing(refs: readonly EntityRef[]): Promise<EntityRef[]> {
    // table → pk → the refs naming it (BatchGetItem refuses duplicate keys, so ask once).
    const wanted = new Map<string, Map<string, EntityRef[]>>();
    for (const ref of refs) {
      const table = this.tableOf(ref);
      const pk = entityKey(ref.entity, ref.id).pk;
      const byPk = wanted.get(table) ?? new Map<string, EntityRef[]>();
      byPk.set(pk, [...(byPk.get(pk) ?? []), ref]);
      wanted.set(table, byPk);
    }
    const keys: Array<{ table: string; key: Key }> = [];
    for (const [table, byPk] of wanted) for (const pk of byPk.keys()) keys.push({ table, key: { pk } });

    const found = new Set<string>();
    for (let start = 0; start < keys.length; start += BATCH_KEYS_MAX) {
      for (const [table, pk] of await this.batchGet(keys.slice(start, start + BATCH_KEYS_MAX))) {
        found.add(`${table}\n${pk}`);
      }
    }
    return refs.filter((ref) => !found.has(`${this.tableOf(ref)}\n${entityKey(ref.entity, ref.id).pk}`));
  }

  /** The (table, pk) pairs of `keys` that exist, retrying throttled keys a bounded number of times. */
  private async batchGet(keys: ReadonlyArray<{ table: string; key: Key }>): Promise<Array<[string, string]>> {
    let pending: Record<string, Key[]> = {};
    for (const { table, key } of keys) pending[table] = [...(pending[table] ?? []), key];
    const found: Array<[string, string]> = [];
    for (let round = 0; Object.keys(pending).length > 0; round++) {
      if (round >= UNPROCESSED_ROUNDS_MAX) {
        throw new InfrastructureError(`entity lookup still throttled after ${UNPROCESSED_ROUNDS_MAX} rounds`);
      }
      if (round > 0) await this.sleep(UNPROCESSED_BACKOFF_BASE_MS * 2 ** (round - 1));
      const requestItems = Object.fromEntries(
        Object.entries(pending).map(([table, tableKeys]) => [
          table,
          {
            Keys: tableKeys,
            ConsistentRead: true,
            ProjectionExpression: '#pk',
            ExpressionAttributeNames: { '#pk': 'pk' },
          },
        ]),
      );
      let result: BatchGetCommandOutput;
      try {
        result = await this.client.send(new BatchGetCommand({ RequestItems: requestItems }));
      } catch (error) {
        throw new InfrastructureError('could not look up the entities of the transaction', { cause: error });
      }
      for (const [table, items] of Object.entries(result.Responses ?? {})) {
        for (const item of items) found.push([table, item.pk as string]);
      }
      pending = {};
      for (const [table, unprocessed] of Object.entries(result.UnprocessedKeys ?? {})) {
        if (unprocessed.Keys && unprocessed.Keys.length > 0) pending[table] = unprocessed.Keys;
      }
    }
    return found;
  }
}

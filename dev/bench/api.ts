/** The bench's calls to Tandem's API (and to the bench stack's own route), through the typed client. */
import { TandemApiError, type TandemClient } from '../../client';
import { shardOf } from '../../shared/ledger/sharding';
import type { TimedView } from './phases';
import type { Workload } from './types';

export interface Outcome {
  readonly ok: boolean;
  readonly committed: boolean;
  /** The final answer's transaction view (Tandem's workloads). */
  readonly view?: TimedView;
}

export interface AccountPair {
  readonly from: string;
  readonly to: string;
}

/** One account on shard 0 and one on shard 1 per client, so clients never contend with each other. */
export async function createAccountPairs(
  api: TandemClient,
  count: number,
  shardCount: number,
  log: (line: string) => void,
): Promise<AccountPair[]> {
  const prefix = `bench-${Date.now().toString(36)}`;
  const onShard = (shard: number, client: number) => {
    for (let n = 0; ; n++) {
      const id = `${prefix}-${client}-${n}`;
      if (shardOf(id, shardCount) === shard) return id;
    }
  };
  const pairs = Array.from({ length: count }, (_, client) => ({
    from: onShard(0, client),
    to: onShard(1, client),
  }));
  log(`creating ${pairs.length * 2} accounts …`);
  for (const { from, to } of pairs) {
    for (const accountId of [from, to]) await api.createAccount({ accountId, initialBalance: 1_000_000_000 });
  }
  return pairs;
}

/** One transfer of `workload`, from the client's point of view: sent → outcome known. */
export async function transfer(api: TandemClient, workload: Workload, pair: AccountPair): Promise<Outcome> {
  const body = { from: pair.from, to: pair.to, amount: 1 };
  if (workload === 'direct' || workload === 'direct-events') {
    // The bench stack's own route, outside the API's schema.
    const path = workload === 'direct' ? '/bench/direct-transfers' : '/bench/direct-transfers?announce=on';
    const answer = await api.send('POST', path, { body });
    return { ok: answer.status < 300, committed: answer.status === 201 };
  }
  const request = workload === 'two-phase' ? { ...body, commit: 'two-phase' as const } : body;
  try {
    const submitted =
      workload === 'https'
        ? await api.transaction(
            {
              commit: 'two-phase',
              operations: [
                { participant: 'ledger', action: 'debit', accountId: pair.from, amount: 1 },
                { participant: 'payments', action: 'charge', cardId: pair.from, amount: 1 },
              ],
            },
            { wait: 20 },
          )
        : await api.transfer(request, { wait: 20 });
    let view = submitted.status === 200 ? submitted.view : undefined;
    for (let round = 0; round < 10; round++) {
      if (view?.outcome !== undefined) return { ok: true, committed: view.outcome === 'COMMITTED', view };
      view = await api.getTransaction(submitted.txId, { wait: 20 });
    }
  } catch (error) {
    // An error answer is a failed transfer; a request that got no answer is for the caller to judge.
    if (!(error instanceof TandemApiError)) throw error;
  }
  return { ok: false, committed: false };
}

import { MemoryEntityDirectory } from '../shared/adapters/memory-entity-directory';
import { bankAndShopSpecs } from '../shared/bank-and-shop';
import type { EntityStore } from '../shared/entities';
import { shardOf } from '../shared/ledger/sharding';
import { ParticipantRegistry } from '../shared/registry';

/** The registry of the bank's ledger (in `ledgerShards` shards) and the shop's inventory. */
export const bankAndShopRegistry = (ledgerShards: number) =>
  new ParticipantRegistry(bankAndShopSpecs(ledgerShards));

/** Which accounts and items exist, from the in-memory entity stores the API creates them in. */
export const bankAndShopDirectory = (accounts: EntityStore, items: EntityStore) =>
  new MemoryEntityDirectory((ref) =>
    ref.entity === 'account'
      ? { store: accounts, shard: shardOf(ref.id, accounts.shardCount) }
      : { store: items, shard: 0 },
  );

import { INVENTORY_NAME, inventory } from './inventory/participant';
import { LEDGER_NAME, ledger } from './ledger/participant';
import { participantKind } from './participant/kinds';
import { checkSpecs, type ParticipantSpec, participantSpec } from './registry';

/**
 * Tandem's first two users, the bank's ledger (sharded by account) and the shop's inventory, as the
 * repository's own app deploys them — and as the simulation, the chaos workload and the tests run
 * them. Both are counter participants defined with the participant SDK.
 */
export function bankAndShopSpecs(ledgerShards: number): ParticipantSpec[] {
  return checkSpecs([
    participantSpec(LEDGER_NAME, ledger, { shards: ledgerShards }),
    participantSpec(INVENTORY_NAME, inventory),
  ]);
}

/** The ledger and the inventory as the participant shell runs them. */
export const LEDGER = participantKind(LEDGER_NAME, ledger);
export const INVENTORY = participantKind(INVENTORY_NAME, inventory);

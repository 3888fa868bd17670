import { counterParticipant } from '../participant/counter';
import type { CounterSpec } from '../participant/counter-spec';

/** The bank's ledger: accounts whose balances transactions debit (take) and credit (give). */
export const LEDGER_COUNTER: CounterSpec = {
  entity: 'account',
  quantity: 'funds',
  idField: 'accountId',
  amountField: 'amount',
  actions: { debit: 'take', credit: 'give' },
};

/** The ledger participant, a counter; deployed in shards (`ledger-<n>`) by account id. */
export const ledger = counterParticipant(LEDGER_COUNTER);

/** The name operations use for the ledger; its shards are `ledger-<n>`. */
export const LEDGER_NAME = 'ledger';

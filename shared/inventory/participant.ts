import { counterParticipant } from '../participant/counter';
import type { CounterSpec } from '../participant/counter-spec';

/** The shop's inventory: items whose stock transactions reserve (take) and release (give back). */
export const INVENTORY_COUNTER: CounterSpec = {
  entity: 'item',
  quantity: 'stock',
  idField: 'sku',
  amountField: 'quantity',
  actions: { reserve: 'take', release: 'give' },
};

/** The inventory participant, a counter (one table). */
export const inventory = counterParticipant(INVENTORY_COUNTER);

/** The name (and participant id) of the inventory. */
export const INVENTORY_NAME = 'inventory';

import { counterParticipant, participantKind } from '../../shared/participant';

/**
 * Counters whose operations have the shape of the entity operations they reserve (`{id, action:
 * take|give, amount}`), so a test can send `take('alice', 10)` in a Prepare and find it again in
 * the barrier. The real ledger and inventory (shared/bank-and-shop.ts) differ only in field names.
 */
const entityShaped = (entity: string, quantity: string) =>
  counterParticipant({
    entity,
    quantity,
    idField: 'id',
    amountField: 'amount',
    actions: { take: 'take', give: 'give' },
  });
export const LEDGER = participantKind('ledger', entityShaped('account', 'funds'));
export const INVENTORY = participantKind('inventory', entityShaped('item', 'stock'));

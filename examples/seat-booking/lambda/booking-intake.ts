import { eventIntakeHandler } from 'tandem/intake';
import type { SeatRequested } from '../lib/events.ts';

/**
 * The airline's web shop puts `SeatRequested` on its bus; this mapping makes each one a booking
 * transaction. Tandem validates it as its API would, starts it once per booking however often the
 * event is delivered (the key is `detail.bookingId`), and keeps a request that can never succeed
 * in the intake's DLQ with its reason.
 */
export const handler = eventIntakeHandler<SeatRequested>((event) => ({
  operations: [
    { participant: 'ledger', action: 'debit', accountId: event.detail.accountId, amount: event.detail.price },
    { participant: 'inventory', action: 'reserve', sku: event.detail.meal, quantity: 1 },
    {
      participant: 'seats',
      action: 'book',
      flight: event.detail.flight,
      seat: event.detail.seat,
      passenger: event.detail.passenger,
    },
  ],
}));

import { defineParticipant, refuse } from 'tandem/participant';
import * as z from 'zod';

/**
 * The seat-booking service of an airline, a participant of Tandem transactions: a booking holds a
 * seat while the transaction prepares, and books it (or frees it) when Tandem decides. Its rules
 * are its own: a seat is booked once, a passenger needs a name, and only seats that exist can be
 * booked. Its seats live in the service's own table (SEATS_TABLE), one item per seat.
 */
export const SeatBooking = z.strictObject({
  action: z.literal('book'),
  flight: z.string().regex(/^[A-Z]{2}\d{1,4}$/, 'must be a flight number like TA42'),
  seat: z.string().regex(/^\d{1,2}[A-F]$/, 'must be a seat like 12C'),
  passenger: z.string().min(1).max(80),
});

const table = () => {
  const name = process.env.SEATS_TABLE;
  if (!name) throw new Error('SEATS_TABLE is not set');
  return name;
};
const key = (op: z.output<typeof SeatBooking>) => ({ pk: `${op.flight}#${op.seat}` });

export const seats = defineParticipant({
  operation: SeatBooking,
  // One booking per seat per transaction: a request booking a seat twice is a 400.
  itemKey: ['flight', 'seat'],
  prepare: (op, tx) => {
    if (op.passenger.trim() === '') return refuse('a booking needs the passenger’s name');
    return {
      Update: {
        TableName: table(),
        Key: key(op),
        UpdateExpression: 'SET heldBy = :tx, passenger = :passenger',
        ConditionExpression:
          'attribute_exists(pk) AND attribute_not_exists(heldBy) AND attribute_not_exists(bookedBy)',
        ExpressionAttributeValues: { ':tx': tx.txId, ':passenger': op.passenger },
      },
      refusal: (seat) =>
        seat === undefined
          ? `flight ${op.flight} has no seat ${op.seat}`
          : seat.bookedBy !== undefined || seat.heldBy !== undefined
            ? `seat ${op.seat} on ${op.flight} is taken`
            : undefined,
    };
  },
  commit: (op, tx) => ({
    Update: {
      TableName: table(),
      Key: key(op),
      UpdateExpression: 'SET bookedBy = heldBy REMOVE heldBy',
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
  abort: (op, tx) => ({
    Update: {
      TableName: table(),
      Key: key(op),
      UpdateExpression: 'REMOVE heldBy, passenger',
      ConditionExpression: 'heldBy = :tx',
      ExpressionAttributeValues: { ':tx': tx.txId },
    },
  }),
});

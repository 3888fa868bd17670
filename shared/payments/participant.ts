import * as z from 'zod';
import { defineParticipant, type OperationContext, refuse } from '../participant/definition';

/**
 * The shop's payment service, an HTTPS participant of this repository's own app: a charge of an
 * amount (in cents) to a card, tried (the amount is held on the card), then confirmed (charged) or
 * cancelled (released) by the service at its URL. Declared once: the construct registers its
 * operation schema (infra/tandem-stack.ts), and the service runs its writes behind the SDK's
 * endpoint (`httpsParticipant`; dev/payments-service.ts serves it on loopback for the e2e
 * tests and the bench). A card whose id starts with `declined` is refused.
 */
const Charge = z.strictObject({
  action: z.literal('charge'),
  cardId: z.string().min(1).max(64),
  amount: z.number().int().positive().max(1_000_000_000),
});
export type PaymentCharge = z.output<typeof Charge>;

/** The item of a card on the service's table: `held` (tried, not yet confirmed) and `charged`. */
export const cardKey = (cardId: string) => ({ pk: `card#${cardId}` });

/** One card's amounts as its item holds them. */
export interface CardAmounts {
  readonly held: number;
  readonly charged: number;
}

const card = (op: PaymentCharge, tx: OperationContext) => ({ TableName: tx.table, Key: cardKey(op.cardId) });

export const PAYMENTS = defineParticipant({
  operation: Charge,
  itemKey: ['cardId'],
  // Hold the amount on the card; a declined card votes NO without writing.
  prepare: (op, tx) =>
    op.cardId.startsWith('declined')
      ? refuse('card declined')
      : {
          Update: {
            ...card(op, tx),
            UpdateExpression: 'ADD held :amount',
            ExpressionAttributeValues: { ':amount': op.amount },
          },
        },
  // Charge what was held (the hold is there: the barrier calls commit only after this branch's YES).
  commit: (op, tx) => ({
    Update: {
      ...card(op, tx),
      UpdateExpression: 'ADD held :release, charged :amount',
      ConditionExpression: 'held >= :amount',
      ExpressionAttributeValues: { ':amount': op.amount, ':release': -op.amount },
    },
  }),
  // Release the hold.
  abort: (op, tx) => ({
    Update: {
      ...card(op, tx),
      UpdateExpression: 'ADD held :release',
      ConditionExpression: 'held >= :amount',
      ExpressionAttributeValues: { ':amount': op.amount, ':release': -op.amount },
    },
  }),
});

/** The name (and participant id) of the payment service. */
export const PAYMENTS_NAME = 'payments';

/** The path of the payment service's base URL on its host. */
export const PAYMENTS_PATH = '/payments';

/** The loopback port the app's payment service is called on unless `-c paymentsPort=` says otherwise. */
export const PAYMENTS_DEFAULT_PORT = 8790;

import * as z from 'zod';

/**
 * The shop's payment service, an HTTPS participant of this repository's own app: a charge of an
 * amount (in cents) to a card, tried, then confirmed or cancelled by the service at its URL. The
 * e2e tests run that service on loopback (test/e2e/https-participants.test.ts).
 */
export const PAYMENTS = {
  operation: z.strictObject({
    action: z.literal('charge'),
    cardId: z.string().min(1).max(64),
    amount: z.number().int().positive().max(1_000_000_000),
  }),
  itemKey: ['cardId'],
};

/** The name (and participant id) of the payment service. */
export const PAYMENTS_NAME = 'payments';

/** The path of the payment service's base URL on its host. */
export const PAYMENTS_PATH = '/payments';

/** The loopback port the app's payment service is called on unless `-c paymentsPort=` says otherwise. */
export const PAYMENTS_DEFAULT_PORT = 8790;

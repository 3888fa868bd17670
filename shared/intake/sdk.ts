/**
 * `tandem/intake`: transactions started by EventBridge events, with the mapping in your code.
 *
 * ```ts
 * import { eventIntakeHandler } from 'tandem/intake';
 *
 * export const handler = eventIntakeHandler<{ orderId: string; from: string; to: string; cents: number }>(
 *   (event) => ({
 *     operations: [
 *       { participant: 'ledger', action: 'debit', accountId: event.detail.from, amount: event.detail.cents },
 *       { participant: 'ledger', action: 'credit', accountId: event.detail.to, amount: event.detail.cents },
 *     ],
 *   }),
 * );
 * ```
 *
 * Bundle it your usual way and give the function to `tandem.addEventIntake(id, { eventPattern, handler })`:
 * Tandem sets its environment, feeds it the intake's queue and grants what it needs.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { type IntakeLambdaHandler, intakeLambdaHandler } from './handler';
import type { TransactionInput } from './intake';

export type { EventBridgeEvent } from 'aws-lambda';
export type { IntakeLambdaHandler } from './handler';
export type { EventMapping, TransactionInput } from './intake';

/**
 * The Lambda handler of an event intake whose request is what `map` makes of each event (it may
 * throw, or be async). The request is validated exactly as `POST /transactions` validates it and
 * started once per event, however often EventBridge delivers it; a request that can never succeed
 * (a mapping that throws, a request that fails validation, an unknown account) goes to the
 * intake's DLQ with its reason.
 */
export function eventIntakeHandler<E = unknown>(
  map: (event: EventBridgeEvent<string, E>) => TransactionInput | Promise<TransactionInput>,
): IntakeLambdaHandler {
  return intakeLambdaHandler(map as (event: EventBridgeEvent<string, unknown>) => TransactionInput);
}

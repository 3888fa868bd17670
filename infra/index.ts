/**
 * `tandem/cdk`: the constructs a team places in its own CDK stack.
 *
 * ```ts
 * import { INVENTORY_COUNTER, LEDGER_COUNTER, Tandem } from 'tandem/cdk';
 *
 * const tandem = new Tandem(this, 'Tandem');
 * tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
 * tandem.addParticipant('seats', { definition: seats, handler: seatsFunction });
 * tandem.grantSubmit(checkoutFunction);
 * tandem.addEventIntake('orders', { eventPattern: { source: ['shop'], detailType: ['OrderPlaced'] } });
 * tandem.addRequestQueue('requests', { fifo: true }).grantSendMessages(checkoutFunction);
 * ```
 */
export { INVENTORY_COUNTER } from '../shared/inventory/participant';
export { LEDGER_COUNTER } from '../shared/ledger/participant';
export type { CounterSpec } from '../shared/participant/counter-spec';
export type { ParticipantSpec } from '../shared/registry';
export type { HttpsAuth, HttpsEndpoint, HttpsParticipant } from './constructs/https-participant';
export type { Intake } from './constructs/intake';
export type { Participant } from './constructs/participant';
export {
  type AddEventIntakeOptions,
  type AddParticipantOptions,
  type AddRequestQueueOptions,
  type IntakeKey,
  Tandem,
  type TandemApiProps,
  type TandemAuth,
  type TandemParticipant,
  type TandemProps,
  type TandemTimings,
} from './tandem';

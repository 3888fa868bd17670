/**
 * `tandem/participant`: the runtime SDK a team uses inside its own participant handler.
 *
 * ```ts
 * import { defineParticipant, participantHandler, refuse } from 'tandem/participant';
 * import * as z from 'zod';
 *
 * export const seats = defineParticipant({
 *   operation: z.strictObject({ action: z.literal('book'), flight: z.string(), seat: z.string() }),
 *   itemKey: ['flight', 'seat'],
 *   prepare: (op, tx) => ({
 *     Update: {
 *       TableName: tx.table,
 *       Key: { pk: `seat#${op.flight}#${op.seat}` },
 *       UpdateExpression: 'SET heldBy = :tx',
 *       ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(heldBy) AND attribute_not_exists(bookedBy)',
 *       ExpressionAttributeValues: { ':tx': tx.txId },
 *     },
 *     refusal: (seat) => (seat ? `seat ${op.seat} is taken` : `flight ${op.flight} has no seat ${op.seat}`),
 *   }),
 *   commit: (op, tx) => ({ Update: { … 'SET bookedBy = heldBy REMOVE heldBy' … } }),
 *   abort: (op, tx) => ({ Update: { … 'REMOVE heldBy' … } }),
 * });
 * export const handler = participantHandler(seats);
 * ```
 */

export { DynamoReplayGuard, type DynamoReplayGuardOptions } from '../adapters/dynamo-replay-guard';
export {
  BODY_LIMIT_BYTES,
  type EndpointLogger,
  type EndpointRequest,
  type EndpointResponse,
  type FunctionUrlHandler,
  type HttpsParticipant,
  type HttpsParticipantOptions,
  httpsParticipant,
  type NodeHandler,
} from '../https/endpoint';
export { MemoryReplayGuard, type ReplayGuard } from '../https/replay-guard';
export {
  type Secrets,
  type SecretsManagerSecretsOptions,
  type SecretsSource,
  secretsManagerSecrets,
} from '../https/secrets';
export {
  counterOperation,
  counterParticipant,
  parseCounterSpec,
} from './counter';
export type { CounterSpec } from './counter-spec';
export {
  type Awaitable,
  defineParticipant,
  type FinishResult,
  type OperationContext,
  type ParticipantDefinition,
  type PrepareResult,
  type Refusal,
  refuse,
  type TransactItem,
  type Write,
} from './definition';
export { type ParticipantLambdaHandler, participantHandler } from './handler';

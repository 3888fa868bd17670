import * as z from 'zod';
import { MalformedMessageError } from '../errors';
import type { CoordinatorInput } from '../protocol';

const txId = z.string().min(1).max(128);
const participantId = z.string().min(1).max(128);

/** Everything the coordinator's FIFO queue carries. */
const CoordinatorInputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Check'), txId }),
  z.object({ type: z.literal('OperatorAbort'), txId, note: z.string().max(500).optional() }),
  z.object({
    type: z.literal('Vote'),
    txId,
    participantId,
    vote: z.enum(['YES', 'NO']),
    reason: z.string().max(1000).optional(),
  }),
  z.object({ type: z.literal('Ack'), txId, participantId, outcome: z.enum(['COMMITTED', 'ABORTED']) }),
]);

/** A delayed message on the timer queue: deliver a `Check` for `txId` at (not before) `atMs`. */
export const TimerSchema = z.object({
  type: z.literal('Timer'),
  txId,
  slot: z.number().int().min(0),
  atMs: z.number().int().min(0),
});
export type Timer = z.infer<typeof TimerSchema>;

export { MalformedMessageError };

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedMessageError(`${what} is not JSON: ${body.slice(0, 200)}`);
  }
}

export function parseCoordinatorInput(body: string): CoordinatorInput {
  const result = CoordinatorInputSchema.safeParse(parseJson(body, 'coordinator message'));
  if (!result.success) {
    throw new MalformedMessageError(`malformed coordinator message: ${z.prettifyError(result.error)}`);
  }
  const { reason, note, ...rest } = result.data as Record<string, unknown>;
  // exactOptional: omit absent optionals rather than carrying `undefined`.
  return {
    ...rest,
    ...(reason === undefined ? {} : { reason }),
    ...(note === undefined ? {} : { note }),
  } as CoordinatorInput;
}

export function parseTimer(body: string): Timer {
  const result = TimerSchema.safeParse(parseJson(body, 'timer message'));
  if (!result.success)
    throw new MalformedMessageError(`malformed timer message: ${z.prettifyError(result.error)}`);
  return result.data;
}

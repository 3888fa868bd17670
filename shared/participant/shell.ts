import * as z from 'zod';
import { Backoff, type Pacing, REAL_PACING } from '../backoff';
import { SLOT_COUNT_MAX } from '../config';
import {
  ContentionError,
  type FieldIssue,
  InfrastructureError,
  MalformedMessageError,
  ValidationError,
} from '../errors';
import type { Faults } from '../faults';
import type { Clock } from '../ports';
import {
  afterNote,
  assert,
  type Decide,
  type JsonValue,
  noteOf,
  type ParticipantMessage,
  type ParticipantReply,
  type ParticipantStepResult,
  ProtocolAssertionError,
  participantStep,
  type TxRecord,
} from '../protocol';
import type { ParticipantKind } from './kinds';
import type { Reservation } from './operations';
import type { ParticipantStore, WriteOutcome } from './ports';

/** Where a participant's Votes and Acks go: the coordinator's queue, or the simulated network. */
export interface ReplySender {
  /** `slot`: the message's reply routing (its transaction's leader slot), when it named one. */
  send(reply: ParticipantReply, slot: number | undefined): Promise<void>;
}

export interface ParticipantDeps {
  readonly store: ParticipantStore;
  readonly kind: ParticipantKind;
  readonly clock: Clock;
  readonly replies: ReplySender;
  readonly faults: Faults;
  /** How to wait out contention (a conflict or a throttle on the write); real timers by default. */
  readonly pacing?: Pacing;
  /** Hears of every write refused by contention (then retried after a backoff). */
  readonly onContention?: (error: ContentionError) => void;
  /** Hears of a transaction this participant ended (its ack completed the set: RecordNote). */
  readonly onEnded?: (record: TxRecord) => void;
  /** Hears of a note or an end that failed (the reply then goes as a message). */
  readonly onNoteFailed?: (error: unknown) => void;
}

export interface ParticipantOutcome {
  /** The Vote or Ack this message answers with (sent as a message only if `sent`). */
  readonly reply: ParticipantReply;
  /** False for a duplicate: the barrier already recorded this message's effect. */
  readonly wrote: boolean;
  /**
   * Whether the reply went as a message: not when the drop point `participant.vote` swallowed the
   * Vote, nor when the reply's note on the record made the message needless (RecordNote).
   */
  readonly sent: boolean;
  /** Whether the note landed on the transaction record. */
  readonly noted: boolean;
  /** Whether this participant ended the transaction (its ack completed the set). */
  readonly ended: boolean;
  /** Load → step → write rounds it took (more than one after lost races). */
  readonly attempts: number;
}

/** Lost barrier races (load → step → write rounds) before giving up and letting SQS redeliver. */
export const WRITE_ATTEMPTS_MAX = 5;

/** NO reasons are cut to this length (the coordinator accepts up to 1000 characters). */
export const REASON_LENGTH_MAX = 500;

/**
 * The participant's async shell: load the barrier → pure `participantStep` → ONE atomic write of
 * the barrier and the business change → the reply, noted on the transaction record when the store
 * can reach it (RecordNote), and sent as a message unless the note made that needless.
 *
 *   load ─▶ step ─▶ changed? ──yes──▶ write ──ok──────────▶ crash point ─▶ note ─▶ reply / end
 *                     │                 ├─ barrier-conflict ─▶ load again (≤ WRITE_ATTEMPTS_MAX)
 *                     │                 ├─ contention ─▶ backoff, load again (CONTENTION_BACKOFF)
 *                     │                 └─ rejected ─▶ step with NO ─▶ write VOTED_NO ─▶ …
 *                     └──no (duplicate)─────────────────────────────────────▶ reply again
 *
 * `decide` is optimistic: it only parses the operations (malformed → NO with the parse error as
 * the reason). Whether the entities exist and hold enough is checked by the store's conditional
 * write, against the data as it is at that instant; a refusal comes back as `rejected` and becomes
 * the NO vote. A duplicate writes nothing and re-sends the reply (the first one may have been lost).
 *
 * Contention (another transaction on the record, an entity or the barrier — two participants
 * noting their votes on one record at once, a hot account — or a throttle) is waited out with a
 * jittered backoff within the invocation's time budget, then given up on like an infrastructure
 * failure.
 *
 * Errors: infrastructure failures (and more than WRITE_ATTEMPTS_MAX lost races, or contention
 * past the backoff) throw InfrastructureError, so SQS retries this record. A ProtocolAssertionError from the core (a
 * Commit for a barrier that voted NO, an Abort after COMMITTED) or from the store (a hold that
 * vanished) is NOT caught or retried here: it is a broken invariant, not a transient fault. It
 * propagates to the handler, and the record ends in the dead-letter queue (moved there at once, or
 * after SQS's maxReceiveCount), whose alarm brings an operator. Bad data in a Prepare never throws:
 * it votes NO.
 */
export async function handleParticipantMessage(
  message: ParticipantMessage,
  deps: ParticipantDeps,
): Promise<ParticipantOutcome> {
  const { store, kind, clock, replies, faults } = deps;
  const decide: Decide<Reservation> = (operations) => optimisticDecide(kind, operations);

  // The drop point loses the vote on both of its ways to the coordinator: the note and the message.
  const dropped = message.type === 'Prepare' && faults.drop('participant.vote', message.txId);
  const backoff = new Backoff(deps.pacing ?? REAL_PACING, clock);
  // Bounded: each turn returns, throws, or spends one lost race or one of the backoff's waits.
  for (let attempt = 1, races = 0; ; attempt++) {
    // A first Prepare finds no barrier almost always: write as if there were none (the write is
    // conditioned on its absence) and read only when that loses — one read fewer per transaction.
    const prev =
      attempt === 1 && message.type === 'Prepare'
        ? undefined
        : await store.loadBarrier(message.txId, message.participantId);
    const nowMs = clock.nowMs();
    let step: ParticipantStepResult<Reservation> = participantStep(prev, message, nowMs, decide);

    if (step.changed) {
      let outcome: WriteOutcome;
      try {
        outcome = await store.write(prev, step.barrier, step.action);
        if (!outcome.ok && outcome.kind === 'rejected') {
          assert(
            step.action.type === 'reserve',
            `store rejected a '${step.action.type}' of ${message.txId}/${message.participantId}: ${outcome.reason}`,
          );
          const reason = truncate(outcome.reason);
          step = participantStep(prev, message, nowMs, () => ({ ok: false, reason }));
          outcome = await store.write(prev, step.barrier, step.action);
          assert(
            outcome.ok || outcome.kind === 'barrier-conflict',
            `store rejected a NO vote of ${message.txId}/${message.participantId}`,
          );
        }
      } catch (error) {
        if (!(error instanceof ContentionError)) throw error;
        deps.onContention?.(error);
        if (await backoff.wait()) continue;
        throw error;
      }
      if (!outcome.ok) {
        // Lost a race: re-load and re-step.
        if (++races < WRITE_ATTEMPTS_MAX) continue;
        throw new InfrastructureError(
          `gave up on ${message.type} of ${message.txId}/${message.participantId} after ${WRITE_ATTEMPTS_MAX} lost races`,
        );
      }
      faults.crashPoint('participant.after-write', message.txId);
    }

    const { reply } = step;
    // A duplicate's reply goes as a message: its note may have been lost with a crash.
    const noting = step.changed && !dropped ? await noteReply(reply, clock.nowMs(), deps) : NOT_NOTED;
    const sent = !dropped && noting.send;
    if (sent) await replies.send(reply, message.slot);
    return { reply, wrote: step.changed, sent, noted: noting.noted, ended: noting.ended, attempts: attempt };
  }
}

const NOT_NOTED = { send: true, noted: false, ended: false } as const;

/**
 * Notes `reply` on the transaction record (RecordNote), and does what the noted record asks
 * (afterNote): says whether the reply must still go as a message, and ends the transaction when
 * this ack completed the set. A note refused, a store that cannot note, or a note or end that
 * fails: the reply goes as a message, as without notes.
 */
async function noteReply(
  reply: ParticipantReply,
  nowMs: number,
  deps: ParticipantDeps,
): Promise<{ readonly send: boolean; readonly noted: boolean; readonly ended: boolean }> {
  const { store } = deps;
  if (store.note === undefined) return NOT_NOTED;
  const note = noteOf(reply, nowMs);
  let noted: TxRecord | null = null;
  try {
    noted = await store.note(note);
    if (noted === null) return NOT_NOTED;
    const next = afterNote(noted, note);
    if (next.end === null) return { send: next.send, noted: true, ended: false };
    // A store that notes but cannot end: the Ack goes, and the coordinator ends the transaction.
    if (store.end === undefined) return { send: true, noted: true, ended: false };
    const ended = await store.end(next.end);
    if (ended) deps.onEnded?.(next.end);
    return { send: next.send, noted: true, ended };
  } catch (error) {
    if (error instanceof ProtocolAssertionError) throw error;
    deps.onNoteFailed?.(error);
    return { send: true, noted: noted !== null, ended: false };
  }
}

function optimisticDecide(kind: ParticipantKind, operations: readonly JsonValue[]) {
  try {
    return { ok: true, reservation: kind.parseOperations(operations) } as const;
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, reason: truncate(error.message) } as const;
    throw error;
  }
}

function truncate(reason: string): string {
  return reason.length <= REASON_LENGTH_MAX ? reason : `${reason.slice(0, REASON_LENGTH_MAX - 1)}…`;
}

// ─── The SQS message body ───────────────────────────────────────────────────────────────────────

const TxId = z.string().min(1).max(128);
/** No `#`: the barrier key is `barrier#<txId>#<participantId>`, split at the last `#`. */
const ParticipantId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^#]+$/, 'must not contain #');

/** The reply routing (a leader slot); optional, as messages of older coordinators lack it. */
const Slot = z
  .number()
  .int()
  .min(0)
  .max(SLOT_COUNT_MAX - 1)
  .optional();

const ParticipantMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('Prepare'),
    txId: TxId,
    participantId: ParticipantId,
    operations: z.array(z.json()),
    slot: Slot,
  }),
  z.object({ type: z.literal('Commit'), txId: TxId, participantId: ParticipantId, slot: Slot }),
  z.object({ type: z.literal('Abort'), txId: TxId, participantId: ParticipantId, slot: Slot }),
]);

/**
 * A participant queue's message that cannot be read (not JSON, not a Prepare/Commit/Abort, or
 * routed to the wrong participant): it can never be answered, so it belongs in the dead-letter
 * queue, not in a retry loop.
 */
export class MalformedParticipantMessageError extends MalformedMessageError {
  override readonly name = 'MalformedParticipantMessageError';
  constructor(
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * Parses a participant queue's message body. Unknown fields are dropped (a tolerant reader, so the
 * coordinator may add fields first). Throws MalformedParticipantMessageError listing every issue.
 */
export function parseParticipantMessage(body: string): ParticipantMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedParticipantMessageError(`participant message is not JSON: ${body.slice(0, 200)}`);
  }
  const result = ParticipantMessageSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
      message: issue.message,
    }));
    throw new MalformedParticipantMessageError(
      `malformed participant message: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return result.data as ParticipantMessage;
}

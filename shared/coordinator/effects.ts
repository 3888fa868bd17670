import {
  assertNever,
  type CoordinatorEffect,
  type ParticipantMessage,
  participantMessageOf,
  type TxParticipant,
  type TxRecord,
} from '../protocol';

/** Where the coordinator's messages go. SQS in Lambda; the simulated network in the simulation. */
export interface CoordinatorTransport {
  /** Sends Prepare / Commit / Abort to the participant's inbox. */
  toParticipant(participant: TxParticipant, message: ParticipantMessage): Promise<void>;
  /** Arranges for a `Check` of `txId` to reach the coordinator at (not before) `atMs`. */
  scheduleCheck(txId: string, slot: number, atMs: number): Promise<void>;
}

export interface EffectsDeps {
  readonly transport: CoordinatorTransport;
  /** Called once a transaction became terminal (logs, metrics). */
  readonly onTerminal?: (record: TxRecord) => Promise<void> | void;
  /** Called when an effect could not be performed; recovery re-drives it later. */
  readonly onEffectFailed?: (effect: CoordinatorEffect, record: TxRecord, error: unknown) => void;
}

/**
 * Performs a step's effects for `record`, which must already be durable (the step's contract:
 * invariant 4). Every effect is attempted; one that fails is reported, not retried: the record's
 * `nextCheckAtMs` makes a timer or the sweeper re-drive it. Used by the coordinator's shell and by
 * the producer, which starts a transaction itself.
 */
export async function performEffects(
  effects: readonly CoordinatorEffect[],
  record: TxRecord,
  deps: EffectsDeps,
): Promise<void> {
  await Promise.all(
    effects.map(async (effect) => {
      try {
        await performEffect(effect, record, deps);
      } catch (error) {
        deps.onEffectFailed?.(effect, record, error);
      }
    }),
  );
}

async function performEffect(effect: CoordinatorEffect, record: TxRecord, deps: EffectsDeps): Promise<void> {
  switch (effect.type) {
    case 'SendPrepare':
    case 'SendCommit':
    case 'SendAbort': {
      const { participant, message } = participantMessageOf(record, effect);
      return deps.transport.toParticipant(participant, message);
    }
    case 'ScheduleCheck':
      return deps.transport.scheduleCheck(record.txId, record.slot, effect.atMs);
    case 'Terminal':
      return deps.onTerminal?.(record);
    default:
      return assertNever(effect, 'coordinator effect');
  }
}

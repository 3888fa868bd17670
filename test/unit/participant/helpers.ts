import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { MemoryParticipantStore, type NoteTarget } from '../../../shared/adapters/memory-participant-store';
import { type EntityRecord, newEntity } from '../../../shared/entities';
import {
  type CrashPoint,
  type DropPoint,
  type Faults,
  InjectedCrashError,
  NO_FAULTS,
} from '../../../shared/faults';
import {
  handleParticipantMessage,
  type ParticipantDeps,
  type ParticipantKind,
  type ReplySender,
  type ReservedOp,
} from '../../../shared/participant';
import type { ParticipantMessage, ParticipantReply } from '../../../shared/protocol';
import { LEDGER } from '../../support/entity-shaped';

export const TX = 'tx-1';
export const P = 'ledger-0';
export const T0 = 1_000_000;

export { INVENTORY, LEDGER } from '../../support/entity-shaped';

export const take = (id: string, amount: number): ReservedOp => ({ id, action: 'take', amount });
export const give = (id: string, amount: number): ReservedOp => ({ id, action: 'give', amount });

export const prepare = (operations: readonly unknown[], txId = TX, participantId = P): ParticipantMessage =>
  ({ type: 'Prepare', txId, participantId, operations }) as ParticipantMessage;
export const commit = (txId = TX, participantId = P): ParticipantMessage => ({
  type: 'Commit',
  txId,
  participantId,
});
export const abort = (txId = TX, participantId = P): ParticipantMessage => ({
  type: 'Abort',
  txId,
  participantId,
});

export const voteYes = (txId = TX, participantId = P): ParticipantReply => ({
  type: 'Vote',
  txId,
  participantId,
  vote: 'YES',
});
export const voteNo = (reason: string, txId = TX, participantId = P): ParticipantReply => ({
  type: 'Vote',
  txId,
  participantId,
  vote: 'NO',
  reason,
});
export const ackOf = (outcome: 'COMMITTED' | 'ABORTED', txId = TX, participantId = P): ParticipantReply => ({
  type: 'Ack',
  txId,
  participantId,
  outcome,
});

export class ManualClock {
  constructor(private now = T0) {}
  nowMs(): number {
    return this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
}

class RecordingReplies implements ReplySender {
  readonly sent: ParticipantReply[] = [];
  async send(reply: ParticipantReply): Promise<void> {
    this.sent.push(reply);
  }
}

/** Faults that crash once per (point, txId), like a Lambda dying on the first delivery, and drop always. */
export function scriptedFaults(plan: { crash?: CrashPoint[]; drop?: DropPoint[] }): Faults {
  const crashed = new Set<string>();
  return {
    crashPoint: (point, txId) => {
      if (!plan.crash?.includes(point) || crashed.has(`${point}#${txId}`)) return;
      crashed.add(`${point}#${txId}`);
      throw new InjectedCrashError(point, txId);
    },
    drop: (point) => plan.drop?.includes(point) ?? false,
  };
}

/** A participant over the memory store, seeded with `[id, total]` entities. */
export function participant(
  seed: ReadonlyArray<readonly [string, number]>,
  options: { kind?: ParticipantKind; faults?: Faults; notes?: NoteTarget } = {},
) {
  const kind = options.kind ?? LEDGER;
  const store = new MemoryParticipantStore(
    kind.definition.counter!,
    seed.map(([id, total]) => newEntity(id, total, 0)),
    options.notes,
  );
  const replies = new RecordingReplies();
  const clock = new ManualClock();
  const deps: ParticipantDeps = { store, kind, clock, replies, faults: options.faults ?? NO_FAULTS };
  const deliver = (message: ParticipantMessage, override: Partial<ParticipantDeps> = {}) => {
    clock.advance(1);
    return handleParticipantMessage(message, { ...deps, ...override });
  };
  return { store, replies, clock, deps, deliver };
}

/** An entity's balances, for compact assertions. */
export function balances(entity: EntityRecord | undefined) {
  if (!entity) return undefined;
  const { total, held, available } = entity;
  return { total, held, available };
}

/** A cancelled TransactWriteItems with these reasons (as DynamoDB raises it), for scripted clients. */
export type Reason = { Code: string; Item?: Record<string, unknown> };
export const cancelled = (...reasons: Reason[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: reasons as CancellationReason[],
  });

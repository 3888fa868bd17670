import type { JsonValue } from './json';

/**
 * The messages exchanged between the coordinator and the participants. Every message names its
 * transaction and participant, so a receiver can check it was routed to the right record, and a
 * participant's reply is exactly the coordinator's `Vote` / `Ack` input.
 *
 * Coordinator ──Prepare──▶ participant ──Vote──▶ coordinator
 * Coordinator ──Commit / Abort──▶ participant ──Ack──▶ coordinator
 */
export type VoteValue = 'YES' | 'NO';
export type Outcome = 'COMMITTED' | 'ABORTED';

/**
 * Where the participant's reply goes: the coordinator's leader slot of the transaction, which the
 * reply's transport routes on (the slot's FIFO group). Fixed when the transaction is created, so
 * replies reach the slot that holds the record even after the deployment's slot count changed.
 * Absent from messages of older coordinators (the transport then derives it from the txId).
 */
interface ReplyRouting {
  readonly slot?: number;
}

export interface PrepareMessage extends ReplyRouting {
  readonly type: 'Prepare';
  readonly txId: string;
  readonly participantId: string;
  /** Opaque to the protocol: the participant's own description of its part of the work. */
  readonly operations: readonly JsonValue[];
}

export interface CommitMessage extends ReplyRouting {
  readonly type: 'Commit';
  readonly txId: string;
  readonly participantId: string;
}

export interface AbortMessage extends ReplyRouting {
  readonly type: 'Abort';
  readonly txId: string;
  readonly participantId: string;
}

export type ParticipantMessage = PrepareMessage | CommitMessage | AbortMessage;

export interface VoteMessage {
  readonly type: 'Vote';
  readonly txId: string;
  readonly participantId: string;
  readonly vote: VoteValue;
  /** Why the participant voted NO (e.g. `insufficient funds`); absent on YES. */
  readonly reason?: string;
}

export interface AckMessage {
  readonly type: 'Ack';
  readonly txId: string;
  readonly participantId: string;
  readonly outcome: Outcome;
}

export type ParticipantReply = VoteMessage | AckMessage;

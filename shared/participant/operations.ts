import type { JsonValue } from '../protocol';

/**
 * What a counter participant's Prepare reserves, per operation: take or give `amount` of the
 * entity `id` (see counter.ts). A type alias, so it is plain JSON and can be kept in a barrier.
 */
export type ReservedOp = {
  readonly id: string;
  readonly action: 'take' | 'give';
  readonly amount: number;
};

/**
 * What a participant's barrier keeps of its Prepare: its operations as the participant's schema
 * parsed them (plain JSON); commit and abort get them back from there.
 */
export type Reservation = readonly JsonValue[];

/**
 * At most this many operations per participant per transaction: TransactWriteItems takes 100
 * actions, one of which is the barrier.
 */
export const OPERATIONS_MAX = 99;

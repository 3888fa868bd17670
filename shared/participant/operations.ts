import * as z from 'zod';
import type { EntityOp, EntityRecord } from '../entities';
import type { JsonValue } from '../protocol';
import { Identifier, parseOrThrow } from '../schemas';

/** The entity kinds a participant of the entity shape can own (the `<kind>` of `<kind>#<id>`). */
export type EntityKind = 'account' | 'item';

/**
 * What a Prepare reserves: the participant's EntityOps, at most one per entity. A type alias (not
 * the EntityOp interface) so that it is plain JSON and can be a barrier's `reservation`; every
 * EntityOp is one of these.
 */
export type ReservedOp = {
  readonly id: string;
  readonly action: EntityOp['action'];
  readonly amount: number;
};
export type Reservation = readonly ReservedOp[];

/**
 * At most this many operations per participant: TransactWriteItems takes 100 actions, one of which
 * is the barrier.
 */
export const OPERATIONS_MAX = 99;

const Amount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const ReservedOpSchema = z.strictObject({
  id: Identifier,
  action: z.enum(['take', 'give']),
  amount: Amount,
});

const ReservationSchema = z
  .array(ReservedOpSchema)
  .min(1, 'must hold at least one operation')
  .max(OPERATIONS_MAX, `must hold at most ${OPERATIONS_MAX} operations`)
  .superRefine((ops, ctx) => {
    const seen = new Set<string>();
    ops.forEach((op, index) => {
      if (seen.has(op.id)) {
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `'${op.id}' appears twice` });
      }
      seen.add(op.id);
    });
  });

/**
 * Parses the opaque `operations` of a Prepare into a Reservation, or throws a ValidationError whose
 * message lists every issue (it becomes the NO vote's reason).
 */
export function parseReservation(operations: readonly JsonValue[], what: string): Reservation {
  return parseOrThrow(ReservationSchema, operations, what);
}

export const ENTITY_NOUNS: Readonly<
  Record<EntityKind, { readonly entity: string; readonly quantity: string }>
> = {
  account: { entity: 'account', quantity: 'funds' },
  item: { entity: 'item', quantity: 'stock' },
};

/**
 * Why a reserve of `op` was refused, from the entity as the failed condition saw it (undefined:
 * it does not exist). E.g. `insufficient funds on account 'alice' (available 5, needed 10)`.
 */
export function rejectionReason(
  entityKind: EntityKind,
  op: ReservedOp,
  entity: Pick<EntityRecord, 'available'> | undefined,
): string {
  const nouns = ENTITY_NOUNS[entityKind];
  if (entity === undefined) return `unknown ${nouns.entity} '${op.id}'`;
  return `insufficient ${nouns.quantity} on ${nouns.entity} '${op.id}' (available ${entity.available}, needed ${op.amount})`;
}

/** True when the entity can take `op` on reserve: it exists and, for a take, enough is available. */
export function canReserve(op: ReservedOp, entity: Pick<EntityRecord, 'available'> | undefined): boolean {
  if (entity === undefined) return false;
  return op.action === 'give' || entity.available >= op.amount;
}

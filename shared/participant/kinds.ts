import type { JsonValue } from '../protocol';
import { type EntityKind, parseReservation, type Reservation } from './operations';

/**
 * The one small interface a participant of the entity shape implements: its name, the kind of
 * entity it keeps on its table, and how to read its part of a transaction (`Prepare.operations`)
 * as EntityOps. The barrier, the reservation and the replies are generic (shell.ts); a new
 * participant of this shape is a descriptor, a table, a queue and a Lambda wiring the shell.
 */
export interface ParticipantKind {
  /** The `TxParticipant.kind` it serves, e.g. `ledger`. */
  readonly kind: string;
  readonly entityKind: EntityKind;
  /**
   * The EntityOps of `operations`. Throws ValidationError (its message is the NO vote's reason) when
   * they are malformed; must be pure and deterministic.
   */
  parseOperations(operations: readonly JsonValue[]): Reservation;
}

export function entityParticipantKind(kind: string, entityKind: EntityKind): ParticipantKind {
  return {
    kind,
    entityKind,
    parseOperations: (operations) => parseReservation(operations, `${kind} operations`),
  };
}

/** Bank ledger shards: `take` debits an account, `give` credits it. */
export const LEDGER: ParticipantKind = entityParticipantKind('ledger', 'account');

/** Inventory: `take` reserves stock of an item, `give` returns stock. */
export const INVENTORY: ParticipantKind = entityParticipantKind('inventory', 'item');

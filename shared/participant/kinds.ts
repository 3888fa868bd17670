import * as z from 'zod';
import type { JsonValue } from '../protocol';
import { parseOrThrow } from '../schemas';
import { assertJson, type ParticipantDefinition } from './definition';
import { OPERATIONS_MAX, type Reservation } from './operations';

/**
 * A participant as the protocol shell runs it: its name (the `TxParticipant.kind` it serves, e.g.
 * `ledger`), its definition, and how to read its part of a transaction (`Prepare.operations`).
 */
export interface ParticipantKind {
  readonly kind: string;
  readonly definition: ParticipantDefinition;
  /**
   * The operations as the definition's schema parses them. Throws ValidationError (its message is
   * the NO vote's reason) when they are malformed, too many, or two of them name one item.
   * Pure and deterministic.
   */
  parseOperations(operations: readonly JsonValue[]): Reservation;
}

/** The ParticipantKind of `definition` under the name `kind`. */
export function participantKind(kind: string, definition: ParticipantDefinition): ParticipantKind {
  const itemKey = definition.itemKey ?? [];
  const schema = z
    .array(z.unknown())
    .min(1, 'must hold at least one operation')
    .max(OPERATIONS_MAX, `must hold at most ${OPERATIONS_MAX} operations`)
    .superRefine((ops, ctx) => {
      if (itemKey.length === 0) return;
      const seen = new Map<string, number>();
      ops.forEach((op, index) => {
        const fields = op !== null && typeof op === 'object' ? (op as Record<string, unknown>) : {};
        const key = JSON.stringify(itemKey.map((field) => fields[field]));
        const first = seen.get(key);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [index, itemKey[0]!],
            message: `names the same item as operation ${first} (${itemKey.join(', ')})`,
          });
        }
        seen.set(key, index);
      });
    })
    .pipe(z.array(definition.operation));
  return {
    kind,
    definition,
    parseOperations(operations) {
      const parsed = parseOrThrow(schema, operations, `${kind} operations`) as unknown[];
      parsed.forEach((op, index) => {
        assertJson(op, `${kind} operation ${index} as parsed`);
      });
      return parsed as Reservation;
    },
  };
}

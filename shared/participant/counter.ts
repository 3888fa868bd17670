import * as z from 'zod';
import { ConfigurationError } from '../errors';
import { Identifier, PositiveUnits, parseOrThrow } from '../schemas';
import type { CounterSpec } from './counter-spec';
import {
  defineParticipant,
  type OperationContext,
  type ParticipantDefinition,
  type TransactItem,
  type Write,
} from './definition';
import type { ReservedOp } from './operations';

/**
 * A counter participant keeps numbers that transactions move: balances, stock, seats left. One
 * item per entity on the participant's table, keyed `<entity>#<id>`, holds a `total`, the part of it
 * `held` by prepared transactions, and `available = total − held` (stored: DynamoDB conditions
 * cannot do arithmetic). Each action of its operations either takes or gives:
 *
 *   take  prepare holds the amount (NO if `available` is short or the entity unknown), commit
 *         removes it from `total`, abort releases the hold        — a debit, a stock reservation
 *   give  prepare checks the entity exists, commit adds the amount — a credit, returned stock
 *
 * The bank's ledger and the shop's inventory are counters. Because the API knows what a counter's
 * operations do, it can refuse an unknown entity with a 422 before writing anything and commit a
 * transaction whose participants are all counters in one atomic write (the one-phase fast path).
 */

const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a field name like accountId');

const CounterSpecSchema = z
  .strictObject({
    entity: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lower-case noun like account'),
    quantity: z.string().min(1).max(32),
    idField: FieldName,
    amountField: FieldName,
    actions: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lower-case verb like debit'),
        z.enum(['take', 'give']),
      )
      .refine((actions) => Object.keys(actions).length > 0, 'must name at least one action'),
  })
  .refine(
    (spec) => spec.idField !== spec.amountField && spec.idField !== 'action' && spec.amountField !== 'action',
    {
      message: 'idField, amountField and `action` must be three different fields',
      path: ['idField'],
    },
  );

/** Checks a counter spec (a readable ConfigurationError names what to change). */
export function parseCounterSpec(spec: unknown, what = 'counter'): CounterSpec {
  try {
    return parseOrThrow(CounterSpecSchema, spec, what);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
}

/** The schema of one operation of the counter `spec`, e.g. `{action: 'debit', accountId, amount}`. */
export function counterOperation(spec: CounterSpec) {
  return z.strictObject({
    action: z.enum(Object.keys(spec.actions) as [string, ...string[]]),
    [spec.idField]: Identifier,
    [spec.amountField]: PositiveUnits,
  });
}

/** The entity operation (take/give) an operation of the counter stands for. */
export function counterOpOf(spec: CounterSpec, operation: Readonly<Record<string, unknown>>): ReservedOp {
  const action = spec.actions[operation.action as string];
  if (action === undefined)
    throw new RangeError(`'${String(operation.action)}' is not an action of ${spec.entity}s`);
  return { id: operation[spec.idField] as string, action, amount: operation[spec.amountField] as number };
}

/** Key of an entity item on a counter's table. */
export const entityKey = (entity: string, id: string) => ({ pk: `${entity}#${id}` });

/** Why a take or give could not be reserved, from the entity as the condition saw it. */
export function rejectionReason(
  spec: Pick<CounterSpec, 'entity' | 'quantity'>,
  op: ReservedOp,
  entity: { readonly available: number } | undefined,
): string {
  if (entity === undefined) return `unknown ${spec.entity} '${op.id}'`;
  return `insufficient ${spec.quantity} on ${spec.entity} '${op.id}' (available ${entity.available}, needed ${op.amount})`;
}

/** True when the entity can take `op` on reserve: it exists and, for a take, enough is available. */
export function canReserve(op: ReservedOp, entity: { readonly available: number } | undefined): boolean {
  if (entity === undefined) return false;
  return op.action === 'give' || entity.available >= op.amount;
}

/** What a write of an entity does to it; `direct` is the one-phase fast path (no hold). */
export type CounterStep = 'reserve' | 'apply' | 'release' | 'direct';

/** An Update (`set`, if the entity exists and `condition`), a check that it exists, or nothing. */
type CounterExpression = { readonly set: string; readonly condition?: string } | 'exists' | 'nothing';

/**
 * THE conditional writes of a counter, written once for the participant (reserve, apply, release),
 * the one-phase fast path (direct) and the bench's hand-rolled baseline (direct):
 *
 *   step     │ take                                          │ give
 *   ─────────┼───────────────────────────────────────────────┼─────────────────────────────────
 *   reserve  │ held += a, available −= a  if available >= a   │ ConditionCheck: exists
 *   apply    │ total −= a, held −= a      if held >= a        │ total += a, available += a
 *   release  │ held −= a, available += a  if held >= a        │ (nothing)
 *   direct   │ total −= a, available −= a if available >= a   │ total += a, available += a
 *
 * Every condition also requires the entity to exist (an Update would otherwise create a phantom).
 * The `held >= a` of apply and release are invariant checks: a prepared hold cannot vanish. The
 * direct step is reserve then apply in one write, with reserve's condition.
 */
const COUNTER_EXPRESSIONS: Record<CounterStep, Record<ReservedOp['action'], CounterExpression>> = {
  reserve: {
    take: { set: '#held = #held + :a, #available = #available - :a', condition: '#available >= :a' },
    give: 'exists',
  },
  apply: {
    take: { set: '#total = #total - :a, #held = #held - :a', condition: '#held >= :a' },
    give: { set: '#total = #total + :a, #available = #available + :a' },
  },
  release: {
    take: { set: '#held = #held - :a, #available = #available + :a', condition: '#held >= :a' },
    give: 'nothing',
  },
  direct: {
    take: { set: '#total = #total - :a, #available = #available - :a', condition: '#available >= :a' },
    give: { set: '#total = #total + :a, #available = #available + :a' },
  },
};

const EXISTS = 'attribute_exists(pk)';

/**
 * The DynamoDB write of `step` for `op` on an entity of a counter whose entities are `entity`s
 * (COUNTER_EXPRESSIONS); undefined when the step writes nothing.
 */
export function counterItem(
  entity: string,
  table: string,
  op: ReservedOp,
  step: CounterStep,
): TransactItem | undefined {
  const Key = entityKey(entity, op.id);
  const expression = COUNTER_EXPRESSIONS[step][op.action];
  if (expression === 'nothing') return undefined;
  if (expression === 'exists')
    return { ConditionCheck: { TableName: table, Key, ConditionExpression: EXISTS } };
  const UpdateExpression = `SET ${expression.set}`;
  const ConditionExpression = expression.condition ? `${EXISTS} AND ${expression.condition}` : EXISTS;
  const text = `${UpdateExpression} ${ConditionExpression}`;
  // `total` is a DynamoDB reserved word, so every counter attribute goes through a name.
  const names = Object.fromEntries(
    ['total', 'held', 'available'].filter((n) => text.includes(`#${n}`)).map((n) => [`#${n}`, n]),
  );
  return {
    Update: {
      TableName: table,
      Key,
      UpdateExpression,
      ConditionExpression,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':a': op.amount },
    },
  };
}

/** `counterItem`, with the reason a failed condition refused it (from the entity it saw). */
export function counterWrite(
  spec: Pick<CounterSpec, 'entity' | 'quantity'>,
  table: string,
  op: ReservedOp,
  step: CounterStep,
): Write | undefined {
  const item = counterItem(spec.entity, table, op, step);
  if (item === undefined) return undefined;
  const refusal = (seen: Record<string, unknown> | undefined) => {
    const entity = seen === undefined ? undefined : { available: numberOf(seen.available) };
    return canReserve(op, entity) ? undefined : rejectionReason(spec, op, entity);
  };
  return { ...item, refusal };
}

/** A number attribute: raw (`{N: '5'}`, as in a cancellation reason's item) or a number. */
export function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value !== null && typeof value === 'object' && 'N' in value && typeof value.N === 'string') {
    return Number(value.N);
  }
  return Number.NaN;
}

/**
 * A counter participant (see CounterSpec), defined with the participant SDK like any other: its
 * operations are parsed into take/give entity operations, which its barrier keeps, and its writes
 * are `counterWrite`'s, on the participant's own table.
 */
export function counterParticipant(spec: CounterSpec): ParticipantDefinition {
  const checked = parseCounterSpec(spec);
  const operation = counterOperation(checked).transform((op) => counterOpOf(checked, op));
  const at = (step: CounterStep) => (op: ReservedOp, context: OperationContext) =>
    counterWrite(checked, context.table, op, step);
  return defineParticipant({
    operation,
    itemKey: [checked.idField],
    prepare: (op, context) => at('reserve')(op, context)!,
    commit: at('apply'),
    abort: at('release'),
    counter: checked,
  }) as ParticipantDefinition;
}

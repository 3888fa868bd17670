import { isDeepStrictEqual } from 'node:util';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ConfigurationError } from '../errors';
import type { JsonValue } from '../protocol';
import type { CounterSpec } from './counter-spec';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** One action of a DynamoDB TransactWriteItems, in the document client's form (plain JS values). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One write of a participant's prepare, commit or abort: a TransactWriteItems action (Put, Update,
 * Delete or ConditionCheck, conditioned as the team's rules require). Tandem writes it in ONE
 * TransactWriteItems with the participant's barrier, so it happens exactly once per transaction,
 * whatever the duplicates and reordering of messages.
 */
export type Write = TransactItem & {
  /**
   * Prepare only: the NO vote's reason when this write's condition fails, from the item as the
   * condition saw it (undefined: there was none). Return undefined when that item does not explain
   * a refusal (it changed since): the prepare is then tried again. Without it a failed condition
   * votes NO with a generic reason naming the table and key.
   */
  readonly refusal?: (item: Record<string, unknown> | undefined) => string | undefined;
};

/** What a prepare returns to vote NO without writing anything (a rule the operation alone breaks). */
export interface Refusal {
  readonly refuse: string;
}

/** Votes NO with `reason`, writing nothing. */
export const refuse = (reason: string): Refusal => ({ refuse: reason });

/** What a participant's functions know of the transaction they act for. */
export interface OperationContext {
  readonly txId: string;
  /** This participant's id, e.g. `seats` or `ledger-1` (a shard). */
  readonly participantId: string;
  /**
   * The participant's own table that Tandem provisions (its barriers live there; a participant may
   * keep its data there too, under keys that do not start with `barrier#`).
   */
  readonly table: string;
}

/** What prepare returns: the writes that reserve the operation, or a refusal. */
export type PrepareResult = Write | readonly Write[] | Refusal;
/** What commit and abort return: the writes that apply or release it (none: nothing to do). */
export type FinishResult = Write | readonly Write[] | undefined;

/**
 * A participant: the schema of its operations and how to prepare, commit and abort one. Each
 * function gets one operation as the schema parsed it (and as the barrier keeps it), and returns
 * DynamoDB writes that Tandem performs atomically with its barrier:
 *
 * - `prepare`: check and reserve (e.g. hold the seat: `SET heldBy = :tx IF attribute_not_exists(heldBy)`).
 *   A failed condition votes NO, with the write's `refusal` as the reason; `refuse(reason)` votes
 *   NO without writing. Called once per transaction, on the first Prepare.
 * - `commit`: make the reservation final. Called once, after every participant voted YES.
 * - `abort`: release the reservation. Called once, only if this participant had voted YES.
 *
 * Commit and abort must not refuse: their conditions are invariants (the hold is there), and a
 * failed one is a bug, sent to the participant's DLQ. At most one write per item per transaction
 * (DynamoDB's rule): list the fields that name an item in `itemKey`, and the API refuses two
 * operations on one item with a 400.
 */
export interface ParticipantDefinition<S extends z.ZodType = z.ZodType> {
  /**
   * The schema of one operation, without its `participant` field. Registered with the deployment:
   * the API validates requests against it (as JSON Schema, so rules JSON Schema cannot express are
   * checked by the participant, as a NO vote) and the OpenAPI document describes it. Its output is
   * what the functions below get, and must be plain JSON.
   */
  readonly operation: S;
  /** Fields of an operation that name the item it touches (two operations on one item: a 400). */
  readonly itemKey?: readonly string[];
  prepare(operation: z.output<S>, context: OperationContext): Awaitable<PrepareResult>;
  commit(operation: z.output<S>, context: OperationContext): Awaitable<FinishResult>;
  abort(operation: z.output<S>, context: OperationContext): Awaitable<FinishResult>;
  /** Set by `counterParticipant`: the API may then check entities and commit in one phase. */
  readonly counter?: CounterSpec;
}

/** Checks a participant definition and returns it, typed by its schema. */
export function defineParticipant<S extends z.ZodType>(
  definition: ParticipantDefinition<S>,
): ParticipantDefinition<S> {
  if (
    !(definition.operation instanceof z.ZodType) &&
    typeof (definition.operation as { safeParse?: unknown })?.safeParse !== 'function'
  ) {
    throw new ConfigurationError('a participant needs `operation`: the zod schema of one of its operations');
  }
  for (const name of ['prepare', 'commit', 'abort'] as const) {
    if (typeof definition[name] !== 'function') {
      throw new ConfigurationError(
        `a participant needs \`${name}\`: a function of an operation and its context`,
      );
    }
  }
  return definition;
}

/** The writes of a prepare/commit/abort result as a list (a refusal has none). */
export function writesOf(result: Write | readonly Write[] | undefined): readonly Write[] {
  if (result === undefined) return [];
  return Array.isArray(result) ? (result as readonly Write[]) : [result as Write];
}

export function isRefusal(result: PrepareResult): result is Refusal {
  return !Array.isArray(result) && typeof (result as Refusal).refuse === 'string';
}

/**
 * Checks that what a schema produced is plain JSON (it is kept in the barrier, and commit and abort
 * get it back from there): a Date, a Map, an `undefined` field or NaN would come back changed.
 */
export function assertJson(value: unknown, what: string): asserts value is JsonValue {
  const text = JSON.stringify(value);
  if (text === undefined || !isDeepStrictEqual(JSON.parse(text), value)) {
    throw new ConfigurationError(`${what} is not plain JSON: the operation schema must produce JSON data`);
  }
}

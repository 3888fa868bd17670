import * as z from 'zod';
import { type FieldIssue, ValidationError } from './errors';

/** Identifiers: 1–64 characters from a conservative set, so they are safe in keys, URLs and logs. */
export const Identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/,
    'must start with a letter or digit and use only A-Z a-z 0-9 _ . : @ -',
  );

/** Money and stock are integers in minor units; never fractional, never beyond exact doubles. */
export const MinorUnits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const CreateAccountRequest = z.strictObject({
  accountId: Identifier,
  initialBalance: MinorUnits,
});
export type CreateAccountRequest = z.infer<typeof CreateAccountRequest>;

export const CreateItemRequest = z.strictObject({
  sku: Identifier,
  stock: MinorUnits,
});
export type CreateItemRequest = z.infer<typeof CreateItemRequest>;

/** A zod error's issues by path (`(root)` for the value itself). */
export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
    message: issue.message,
  }));
}

/** Parses `input` with `schema` or throws a ValidationError that lists every issue by path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesOf(result.error);
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(`${what} is invalid: ${summary}`, issues);
}

// ─── Transactions ────────────────────────────────────────────────────────────────────────────

/** A positive amount in minor units (money) or a positive quantity (stock). */
export const PositiveUnits = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** How long an idempotency key is remembered, and whose it is (shared/txid.ts); for the API docs. */
export const IDEMPOTENCY_KEY_LIFETIME =
  "The same key with the same request returns the same transaction (`idempotent-replayed: true`); with another request it is a 409 and never a second transaction — for as long as the transaction's record exists: from its creation until at least 30 days after it ended, when DynamoDB's TTL deletes it (usually within a few days more). Used after that, the key starts a new transaction, with a new id. Keys are scoped to the caller — the IAM principal (every session of an assumed role alike) or the JWT's issuer and subject — so another caller's key never finds, nor reveals, yours.";

/**
 * A client-chosen idempotency key: 1–128 visible ASCII characters (what fits an HTTP header
 * without encoding). See IDEMPOTENCY_KEY_LIFETIME for how long it names its transaction.
 */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7E]+$/, 'must be 1–128 visible ASCII characters (no spaces)')
  .describe(IDEMPOTENCY_KEY_LIFETIME);

/** Most operations one transaction may carry (keeps records and Prepare messages small). */
export const OPERATIONS_MAX = 25;

/**
 * One operation of a transaction as the request carries it: the participant's name and that
 * participant's own fields, which the deployment's ParticipantRegistry (shared/registry.ts)
 * validates against the participant's schema. An unknown `participant` is a 400 there.
 */
const OperationEnvelope = z.looseObject({
  participant: z.string().min(1).max(48).meta({ description: 'The participant that runs it, e.g. `ledger`' }),
});
/**
 * `auto` (the default) commits in one phase where every operation is in tables the API can write
 * atomically, else in two; `two-phase` always runs the full protocol.
 */
export const CommitPreference = z.enum(['auto', 'two-phase']);
export type CommitPreference = z.infer<typeof CommitPreference>;

/**
 * The envelope of `POST /transactions`; each operation is then checked against its participant's
 * schema (and one operation per item) by the ParticipantRegistry.
 */
export const TransactionRequest = z.strictObject({
  idempotencyKey: IdempotencyKey.optional(),
  commit: CommitPreference.optional(),
  operations: z.array(OperationEnvelope).min(1).max(OPERATIONS_MAX),
});
export type TransactionRequest = z.infer<typeof TransactionRequest>;

/**
 * `POST /transfers`: a transaction taking `amount` from `from` and giving it to `to` on one counter
 * participant — the ledger (a debit and a credit) unless `participant` names another.
 */
export const TransferRequest = z
  .strictObject({
    participant: z.string().min(1).max(48).optional(),
    from: Identifier,
    to: Identifier,
    amount: PositiveUnits,
    idempotencyKey: IdempotencyKey.optional(),
    commit: CommitPreference.optional(),
  })
  .refine((transfer) => transfer.from !== transfer.to, {
    path: ['to'],
    message: 'must differ from `from` (a transfer to the same account)',
  });
export type TransferRequest = z.infer<typeof TransferRequest>;

/**
 * Transaction ids: `tx_` and 1–64 base64url characters, then, for a keyed transaction, `.` and its
 * incarnation (shared/txid.ts) — what Tandem generates, and no more.
 */
export const TxId = z
  .string()
  .regex(
    /^tx_[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,16})?$/,
    'must be a transaction id like tx_3kTMd9Ql0bcDf2Vh8nO1aZ7QxY or tx_3kTMd9Ql0bcDf2Vh8nO1aZ7QxY.Ab3_x9Zq',
  );

/** Longest `?wait=N`, in seconds; keeps a held request well inside the 29 s Lambda timeout. */
export const WAIT_MAX_S = 20;

/** The `wait` query parameter: whole seconds, 0–20 (digits only: no sign, no fraction). */
export const WaitSeconds = z
  .string()
  .regex(/^\d{1,2}$/, `must be a whole number of seconds from 0 to ${WAIT_MAX_S}`)
  .transform(Number)
  .pipe(z.number().int().min(0).max(WAIT_MAX_S));

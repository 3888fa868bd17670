import { z } from 'zod';
import { ValidationError } from './errors';

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

/** Parses `input` with `schema` or throws a ValidationError that lists every issue by path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : '(root)',
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(`${what} is invalid: ${summary}`, issues);
}

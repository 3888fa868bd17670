/**
 * How the operator CLI fails. Each class carries its exit code, so `main` maps errors to exit codes
 * in one place:
 *
 *     0  done
 *     1  refused (unknown or terminal transaction, a decision that stands) or AWS failed
 *     2  bad arguments (with the command's usage)
 */

/** Bad arguments: the message is printed with the command's usage. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
  constructor(
    message: string,
    /** The command whose usage to print (e.g. `dlq show`); the overview when absent. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** The request is understood but refused, or what it names does not exist. Exit 1. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  readonly exitCode = 1;
}

/** What the request names (a transaction, a queue) does not exist. Exit 1, like any refusal. */
export class NotFoundError extends RefusedError {}

/** A call to AWS (or the emulator) failed; `cause` keeps the SDK error. Exit 1. */
export class AwsCallError extends Error {
  override readonly name = 'AwsCallError';
  readonly exitCode = 1;
  constructor(what: string, options: { cause: unknown }) {
    super(`${what}: ${describeAwsError(options.cause)}`, options);
  }
}

/** `Name: message (HTTP 400)` for an SDK error; the message for anything else. */
export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  const cause = error.cause === undefined ? '' : `: ${describeAwsError(error.cause)}`;
  return `${name}${error.message}${status ? ` (HTTP ${status})` : ''}${cause}`;
}

/** Runs an AWS call, turning any failure into an AwsCallError that says what was being done. */
export async function aws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AwsCallError || error instanceof RefusedError) throw error;
    throw new AwsCallError(`could not ${what}`, { cause: error });
  }
}

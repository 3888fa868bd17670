/**
 * Assertions for the protocol core. A failed assertion is a programmer error or a broken
 * invariant (a Commit for a participant that voted NO, an Ack that contradicts the decision),
 * never an expected outcome: NO votes and timeouts are data. On a queue, the thrown error makes
 * SQS retry the record and, after the redrive limit, park it in the dead-letter queue where an
 * operator sees it (invariant 9) — far better than silently applying a contradiction.
 */
export class ProtocolAssertionError extends Error {
  override readonly name = 'ProtocolAssertionError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ProtocolAssertionError(message);
}

/** For exhaustive switches: the type checker proves this is unreachable. */
export function assertNever(value: never, what: string): never {
  throw new ProtocolAssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** An assertion that always fails, for branches the protocol forbids. */
export function fail(message: string): never {
  throw new ProtocolAssertionError(message);
}

/** Time comes into the pure core as a natural number of milliseconds. */
export function assertTime(nowMs: number): void {
  assert(Number.isSafeInteger(nowMs) && nowMs >= 0, `nowMs must be a natural number of ms, got ${nowMs}`);
}

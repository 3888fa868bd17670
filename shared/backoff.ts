import { ContentionError } from './errors';
import type { Clock } from './ports';

/**
 * Capped exponential backoff with full jitter, for writes DynamoDB refused without judging them
 * (ContentionError: a `TransactionConflict` with another transaction on one of the items, or a
 * throttle). Retry n (0-based) waits a uniform random time in [0, min(cap, base · 2^n)) — "full
 * jitter", which spreads writers that collided at once so that they do not collide again.
 *
 *   retry     0        1          2               3 …                    ≤ retriesMax
 *   wait   [0,base) [0,2·base) [0,4·base)  …  [0,cap) … ─ until the deadline would pass ─▶ give up
 *
 * A wait that would end past the invocation's deadline is not started: the caller gives up at
 * once and lets its queue redeliver the message (or answers 503), rather than being killed by the
 * function timeout in the middle of a step.
 */

/** How the backoff sleeps and draws its jitter: real timers in Lambda, the world's in the simulation. */
export interface Pacing {
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
  /** The instant (on the caller's clock) by which the work must be done; waits never cross it. */
  deadlineMs(): number;
}

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  /** Most waits before giving up, whatever time is left. */
  readonly retriesMax: number;
}

/** At most 10 waits, ~5.3 s in all at worst (20 + 40 + … + 640 + 4 × 1000 ms), ~2.6 s on average. */
export const CONTENTION_BACKOFF: BackoffPolicy = { baseMs: 20, capMs: 1_000, retriesMax: 10 };

/** Real timers and Math.random, with no deadline but the retry bound. */
export const REAL_PACING: Pacing = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
  deadlineMs: () => Number.POSITIVE_INFINITY,
};

/**
 * Real timers, with the deadline of the invocation under way: `start` it with the Lambda context
 * at the top of each invocation. Time `reserveMs` is kept back for the work that follows a wait.
 */
export class InvocationPacing implements Pacing {
  private deadline = Number.POSITIVE_INFINITY;
  readonly sleep = REAL_PACING.sleep;
  readonly random = REAL_PACING.random;

  constructor(
    private readonly clock: Clock,
    private readonly reserveMs = 1_000,
  ) {}

  start(context: { getRemainingTimeInMillis(): number }): void {
    this.deadline = this.clock.nowMs() + context.getRemainingTimeInMillis() - this.reserveMs;
  }

  deadlineMs(): number {
    return this.deadline;
  }
}

/** The waits of one piece of work (one message, one request): make one per piece of work. */
export class Backoff {
  private retries = 0;

  constructor(
    private readonly pacing: Pacing,
    private readonly clock: Clock,
    private readonly policy: BackoffPolicy = CONTENTION_BACKOFF,
  ) {}

  /** Waits made so far. */
  get waits(): number {
    return this.retries;
  }

  /**
   * Waits before the next try and returns true; returns false at once when the retries are spent
   * or the wait would end past the deadline (the caller gives up).
   */
  async wait(): Promise<boolean> {
    const { baseMs, capMs, retriesMax } = this.policy;
    if (this.retries >= retriesMax) return false;
    const ceilingMs = Math.min(capMs, baseMs * 2 ** this.retries);
    const delayMs = Math.floor(this.pacing.random() * ceilingMs);
    if (this.clock.nowMs() + delayMs > this.pacing.deadlineMs()) return false;
    this.retries++;
    await this.pacing.sleep(delayMs);
    return true;
  }

  /**
   * Runs `work` until it does not throw ContentionError, waiting before each retry; rethrows the
   * last ContentionError when the waits are spent. `onContention` hears of every one.
   */
  async retry<T>(work: () => Promise<T>, onContention?: (error: ContentionError) => void): Promise<T> {
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof ContentionError)) throw error;
        onContention?.(error);
        if (!(await this.wait())) throw error;
      }
    }
  }
}

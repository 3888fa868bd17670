/**
 * Refuses a signed call seen before. A signature (shared/https/contract.ts) is valid for
 * SIGNATURE_MAX_AGE_MS either side of its timestamp, and the same bytes sent again carry the same
 * valid signature: whoever copied a call off the wire could send it again. The endpoint remembers
 * each signature it accepts until it expires and refuses it when seen again.
 *
 *   signed at t ─────────── accepted once ─────────── t + maxAge: expired, forgotten
 *                 │ first: remember(sig) → true
 *                 └ again: remember(sig) → false → 401
 *
 * The relay signs every attempt afresh (a new timestamp), so its own retries are never replays.
 */
export interface ReplayGuard {
  /**
   * Remembers `signature` until `expiresAtMs`. True when it was not remembered yet (or only as
   * expired): the call is new. False: a replay. Throws InfrastructureError when it cannot tell.
   */
  remember(signature: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** Entries the in-memory guard keeps at most; when full it refuses new calls rather than forget. */
const MEMORY_REPLAY_ENTRIES_MAX = 100_000;

/**
 * A ReplayGuard in this process's memory: right for one long-lived server (or tests). Behind a load
 * balancer or in Lambda (many instances, each with its own memory) use DynamoReplayGuard.
 */
export class MemoryReplayGuard implements ReplayGuard {
  /** signature → expiresAtMs, in insertion order (near enough expiry order to prune from the front). */
  private readonly seen = new Map<string, number>();

  constructor(private readonly entriesMax = MEMORY_REPLAY_ENTRIES_MAX) {}

  async remember(signature: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    this.prune(nowMs);
    const known = this.seen.get(signature);
    if (known !== undefined && known >= nowMs) return false;
    if (this.seen.size >= this.entriesMax) return false;
    this.seen.set(signature, expiresAtMs);
    return true;
  }

  /** Signatures remembered (expired ones may linger until the next call). */
  get size(): number {
    return this.seen.size;
  }

  private prune(nowMs: number): void {
    for (const [signature, expiresAtMs] of this.seen) {
      if (expiresAtMs >= nowMs) {
        // Entries arrive roughly in expiry order: stop at the first live one, unless full.
        if (this.seen.size < this.entriesMax) return;
        continue;
      }
      this.seen.delete(signature);
    }
  }
}

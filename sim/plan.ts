/** Each seed's world, drawn from its Prng: the fault plan and the coordinator's configuration. */
import { DEFAULT_RELAY_RETRY, type RelayRetry, type RelaySettings } from '../shared/https/relay';
import type { CoordinatorConfig } from '../shared/protocol';
import type { Prng } from './prng';

/** The relay function's timeout (its inbox's visibility timeout is 6 × this, as for every consumer). */
export const RELAY_FUNCTION_TIMEOUT_MS = 30_000;
const HTTPS_BASE_URL = 'https://partner.example/tandem/';

/** Per-seed fault intensities (all off once faults stop). */
export interface FaultPlan {
  readonly envs: number;
  /** Chance a group's next message goes to the environment that handled its last one, if idle. */
  readonly stickiness: number;
  readonly slotCount: number;
  /** The queues' redrive policy (the deployed stack uses 5). */
  readonly maxReceiveCount: number;
  readonly crashPerCall: number;
  readonly errorPerCall: number;
  readonly duplicatePerSend: number;
  readonly reorderPerSend: number;
  readonly pausePerCoordinatorCall: number;
  readonly slowPerCall: number;
  readonly lostDelete: number;
  readonly dropVote: number;
  readonly skewMsMax: number;
  readonly driftPpmMax: number;
  readonly faultsStopAfterMs: number;
  /** Whether the deployment publishes terminal outcomes (events out, from the table's stream). */
  readonly events: boolean;
  /** Most stream records Lambda hands the events function at once. */
  readonly streamBatch: number;
  /**
   * Chance each participant notes its votes and acks on the transaction record (RecordNote), as a
   * participant sharing the coordinator's account does; the others only send messages.
   */
  readonly notes: number;
  /**
   * Chance that a write finding a transactional write on one of its items in flight is cancelled
   * (DynamoDB's TransactionConflict). Not a fault: it goes on after faults stop, as on AWS.
   */
  readonly conflicts: number;
  /** Chance a write is throttled (while faults last). */
  readonly throttlePerWrite: number;
  /** Most messages of one slot's group a coordinator invocation receives at once (in order). */
  readonly fifoBatch: number;
  /**
   * How long after it ends a record expires (DynamoDB's TTL, 30 days in the deployment, scaled
   * down); 0: never within the run.
   */
  readonly ttlAfterMs: number;
  /** Chance a client uses its idempotency key again long after (once the record may be gone). */
  readonly keyReuse: number;
  /** The slot count a redeploy changes the deployment to, and when; null: no redeploy. */
  readonly redeploy: { readonly atMs: number; readonly slotCount: number } | null;
  /** The participant served over HTTPS (through the relay), and its network's faults; null: none. */
  readonly https: HttpsPlan | null;
}

/**
 * An HTTPS participant: one of the world's participants whose inbox the relay consumes
 * (relayMessage, the real one) and whose store an endpoint runs the barrier over, across a faulty
 * network. Fault chances apply per call while faults last; the outage ends before faults stop.
 */
export interface HttpsPlan {
  readonly participant: string;
  readonly settings: RelaySettings;
  /** The request never reaches the endpoint: the relay times out, nothing happened. */
  readonly lostRequest: number;
  /**
   * The endpoint's front answers a status the contract does not give the call (a 400 or a 404; a
   * 409 to a confirm or a cancel) without running it: the relay must read it as "not done".
   */
  readonly offContract: number;
  /** The endpoint applied the call, its answer is lost: the relay times out, the effect happened. */
  readonly lostAnswer: number;
  /** The network delivers the request to the endpoint twice (the second answer goes nowhere). */
  readonly duplicateRequest: number;
  /** The endpoint's front answers 425, 429 or 503 without running the call. */
  readonly busy: number;
  /** A leg of the call is slow: up to twice the relay's call timeout. */
  readonly slow: number;
  /**
   * The endpoint is down from `fromMs` until `untilMs` (after T0): every call is refused at once,
   * answered 503, or times out (`kind`).
   */
  readonly outage: {
    readonly fromMs: number;
    readonly untilMs: number;
    readonly kind: 'refused' | '503' | 'blackhole';
  } | null;
}

/**
 * A seed's world, drawn from its Prng: the fault plan (with its HTTPS participant, if any) and the
 * coordinator's configuration, in this order.
 */
export function drawPlan(rng: Prng): { readonly plan: FaultPlan; readonly config: CoordinatorConfig } {
  const plan: FaultPlan = {
    envs: rng.int(2, 4),
    stickiness: rng.pick([0, 0.7, 0.95]),
    slotCount: rng.pick([1, 2, 4]),
    maxReceiveCount: rng.pick([2, 3, 5]),
    crashPerCall: rng.pick([0, 0.003, 0.01, 0.03]),
    errorPerCall: rng.pick([0, 0.005, 0.02]),
    duplicatePerSend: rng.pick([0, 0.05, 0.25]),
    reorderPerSend: rng.pick([0, 0.1, 0.4]),
    pausePerCoordinatorCall: rng.pick([0, 0.003, 0.01, 0.03]),
    slowPerCall: rng.pick([0, 0.01, 0.05]),
    lostDelete: rng.pick([0, 0.02]),
    dropVote: rng.pick([0, 0.02, 0.1]),
    skewMsMax: rng.pick([0, 1_000, 2_500]),
    driftPpmMax: rng.pick([0, 100, 2_000]),
    faultsStopAfterMs: rng.int(20_000, 90_000),
    events: rng.chance(0.8),
    streamBatch: rng.pick([1, 3, 100]),
    notes: rng.pick([1, 0.5, 0]),
    conflicts: rng.pick([0, 0.5, 1]),
    throttlePerWrite: rng.pick([0, 0.005, 0.02]),
    fifoBatch: rng.pick([1, 3, 10]),
    ttlAfterMs: rng.pick([0, 5_000, 30_000]),
    keyReuse: rng.pick([0, 0.3]),
    redeploy: rng.chance(0.3) ? { atMs: rng.int(5_000, 60_000), slotCount: rng.pick([1, 2, 4, 8]) } : null,
    https: null,
  };
  const https = drawHttpsPlan(rng, plan.faultsStopAfterMs);
  // The outage is a fault: faults stop once it is over.
  const withHttps = https
    ? { ...plan, https, faultsStopAfterMs: Math.max(plan.faultsStopAfterMs, https.outage?.untilMs ?? 0) }
    : plan;
  const config: CoordinatorConfig = rng.pick([
    { prepareTimeoutMs: 20_000, resendBaseMs: 3_000, resendCapMs: 10_000 },
    { prepareTimeoutMs: 8_000, resendBaseMs: 1_000, resendCapMs: 4_000 },
    { prepareTimeoutMs: 60_000, resendBaseMs: 1_000, resendCapMs: 8_000 },
  ]);
  return { plan: withHttps, config };
}

/** Whether this seed serves a participant over HTTPS, which one, and its network's faults. */
function drawHttpsPlan(rng: Prng, faultsStopAfterMs: number): HttpsPlan | null {
  const participant = rng.pick([null, 'inventory', 'ledger-1']);
  if (participant === null) return null;
  const timeoutMs = rng.pick([500, 1_000, 3_000]);
  const retry: RelayRetry = rng.pick([
    DEFAULT_RELAY_RETRY,
    { baseMs: 50, capMs: 1_000, attemptsMax: 8 },
    { baseMs: 500, capMs: 5_000, attemptsMax: 3 },
  ]);
  const budgetMs = rng.pick([5_000, 15_000, RELAY_FUNCTION_TIMEOUT_MS]);
  const fromMs = rng.int(0, faultsStopAfterMs);
  return {
    participant,
    settings: { baseUrl: HTTPS_BASE_URL, timeoutMs, retry, budgetMs },
    lostRequest: rng.pick([0, 0.02, 0.1]),
    offContract: rng.pick([0, 0.02, 0.1]),
    lostAnswer: rng.pick([0, 0.05, 0.2]),
    duplicateRequest: rng.pick([0, 0.05, 0.2]),
    busy: rng.pick([0, 0.05, 0.3]),
    slow: rng.pick([0, 0.05, 0.2]),
    // Some outages outlast the longest prepare timeout (60 s).
    outage: rng.chance(0.4)
      ? {
          fromMs,
          untilMs: fromMs + rng.pick([3_000, 15_000, 45_000, 90_000]),
          kind: rng.pick(['refused', '503', 'blackhole'] as const),
        }
      : null,
  };
}

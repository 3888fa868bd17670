/**
 * The simulation's kernel: one seeded Prng, the virtual clock, the event heap, the trace and the
 * violations found. Every other part of the world schedules, draws and reports through it, so the
 * same seed replays the same run, event for event.
 */
import type { Clock } from '../shared/ports';
import type { CoordinatorConfig } from '../shared/protocol';
import { EventHeap } from './heap';
import { drawPlan, type FaultPlan } from './plan';
import { Prng } from './prng';
import type { TimingProfile } from './profile';
import { emptyStats, type SimStats } from './stats';

export const T0_MS = 1_700_000_000_000;
/** Every function's timeout, as deployed (coordinator, participants); timers get half. */
export const FUNCTION_TIMEOUT_MS = 10_000;
/** Visibility timeouts are 6 × the consumer's timeout, as deployed (NodeFunction.consume). */
export const VISIBILITY_TIMEOUT_MS = 6 * FUNCTION_TIMEOUT_MS;

/**
 * Test-only switches that turn one safety mechanism OFF in the simulated world (never in
 * production code): the teeth test proves the harness notices.
 */
export interface SimSwitches {
  /** The slot-epoch ConditionCheck of every coordinator write (off: every fence "holds"). */
  readonly fenceCheck: boolean;
  /**
   * The coordinator write's condition on the version it read (off: a write computed from a stale
   * read overwrites whatever was written since).
   */
  readonly versionCheck: boolean;
  /** The participant barrier's condition on the state read (off: a write never conflicts). */
  readonly barrierCheck: boolean;
  /** The events function's retry of a failed batch (off: its event source checkpoints past it). */
  readonly eventRetry: boolean;
  /**
   * The shells' backoff-and-retry of a write refused by contention (off: no time is left to wait,
   * so a conflict fails the message, as before the shells classified it).
   */
  readonly contentionRetry: boolean;
  /**
   * The coordinator's proof that it holds its batch before taking a slot (off: a zombie running
   * past its deadline takes the slot back from the live holder, which takes it back…).
   */
  readonly batchHold: boolean;
  /**
   * The relay's reading of a call that timed out as a failure to retry (off: the simulated network
   * answers 200 when the relay's timeout fires — the relay takes silence for success).
   */
  readonly relayTimeouts: boolean;
  /**
   * The relay's silence after giving up on a confirm or a cancel (off: the world acks it as if the
   * endpoint had done it — an ack the coordinator must never get).
   */
  readonly relayGiveUp: boolean;
  /**
   * The relay's reading of a 409 to a confirm or a cancel as "not done" (off: the simulated network
   * turns it into a 200 — the relay takes a refused finish for a done one).
   */
  readonly relayFinishRefusals: boolean;
}

export interface SimOptions {
  readonly seed: number;
  readonly switches?: Partial<SimSwitches>;
  /** Keep every trace line (for the determinism test and `--trace`); else the last `traceLimit`. */
  readonly traceAll?: boolean;
  readonly traceLimit?: number;
  /**
   * Check only what the outcome is — atomicity, agreement, validity, conservation, exactly-once,
   * termination, events — not the checks that restate a mechanism (a write accepted from a stale
   * epoch: fencing (7); a version skipped). For a switched-off mechanism whose harm must show in
   * outcomes, or not at all.
   */
  readonly outcomesOnly?: boolean;
  /** The timed mode (the model): no faults, every call and hop timed by a profile. Off: undefined. */
  readonly timed?: TimedOptions;
}

/** Offered load: closed loop (each client sends its next request on its answer) or open loop. */
export type Load =
  | { readonly kind: 'closed'; readonly clients: number }
  | {
      readonly kind: 'open';
      readonly perS: number;
      /** The share of transfers (0..1) that debit one hot account; the others pick two at random. */
      readonly hotShare?: number;
      /**
       * Accounts picked by a Zipf law of this exponent over each shard's accounts (rank 1 is the
       * hot account of `hotShare`); undefined: uniformly.
       */
      readonly zipfS?: number;
      /** Ledger shards (participants) per transfer, 2 by default: one debit, a credit on each other. */
      readonly participants?: number;
      /** Submitted with the one-phase fast path allowed (`commit: 'auto'`), else two-phase. */
      readonly onePhase?: boolean;
    };

/**
 * The timed mode: the same world and shells, fault-free, with each port call's time drawn from
 * `profile`, two-phase transfers between `accounts` accounts offered at `load` for `durationMs`.
 */
export interface TimedOptions {
  readonly profile: TimingProfile;
  readonly load: Load;
  readonly durationMs: number;
  /** Transactions submitted before this are run but not measured. */
  readonly warmupMs: number;
  readonly accounts: number;
  readonly slotCount: number;
}

/** The deployed coordinator configuration (infra/config.ts defaults), for the timed mode. */
const TIMED_CONFIG: CoordinatorConfig = {
  prepareTimeoutMs: 30_000,
  resendBaseMs: 5_000,
  resendCapMs: 60_000,
};

/** The timed mode's plan: the seed's draws replaced by a fault-free deployment of `timed`. */
function timedPlan(plan: FaultPlan, timed: TimedOptions): FaultPlan {
  return {
    ...plan,
    // At most as many coordinators run at once as there are groups (slots), and the function's limit.
    envs: Math.min(timed.slotCount, timed.profile.lambdaConcurrency),
    stickiness: 0.95,
    slotCount: timed.slotCount,
    maxReceiveCount: 5,
    crashPerCall: 0,
    errorPerCall: 0,
    duplicatePerSend: 0,
    reorderPerSend: 0,
    pausePerCoordinatorCall: 0,
    slowPerCall: 0,
    lostDelete: 0,
    dropVote: 0,
    skewMsMax: 0,
    driftPpmMax: 0,
    faultsStopAfterMs: 0,
    events: false,
    notes: 1,
    conflicts: 1,
    throttlePerWrite: 0,
    fifoBatch: 10,
    ttlAfterMs: 0,
    keyReuse: 0,
    redeploy: null,
    https: null,
  };
}

/** A machine of the world: its own clock (skewed, drifting), and whether it is paused. */
export interface Node {
  readonly name: string;
  readonly clock: Clock;
  pausedUntilMs: number;
}

export type InvocationKind =
  | 'api'
  | 'coordinator'
  | 'participant'
  | 'relay'
  | 'endpoint'
  | 'timer'
  | 'sweeper'
  | 'events';

export interface Invocation {
  readonly id: number;
  readonly kind: InvocationKind;
  readonly node: Node;
  readonly name: string;
  readonly receivedAtMs: number;
  dead: boolean;
  onCrash?: () => void;
}

class SimClock implements Clock {
  constructor(
    private readonly core: SimCore,
    private readonly offsetMs: number,
    private readonly drift: number,
  ) {}
  nowMs(): number {
    const now = this.core.now;
    return Math.max(0, Math.floor(now + this.offsetMs + (now - T0_MS) * this.drift));
  }
}

export class SimCore {
  now = T0_MS;
  readonly rng: Prng;
  private readonly heap = new EventHeap();
  /** Events scheduled so far: the tie-break of events due at the same time. */
  seq = 0;
  readonly violations: string[] = [];
  private readonly trace: string[] = [];
  private traceStart = 0;
  private readonly traceLimit: number;
  private readonly traceAll: boolean;
  readonly plan: FaultPlan;
  readonly switches: SimSwitches;
  readonly stats: SimStats = emptyStats();
  readonly config: CoordinatorConfig;
  faultsOn = true;
  readonly faultsStopAtMs: number;
  /**
   * The timed mode's own stream (call and hop times): the default mode never draws from it, so its
   * seeded stream is the same with or without the timed mode. Null in the default mode.
   */
  readonly timing: Prng | null;

  constructor(readonly options: SimOptions) {
    this.rng = new Prng(options.seed);
    this.traceAll = options.traceAll ?? false;
    this.traceLimit = options.traceLimit ?? 400;
    this.switches = {
      fenceCheck: true,
      versionCheck: true,
      barrierCheck: true,
      eventRetry: true,
      contentionRetry: true,
      batchHold: true,
      relayTimeouts: true,
      relayGiveUp: true,
      relayFinishRefusals: true,
      ...options.switches,
    };
    const { plan, config } = drawPlan(this.rng);
    const { timed } = options;
    this.plan = timed ? timedPlan(plan, timed) : plan;
    this.config = timed ? TIMED_CONFIG : config;
    this.timing = timed ? new Prng((options.seed ^ 0x7f4a_7c15) >>> 0) : null;
    if (timed) this.faultsOn = false;
    if (this.plan.https) this.stats.httpsSeeds = 1;
    this.faultsStopAtMs = T0_MS + this.plan.faultsStopAfterMs;
    const outage = this.plan.https?.outage;
    if (outage && outage.untilMs - outage.fromMs > config.prepareTimeoutMs) this.stats.longOutages = 1;
  }

  at(atMs: number, run: () => void): void {
    this.heap.push({ atMs, seq: this.seq++, run });
  }

  /** The next event due, with the clock moved to it; undefined when none is left. */
  next(): (() => void) | undefined {
    const event = this.heap.pop();
    if (!event) return undefined;
    this.now = event.atMs;
    return event.run;
  }

  node(name: string): Node {
    const skew = this.plan.skewMsMax === 0 ? 0 : this.rng.int(-this.plan.skewMsMax, this.plan.skewMsMax);
    const drift =
      this.plan.driftPpmMax === 0 ? 0 : this.rng.int(-this.plan.driftPpmMax, this.plan.driftPpmMax);
    return { name, clock: new SimClock(this, skew, drift / 1e6), pausedUntilMs: 0 };
  }

  log(line: string): void {
    const text = `+${((this.now - T0_MS) / 1000).toFixed(3)}s ${line}`;
    if (this.traceAll || this.trace.length < this.traceLimit) {
      this.trace.push(text);
      return;
    }
    this.trace[this.traceStart] = text;
    this.traceStart = (this.traceStart + 1) % this.traceLimit;
  }

  violation(text: string): void {
    this.log(`!! VIOLATION ${text}`);
    this.violations.push(text);
  }

  /** The trace kept, oldest line first. */
  traceLines(): string[] {
    return this.traceAll || this.trace.length < this.traceLimit
      ? [...this.trace]
      : [...this.trace.slice(this.traceStart), ...this.trace.slice(0, this.traceStart)];
  }
}

/** The FIFO group of a slot (as SqsTransport names it). */
export const groupOf = (slot: number) => `slot-${slot}`;

/** The ledger's shards: a transfer between two accounts may cross them. */
export const LEDGER_SHARDS = 2;

/** The ledger's shards of a world: more in the timed mode when a transfer has more participants. */
export const ledgerShardsOf = (timed: TimedOptions | undefined): number =>
  timed?.load.kind === 'open' ? Math.max(LEDGER_SHARDS, timed.load.participants ?? 0) : LEDGER_SHARDS;

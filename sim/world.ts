import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { bankAndShopDirectory, bankAndShopRegistry } from '../dev/bank-and-shop';
import { txItemOf } from '../shared/adapters/dynamo-tx-store';
import { MemoryEntityStore } from '../shared/adapters/memory-entities';
import { MemoryOnePhaseCommitter } from '../shared/adapters/memory-one-phase';
import { MemoryParticipantStore } from '../shared/adapters/memory-participant-store';
import { MemorySlotStore } from '../shared/adapters/memory-slots';
import { MemoryTxStore } from '../shared/adapters/memory-tx-store';
import { publishOutcomes } from '../shared/adapters/outcome-stream';
import type { Pacing } from '../shared/backoff';
import { INVENTORY, LEDGER } from '../shared/bank-and-shop';
import { BatchLostError, LeaseManager } from '../shared/coordinator/leases';
import { parseCoordinatorInput, parseTimer, type Timer } from '../shared/coordinator/messages';
import { type CheckForwarder, handleTimer, sweep } from '../shared/coordinator/recovery';
import { type CoordinatorTransport, handleCoordinatorInput, RecordCache } from '../shared/coordinator/shell';
import { type EntityRecord, newEntity } from '../shared/entities';
import {
  ConflictError,
  ContentionError,
  type ContentionReason,
  FenceLostError,
  InfrastructureError,
  UnprocessableError,
  VersionConflictError,
} from '../shared/errors';
import type { EventPublisher, PublishFailure } from '../shared/events';
import type { Faults } from '../shared/faults';
import {
  answerOf,
  BranchCall,
  messageOfCall,
  type Phase,
  pathOf,
  signCall,
  verifyCall,
} from '../shared/https/contract';
import {
  DEFAULT_RELAY_RETRY,
  type HttpPort,
  type HttpRequest,
  type HttpResponse,
  type RelayRetry,
  type RelaySettings,
  relayMessage,
} from '../shared/https/relay';
import { shardOf } from '../shared/ledger/sharding';
import {
  handleParticipantMessage,
  type ParticipantAction,
  type ParticipantBarrier,
  type ParticipantKind,
  type ParticipantStore,
  parseParticipantMessage,
  type Reservation,
  type ReservedOp,
} from '../shared/participant';
import type {
  Clock,
  EntityDirectory,
  Fence,
  OnePhaseCommitter,
  SlotStore,
  StoredTx,
  TxStore,
} from '../shared/ports';
import {
  applyNote,
  type CoordinatorConfig,
  decisionOf,
  isTerminal,
  type LeaseConfig,
  type ParticipantReply,
  ProtocolAssertionError,
  type RecordNote,
  type SlotRow,
  slotOf,
  type TxRecord,
} from '../shared/protocol';
import type { Operation } from '../shared/registry';
import { Transactions } from '../shared/transactions';
import { planParticipants } from '../shared/transactions/plan';
import { keyedRecordKey, recordKeyOf } from '../shared/txid';
import { EventHeap } from './heap';
import { Prng } from './prng';
import { type SimMessage, SimQueue } from './sqs';

/**
 * The deterministic simulation world (in the spirit of FoundationDB's simulator and TigerBeetle's
 * VOPR): the REAL shells — Transactions.submit, handleCoordinatorInput (with a LeaseManager per
 * coordinator execution environment), handleParticipantMessage, handleTimer and sweep — run
 * against the in-memory adapters, but every port call is a scheduled event: the scheduler decides
 * when (and whether) it completes, so handlers interleave at any await, crash between any two
 * effects, and pause past their lease. Queues are simulated SQS: standard queues (at-least-once,
 * delay, duplicates, reordering, visibility timeout, receive count, DLQ after maxReceiveCount) and
 * the coordinator's FIFO queue (a message group is blocked while its head is in flight;
 * deduplication ids within 5 minutes), delivered to a random coordinator environment.
 *
 * Most seeds serve one participant over HTTPS (plan.https): the REAL relayMessage consumes its
 * inbox and calls, across a faulty simulated network, an endpoint that runs the REAL barrier over
 * the participant's store (messageOfCall → handleParticipantMessage → answerOf) — so every check
 * of that store (holds, totals, barriers against the decision) holds across the relay too.
 *
 * Everything random comes from one seeded Prng; time is a virtual clock (each node reads it with
 * its own skew and drift). The same seed replays the same run, event for event.
 *
 *   one event:  pop (time, seq) ─▶ run (complete a port call: maybe crash / fail / pause first)
 *               ─▶ drain microtasks (handlers run to their next port call) ─▶ deliver queue heads
 *               ─▶ invariants ─▶ next event
 */

const T0_MS = 1_700_000_000_000;
/** Every function's timeout, as deployed (coordinator, participants); timers get half. */
const FUNCTION_TIMEOUT_MS = 10_000;
/** Longest a write holds its items at the service (the rest of its latency is the network's). */
const SERVICE_MS_MAX = 40;
/** Visibility timeouts are 6 × the consumer's timeout, as deployed (NodeFunction.consume). */
const VISIBILITY_TIMEOUT_MS = 6 * FUNCTION_TIMEOUT_MS;
const TIMER_VISIBILITY_TIMEOUT_MS = 3 * FUNCTION_TIMEOUT_MS;
/**
 * Liveness after the last fault: a message first received after faults stop is deleted within this
 * long (no handler fails, so no FIFO group waits out a visibility timeout behind it).
 */
export const BLOCKED_BOUND_MS = 15_000;
const SQS_MAX_DELAY_S = 900;
const SWEEP_INTERVAL_MS = 60_000;
/** Most time between two polls of the table's stream by the events function's event source. */
const STREAM_POLL_MS = 500;
const LEDGER_SHARDS = 2;
/** After faults stop, everything must be terminal and every queue drained within this bound. */
const QUIESCENCE_BOUND_MS = 20 * 60_000;
/**
 * Termination, per transaction: it ends within this long of faults stopping (or of its creation,
 * when later), unless one of its messages went to a DLQ and waits for the operator's redrive.
 */
export const TERMINATION_BOUND_MS = 10 * 60_000;
/** The relay function's timeout (its inbox's visibility timeout is 6 × this, as for every consumer). */
const RELAY_FUNCTION_TIMEOUT_MS = 30_000;
/** The relay stops this long before its function's timeout (its pacing deadline). */
const RELAY_DEADLINE_MARGIN_MS = 1_000;
/** The HTTPS participant's shared secret (the relay signs with it, the endpoint verifies). */
const HTTPS_SECRET = 'sim-shared-secret';
const HTTPS_BASE_URL = 'https://partner.example/tandem/';
const ACCOUNT_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const SKU = 'sku-1';

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
}

export interface SimStats {
  events: number;
  virtualMs: number;
  submits: number;
  transactions: number;
  committed: number;
  aborted: number;
  /** Aborts by the prepare deadline (the rest: a NO vote). */
  timeouts: number;
  apiRejected: number;
  apiConflicts: number;
  crashes: number;
  injectedErrors: number;
  duplicates: number;
  redeliveries: number;
  takeovers: number;
  zombies: number;
  fenceRejections: number;
  versionConflicts: number;
  dlqMoves: number;
  /** Writes cancelled because another transactional write on one of their items was in flight. */
  conflicts: number;
  /** Writes throttled (during faults). */
  throttles: number;
  /** Zombies that found their batch's hold over and dropped it instead of taking a slot. */
  zombieDrops: number;
  /** Terminal records deleted by the TTL. */
  expired: number;
  /** Requests with an idempotency key whose record had expired: a new transaction, a new id. */
  keysReused: number;
  /** Seeds with an HTTPS participant (its messages go through the relay). */
  httpsSeeds: number;
  /** Calls the relay made to the endpoint, and how many of them timed out / were refused / busy. */
  httpCalls: number;
  httpTimeouts: number;
  httpRefused: number;
  /** 425, 429 and 503 answers from the endpoint's front (with or without Retry-After). */
  httpBusy: number;
  /** Requests the network delivered twice to the endpoint. */
  httpDuplicates: number;
  /** Calls whose answer was lost after the endpoint applied them (the relay saw a timeout). */
  httpLostAnswers: number;
  /** Calls made while the endpoint was down. */
  httpDown: number;
  /** Seeds whose endpoint was down longer than the prepare timeout. */
  longOutages: number;
  /** Answers the contract does not give (400, 404, a 409 to a finish) from the endpoint's front. */
  httpOffContract: number;
  /** Tries the relay gave up on (a NO vote), and confirms/cancels (nothing sent). */
  relayTryGiveUps: number;
  relayFinishGiveUps: number;
  /** Relay invocations killed by their function's timeout. */
  relayKilled: number;
  /** Give-up NO votes after a recorded YES, dead-lettered by the coordinator (a known issue). */
  /** Longest first receive → delete of a message received after faults stopped (ms; a maximum). */
  maxBlockedMs: number;
  /** Longest wait, after faults stopped (or after it began), for a transaction to end (ms; a maximum). */
  maxTerminalLagMs: number;
}

/** Stats that are maxima across seeds, not sums. */
export const MAX_STATS = ['maxBlockedMs', 'maxTerminalLagMs'] as const satisfies ReadonlyArray<
  keyof SimStats
>;

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly stats: SimStats;
  /** The last trace lines (all of them with `traceAll`). */
  readonly trace: readonly string[];
  /** Messages found in a dead-letter queue at quiescence (then redriven by the "operator"). */
  readonly dlq: readonly string[];
  readonly plan: FaultPlan;
}

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

interface Node {
  readonly name: string;
  readonly clock: Clock;
  pausedUntilMs: number;
}

type InvocationKind =
  | 'api'
  | 'coordinator'
  | 'participant'
  | 'relay'
  | 'endpoint'
  | 'timer'
  | 'sweeper'
  | 'events';

interface Invocation {
  readonly id: number;
  readonly kind: InvocationKind;
  readonly node: Node;
  readonly name: string;
  readonly receivedAtMs: number;
  dead: boolean;
  onCrash?: () => void;
}

/**
 * A write's footprint at the service: the items it touches (`tx:<key>`, `slot:<n>`,
 * `<participant>:barrier:<txId>`, `<participant>:<entity id>`) and whether it is a transaction.
 */
interface WriteFootprint {
  readonly items: readonly string[];
  readonly transactional: boolean;
}

interface StandardQueue {
  readonly queue: SimQueue;
  readonly node: Node;
  readonly kind: InvocationKind;
  readonly handle: (inv: Invocation, message: SimMessage) => Promise<void>;
}

interface CoordinatorEnv {
  readonly index: number;
  readonly node: Node;
  generation: number;
  owner: string;
  leases: LeaseManager;
  /** The records this environment wrote last (the shell's read-skipping cache). */
  cache: RecordCache;
  current: Invocation | null;
  /** The slot's group of the batch the current invocation works on, and when (world time) it began. */
  batch: { readonly group: string; readonly startedAtMs: number } | null;
}

interface ClientRequest {
  readonly label: string;
  readonly operations: readonly Operation[];
  readonly idempotencyKey: string | undefined;
  readonly unknownEntity: boolean;
  retriesLeft: number;
}

class SimClock implements Clock {
  constructor(
    private readonly world: World,
    private readonly offsetMs: number,
    private readonly drift: number,
  ) {}
  nowMs(): number {
    const now = this.world.now;
    return Math.max(0, Math.floor(now + this.offsetMs + (now - T0_MS) * this.drift));
  }
}

/** The barrier switch: writes as if the stored barrier were always the one read (no conflict). */
class BarrierlessStore implements ParticipantStore {
  constructor(private readonly inner: MemoryParticipantStore) {}
  loadBarrier(txId: string, participantId: string) {
    return this.inner.loadBarrier(txId, participantId);
  }
  write(
    _prev: ParticipantBarrier | undefined,
    next: ParticipantBarrier,
    action: ParticipantAction,
    note?: RecordNote,
  ) {
    return this.inner.write(this.inner.barrier(next.txId, next.participantId), next, action, note);
  }
}

/** The endpoint's barrier: no drop or crash points of its own (the world's port calls crash it). */
const NO_FAULTS: Faults = { crashPoint: () => {}, drop: () => false };

function httpResponse(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, body, header: (name) => headers[name] };
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The FIFO group of a slot (as SqsTransport names it). */
const groupOf = (slot: number) => `slot-${slot}`;

/** The item of a transaction record (at its record key), as a write's footprint names it. */
const recordItem = (txId: string) => `tx:${recordKeyOf(txId)}`;

/** The entities a participant's write touches: a reserve checks or holds every one, apply every
 * one, release only what was taken. */
function touchedBy(action: ParticipantAction): string[] {
  switch (action.type) {
    case 'none':
      return [];
    case 'release':
      return reservedOps(action.reservation)
        .filter((op) => op.action === 'take')
        .map((op) => op.id);
    default:
      return reservedOps(action.reservation).map((op) => op.id);
  }
}

/** A counter's barrier keeps its operations as take/give entity operations (counterParticipant). */
const reservedOps = (reservation: Reservation) => reservation as readonly ReservedOp[];

class World {
  now = T0_MS;
  private readonly rng: Prng;
  private readonly heap = new EventHeap();
  private seq = 0;
  private readonly violations: string[] = [];
  private readonly trace: string[] = [];
  private traceStart = 0;
  private readonly traceLimit: number;
  private readonly traceAll: boolean;
  readonly plan: FaultPlan;
  private readonly switches: SimSwitches;
  readonly stats: SimStats = emptyStats();

  readonly config: CoordinatorConfig;
  readonly lease: LeaseConfig = { leaseDurationMs: 30_000, skewMarginMs: 2_000 };
  private faultsOn = true;
  private readonly faultsStopAtMs: number;
  /** The deployment's slot count now (a redeploy may change it: records keep theirs). */
  private slotCount: number;
  /** Which transaction each record key holds now (TTL expiry frees a key for a later one). */
  private readonly holderOfKey = new Map<string, string>();
  /** Every record key a transaction was ever created at. */
  private readonly keysHeld = new Set<string>();

  // The durable world: DynamoDB tables.
  private readonly slotStore = new MemorySlotStore();
  private readonly txStore: MemoryTxStore;
  private readonly participantStores = new Map<string, MemoryParticipantStore>();
  private readonly writeStores = new Map<string, ParticipantStore>();
  /** Participants whose store notes votes and acks on the transaction record. */
  private readonly noting = new Set<string>();
  private readonly kinds = new Map<string, { store: MemoryParticipantStore; kind: ParticipantKind }>();
  private onePhaseCommitter!: MemoryOnePhaseCommitter;
  private readonly directory: EntityDirectory;
  private readonly registry = bankAndShopRegistry(LEDGER_SHARDS);
  private readonly accountStore = new MemoryEntityStore(LEDGER_SHARDS);
  private readonly itemStore = new MemoryEntityStore(1);

  // Shadows for the invariant checks, updated in the same turn as the write they follow.
  private readonly durable = new Map<string, TxRecord>();
  private readonly undecidedOrLive = new Set<string>();
  /** Terminal outcomes still to be announced (events out), and what was announced. */
  private readonly unpublished = new Set<string>();
  private readonly published = new Map<string, string>();
  /**
   * The transactions table's stream: every change of a record, in write order (one shard), and
   * how far the events function's event source has checkpointed it.
   */
  private readonly stream: DynamoDBRecord[] = [];
  private streamCheckpoint = 0;
  private streamBusy = false;
  private streamPollDue = false;
  private eventsNode: Node | undefined;
  private readonly slotRows = new Map<number, SlotRow>();
  private readonly ownerOfEpoch = new Map<string, string>();
  private readonly acceptedEpoch = new Map<number, number>();
  private readonly opening = new Map<string, number>();
  private ledgerTotal = 0;
  /** Ledger deltas of COMMIT-decided transactions not applied yet (the other half of a transfer). */
  private ledgerInFlight = 0;
  private readonly applied = new Set<string>();
  private readonly appliedDelta = new Map<string, number>();
  private readonly expectedHeld = new Map<string, number>();

  // Nodes and queues.
  private readonly envs: CoordinatorEnv[] = [];
  private readonly fifo: SimQueue;
  private readonly lastEnvOfGroup = new Map<string, CoordinatorEnv>();
  private readonly inboxes = new Map<string, StandardQueue>();
  private readonly timerQueue: StandardQueue;
  private readonly apiNode: Node;
  private readonly sweeperNode: Node;
  private nextMessageId = 1;
  private nextInvocationId = 1;
  /** Writes in flight at the service (see `call`), by a number of their own. */
  private readonly inFlight = new Map<number, WriteFootprint>();
  /** Slots each zombie invocation took from a live holder of the slot's batch (the ping-pong bound). */
  private readonly zombieTakeovers = new Map<number, number>();
  /** When (world time) each transaction was created and became terminal (the termination bound). */
  private readonly createdAt = new Map<string, number>();
  private readonly terminalAt = new Map<string, number>();
  /** Transactions a dead-lettered message named: they end only after the operator's redrive. */
  private readonly deadLetteredTx = new Set<string>();
  /** Messages first received after faults stopped, and when (the blocked-group bound). */
  private readonly receivedAfterFaults = new Map<SimMessage, number>();
  private nextWriteId = 1;
  private nextTxNumber = 1;
  private liveInvocations = 0;
  private pendingClients = 0;
  private readonly dlqSeen: string[] = [];
  /** Where the HTTPS participant's endpoint runs (its barrier over the participant's store). */
  private endpointNode: Node | undefined;
  /** Transactions whose try the relay gave up on (maybe applied unseen): their barrier must end as they did. */
  private readonly triesGivenUp = new Set<string>();

  constructor(private readonly options: SimOptions) {
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
    const rng = this.rng;
    this.plan = {
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
    const https = this.httpsPlan(this.plan.faultsStopAfterMs);
    if (https) {
      // The outage is a fault: faults stop once it is over.
      const faultsStopAfterMs = Math.max(this.plan.faultsStopAfterMs, https.outage?.untilMs ?? 0);
      this.plan = { ...this.plan, https, faultsStopAfterMs };
      this.stats.httpsSeeds = 1;
    }
    this.config = rng.pick([
      { prepareTimeoutMs: 20_000, resendBaseMs: 3_000, resendCapMs: 10_000 },
      { prepareTimeoutMs: 8_000, resendBaseMs: 1_000, resendCapMs: 4_000 },
      { prepareTimeoutMs: 60_000, resendBaseMs: 1_000, resendCapMs: 8_000 },
    ]);
    this.faultsStopAtMs = T0_MS + this.plan.faultsStopAfterMs;
    const outage = this.plan.https?.outage;
    if (outage && outage.untilMs - outage.fromMs > this.config.prepareTimeoutMs) this.stats.longOutages = 1;
    this.slotCount = this.plan.slotCount;
    this.txStore = new MemoryTxStore(this.switches.fenceCheck ? this.slotStore.fenceHolds : () => true, {
      versionCheck: this.switches.versionCheck,
    });

    this.fifo = new SimQueue({
      name: 'coordinator.fifo',
      fifo: true,
      visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS,
      maxReceiveCount: this.plan.maxReceiveCount,
    });
    this.apiNode = this.node('api');
    this.sweeperNode = this.node('sweeper');
    for (let index = 0; index < this.plan.envs; index++) {
      const env = {
        index,
        node: this.node(`coord-${index}`),
        generation: 0,
        current: null,
      } as CoordinatorEnv;
      this.restartEnv(env);
      this.envs.push(env);
    }

    const participants: Array<[string, ParticipantKind]> = [
      ...Array.from({ length: LEDGER_SHARDS }, (_, shard): [string, ParticipantKind] => [
        `ledger-${shard}`,
        LEDGER,
      ]),
      ['inventory', INVENTORY],
    ];
    const httpsId = this.plan.https?.participant;
    for (const [id, kind] of participants) {
      // An HTTPS participant's store is in another account: it cannot note on the record.
      const notes = rng.chance(this.plan.notes) && id !== httpsId;
      const store = new MemoryParticipantStore(
        kind.definition.counter!,
        [],
        notes ? this.txStore : undefined,
      );
      if (notes) this.noting.add(id);
      this.participantStores.set(id, store);
      this.kinds.set(id, { store, kind });
      this.writeStores.set(id, this.switches.barrierCheck ? store : new BarrierlessStore(store));
      if (id === httpsId) {
        this.endpointNode = this.node(`${id}-endpoint`);
        this.inboxes.set(id, {
          queue: this.standardQueue(`${id}-inbox`, 6 * RELAY_FUNCTION_TIMEOUT_MS),
          node: this.node(`${id}-relay`),
          kind: 'relay',
          handle: (inv, message) => this.runRelay(inv, id, message),
        });
        continue;
      }
      const node = this.node(id);
      this.inboxes.set(id, {
        queue: this.standardQueue(`${id}-inbox`),
        node,
        kind: 'participant',
        handle: (inv, message) => this.runParticipant(inv, id, kind, message),
      });
    }
    const timerNode = this.node('timers');
    this.timerQueue = {
      queue: this.standardQueue('timers', TIMER_VISIBILITY_TIMEOUT_MS),
      node: timerNode,
      kind: 'timer',
      handle: (inv, message) => this.runTimer(inv, message),
    };
    this.directory = bankAndShopDirectory(this.accountStore, this.itemStore);
    // The fast path writes only the tables Tandem reaches: never an HTTPS participant's.
    this.onePhaseCommitter = new MemoryOnePhaseCommitter(
      this.txStore,
      new Map([...this.kinds].filter(([id]) => id !== httpsId)),
    );
  }

  /** Whether this seed serves a participant over HTTPS, which one, and its network's faults. */
  private httpsPlan(faultsStopAfterMs: number): HttpsPlan | null {
    const rng = this.rng;
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

  // ─── Running ────────────────────────────────────────────────────────────────────────────────

  async run(): Promise<SimResult> {
    this.setUpWorkload();
    this.at(this.faultsStopAtMs, () => {
      this.faultsOn = false;
      this.log('── faults stop ──');
    });
    this.at(T0_MS + this.rng.int(0, SWEEP_INTERVAL_MS), () => this.sweepTick());
    const { redeploy } = this.plan;
    if (redeploy) {
      this.at(T0_MS + redeploy.atMs, () => {
        this.log(`── redeploy: ${this.slotCount} → ${redeploy.slotCount} slot(s) ──`);
        this.slotCount = redeploy.slotCount;
      });
    }

    let redriven = false;
    const boundMs = this.faultsStopAtMs + QUIESCENCE_BOUND_MS;
    for (;;) {
      const event = this.heap.pop();
      if (!event) break;
      this.now = event.atMs;
      this.stats.events++;
      event.run();
      await drain();
      if (this.pumpFifo()) await drain();
      if (this.violations.length > 0) break;
      if (!this.faultsOn && this.quiet()) {
        const parked = this.queues().flatMap((queue) => queue.dlq.map((m) => `${queue.name}: ${m.body}`));
        if (parked.length > 0 && !redriven) {
          // Invariant 9: an operator sees the DLQ (alarm) and redrives it; it must then complete.
          this.dlqSeen.push(...parked);
          this.log(`── operator redrives ${parked.length} dead-lettered message(s) ──`);
          this.redriveAll();
          redriven = true;
          continue;
        }
        this.finalChecks();
        break;
      }
      if (this.now > boundMs) {
        if (this.unpublished.size > 0) {
          this.violation(
            `events: ${this.unpublished.size} terminal outcome(s) never announced [${[...this.unpublished].join(', ')}]`,
          );
        }
        this.violation(
          `termination (8): no quiescence ${QUIESCENCE_BOUND_MS / 60_000} min after faults stopped: ` +
            `${this.undecidedOrLive.size} transaction(s) not terminal [${[...this.undecidedOrLive].join(', ')}], ` +
            `${this.liveMessages()} message(s) queued, ${this.liveInvocations} handler(s) running`,
        );
        break;
      }
    }
    this.stats.virtualMs = this.now - T0_MS;
    const trace =
      this.traceAll || this.trace.length < this.traceLimit
        ? [...this.trace]
        : [...this.trace.slice(this.traceStart), ...this.trace.slice(0, this.traceStart)];
    return {
      seed: this.options.seed,
      violations: [...this.violations],
      stats: { ...this.stats },
      trace,
      dlq: [...this.dlqSeen],
      plan: this.plan,
    };
  }

  private quiet(): boolean {
    return (
      this.liveMessages() === 0 &&
      this.liveInvocations === 0 &&
      this.pendingClients === 0 &&
      this.undecidedOrLive.size === 0 &&
      this.unpublished.size === 0 &&
      this.envs.every((env) => env.node.pausedUntilMs <= this.now)
    );
  }

  private queues(): SimQueue[] {
    return [this.fifo, ...[...this.inboxes.values()].map((q) => q.queue), this.timerQueue.queue];
  }

  private liveMessages(): number {
    return this.queues().reduce((sum, queue) => sum + queue.live, 0);
  }

  private at(atMs: number, run: () => void): void {
    this.heap.push({ atMs, seq: this.seq++, run });
  }

  private node(name: string): Node {
    const skew = this.plan.skewMsMax === 0 ? 0 : this.rng.int(-this.plan.skewMsMax, this.plan.skewMsMax);
    const drift =
      this.plan.driftPpmMax === 0 ? 0 : this.rng.int(-this.plan.driftPpmMax, this.plan.driftPpmMax);
    return { name, clock: new SimClock(this, skew, drift / 1e6), pausedUntilMs: 0 };
  }

  private log(line: string): void {
    const text = `+${((this.now - T0_MS) / 1000).toFixed(3)}s ${line}`;
    if (this.traceAll || this.trace.length < this.traceLimit) {
      this.trace.push(text);
      return;
    }
    this.trace[this.traceStart] = text;
    this.traceStart = (this.traceStart + 1) % this.traceLimit;
  }

  private violation(text: string): void {
    this.log(`!! VIOLATION ${text}`);
    this.violations.push(text);
  }

  // ─── Port calls: where the scheduler interleaves, delays, fails, crashes and pauses ─────────

  private latencyMs(): number {
    if (this.faultsOn && this.rng.chance(this.plan.slowPerCall)) return this.rng.int(500, 5_000);
    return this.rng.chance(0.1) ? this.rng.int(10, 200) : this.rng.int(1, 10);
  }

  /**
   * One port call of `inv`. `effect` runs (synchronously: the memory adapters do all their work
   * before their first await) when the scheduler completes the call. Before it does, the call may
   * be paused (coordinator environments only: a zombie), crash the invocation (the effect took
   * place or not; the handler never continues), or fail with an InfrastructureError (the effect
   * took place or not: an ambiguous failure).
   *
   * A write (`footprint`) is in flight at the service for the last few ms before it completes
   * (SERVICE_MS_MAX at most). When it completes while a transactional write on one of its items is
   * in flight, DynamoDB may cancel it
   * (TransactionConflict: ContentionError, nothing written) — with the chance `plan.conflicts`, on
   * and after faults alike; while faults last it may also be throttled.
   */
  private call<T>(
    inv: Invocation,
    what: string,
    effect: () => Promise<T>,
    footprint?: WriteFootprint,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (inv.dead) return;
      const latencyMs = this.latencyMs();
      const id = footprint ? this.nextWriteId++ : undefined;
      if (id !== undefined && footprint) {
        // At the service for its last few ms only: the rest of a slow call is the network's.
        const serviceMs = Math.min(latencyMs, this.rng.int(1, SERVICE_MS_MAX));
        this.at(this.now + latencyMs - serviceMs, () => {
          if (!inv.dead) this.inFlight.set(id, footprint);
        });
      }
      this.at(this.now + latencyMs, () => this.complete(inv, what, effect, resolve, reject, id));
    });
  }

  private complete<T>(
    inv: Invocation,
    what: string,
    effect: () => Promise<T>,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    writeId?: number,
    resumed?: WriteFootprint,
  ): void {
    const footprint = writeId === undefined ? resumed : this.inFlight.get(writeId);
    if (writeId !== undefined) this.inFlight.delete(writeId);
    if (inv.dead) return;
    // A paused request has not reached the service yet: it holds no item while paused.
    const retry = () => this.complete(inv, what, effect, resolve, reject, undefined, footprint);
    if (inv.node.pausedUntilMs > this.now) {
      this.at(inv.node.pausedUntilMs + this.rng.int(0, 5), retry);
      return;
    }
    if (this.faultsOn && inv.kind === 'coordinator' && this.rng.chance(this.plan.pausePerCoordinatorCall)) {
      // Resume just after the message is visible again (another environment may be mid-takeover),
      // or much later.
      const pausedUntilMs = this.rng.chance(0.6)
        ? Math.max(this.now + 1, inv.receivedAtMs + VISIBILITY_TIMEOUT_MS + this.rng.int(0, 80))
        : this.now + this.rng.int(VISIBILITY_TIMEOUT_MS, 3 * VISIBILITY_TIMEOUT_MS);
      inv.node.pausedUntilMs = pausedUntilMs;
      this.stats.zombies++;
      this.log(`${inv.name} ⏸ paused before ${what} until +${((pausedUntilMs - T0_MS) / 1000).toFixed(3)}s`);
      this.at(pausedUntilMs, () => this.log(`${inv.node.name} ▶ resumes`));
      this.at(pausedUntilMs + this.rng.int(0, 5), retry);
      return;
    }
    if (this.faultsOn && this.rng.chance(this.plan.crashPerCall)) {
      const applied = this.rng.chance(0.5);
      this.log(`${inv.name} ✗ CRASH at ${what} (${applied ? 'after' : 'before'} it took effect)`);
      if (applied) effect().catch(() => {});
      this.crash(inv);
      return;
    }
    if (this.faultsOn && this.rng.chance(this.plan.errorPerCall)) {
      const applied = this.rng.chance(0.5);
      this.stats.injectedErrors++;
      this.log(`${inv.name} ✗ error from ${what} (${applied ? 'it took effect' : 'no effect'})`);
      if (applied) effect().catch(() => {});
      reject(new InfrastructureError(`simulated failure of ${what}`));
      return;
    }
    const contention = footprint ? this.contentionOf(footprint) : null;
    if (contention !== null) {
      this.stats[contention === 'conflict' ? 'conflicts' : 'throttles']++;
      this.log(`${inv.name} ${what} ✗ ${contention === 'conflict' ? 'TransactionConflict' : 'throttled'}`);
      reject(new ContentionError(contention, `simulated ${contention} on ${what}`));
      return;
    }
    this.log(`${inv.name} ${what}`);
    effect().then(resolve, reject);
  }

  /** Whether the service cancels a write completing now: a conflict, a throttle, or neither. */
  private contentionOf(footprint: WriteFootprint): ContentionReason | null {
    const overlaps = [...this.inFlight.values()].some(
      (other) => other.transactional && other.items.some((item) => footprint.items.includes(item)),
    );
    if (overlaps && this.rng.chance(this.plan.conflicts)) return 'conflict';
    if (this.faultsOn && this.rng.chance(this.plan.throttlePerWrite)) return 'throttle';
    return null;
  }

  /** How a shell waits out contention: world timers, the world's randomness, the function's deadline. */
  private pacing(inv: Invocation): Pacing {
    const deadlineMs = this.switches.contentionRetry
      ? inv.node.clock.nowMs() + FUNCTION_TIMEOUT_MS - 1_000
      : Number.NEGATIVE_INFINITY;
    return {
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          this.at(this.now + ms, () => {
            if (!inv.dead) resolve();
          });
        }),
      random: () => this.rng.float(),
      deadlineMs: () => deadlineMs,
    };
  }

  private spawn(
    node: Node,
    kind: InvocationKind,
    label: string,
    body: (inv: Invocation) => Promise<void>,
    after: (error: unknown) => void,
  ): Invocation {
    const inv: Invocation = {
      id: this.nextInvocationId++,
      kind,
      node,
      name: `${node.name}/${this.nextInvocationId - 1}`,
      receivedAtMs: this.now,
      dead: false,
    };
    this.liveInvocations++;
    this.log(`${inv.name} ← ${label}`);
    const finish = (error: unknown) => {
      if (inv.dead) return;
      inv.dead = true;
      this.liveInvocations--;
      after(error);
    };
    body(inv).then(
      () => finish(null),
      (error: unknown) => finish(error ?? new Error('rejected without a reason')),
    );
    return inv;
  }

  private crash(inv: Invocation): void {
    inv.dead = true;
    this.stats.crashes++;
    this.liveInvocations--;
    inv.onCrash?.();
  }

  // ─── Ports over the memory adapters ─────────────────────────────────────────────────────────

  private txs(inv: Invocation): TxStore {
    return {
      create: (tx) =>
        this.call(
          inv,
          `txs.create ${tx.record.txId}`,
          async () => {
            const outcome = await this.txStore.create(tx);
            if (outcome.created) this.afterCreate(tx.record);
            return outcome;
          },
          { items: [recordItem(tx.record.txId)], transactional: false },
        ),
      load: (txId) => this.call(inv, `txs.load ${txId}`, () => this.txStore.load(txId)),
      loadAt: (recordKey) => this.call(inv, `txs.loadAt ${recordKey}`, () => this.txStore.loadAt(recordKey)),
      save: (next, expectedVersion, fence) =>
        this.call(
          inv,
          `txs.save ${next.record.txId} v${expectedVersion}→${next.record.state} fence(slot ${fence.slot}, epoch ${fence.epoch}, ${fence.owner})`,
          () => this.save(next, expectedVersion, fence),
          { items: [recordItem(next.record.txId), `slot:${fence.slot}`], transactional: true },
        ),
      due: (nowMs, limit) => this.call(inv, 'txs.due', () => this.txStore.due(nowMs, limit)),
    };
  }

  private async save(next: StoredTx, expectedVersion: number, fence: Fence): Promise<void> {
    const row = this.slotRows.get(fence.slot);
    const prev = this.durable.get(next.record.txId);
    try {
      await this.txStore.save(next, expectedVersion, fence);
    } catch (error) {
      if (error instanceof FenceLostError) this.stats.fenceRejections++;
      if (error instanceof VersionConflictError) this.stats.versionConflicts++;
      this.log(`   ↳ save refused: ${error instanceof Error ? error.name : String(error)}`);
      throw error;
    }
    this.afterSave(prev, next.record, fence, row);
  }

  private slots(env: CoordinatorEnv): SlotStore {
    const inv = () => {
      if (!env.current) throw new Error(`slot store used by ${env.owner} outside an invocation`);
      return env.current;
    };
    return {
      read: (slot) => this.call(inv(), `slots.read ${slot}`, () => this.slotStore.read(slot)),
      write: (next, condition) =>
        this.call(
          inv(),
          `slots.write slot ${next.slot} epoch ${next.epoch} → ${next.owner}`,
          async () => {
            const won = await this.slotStore.write(next, condition);
            if (won) this.afterSlotWrite(next, env);
            else this.log('   ↳ slot write lost its condition');
            return won;
          },
          { items: [`slot:${next.slot}`], transactional: false },
        ),
    };
  }

  private participantStore(inv: Invocation, participantId: string): ParticipantStore {
    const store = this.writeStores.get(participantId)!;
    return {
      loadBarrier: (txId, pid) =>
        this.call(inv, `${participantId}.loadBarrier ${txId}`, () => store.loadBarrier(txId, pid)),
      write: (prev, next, action, note) =>
        this.call(
          inv,
          `${participantId}.write ${next.txId} ${prev?.state ?? '∅'}→${next.state} ${action.type}${note ? ' +note' : ''}`,
          async () => {
            const outcome = await store.write(prev, next, action, note);
            if (outcome.ok && note && this.noting.has(participantId))
              this.afterNote(participantId, next, note);
            if (outcome.ok) this.afterParticipantWrite(participantId, next, action);
            else this.log(`   ↳ ${outcome.kind}${outcome.kind === 'rejected' ? `: ${outcome.reason}` : ''}`);
            return outcome;
          },
          {
            items: [
              `${participantId}:barrier:${next.txId}`,
              ...touchedBy(action).map((id) => `${participantId}:${id}`),
              ...(note && this.noting.has(participantId) ? [recordItem(note.txId)] : []),
            ],
            transactional: true,
          },
        ),
    };
  }

  private transport(inv: Invocation, clock: Clock): CoordinatorTransport {
    return {
      toParticipant: (participant, message) =>
        this.call(inv, `send ${message.type} ${message.txId} → ${participant.id}`, async () => {
          // Decision before effect (4): what is sent must follow from what is durable.
          const state = this.durable.get(message.txId)?.state;
          const decision = state === undefined ? null : decisionOf(state);
          const allowed =
            message.type === 'Prepare'
              ? state !== undefined
              : decision === (message.type === 'Commit' ? 'COMMIT' : 'ABORT');
          if (!allowed) {
            this.violation(
              `decision before effect (4): ${message.type} of ${message.txId} sent while it is ${state}`,
            );
          }
          this.sendStandard(this.inboxes.get(participant.id)!, JSON.stringify(message), 0);
        }),
      scheduleCheck: (txId, slot, atMs) => this.armTimer(inv, clock, { type: 'Timer', txId, slot, atMs }),
    };
  }

  private forwarder(inv: Invocation, clock: Clock): CheckForwarder {
    return {
      forwardCheck: (txId, slot, dueAtMs) => {
        const dedupId = `check-${txId}-${dueAtMs}-${Math.floor(clock.nowMs() / 10_000)}`;
        return this.call(inv, `send Check ${txId}`, async () =>
          this.sendFifo(groupOf(slot), JSON.stringify({ type: 'Check', txId }), dedupId),
        );
      },
      rearm: (timer) => this.armTimer(inv, clock, timer),
    };
  }

  /** Like SqsTransport.armTimer: whole-second delay from the sender's clock, capped at 900 s. */
  private armTimer(inv: Invocation, clock: Clock, timer: Timer): Promise<void> {
    const delayS = Math.min(SQS_MAX_DELAY_S, Math.max(0, Math.ceil((timer.atMs - clock.nowMs()) / 1000)));
    return this.call(inv, `arm timer ${timer.txId} (${delayS} s)`, async () =>
      this.sendStandard(this.timerQueue, JSON.stringify(timer), delayS * 1000),
    );
  }

  /** The bus, one put per event (each may fail or crash the invocation on its own). */
  private events(inv: Invocation): EventPublisher {
    return {
      publish: async (busEvents) => {
        // The coordinator's Lambdas announce outcomes only; console actions never reach the sim.
        const events = busEvents.flatMap((e) => ('detailType' in e ? [] : [e]));
        const failures = await Promise.all(
          events.map((event) =>
            this.call(inv, `events.publish ${event.eventId}`, async () => {
              const state = this.durable.get(event.txId)?.state;
              if (event.outcome !== state) {
                this.violation(`events: ${event.txId} announced ${event.outcome} while it is ${state}`);
              }
              this.published.set(event.txId, event.outcome);
              this.unpublished.delete(event.txId);
            }).then(
              (): PublishFailure[] => [],
              (error: unknown): PublishFailure[] => [{ eventId: event.eventId, reason: String(error) }],
            ),
          ),
        );
        return failures.flat();
      },
    };
  }

  /** A durable change of a transaction record, as the table's stream carries it. */
  private streamed(prev: TxRecord | undefined, next: TxRecord): void {
    if (!this.plan.events) return;
    const image = (record: TxRecord) =>
      marshall(txItemOf({ record, requestHash: 'sim' }), { removeUndefinedValues: true }) as NonNullable<
        NonNullable<DynamoDBRecord['dynamodb']>['NewImage']
      >;
    this.stream.push({
      eventID: `s${this.stream.length}`,
      eventName: prev ? 'MODIFY' : 'INSERT',
      dynamodb: {
        SequenceNumber: String(this.stream.length).padStart(21, '0'),
        ...(prev ? { OldImage: image(prev) } : {}),
        NewImage: image(next),
      },
    });
    this.pollStream();
  }

  /** The next poll of the stream, unless one is due already (polls stop while it is drained). */
  private pollStream(): void {
    if (this.streamPollDue) return;
    this.streamPollDue = true;
    this.at(this.now + this.rng.int(1, STREAM_POLL_MS), () => this.streamTick());
  }

  /**
   * The events function's event source: one batch at a time from the checkpoint; the checkpoint
   * moves past the batch when the function succeeded; a crash or an error retries it whole.
   */
  private streamTick(): void {
    this.streamPollDue = false;
    if (this.streamBusy || this.streamCheckpoint >= this.stream.length) return;
    this.streamBusy = true;
    const from = this.streamCheckpoint;
    const batch = this.stream.slice(from, from + this.plan.streamBatch);
    this.eventsNode ??= this.node('events');
    const inv = this.spawn(
      this.eventsNode,
      'events',
      `stream records ${from}..${from + batch.length - 1}`,
      (inv) => publishOutcomes(batch, this.events(inv)),
      (error) => {
        this.streamBusy = false;
        if (error === null || !this.switches.eventRetry) this.streamCheckpoint = from + batch.length;
        if (error !== null) this.log(`   ↳ events batch failed: ${String(error)}`);
        this.log(`   ↳ stream checkpoint ${this.streamCheckpoint} of ${this.stream.length}`);
        this.pollStream();
      },
    );
    inv.onCrash = () => {
      this.streamBusy = false;
      this.pollStream();
    };
  }

  private faults(): Faults {
    return {
      crashPoint: () => {},
      drop: (point, txId) => {
        const dropped = this.faultsOn && this.rng.chance(this.plan.dropVote);
        if (dropped) this.log(`   ↳ ${point} of ${txId} dropped`);
        return dropped;
      },
    };
  }

  // ─── Simulated SQS ──────────────────────────────────────────────────────────────────────────

  private standardQueue(name: string, visibilityTimeoutMs = VISIBILITY_TIMEOUT_MS): SimQueue {
    return new SimQueue({
      name,
      fifo: false,
      visibilityTimeoutMs,
      maxReceiveCount: this.plan.maxReceiveCount,
    });
  }

  private sendStandard(target: StandardQueue, body: string, delayMs: number): void {
    const copies = this.faultsOn && this.rng.chance(this.plan.duplicatePerSend) ? 2 : 1;
    if (copies > 1) this.stats.duplicates++;
    for (let copy = 0; copy < copies; copy++) {
      const jitter =
        this.faultsOn && this.rng.chance(this.plan.reorderPerSend)
          ? this.rng.int(0, 3_000)
          : this.rng.int(0, 20);
      const message = target.queue.send(body, this.now, {
        delayMs: delayMs + jitter,
        id: this.nextMessageId++,
      })!;
      this.at(message.invisibleUntilMs + this.rng.int(0, 20), () => this.deliverStandard(target, message));
    }
  }

  /** A poller tries to receive `message`; if it gets it, a handler runs it. */
  private deliverStandard(target: StandardQueue, message: SimMessage): void {
    const attempt = target.queue.tryReceive(message, this.now);
    if (attempt === 'dead-lettered') this.deadLettered(target.queue, message);
    if (attempt !== 'received') return;
    this.received(message);
    if (message.receiveCount > 1) this.stats.redeliveries++;
    // Comes back after the visibility timeout unless deleted by then.
    this.at(message.invisibleUntilMs + this.rng.int(0, 50), () => this.deliverStandard(target, message));
    const receipt = message.receipt;
    this.spawn(
      target.node,
      target.kind,
      `m${message.id} ${message.body} (receive ${message.receiveCount})`,
      (inv) => target.handle(inv, message),
      (error) => {
        if (error === null) return this.deleteMessage(target.queue, message, receipt);
        this.handlerFailed(error, message);
      },
    );
  }

  private sendFifo(group: string, body: string, dedupId: string): void {
    const sent = this.fifo.send(body, this.now, { group, dedupId, id: this.nextMessageId++ });
    if (!sent) this.log(`   ↳ FIFO dropped duplicate ${dedupId}`);
  }

  /**
   * Delivers the head of every ready message group (not in flight) to a random idle coordinator
   * environment. Returns true when a handler started.
   */
  private pumpFifo(): boolean {
    let started = false;
    for (;;) {
      const idle = this.envs.filter((env) => env.current === null);
      if (idle.length === 0) return started;
      const heads = this.fifo.readyHeads(this.now);
      if (heads.length === 0) return started;
      const head = this.rng.pick(heads);
      const group = head.group!;
      const { batch, deadLettered } = this.fifo.receiveGroup(head, this.now, this.plan.fifoBatch);
      for (const message of deadLettered) this.deadLettered(this.fifo, message);
      if (batch.length === 0) continue;
      const last = this.lastEnvOfGroup.get(group);
      const env =
        last !== undefined && idle.includes(last) && this.rng.chance(this.plan.stickiness)
          ? last
          : this.rng.pick(idle);
      this.lastEnvOfGroup.set(group, env);
      for (const message of batch) {
        this.received(message);
        if (message.receiveCount > 1) this.stats.redeliveries++;
      }
      this.at(batch[0]!.invisibleUntilMs, () => {}); // wake up when it is visible again
      this.startCoordinator(env, batch);
      started = true;
    }
  }

  /**
   * One invocation of the coordinator with a batch of one slot's group: its messages in order
   * (like Powertools' FIFO processor, it stops at the first failure; the rest stay in flight and
   * come back after the visibility timeout), the successful ones deleted when it returns.
   */
  private startCoordinator(env: CoordinatorEnv, batch: readonly SimMessage[]): void {
    const receipts = batch.map((message) => message.receipt);
    const generation = env.generation;
    let done = 0;
    const inv = this.spawn(
      env.node,
      'coordinator',
      `${batch.map((m) => `m${m.id} ${m.body} (receive ${m.receiveCount})`).join(' · ')} [${batch[0]!.group}] as ${env.owner}`,
      async (inv) => {
        // Current from its first step: with a cached record the handler reaches the slot store
        // before its first await.
        env.current = inv;
        env.batch = { group: batch[0]!.group!, startedAtMs: this.now };
        const deadlineMs = env.node.clock.nowMs() + FUNCTION_TIMEOUT_MS;
        for (const message of batch) {
          const input = parseCoordinatorInput(message.body);
          await handleCoordinatorInput(input, {
            txs: this.txs(inv),
            leases: env.leases,
            clock: env.node.clock,
            transport: this.transport(inv, env.node.clock),
            config: this.config,
            faults: this.faults(),
            redelivered: message.receiveCount > 1,
            cache: env.cache,
            // The batch is held until the invocation's deadline, on its own clock (BatchHold).
            ...(this.switches.batchHold ? { batch: { heldUntilMs: deadlineMs } } : {}),
            pacing: this.pacing(inv),
          });
          done++;
        }
      },
      (error) => {
        if (env.generation === generation) {
          env.current = null;
          env.batch = null;
        }
        batch.slice(0, done).forEach((message, index) => {
          this.deleteMessage(this.fifo, message, receipts[index]!);
        });
        if (error === null) return;
        const failed = batch[done]!;
        if (error instanceof FenceLostError) this.log(`${env.owner} lost the lease: ${error.message}`);
        if (error instanceof BatchLostError) {
          this.stats.zombieDrops++;
          this.log(`${env.owner} (a zombie) drops m${failed.id} and the rest of its batch: ${error.message}`);
          return;
        }
        this.handlerFailed(error, failed);
      },
    );
    inv.onCrash = () => this.restartEnv(env);
    if (!inv.dead) env.current = inv;
  }

  /** A crashed execution environment is replaced by a fresh one: new owner id, no cached lease. */
  private restartEnv(env: CoordinatorEnv): void {
    env.generation++;
    env.owner = `coord-${env.index}.${env.generation}`;
    env.current = null;
    env.batch = null;
    env.leases = new LeaseManager(this.slots(env), env.owner, env.node.clock, this.lease, { handoff: true });
    env.cache = new RecordCache();
  }

  private deleteMessage(queue: SimQueue, message: SimMessage, receipt: number): void {
    if (this.faultsOn && !message.deleted && this.rng.chance(this.plan.lostDelete)) {
      this.log(`   ↳ delete of m${message.id} lost`);
      return;
    }
    const deleted = queue.delete(message, receipt);
    if (deleted === 'stale-receipt') {
      this.log(`   ↳ delete of m${message.id} with a stale receipt ignored`);
    }
    const receivedAtMs = this.receivedAfterFaults.get(message);
    if (deleted === 'deleted' && receivedAtMs !== undefined) {
      this.receivedAfterFaults.delete(message);
      const blockedMs = this.now - receivedAtMs;
      this.stats.maxBlockedMs = Math.max(this.stats.maxBlockedMs, blockedMs);
      if (blockedMs > BLOCKED_BOUND_MS) {
        this.violation(
          `liveness: m${message.id} of ${queue.name}${message.group ? ` (group ${message.group})` : ''} took ${blockedMs} ms ` +
            `from its first receive after the last fault to its delete (bound ${BLOCKED_BOUND_MS} ms): ${message.body}`,
        );
      }
    }
  }

  /** A message received: after the last fault, the clock of the blocked-group bound starts. */
  private received(message: SimMessage): void {
    if (!this.faultsOn && !this.receivedAfterFaults.has(message))
      this.receivedAfterFaults.set(message, this.now);
  }

  private handlerFailed(error: unknown, message: SimMessage): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (error instanceof ProtocolAssertionError) {
      // The handler would move it to the DLQ at once; in the simulation it is a broken invariant.
      this.violation(`protocol assertion on m${message.id} ${message.body}: ${error.message}`);
      return;
    }
    if (!(error instanceof InfrastructureError || error instanceof FenceLostError)) {
      this.violation(`unexpected ${text} on m${message.id} ${message.body}`);
      return;
    }
    this.log(`   ↳ m${message.id} failed (${text}); visible again after the visibility timeout`);
  }

  private deadLettered(queue: SimQueue, message: SimMessage): void {
    this.stats.dlqMoves++;
    const txId = (JSON.parse(message.body) as { txId?: unknown }).txId;
    if (typeof txId === 'string') this.deadLetteredTx.add(txId);
    if (this.receivedAfterFaults.has(message)) {
      this.violation(
        `liveness: m${message.id} of ${queue.name} was dead-lettered after the last fault: ${message.body}`,
      );
    }
    this.log(`m${message.id} → DLQ of ${queue.name} after ${message.receiveCount} receives: ${message.body}`);
  }

  private redriveAll(): void {
    for (const message of this.fifo.redrive(this.now, () => this.nextMessageId++))
      this.log(`redriven as m${message.id}`);
    for (const target of [...this.inboxes.values(), this.timerQueue]) {
      for (const message of target.queue.redrive(this.now, () => this.nextMessageId++)) {
        this.at(this.now + this.rng.int(0, 20), () => this.deliverStandard(target, message));
      }
    }
  }

  // ─── Handlers (the thin Lambda handlers of functions/*, over the simulated ports) ─────────

  private async runParticipant(
    inv: Invocation,
    participantId: string,
    kind: ParticipantKind,
    message: SimMessage,
  ): Promise<void> {
    const parsed = parseParticipantMessage(message.body);
    if (parsed.participantId !== participantId) {
      throw new ProtocolAssertionError(`message for ${parsed.participantId} reached ${participantId}`);
    }
    await handleParticipantMessage(parsed, {
      store: this.participantStore(inv, participantId),
      kind,
      clock: inv.node.clock,
      replies: { send: (reply, slot) => this.sendReply(inv, reply, slot) },
      faults: this.faults(),
      pacing: this.pacing(inv),
    });
  }

  // ─── The HTTPS participant: the relay, the network between, the endpoint ───────────────────

  /**
   * The relay function with one message of the HTTPS participant's inbox: the real relayMessage
   * over the simulated network, the relay node's clock and the world's timers. Lambda ends it at
   * its timeout, wherever it is (a crash: the message comes back after the visibility timeout).
   */
  private async runRelay(inv: Invocation, participantId: string, message: SimMessage): Promise<void> {
    const { settings } = this.plan.https!;
    const parsed = parseParticipantMessage(message.body);
    if (parsed.participantId !== participantId) {
      throw new ProtocolAssertionError(
        `message for ${parsed.participantId} reached ${participantId}'s relay`,
      );
    }
    const clock = inv.node.clock;
    const deadlineMs = clock.nowMs() + RELAY_FUNCTION_TIMEOUT_MS - RELAY_DEADLINE_MARGIN_MS;
    this.at(this.now + RELAY_FUNCTION_TIMEOUT_MS, () => {
      if (inv.dead) return;
      this.stats.relayKilled++;
      this.log(`${inv.name} ✗ killed at its function's timeout`);
      this.crash(inv);
    });
    const outcome = await relayMessage(parsed, settings, {
      http: this.httpPort(inv),
      signer: { headers: async (call) => signCall(HTTPS_SECRET, call, clock.nowMs()) },
      clock,
      pacing: {
        sleep: (ms) =>
          new Promise<void>((resolve) => {
            this.at(this.now + ms, () => {
              if (!inv.dead) resolve();
            });
          }),
        random: () => this.rng.float(),
        deadlineMs: () => deadlineMs,
      },
      replies: {
        send: (reply, slot) => {
          this.checkRelayReply(reply);
          return this.sendReply(inv, reply, slot);
        },
      },
      onAttempt: ({ phase, attempt, elapsedMs, verdict }) => {
        const said = verdict.kind === 'retry' ? `retry (${verdict.reason})` : verdict.kind;
        this.log(`   ↳ relay ${phase} ${parsed.txId} attempt ${attempt} (${elapsedMs} ms): ${said}`);
      },
    });
    if (outcome.kind === 'gave-up') {
      this.log(`   ↳ relay gave up on ${outcome.phase} ${parsed.txId} after ${outcome.attempts} call(s)`);
      if (outcome.phase === 'try') {
        this.stats.relayTryGiveUps++;
        this.triesGivenUp.add(parsed.txId);
        return;
      }
      this.stats.relayFinishGiveUps++;
      if (!this.switches.relayGiveUp) {
        const ack: ParticipantReply = {
          type: 'Ack',
          txId: parsed.txId,
          participantId,
          outcome: outcome.phase === 'confirm' ? 'COMMITTED' : 'ABORTED',
        };
        await this.sendReply(inv, ack, parsed.slot);
      }
    }
  }

  /**
   * What the relay tells the coordinator must be what the endpoint's barrier says: a YES only for
   * a try that reserved (the barrier may have moved on since), a refusal only for a NO, an ack
   * only for a finish done. A try given up on may have taken effect unseen: no check then (its
   * cancel must undo it: see finalChecks).
   */
  private checkRelayReply(reply: ParticipantReply): void {
    if (this.options.outcomesOnly) return;
    const store = this.participantStores.get(reply.participantId)!;
    const state = store.barrier(reply.txId, reply.participantId)?.state;
    const allowed: readonly (string | undefined)[] =
      reply.type === 'Ack'
        ? [reply.outcome]
        : reply.vote === 'YES'
          ? ['PREPARED', 'COMMITTED', 'ABORTED']
          : ['VOTED_NO', 'ABORTED'];
    if (!allowed.includes(state)) {
      this.violation(
        `https: the relay sends ${JSON.stringify(reply)} while ${reply.participantId}'s barrier of ${reply.txId} is ${state ?? 'missing'}`,
      );
    }
  }

  private endpointDown(): boolean {
    const outage = this.plan.https?.outage;
    return (
      outage !== null &&
      outage !== undefined &&
      this.now >= T0_MS + outage.fromMs &&
      this.now < T0_MS + outage.untilMs
    );
  }

  /**
   * The network between the relay and the endpoint. While faults last a call may: find the
   * endpoint down (refused at once, a 503, or no answer), meet a busy front (425/429/503, with or
   * without Retry-After), be lost on its way (a timeout, nothing happened), reach the endpoint
   * twice, be slow on either leg (past the relay's timeout: before or after the effect), or lose
   * its answer (a timeout, the effect happened). The relay itself may crash with the answer in hand.
   */
  private httpPort(inv: Invocation): HttpPort {
    const https = this.plan.https!;
    return {
      send: (request) =>
        new Promise<HttpResponse>((resolve, reject) => {
          if (inv.dead) return;
          this.stats.httpCalls++;
          const call = JSON.parse(request.body) as { phase: Phase; transactionId: string };
          const { phase } = call;
          const what = `POST ${pathOf(request.url)} ${call.transactionId}`;
          let settled = false;
          const arrive = (result: HttpResponse | Error) => {
            if (settled || inv.dead) return;
            settled = true;
            if (this.faultsOn && this.rng.chance(this.plan.crashPerCall)) {
              this.log(`${inv.name} ✗ CRASH with the answer to ${what} in hand`);
              this.crash(inv);
              return;
            }
            this.log(`${inv.name} ${what} → ${result instanceof Error ? result.message : result.status}`);
            if (result instanceof Error) return reject(result);
            if (!this.switches.relayFinishRefusals && phase !== 'try' && result.status === 409) {
              return resolve(httpResponse(200, result.body));
            }
            resolve(result);
          };
          this.at(this.now + request.timeoutMs, () => {
            if (settled || inv.dead) return;
            this.stats.httpTimeouts++;
            if (!this.switches.relayTimeouts) return arrive(httpResponse(200, '{"ok":true}'));
            arrive(new Error(`${what} timed out after ${request.timeoutMs} ms`));
          });
          const legMs = () =>
            this.faultsOn && this.rng.chance(https.slow)
              ? this.rng.int(100, 2 * request.timeoutMs)
              : this.latencyMs();
          if (this.endpointDown()) {
            this.stats.httpDown++;
            const kind = https.outage!.kind;
            if (kind === 'refused') {
              this.stats.httpRefused++;
              this.at(this.now + this.rng.int(1, 20), () => arrive(new Error('connect ECONNREFUSED')));
            }
            if (kind === '503') this.at(this.now + legMs(), () => arrive(httpResponse(503, 'unavailable')));
            return;
          }
          if (this.faultsOn && this.rng.chance(https.busy)) {
            this.stats.httpBusy++;
            const status = this.rng.pick([425, 429, 503]);
            const headers: Record<string, string> = this.rng.chance(0.5)
              ? { 'retry-after': String(this.rng.int(0, 2)) }
              : {};
            this.at(this.now + legMs(), () => arrive(httpResponse(status, '{"title":"busy"}', headers)));
            return;
          }
          if (this.faultsOn && this.rng.chance(https.offContract)) {
            this.stats.httpOffContract++;
            const status = phase === 'try' ? this.rng.pick([400, 404]) : this.rng.pick([409, 400, 404]);
            this.at(this.now + legMs(), () => arrive(httpResponse(status, '{"title":"not here"}')));
            return;
          }
          if (this.faultsOn && this.rng.chance(https.lostRequest)) {
            this.log(`${inv.name} ${what} lost on its way`);
            return;
          }
          const copies = this.faultsOn && this.rng.chance(https.duplicateRequest) ? 2 : 1;
          if (copies > 1) this.stats.httpDuplicates++;
          for (let copy = 0; copy < copies; copy++) {
            this.at(this.now + legMs(), () =>
              this.serve(request, (result) => {
                if (copy > 0) return; // the duplicate's answer goes to a closed connection
                if (this.faultsOn && this.rng.chance(https.lostAnswer)) {
                  this.stats.httpLostAnswers++;
                  this.log(`   ↳ the answer to ${what} is lost`);
                  return;
                }
                this.at(this.now + legMs(), () => arrive(result));
              }),
            );
          }
        }),
    };
  }

  /**
   * The endpoint, as the participant SDK serves it: verify the signature, read the call, run the
   * barrier (handleParticipantMessage over the participant's store, through the world's port
   * calls: they may fail, crash or contend), answer with answerOf. A crash resets the connection;
   * a failure answers 500.
   */
  private serve(request: HttpRequest, answer: (result: HttpResponse | Error) => void): void {
    const participantId = this.plan.https!.participant;
    const { kind } = this.kinds.get(participantId)!;
    const node = this.endpointNode!;
    const path = pathOf(request.url);
    let answered: { readonly status: number; readonly body: string } | undefined;
    const inv = this.spawn(
      node,
      'endpoint',
      `POST ${path} ${request.body}`,
      async (inv) => {
        const verified = verifyCall({
          method: request.method,
          path,
          body: request.body,
          header: (name) => request.headers[name],
          secrets: [HTTPS_SECRET],
          nowMs: node.clock.nowMs(),
        });
        if (!verified.ok) {
          this.violation(`https: the endpoint refused the relay's signature on ${path}: ${verified.reason}`);
          answered = { status: 401, body: verified.reason };
          return;
        }
        const parsed = BranchCall.safeParse(JSON.parse(request.body));
        if (
          !parsed.success ||
          parsed.data.branch !== participantId ||
          !path.endsWith(`/${parsed.data.phase}`)
        ) {
          this.violation(
            `https: the relay sent ${participantId} a call it cannot read: ${path} ${request.body}`,
          );
          answered = { status: 400, body: 'bad call' };
          return;
        }
        const outcome = await handleParticipantMessage(messageOfCall(parsed.data as BranchCall), {
          store: this.participantStore(inv, participantId),
          kind,
          clock: node.clock,
          replies: { send: async () => {} },
          faults: NO_FAULTS,
          pacing: this.pacing(inv),
        });
        answered = answerOf(outcome.reply);
      },
      (error) => {
        if (error === null) return answer(httpResponse(answered!.status, answered!.body));
        if (error instanceof ProtocolAssertionError) {
          this.violation(
            `protocol assertion at ${participantId}'s endpoint on ${path} ${request.body}: ${error.message}`,
          );
        } else if (!(error instanceof InfrastructureError)) {
          this.violation(
            `unexpected ${String(error)} at ${participantId}'s endpoint on ${path} ${request.body}`,
          );
        }
        answer(httpResponse(500, '{"title":"internal error"}'));
      },
    );
    inv.onCrash = () => answer(new Error('socket hang up'));
  }

  /** Like SqsTransport.reply: into the group of the slot the message named (else the txId's now). */
  private sendReply(inv: Invocation, reply: ParticipantReply, slot: number | undefined): Promise<void> {
    const dedupId = `reply-${this.nextMessageId}-${inv.id}-${this.seq}`;
    const what =
      reply.type === 'Vote'
        ? `send Vote ${reply.vote} ${reply.txId} from ${reply.participantId}`
        : `send Ack ${reply.outcome} ${reply.txId} from ${reply.participantId}`;
    return this.call(inv, what, async () =>
      this.sendFifo(groupOf(slot ?? slotOf(reply.txId, this.slotCount)), JSON.stringify(reply), dedupId),
    );
  }

  private async runTimer(inv: Invocation, message: SimMessage): Promise<void> {
    const clock = inv.node.clock;
    const result = await handleTimer(parseTimer(message.body), {
      txs: this.txs(inv),
      clock,
      forwarder: this.forwarder(inv, clock),
    });
    this.log(`   ↳ timer ${result}`);
  }

  private sweepTick(): void {
    this.spawn(
      this.sweeperNode,
      'sweeper',
      'sweep',
      async (inv) => {
        await sweep({
          txs: this.txs(inv),
          clock: this.sweeperNode.clock,
          forwarder: this.forwarder(inv, this.sweeperNode.clock),
          limit: 100,
          concurrency: 2,
        });
      },
      (error) => {
        if (error !== null && !(error instanceof InfrastructureError)) {
          this.violation(`sweeper failed: ${error instanceof Error ? error.stack : String(error)}`);
        }
      },
    );
    this.at(this.now + SWEEP_INTERVAL_MS, () => this.sweepTick());
  }

  // ─── Workload ───────────────────────────────────────────────────────────────────────────────

  private setUpWorkload(): void {
    const rng = this.rng;
    const names = ACCOUNT_NAMES.slice(0, rng.int(3, 6));
    for (let shard = 0; shard < LEDGER_SHARDS; shard++) {
      if (!names.some((name) => shardOf(name, LEDGER_SHARDS) === shard)) {
        names.push(ACCOUNT_NAMES.find((name) => shardOf(name, LEDGER_SHARDS) === shard)!);
      }
    }
    for (const id of names) {
      const entity = newEntity(id, rng.int(0, 100), T0_MS);
      const shard = shardOf(id, LEDGER_SHARDS);
      this.participantStores.get(`ledger-${shard}`)!.seed(entity);
      void this.accountStore.insert(shard, entity);
      this.opening.set(`account:${id}`, entity.total);
      this.ledgerTotal += entity.total;
    }
    const sku = newEntity(SKU, rng.int(0, 5), T0_MS);
    this.participantStores.get('inventory')!.seed(sku);
    void this.itemStore.insert(0, sku);
    this.opening.set(`item:${SKU}`, sku.total);
    this.log(
      `world: ${this.plan.envs} coordinator envs, ${this.plan.slotCount} slot(s), accounts ${names
        .map((id) => `${id}=${this.opening.get(`account:${id}`)}@${shardOf(id, LEDGER_SHARDS)}`)
        .join(
          ' ',
        )}, ${SKU}=${sku.total}; plan ${JSON.stringify(this.plan)}; config ${JSON.stringify(this.config)}`,
    );

    const count = rng.int(2, 8);
    for (let index = 0; index < count; index++) {
      const pickTwo = () => {
        const from = rng.pick(names);
        let to = rng.pick(names);
        while (to === from) to = rng.pick(names);
        return [from, to] as const;
      };
      const [from, to] = pickTwo();
      const unknownEntity = rng.chance(0.05);
      const amount = rng.int(1, 60);
      const operations: Operation[] = rng.chance(0.7)
        ? [
            { participant: 'ledger', action: 'debit', accountId: from, amount },
            { participant: 'ledger', action: 'credit', accountId: unknownEntity ? 'ghost' : to, amount },
          ]
        : [
            { participant: 'ledger', action: 'debit', accountId: from, amount },
            { participant: 'ledger', action: 'credit', accountId: to, amount },
            {
              participant: 'inventory',
              action: 'reserve',
              sku: unknownEntity ? 'sku-ghost' : SKU,
              quantity: rng.int(1, 2),
            },
          ];
      const idempotencyKey = rng.chance(0.8) ? `key-${index}` : undefined;
      /** A transfer between two other accounts under the same key (another body). */
      const otherTransfer = (label: string, otherAmount: number, retriesLeft: number): ClientRequest => {
        const [otherFrom, otherTo] = pickTwo();
        return {
          label,
          operations: [
            { participant: 'ledger', action: 'debit', accountId: otherFrom, amount: otherAmount },
            { participant: 'ledger', action: 'credit', accountId: otherTo, amount: otherAmount },
          ],
          idempotencyKey,
          unknownEntity: false,
          retriesLeft,
        };
      };
      const request: ClientRequest = {
        label: `req ${index}`,
        operations,
        idempotencyKey,
        unknownEntity,
        retriesLeft: 3,
      };
      const firstAtMs = T0_MS + rng.int(0, 15_000);
      this.submitAt(request, firstAtMs);
      if (idempotencyKey !== undefined && rng.chance(0.3)) {
        // The client sends the same request again (a double click, a retry after a lost answer).
        for (let again = rng.int(1, 2); again > 0; again--)
          this.submitAt(request, firstAtMs + rng.int(0, 20_000));
      }
      if (idempotencyKey !== undefined && rng.chance(0.05)) {
        // Someone reuses the key with a different body: one of the two must get a conflict.
        this.submitAt(otherTransfer(`req ${index}′`, amount + 1, 0), firstAtMs + rng.int(-2_000, 5_000));
      }
      if (idempotencyKey !== undefined && rng.chance(this.plan.keyReuse)) {
        // The key again, much later — its record may have expired by then (TTL): the same body, or
        // another. Either way: the old transaction if its record lives, else a new one (new id).
        const other = otherTransfer(`req ${index}‴`, amount + 2, 1);
        const later: ClientRequest = rng.chance(0.5)
          ? { ...request, label: `req ${index}″`, retriesLeft: 1 }
          : other;
        this.submitAt(later, firstAtMs + rng.int(40_000, 150_000));
      }
    }
  }

  private submitAt(request: ClientRequest, atMs: number): void {
    this.pendingClients++;
    this.at(Math.max(this.now, atMs), () => this.submit(request));
  }

  private submit(request: ClientRequest): void {
    this.stats.submits++;
    const retry = (afterMs: number) => {
      if (request.idempotencyKey !== undefined && request.retriesLeft > 0) {
        request.retriesLeft--;
        this.submitAt(request, this.now + afterMs);
      }
    };
    const inv = this.spawn(
      this.apiNode,
      'api',
      `${request.label} POST ${JSON.stringify(request.operations)} key=${request.idempotencyKey ?? '-'}`,
      async (inv) => {
        const transactions = new Transactions(
          {
            store: this.txs(inv),
            // The API starts a two-phase transaction itself: the record written PREPARING, Prepare
            // sent from here.
            transport: this.transport(inv, this.apiNode.clock),
            // Most submits may take the one-phase fast path (as deployed); it mixes with two-phase
            // transactions on the same entities.
            ...(this.rng.int(0, 9) < 7 ? { onePhase: this.onePhase(inv) } : {}),
            directory: {
              missing: (refs) => this.call(inv, `directory.missing`, () => this.directory.missing(refs)),
            },
            clock: this.apiNode.clock,
            sleep: async () => {},
            newTxId: () => `tx_sim${this.nextTxNumber++}`,
            newIncarnation: () => `i${this.nextTxNumber++}`,
            pacing: this.pacing(inv),
          },
          { registry: this.registry, slotCount: this.slotCount, coordinator: this.config },
        );
        // Some clients hold the answer open (`?wait`): the API then arms the prepare timer lazily.
        const waitMs = this.rng.int(0, 3) === 0 ? this.rng.int(100, 5_000) : 0;
        const commit = this.rng.int(0, 4) === 0 ? 'two-phase' : 'auto';
        const { record, replayed } = await transactions.submit(
          request.idempotencyKey === undefined
            ? { operations: request.operations, waitMs, commit }
            : { operations: request.operations, idempotencyKey: request.idempotencyKey, waitMs, commit },
        );
        this.log(`   ↳ ${request.label}: 202 ${record.txId} ${record.state}${replayed ? ' (replayed)' : ''}`);
        if (request.unknownEntity)
          this.violation(`${request.label} names an unknown entity but was accepted`);
        const planned = JSON.stringify(planParticipants(request.operations, this.registry));
        if (JSON.stringify(record.participants) !== planned) {
          this.violation(`${request.label} was answered with ${record.txId}, a different transaction`);
        }
      },
      (error) => {
        this.pendingClients--;
        if (error === null) return;
        if (error instanceof UnprocessableError) {
          this.stats.apiRejected++;
          if (!request.unknownEntity) this.violation(`${request.label} refused as unknown: ${error.message}`);
          return;
        }
        if (error instanceof ConflictError) {
          this.stats.apiConflicts++;
          const holder = this.holderOfKey.get(keyedRecordKey(request.idempotencyKey ?? ''));
          const existing = holder === undefined ? undefined : this.durable.get(holder);
          const planned = JSON.stringify(planParticipants(request.operations, this.registry));
          if (!existing || JSON.stringify(existing.participants) === planned) {
            this.violation(`${request.label} got a conflict for its own request: ${error.message}`);
          }
          return;
        }
        if (error instanceof InfrastructureError) return retry(this.rng.int(500, 5_000));
        this.violation(
          `${request.label}: unexpected ${error instanceof Error ? error.stack : String(error)}`,
        );
      },
    );
    inv.onCrash = () => {
      // No answer: the client times out (API Gateway: 30 s) and retries with its key.
      this.pendingClients--;
      retry(30_000);
    };
  }

  // ─── Invariants, checked in the same turn as the write they follow ──────────────────────────

  private afterCreate(record: TxRecord): void {
    this.stats.transactions++;
    if (this.durable.has(record.txId)) {
      // Its barriers would answer for the earlier one, and its outcome event's id would repeat.
      this.violation(`${record.txId} names two transactions: it was created again after its record expired`);
    }
    const recordKey = recordKeyOf(record.txId);
    if (this.keysHeld.has(recordKey)) this.stats.keysReused++;
    this.keysHeld.add(recordKey);
    this.holderOfKey.set(recordKey, record.txId);
    this.createdAt.set(record.txId, this.now);
    if (isTerminal(record.state)) this.ended(record.txId);
    this.durable.set(record.txId, record);
    this.streamed(undefined, record);
    if (!isTerminal(record.state)) this.undecidedOrLive.add(record.txId);
    else if (this.plan.events) this.unpublished.add(record.txId); // a one-phase record, born terminal
  }

  /** A transaction became terminal: note when, and let its record expire (TTL) when the plan says. */
  private ended(txId: string): void {
    this.terminalAt.set(txId, this.now);
    if (this.plan.ttlAfterMs > 0) this.at(this.now + this.plan.ttlAfterMs, () => this.expire(txId));
  }

  /**
   * DynamoDB's TTL deletes the terminal record (the stream carries a REMOVE, which events out
   * ignores). The participants' barriers stay; the key is free for a later transaction.
   */
  private expire(txId: string): void {
    const recordKey = recordKeyOf(txId);
    if (this.holderOfKey.get(recordKey) !== txId) return;
    this.txStore.expire(recordKey);
    this.holderOfKey.delete(recordKey);
    this.stats.expired++;
    this.log(`   ↳ TTL: the record of ${txId} expired`);
  }

  /** A one-phase commit wrote the record and applied every operation in one step: account for it. */
  private afterOnePhase(record: TxRecord): void {
    this.afterCreate(record);
    for (const participant of record.participants) {
      const { kind } = this.kinds.get(participant.id)!;
      const key = `${record.txId}#${participant.id}`;
      if (this.applied.has(key))
        this.violation(`exactly-once (6): ${participant.id} applied ${record.txId} twice`);
      this.applied.add(key);
      for (const op of reservedOps(kind.parseOperations(participant.operations))) {
        const entity = `${kind.definition.counter!.entity}:${op.id}`;
        const delta = op.action === 'take' ? -op.amount : op.amount;
        this.appliedDelta.set(entity, (this.appliedDelta.get(entity) ?? 0) + delta);
      }
    }
    for (const participant of record.participants) this.checkEntities(participant.id);
  }

  private onePhase(inv: Invocation): OnePhaseCommitter {
    return {
      covers: (participants) => this.onePhaseCommitter.covers(participants),
      commit: (tx) =>
        this.call(
          inv,
          `onePhase.commit ${tx.record.txId}`,
          async () => {
            const result = await this.onePhaseCommitter.commit(tx);
            this.log(`   ↳ one phase: ${result.kind}`);
            if (result.kind === 'committed') this.afterOnePhase(tx.record);
            return result;
          },
          {
            items: [
              recordItem(tx.record.txId),
              ...tx.record.participants.flatMap((p) =>
                reservedOps(this.kinds.get(p.id)!.kind.parseOperations(p.operations)).map(
                  (op) => `${p.id}:${op.id}`,
                ),
              ),
            ],
            transactional: true,
          },
        ),
    };
  }

  private afterSlotWrite(next: SlotRow, writer: CoordinatorEnv): void {
    const prev = this.slotRows.get(next.slot);
    if (prev && next.epoch < prev.epoch) {
      this.violation(`fencing (7): slot ${next.slot} epoch went back from ${prev.epoch} to ${next.epoch}`);
    }
    const key = `${next.slot}:${next.epoch}`;
    const owner = this.ownerOfEpoch.get(key);
    if (owner !== undefined && owner !== next.owner) {
      this.violation(
        `fencing (7): slot ${next.slot} epoch ${next.epoch} has two owners, ${owner} and ${next.owner}`,
      );
    }
    if (next.owner !== null) this.ownerOfEpoch.set(key, next.owner);
    if (prev && prev.owner !== null && prev.owner !== next.owner) {
      this.stats.takeovers++;
      this.log(
        `   ↳ takeover of slot ${next.slot}: ${prev.owner}@${prev.epoch} → ${next.owner}@${next.epoch}`,
      );
      // Ping-pong: a live invocation working on the slot's batch holds the group (FIFO), so only
      // a zombie can take the slot from it. A zombie may land one such write — the one it had in
      // flight when it stalled; past its deadline it takes no slot, so never a second one.
      const holder = this.envs.find(
        (env) =>
          env.owner === prev.owner &&
          env.current !== null &&
          env.batch?.group === groupOf(next.slot) &&
          this.now - env.batch.startedAtMs < FUNCTION_TIMEOUT_MS,
      );
      const zombie = writer.current;
      if (holder && zombie && writer.batch && this.now - writer.batch.startedAtMs >= FUNCTION_TIMEOUT_MS) {
        const count = (this.zombieTakeovers.get(zombie.id) ?? 0) + 1;
        this.zombieTakeovers.set(zombie.id, count);
        if (count > 1) {
          this.violation(
            `liveness (ping-pong): ${zombie.name}, past its deadline, took slot ${next.slot} from ${prev.owner} ` +
              `(working on the group's batch) for the ${count}th time`,
          );
        }
      }
    }
    this.slotRows.set(next.slot, next);
  }

  private afterSave(
    prev: TxRecord | undefined,
    next: TxRecord,
    fence: Fence,
    row: SlotRow | undefined,
  ): void {
    const { txId } = next;
    const mechanisms = !this.options.outcomesOnly;
    if (mechanisms && (!row || row.owner !== fence.owner || row.epoch !== fence.epoch)) {
      this.violation(
        `fencing (7): write of ${txId} (${next.state}) accepted from ${fence.owner} at epoch ${fence.epoch}, ` +
          `but slot ${fence.slot} is ${row ? `${row.owner}'s at epoch ${row.epoch}` : 'unowned'}`,
      );
    }
    const last = this.acceptedEpoch.get(fence.slot) ?? 0;
    if (mechanisms && fence.epoch < last) {
      this.violation(`fencing (7): slot ${fence.slot} accepted epoch ${fence.epoch} after epoch ${last}`);
    }
    this.acceptedEpoch.set(fence.slot, Math.max(last, fence.epoch));
    if (!prev) {
      this.violation(`saved ${txId}, which was never created`);
    } else {
      if (mechanisms && next.version !== prev.version + 1) {
        this.violation(`${txId}: version ${prev.version} → ${next.version}`);
      }
      const before = decisionOf(prev.state);
      const after = decisionOf(next.state);
      if (before !== null && after !== before) {
        this.violation(`agreement (2): ${txId} decided ${before}, then ${after}`);
      }
      if (before === null && after === 'COMMIT') {
        for (const participant of next.participants) {
          if (participant.kind !== 'ledger') continue;
          for (const op of reservedOps(LEDGER.parseOperations(participant.operations))) {
            this.ledgerInFlight += op.action === 'take' ? -op.amount : op.amount;
          }
        }
        for (const participant of next.participants) {
          const barrier = this.participantStores.get(participant.id)?.barrier(txId, participant.id);
          if (barrier?.state !== 'PREPARED' || next.votes[participant.id]?.vote !== 'YES') {
            this.violation(
              `validity (3): ${txId} decided COMMIT but ${participant.id} is ${barrier?.state ?? 'unprepared'} ` +
                `(vote ${next.votes[participant.id]?.vote ?? 'none'})`,
            );
          }
        }
      }
    }
    this.durable.set(txId, next);
    this.streamed(prev, next);
    if (isTerminal(next.state)) {
      this.undecidedOrLive.delete(txId);
      this.ended(txId);
      if (this.plan.events) this.unpublished.add(txId);
    }
    this.log(`   ↳ durable: ${txId} v${next.version} ${next.state}${next.reason ? ` (${next.reason})` : ''}`);
  }

  /**
   * A participant noted its vote or ack on the record, with its barrier: the note must say what
   * the barrier says, and land on the record the coordinator last made durable (+1 version).
   */
  private afterNote(participantId: string, barrier: ParticipantBarrier, note: RecordNote): void {
    const prev = this.durable.get(note.txId);
    const next = prev ? applyNote(prev, note) : null;
    if (!prev || !next) {
      this.violation(
        `${participantId} noted ${note.reply.type} on ${note.txId}, which refuses it (${prev?.state})`,
      );
      return;
    }
    const { reply } = note;
    const agrees =
      reply.type === 'Vote'
        ? reply.vote === barrier.vote && (barrier.state === 'PREPARED' || barrier.state === 'VOTED_NO')
        : reply.outcome === barrier.state;
    if (!agrees) {
      this.violation(
        `${participantId} noted ${JSON.stringify(reply)} on ${note.txId} with barrier ${barrier.state}`,
      );
    }
    this.durable.set(note.txId, next);
    this.streamed(prev, next);
    this.log(`   ↳ noted on ${note.txId}: v${next.version} ${next.timeline.at(-1)?.event}`);
  }

  private afterParticipantWrite(
    participantId: string,
    next: ParticipantBarrier,
    action: ParticipantAction,
  ): void {
    const record = this.durable.get(next.txId);
    const decision = record ? decisionOf(record.state) : null;
    this.log(`   ↳ ${participantId} barrier ${next.txId} ${next.state} (${action.type})`);
    if (!record) {
      this.violation(`${participantId} wrote a barrier for ${next.txId}, which does not exist`);
    } else if (next.state === 'COMMITTED' && decision !== 'COMMIT') {
      this.violation(
        `decision before effect (4): ${participantId} applied ${next.txId} while its durable state is ${record.state}`,
      );
    } else if (next.state === 'ABORTED' && decision !== 'ABORT') {
      this.violation(
        `decision before effect (4): ${participantId} aborted ${next.txId} while its durable state is ${record.state}`,
      );
    }
    this.account(participantId, next, action);
    this.checkEntities(participantId);
  }

  /**
   * Every entity: total = opening + the deltas of the barriers that applied it (each at most once),
   * held = the holds of its PREPARED barriers, available = total − held ≥ 0. And the ledger's sum,
   * counting committed transfers whose other half is still in flight, never changes.
   */
  private checkEntities(participantId: string): void {
    const store = this.participantStores.get(participantId)!;
    const entityKind = participantId === 'inventory' ? 'item' : 'account';
    for (const entity of store.entities()) {
      this.checkEntity(participantId, entity);
      const key = `${entityKind}:${entity.id}`;
      const want = (this.opening.get(key) ?? 0) + (this.appliedDelta.get(key) ?? 0);
      if (entity.total !== want) {
        this.violation(
          `exactly-once (6): ${participantId} '${entity.id}' has ${entity.total}, opening + applied deltas = ${want}`,
        );
      }
      const held = this.expectedHeld.get(key) ?? 0;
      if (entity.held !== held) {
        this.violation(
          `${participantId} '${entity.id}' holds ${entity.held}, its prepared barriers hold ${held}`,
        );
      }
    }
    if (participantId.startsWith('ledger-')) {
      let total = 0;
      for (const [id, other] of this.participantStores) {
        if (id.startsWith('ledger-')) for (const entity of other.entities()) total += entity.total;
      }
      if (total + this.ledgerInFlight !== this.ledgerTotal) {
        this.violation(
          `conservation (5): the ledger holds ${total} with ${this.ledgerInFlight} committed in flight; it opened with ${this.ledgerTotal}`,
        );
      }
    }
  }

  /** Bookkeeping of a successful barrier write, for checkEntities. */
  private account(participantId: string, next: ParticipantBarrier, action: ParticipantAction): void {
    if (action.type === 'none') return;
    const entityKind = participantId === 'inventory' ? 'item' : 'account';
    const key = `${next.txId}#${participantId}`;
    if (action.type === 'apply') {
      if (this.applied.has(key))
        this.violation(`exactly-once (6): ${participantId} applied ${next.txId} twice`);
      this.applied.add(key);
    }
    for (const op of reservedOps(action.reservation)) {
      const entity = `${entityKind}:${op.id}`;
      const take = op.action === 'take' ? op.amount : 0;
      if (action.type === 'reserve')
        this.expectedHeld.set(entity, (this.expectedHeld.get(entity) ?? 0) + take);
      if (action.type === 'apply' || action.type === 'release') {
        this.expectedHeld.set(entity, (this.expectedHeld.get(entity) ?? 0) - take);
      }
      if (action.type === 'apply') {
        const delta = op.action === 'take' ? -op.amount : op.amount;
        this.appliedDelta.set(entity, (this.appliedDelta.get(entity) ?? 0) + delta);
        if (entityKind === 'account') this.ledgerInFlight -= delta;
      }
    }
  }

  private checkEntity(participantId: string, entity: EntityRecord): void {
    if (entity.available < 0 || entity.held < 0 || entity.total < 0) {
      this.violation(`conservation (5): ${participantId} '${entity.id}' is ${JSON.stringify(entity)}`);
    }
    if (entity.available !== entity.total - entity.held) {
      this.violation(`${participantId} '${entity.id}': available ≠ total − held: ${JSON.stringify(entity)}`);
    }
  }

  /** At quiescence: terminal, agreeing, no holds, exactly-once totals, queues drained. */
  private finalChecks(): void {
    this.log('── quiescence: final checks ──');
    // Termination (8), with a bound: once faults stop (or the transaction begins, if later), it
    // ends within TERMINATION_BOUND_MS — unless a message of it waited in a DLQ for the operator.
    for (const [txId, terminalAtMs] of this.terminalAt) {
      if (this.deadLetteredTx.has(txId)) continue;
      const lagMs = terminalAtMs - Math.max(this.faultsStopAtMs, this.createdAt.get(txId) ?? T0_MS);
      this.stats.maxTerminalLagMs = Math.max(this.stats.maxTerminalLagMs, lagMs);
      if (lagMs > TERMINATION_BOUND_MS) {
        this.violation(
          `termination (8): ${txId} ended ${lagMs} ms after faults stopped or it began (bound ${TERMINATION_BOUND_MS} ms)`,
        );
      }
    }
    const expected = new Map(this.opening);
    // Every transaction ever created — also those whose record expired (TTL) since.
    for (const record of this.durable.values()) {
      const { txId, state } = record;
      if (!isTerminal(state)) {
        this.violation(`termination (8): ${txId} is ${state} at quiescence`);
        continue;
      }
      if (state === 'COMMITTED') this.stats.committed++;
      else this.stats.aborted++;
      if (record.reason === 'prepare timeout') this.stats.timeouts++;
      if (this.plan.events && this.published.get(txId) !== state) {
        this.violation(`events: ${txId} is ${state} but announced ${this.published.get(txId) ?? 'nothing'}`);
      }
      for (const participant of record.participants) {
        const barrier = this.participantStores.get(participant.id)?.barrier(txId, participant.id);
        if (record.mode === 'one-phase') {
          // One atomic write applied it (or nothing): no participant ever saw it.
          if (barrier !== undefined) {
            this.violation(`atomicity (1): one-phase ${txId} has a barrier at ${participant.id}`);
          }
        } else if (barrier?.state !== state) {
          this.violation(
            `atomicity/agreement (1, 2): ${txId} is ${state} but ${participant.id}'s barrier is ${barrier?.state ?? 'missing'}`,
          );
        }
        if (state !== 'COMMITTED') continue;
        const { kind } = this.kinds.get(participant.id)!;
        const entityKind = kind.definition.counter!.entity;
        for (const op of reservedOps(kind.parseOperations(participant.operations))) {
          const key = `${entityKind}:${op.id}`;
          expected.set(key, (expected.get(key) ?? 0) + (op.action === 'take' ? -op.amount : op.amount));
        }
      }
    }
    for (const [participantId, store] of this.participantStores) {
      for (const barrier of store.barriers()) {
        const record = this.durable.get(barrier.txId);
        if (!record || record.state !== barrier.state) {
          this.violation(
            `agreement (2): ${participantId} barrier of ${barrier.txId} is ${barrier.state}, the coordinator says ${record?.state ?? 'nothing'}`,
          );
        }
      }
      const entityKind = participantId === 'inventory' ? 'item' : 'account';
      for (const entity of store.entities()) {
        this.checkEntity(participantId, entity);
        if (entity.held !== 0)
          this.violation(`termination (8): ${participantId} '${entity.id}' still holds ${entity.held}`);
        const want = expected.get(`${entityKind}:${entity.id}`);
        if (entity.total !== want) {
          this.violation(
            `exactly-once (6): ${participantId} '${entity.id}' has ${entity.total}, opening + committed deltas = ${want}`,
          );
        }
      }
    }
    // A try the relay gave up on sent no vote, maybe after it took effect unseen: the barrier ends
    // as the transaction did (a re-sent try's answer, or the prepare timeout's abort and its
    // cancel), and no hold is left (checked above with every entity's).
    const https = this.plan.https?.participant;
    for (const txId of this.triesGivenUp) {
      const record = this.durable.get(txId);
      const barrier =
        https === undefined ? undefined : this.participantStores.get(https)?.barrier(txId, https);
      if (record === undefined || !isTerminal(record.state) || barrier?.state !== record.state) {
        this.violation(
          `https: the relay gave up on the try of ${txId}, which is ${record?.state ?? 'unknown'} with ${https}'s barrier ${barrier?.state ?? 'missing'}`,
        );
      }
    }
    const parked = this.queues().reduce((sum, queue) => sum + queue.dlq.length, 0);
    if (parked > 0)
      this.violation(`nothing lost (9): ${parked} message(s) still dead-lettered after the redrive`);
  }
}

export function emptyStats(): SimStats {
  return {
    events: 0,
    virtualMs: 0,
    submits: 0,
    transactions: 0,
    committed: 0,
    aborted: 0,
    timeouts: 0,
    apiRejected: 0,
    apiConflicts: 0,
    crashes: 0,
    injectedErrors: 0,
    duplicates: 0,
    redeliveries: 0,
    takeovers: 0,
    zombies: 0,
    fenceRejections: 0,
    versionConflicts: 0,
    dlqMoves: 0,
    conflicts: 0,
    throttles: 0,
    zombieDrops: 0,
    expired: 0,
    keysReused: 0,
    httpsSeeds: 0,
    httpCalls: 0,
    httpTimeouts: 0,
    httpRefused: 0,
    httpBusy: 0,
    httpDuplicates: 0,
    httpLostAnswers: 0,
    httpDown: 0,
    longOutages: 0,
    httpOffContract: 0,
    relayTryGiveUps: 0,
    relayFinishGiveUps: 0,
    relayKilled: 0,
    maxBlockedMs: 0,
    maxTerminalLagMs: 0,
  };
}

export async function runSeed(options: SimOptions): Promise<SimResult> {
  return new World(options).run();
}

import { Backoff, type Pacing, REAL_PACING } from '../backoff';
import { type CoordinatorTransport, performEffects } from '../coordinator/effects';
import { ConflictError, ContentionError, NotFoundError, UnprocessableError } from '../errors';
import type {
  Clock,
  EntityDirectory,
  EntityRef,
  OnePhaseCommitter,
  StoredTx,
  TxOrigin,
  TxStore,
} from '../ports';
import {
  type CoordinatorConfig,
  type CoordinatorEffect,
  isTerminal,
  type NewTransaction,
  onePhaseRecord,
  outcomeOf,
  settledState,
  slotOf,
  startTransaction,
  type TxRecord,
} from '../protocol';
import type { Operation, ParticipantRegistry } from '../registry';
import type { CommitPreference } from '../schemas';
import { incarnatedTxId, keyedRecordKey, newIncarnation, randomTxId } from '../txid';
import { entityRefsOf, planParticipants, type RequestIdentity, requestIdentityOf } from './plan';

/**
 * How often, at most, a `?wait=N` request re-reads the record (consistent read). The first
 * FAST_POLLS re-reads come every FAST_POLL_MS — a two-phase transaction is usually terminal within
 * four hops, a few tens of ms each — then the interval doubles up to this. A fixed 200 ms step
 * added ~100 ms to every waited answer; the fast reads cost a few read units more per transaction.
 */
const POLL_INTERVAL_MS = 200;
const FAST_POLL_MS = 20;
const FAST_POLLS = 10;

export interface TransactionsConfig {
  /** The deployment's participants: where each operation goes. */
  readonly registry: ParticipantRegistry;
  readonly slotCount: number;
  readonly coordinator: CoordinatorConfig;
  /** Defaults to POLL_INTERVAL_MS. */
  readonly pollIntervalMs?: number;
}

export interface TransactionsDeps {
  readonly store: TxStore;
  /** What a `?wait=N` hold re-reads the record through; defaults to `store` (the API labels these reads for the request meter). */
  readonly waitStore?: Pick<TxStore, 'load'>;
  readonly directory: EntityDirectory;
  readonly clock: Clock;
  /** Waits `ms` (a fake one in tests advances a fake clock). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Id of a transaction submitted without an idempotency key; defaults to `randomTxId`. */
  readonly newTxId?: () => string;
  /** Incarnation of a transaction submitted with a key (see shared/txid.ts); defaults to random. */
  readonly newIncarnation?: () => string;
  /**
   * Beginning a two-phase transaction failed after its record was written: a Prepare or its first
   * timer could not be sent. The request still succeeds: the record's check at `nextCheckAtMs` (the
   * sweeper, if the timer is what was lost) re-sends the Prepares. Log it.
   */
  readonly onBeginFailed?: (txId: string, error: unknown) => void;
  /**
   * Where the API sends what starts a two-phase transaction: it writes the record PREPARING
   * (`startTransaction`, pure) and sends Prepare to the participants itself. Safe without the
   * slot's fence: the write creates a record nobody else has seen (`attribute_not_exists`), and
   * every later write to it is version-conditioned and fenced. A lost send is re-sent on the
   * record's next check (a timer or the sweeper), as after any crash between a write and its effects.
   */
  readonly transport: CoordinatorTransport;
  /** Called once per transaction actually created (not for replays), e.g. to count it. */
  readonly onCreated?: (record: TxRecord) => void;
  /**
   * The one-phase fast path: when it covers every participant of a transaction (and the request
   * does not ask for two-phase), the transaction commits in one atomic write. Absent: always 2PC.
   */
  readonly onePhase?: OnePhaseCommitter;
  /** Called once a one-phase transaction is terminal (logs, metrics). */
  readonly onTerminal?: (record: TxRecord) => void;
  /**
   * How to wait out contention on the record's create or the one-phase commit (a conflict with
   * another transaction, a throttle), within the request's time budget; real timers by default.
   */
  readonly pacing?: Pacing;
  /** Hears of every write refused by contention (then retried after a backoff). */
  readonly onContention?: (error: ContentionError) => void;
}

export interface SubmitRequest {
  readonly operations: readonly Operation[];
  readonly idempotencyKey?: string;
  /**
   * Who submits (the API's caller: an IAM principal, a JWT subject): keys are scoped to it, so one
   * caller's key never finds another caller's transaction. '' (the default): one scope for all.
   */
  readonly scope?: string;
  /** Hold up to this long for a terminal state (0: answer at once). */
  readonly waitMs?: number;
  /** `two-phase` skips the one-phase fast path even where it applies; default `auto`. */
  readonly commit?: CommitPreference;
  /**
   * Where the request came from, stored with the record and repeated on its outcome event. A
   * replay keeps the origin of the request that created the transaction.
   */
  readonly origin?: TxOrigin;
}

export interface SubmitResult {
  /** The latest record read (terminal if it became so within the wait). */
  readonly record: TxRecord;
  /** True when an earlier request with the same idempotency key created the transaction. */
  readonly replayed: boolean;
}

/**
 * The producer's use cases: submit a transaction (validate entities, write the record with a
 * conditional put, send Prepare or commit it in one phase) and read one, optionally long-polling
 * for its outcome.
 */
export class Transactions {
  private readonly pollIntervalMs: number;

  constructor(
    private readonly deps: TransactionsDeps,
    private readonly config: TransactionsConfig,
  ) {
    this.pollIntervalMs = config.pollIntervalMs ?? POLL_INTERVAL_MS;
    if (!Number.isSafeInteger(this.pollIntervalMs) || this.pollIntervalMs < 1) {
      throw new RangeError(`pollIntervalMs must be a positive integer, got ${this.pollIntervalMs}`);
    }
  }

  /**
   * Creates the transaction, or finds the one an earlier request with the same idempotency key
   * created (while its record lives: see shared/txid.ts): same request → that transaction
   * (`replayed`); different request → ConflictError. Past the record's expiry the key starts a new
   * transaction, with a new id, on either path.
   * Where the one-phase committer covers every participant, the transaction commits (or is
   * refused) in one atomic write and comes back terminal; otherwise it goes two-phase. Either way
   * an unknown account or sku → UnprocessableError, nothing written.
   */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const { registry, slotCount } = this.config;
    const participants = planParticipants(request.operations, registry);
    const identity = { ...requestIdentityOf(participants, registry), origin: request.origin };
    const txId =
      request.idempotencyKey !== undefined
        ? incarnatedTxId(
            keyedRecordKey(request.idempotencyKey, request.scope),
            (this.deps.newIncarnation ?? newIncarnation)(),
          )
        : (this.deps.newTxId ?? randomTxId)();
    const tx: NewTransaction = { txId, slot: slotOf(txId, slotCount), participants };

    const refs = entityRefsOf(request.operations, registry);
    const { onePhase } = this.deps;
    // One budget of waits for the request's contended writes (the one-phase commit, the create).
    const backoff = new Backoff(this.deps.pacing ?? REAL_PACING, this.deps.clock);
    if (request.commit !== 'two-phase' && onePhase?.covers(participants)) {
      const done = await this.submitOnePhase(onePhase, tx, refs, identity, request.waitMs ?? 0, backoff);
      if (done) return done;
      // An unknown entity (the check below answers 422) or a contended item: two-phase it is.
    }

    const missing = await this.deps.directory.missing(refs);
    if (missing.length > 0) {
      throw new UnprocessableError(`unknown ${missing.map(describeRef).join(', ')}; nothing was written`);
    }
    return this.submitTwoPhase(tx, identity, request.waitMs ?? 0, backoff);
  }

  /** Creates the record unless its txId exists, waiting out contention (see `pacing`). */
  private create(tx: StoredTx, backoff: Backoff) {
    return backoff.retry(() => this.deps.store.create(tx), this.deps.onContention);
  }

  /** Two phases: the API starts the transaction (record written PREPARING, Prepare sent from here). */
  private async submitTwoPhase(
    tx: NewTransaction,
    identity: Identity,
    waitMs: number,
    backoff: Backoff,
  ): Promise<SubmitResult> {
    const started = startTransaction(tx, this.deps.clock.nowMs(), this.config.coordinator);
    const record = started.state;
    const outcome = await this.create(storedOf(record, identity), backoff);
    if (!outcome.created) return this.replay(outcome.existing, identity, waitMs);
    this.deps.onCreated?.(record);
    return { record: await this.startAndWait(record, started.effects, waitMs), replayed: false };
  }

  /**
   * Performs the start's effects and holds the answer for `waitMs`. The prepare phase's timer
   * is armed lazily while the answer is held: the API watches the record itself and arms the timer
   * only if its check comes due while the transaction is undecided, or when the wait ends undecided
   * — so a transaction decided within the wait never pays for a timer. (If this Lambda dies while
   * waiting, the sweeper finds the record on the `due` index.)
   */
  private async startAndWait(
    record: TxRecord,
    effects: readonly CoordinatorEffect[],
    waitMs: number,
  ): Promise<TxRecord> {
    if (waitMs <= 0) {
      await this.start(record, effects);
      return record;
    }
    const timers = effects.filter((e) => e.type === 'ScheduleCheck');
    await this.start(
      record,
      effects.filter((e) => e.type !== 'ScheduleCheck'),
    );
    let armed = false;
    const armIfDue = async (latest: TxRecord, waitOver: boolean) => {
      if (armed || outcomeOf(latest.state) !== null) return;
      const nowMs = this.deps.clock.nowMs();
      if (!timers.some((t) => waitOver || t.atMs <= nowMs)) return;
      armed = true;
      await this.start(record, timers);
    };
    const latest = await this.waitForTerminal(record, waitMs, (r) => armIfDue(r, false));
    await armIfDue(latest, true);
    return latest;
  }

  /**
   * The one-phase fast path: the record and every operation in one atomic write. A refusal (e.g.
   * insufficient funds) writes the ABORTED record alone, so the outcome is kept and replayable like
   * any other. Contention (another transaction on an item, a throttle) is waited out; past the
   * backoff, two phases take over. Undefined when two-phase must take over (nothing was written).
   */
  private async submitOnePhase(
    onePhase: OnePhaseCommitter,
    tx: NewTransaction,
    refs: readonly EntityRef[],
    identity: Identity,
    waitMs: number,
    backoff: Backoff,
  ): Promise<SubmitResult | undefined> {
    const nowMs = this.deps.clock.nowMs();
    const { coordinator } = this.config;
    const stored = (record: TxRecord): StoredTx => storedOf(record, identity);
    const committed = stored(onePhaseRecord(tx, nowMs, coordinator, { decision: 'COMMIT' }));
    let result: Awaited<ReturnType<OnePhaseCommitter['commit']>>;
    try {
      result = await backoff.retry(() => onePhase.commit(committed), this.deps.onContention);
    } catch (error) {
      if (error instanceof ContentionError) return undefined;
      throw error;
    }
    switch (result.kind) {
      case 'committed':
        return { record: this.created(committed), replayed: false };
      case 'refused': {
        // An unknown entity is a 422 with nothing written, even when another operation was also
        // refused (found by the chaos workload): two-phase's check answers it.
        if ((await this.deps.directory.missing(refs)).length > 0) return undefined;
        const { participantId, reason } = result;
        const aborted = stored(
          onePhaseRecord(tx, nowMs, coordinator, { decision: 'ABORT', participantId, reason }),
        );
        const outcome = await this.create(aborted, backoff);
        if (!outcome.created) return this.replay(outcome.existing, identity, waitMs);
        return { record: this.created(aborted), replayed: false };
      }
      case 'exists': {
        const existing = await this.deps.store.load(tx.txId);
        if (!existing) return undefined; // gone already (TTL): start afresh
        return this.replay(existing, identity, waitMs);
      }
      case 'unknown-entity':
      case 'contended':
        return undefined;
    }
  }

  /**
   * A one-phase record was written: count it and return it. Its outcome goes out as an event from
   * the table's stream, like every other (events out).
   */
  private created(stored: StoredTx): TxRecord {
    this.deps.onCreated?.(stored.record);
    this.deps.onTerminal?.(stored.record);
    return stored.record;
  }

  /** An earlier request with the same idempotency key created `existing`: same request → it. */
  private async replay(existing: StoredTx, identity: RequestIdentity, waitMs: number): Promise<SubmitResult> {
    if (!identity.matches(existing.requestHash)) {
      throw new ConflictError(
        `idempotency key reused with a different request (it names transaction ${existing.record.txId})`,
      );
    }
    const current = existing.record;
    return { record: waitMs > 0 ? await this.waitForTerminal(current, waitMs) : current, replayed: true };
  }

  /** The transaction `txId`; with `waitMs` > 0, held until it is terminal or the time is up. */
  async get(txId: string, waitMs = 0): Promise<TxRecord> {
    const stored: StoredTx | undefined = await this.deps.store.load(txId);
    if (!stored) throw new NotFoundError(`transaction '${txId}' does not exist`);
    return waitMs > 0 ? this.waitForTerminal(stored.record, waitMs) : stored.record;
  }

  /** Performs the start's effects (Prepare to each participant, the first check's timer). */
  private async start(record: TxRecord, effects: readonly CoordinatorEffect[]): Promise<void> {
    const { transport, onBeginFailed, onTerminal } = this.deps;
    await performEffects(effects, record, {
      transport,
      onEffectFailed: (_effect, failed, error) => onBeginFailed?.(failed.txId, error),
      ...(onTerminal ? { onTerminal } : {}),
    });
  }

  /**
   * Re-reads the record until it is terminal or `waitMs` has passed (FAST_POLLS times every
   * FAST_POLL_MS, then doubling up to the poll interval), and returns the latest one read. Bounded by the sum of the
   * intervals reaching `waitMs` even if the clock stood still.
   */
  private async waitForTerminal(
    initial: TxRecord,
    waitMs: number,
    /** Hears every record read during the wait (the lazy timer of a fresh transaction). */
    onRead?: (record: TxRecord) => Promise<void>,
  ): Promise<TxRecord> {
    const deadlineMs = this.deps.clock.nowMs() + waitMs;
    const intervalOf = (round: number) =>
      Math.min(
        this.pollIntervalMs,
        round < FAST_POLLS ? FAST_POLL_MS : FAST_POLL_MS * 2 ** Math.min(round - FAST_POLLS + 1, 30),
      );
    let record = initial;
    for (let round = 0, slept = 0; slept < waitMs && !isTerminal(settledState(record)); round++) {
      const remainingMs = deadlineMs - this.deps.clock.nowMs();
      if (remainingMs <= 0) break;
      const intervalMs = Math.min(intervalOf(round), remainingMs);
      slept += intervalMs;
      await this.deps.sleep(intervalMs);
      const stored = await (this.deps.waitStore ?? this.deps.store).load(record.txId);
      // Records are only deleted by TTL long after they are terminal; keep the last one read.
      if (stored) record = stored.record;
      await onRead?.(record);
    }
    return record;
  }
}

/** The request's identity (its hash) and where it came from: what is stored beside the record. */
type Identity = RequestIdentity & { readonly origin: TxOrigin | undefined };

/** The record as stored: with its request's hash, and its origin only when there is one. */
function storedOf(record: TxRecord, identity: Identity): StoredTx {
  return {
    record,
    requestHash: identity.hash,
    ...(identity.origin !== undefined ? { origin: identity.origin } : {}),
  };
}

function describeRef(ref: EntityRef): string {
  return `${ref.entity} '${ref.id}'`;
}

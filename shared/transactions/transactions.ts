import { ConflictError, NotFoundError, UnprocessableError } from '../errors';
import type { Clock, CoordinatorInbox, EntityDirectory, EntityRef, StoredTx, TxStore } from '../ports';
import { type CoordinatorConfig, isTerminal, newTransaction, slotOf, type TxRecord } from '../protocol';
import type { Operation } from '../schemas';
import { entityRefsOf, planParticipants, randomTxId, requestHashOf, txIdOfIdempotencyKey } from './plan';

/** How often a `?wait=N` request re-reads the record (consistent read). */
export const POLL_INTERVAL_MS = 200;

export interface TransactionsConfig {
  readonly ledgerShardCount: number;
  readonly slotCount: number;
  readonly coordinator: CoordinatorConfig;
  /** Defaults to POLL_INTERVAL_MS. */
  readonly pollIntervalMs?: number;
}

export interface TransactionsDeps {
  readonly store: TxStore;
  /** What a `?wait=N` hold re-reads the record through; defaults to `store` (the API labels these reads for the request meter). */
  readonly waitStore?: Pick<TxStore, 'load'>;
  readonly inbox: CoordinatorInbox;
  readonly directory: EntityDirectory;
  readonly clock: Clock;
  /** Waits `ms` (a fake one in tests advances a fake clock). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Id of a transaction submitted without an idempotency key; defaults to `randomTxId`. */
  readonly newTxId?: () => string;
  /**
   * Sending `Begin` failed. The request still succeeds: the record is durable and the sweeper
   * starts it at its `nextCheckAtMs`. Log it.
   */
  readonly onBeginFailed?: (txId: string, error: unknown) => void;
  /** Called once per transaction actually created (not for replays), e.g. to count it. */
  readonly onCreated?: (record: TxRecord) => void;
}

export interface SubmitRequest {
  readonly operations: readonly Operation[];
  readonly idempotencyKey?: string;
  /** Hold up to this long for a terminal state (0: answer at once). */
  readonly waitMs?: number;
}

export interface SubmitResult {
  /** The latest record read (terminal if it became so within the wait). */
  readonly record: TxRecord;
  /** True when an earlier request with the same idempotency key created the transaction. */
  readonly replayed: boolean;
}

/**
 * The producer's use cases: submit a transaction (validate entities, write the PENDING record
 * with a conditional put, enqueue Begin) and read one, optionally long-polling for its outcome.
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
   * created: same request → that transaction (`replayed`); different request → ConflictError.
   * Entities are checked first: any unknown account or sku → UnprocessableError, nothing written.
   */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const { ledgerShardCount, slotCount } = this.config;
    const missing = await this.deps.directory.missing(entityRefsOf(request.operations, ledgerShardCount));
    if (missing.length > 0) {
      throw new UnprocessableError(`unknown ${missing.map(describeRef).join(', ')}; nothing was written`);
    }

    const participants = planParticipants(request.operations, ledgerShardCount);
    const requestHash = requestHashOf(participants);
    const txId =
      request.idempotencyKey !== undefined
        ? txIdOfIdempotencyKey(request.idempotencyKey)
        : (this.deps.newTxId ?? randomTxId)();
    const record = newTransaction(
      { txId, slot: slotOf(txId, slotCount), participants },
      this.deps.clock.nowMs(),
      this.config.coordinator,
    );

    const outcome = await this.deps.store.create({ record, requestHash });
    let current: TxRecord = record;
    let replayed = false;
    if (!outcome.created) {
      if (outcome.existing.requestHash !== requestHash) {
        throw new ConflictError(
          `idempotency key reused with a different request (it names transaction ${txId})`,
        );
      }
      current = outcome.existing.record;
      replayed = true;
    } else {
      this.deps.onCreated?.(record);
    }
    // A replay re-sends Begin while the record is still PENDING: harmless (the FIFO queue drops a
    // duplicate within 5 minutes by its deduplication id; the coordinator ignores a Begin once
    // started), and it starts a transaction whose first Begin was lost without waiting for the sweeper.
    if (current.state === 'PENDING') await this.begin(current);

    const waitMs = request.waitMs ?? 0;
    return { record: waitMs > 0 ? await this.waitForTerminal(current, waitMs) : current, replayed };
  }

  /** The transaction `txId`; with `waitMs` > 0, held until it is terminal or the time is up. */
  async get(txId: string, waitMs = 0): Promise<TxRecord> {
    const stored: StoredTx | undefined = await this.deps.store.load(txId);
    if (!stored) throw new NotFoundError(`transaction '${txId}' does not exist`);
    return waitMs > 0 ? this.waitForTerminal(stored.record, waitMs) : stored.record;
  }

  private async begin(record: TxRecord): Promise<void> {
    try {
      await this.deps.inbox.begin(record.txId, record.slot);
    } catch (error) {
      this.deps.onBeginFailed?.(record.txId, error);
    }
  }

  /**
   * Re-reads the record every poll interval until it is terminal or `waitMs` has passed, and
   * returns the latest one read. Bounded by the number of intervals in `waitMs` even if the clock
   * stood still.
   */
  private async waitForTerminal(initial: TxRecord, waitMs: number): Promise<TxRecord> {
    const deadlineMs = this.deps.clock.nowMs() + waitMs;
    const roundsMax = Math.ceil(waitMs / this.pollIntervalMs) + 1;
    let record = initial;
    for (let round = 0; round < roundsMax && !isTerminal(record.state); round++) {
      const remainingMs = deadlineMs - this.deps.clock.nowMs();
      if (remainingMs <= 0) break;
      await this.deps.sleep(Math.min(this.pollIntervalMs, remainingMs));
      const stored = await (this.deps.waitStore ?? this.deps.store).load(record.txId);
      // Records are only deleted by TTL long after they are terminal; keep the last one read.
      if (stored) record = stored.record;
    }
    return record;
  }
}

function describeRef(ref: EntityRef): string {
  return `${ref.kind === 'item' ? 'sku' : ref.kind} '${ref.id}'`;
}

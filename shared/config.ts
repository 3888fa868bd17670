import { envInt, envString, envStringMap } from './env';
import { ConfigurationError } from './errors';
import type { CoordinatorConfig } from './protocol';
import { decodeSpecs } from './registry';

/** Environment of the API function, read once at cold start; a missing variable fails there. */
export interface ApiConfig {
  /**
   * TANDEM_PARTICIPANTS: the deployment's participant specs (JSON array, shared/registry.ts), as
   * the construct registered them; checked when the registry is built.
   */
  readonly participants: readonly unknown[];
  /** COUNTER_TABLES: counter participant id → its table (JSON), for the entity check and one phase. */
  readonly counterTables: Readonly<Record<string, string>>;
  /** TRANSACTIONS_TABLE: the coordinator log. */
  readonly transactionsTable: string;
  /** SLOTS_TABLE: the leader slot table (DynamoTxStore needs it; the API never fences). */
  readonly slotsTable: string;
  /**
   * TIMER_QUEUE_URL and PARTICIPANT_QUEUES (participant id → inbox URL, JSON): where the API sends
   * what starts a two-phase transaction (Prepare to each participant, the first check's timer).
   */
  readonly start: {
    readonly timerQueueUrl: string;
    readonly participantQueues: Readonly<Record<string, string>>;
  };
  /** SLOT_COUNT: number of leader slots (1–1024); a transaction's slot is `slotOf(txId, slotCount)`. */
  readonly slotCount: number;
  /** PREPARE_TIMEOUT_MS, RESEND_BASE_MS, RESEND_CAP_MS: stamped on every new record. */
  readonly coordinator: CoordinatorConfig;
  /**
   * ONE_PHASE (`on` | `off`, default `on`): commit in one atomic write when every participant of a
   * transaction is a counter of this deployment (ledger shards, inventory).
   */
  readonly onePhase: boolean;
}

/** Most leader slots a deployment may have (the same bound the coordinator functions use). */
export const SLOT_COUNT_MAX = 1024;

/** PREPARE_TIMEOUT_MS, RESEND_BASE_MS and RESEND_CAP_MS (positive integers, base ≤ cap). */
export function readCoordinatorTimings(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const config: CoordinatorConfig = {
    prepareTimeoutMs: envInt(env, 'PREPARE_TIMEOUT_MS', 1, Number.MAX_SAFE_INTEGER),
    resendBaseMs: envInt(env, 'RESEND_BASE_MS', 1, Number.MAX_SAFE_INTEGER),
    resendCapMs: envInt(env, 'RESEND_CAP_MS', 1, Number.MAX_SAFE_INTEGER),
  };
  if (config.resendBaseMs > config.resendCapMs) {
    throw new ConfigurationError(
      `RESEND_BASE_MS (${config.resendBaseMs}) must not exceed RESEND_CAP_MS (${config.resendCapMs})`,
    );
  }
  return config;
}

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    participants: participantSpecsOf(env),
    counterTables: env.COUNTER_TABLES ? envStringMap(env, 'COUNTER_TABLES') : {},
    transactionsTable: envString(env, 'TRANSACTIONS_TABLE'),
    slotsTable: envString(env, 'SLOTS_TABLE'),
    start: {
      timerQueueUrl: envString(env, 'TIMER_QUEUE_URL'),
      participantQueues: envStringMap(env, 'PARTICIPANT_QUEUES'),
    },
    slotCount: envInt(env, 'SLOT_COUNT', 1, SLOT_COUNT_MAX),
    coordinator: readCoordinatorTimings(env),
    onePhase: onOff(env, 'ONE_PHASE', true),
  };
}

/** TANDEM_PARTICIPANTS: a JSON array of specs, as encodeSpecs writes it (compressed) or plain. */
function participantSpecsOf(env: NodeJS.ProcessEnv): unknown[] {
  let specs: unknown;
  try {
    specs = decodeSpecs(envString(env, 'TANDEM_PARTICIPANTS'));
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError('environment variable TANDEM_PARTICIPANTS cannot be decompressed');
  }
  if (!Array.isArray(specs))
    throw new ConfigurationError('environment variable TANDEM_PARTICIPANTS must be a JSON array');
  return specs;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'on' && raw !== 'off')
    throw new ConfigurationError(`${name} must be 'on' or 'off', got '${raw}'`);
  return raw === 'on';
}

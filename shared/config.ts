import { ConfigurationError } from './errors';
import type { CoordinatorConfig } from './protocol';

/** Environment of the API function, read once at cold start; a missing variable fails there. */
export interface ApiConfig {
  /** LEDGER_SHARD_TABLES: table name of each ledger shard, in shard order (comma-separated). */
  readonly ledgerShardTables: readonly string[];
  /** INVENTORY_TABLE: the inventory participant's table. */
  readonly inventoryTable: string;
  /** TRANSACTIONS_TABLE: the coordinator log. */
  readonly transactionsTable: string;
  /** SLOTS_TABLE: the leader slot table (DynamoTxStore needs it; the API never fences). */
  readonly slotsTable: string;
  /** COORDINATOR_QUEUE_URL: the coordinator's FIFO queue, where `Begin` goes. */
  readonly coordinatorQueueUrl: string;
  /** SLOT_COUNT: number of leader slots (1–1024); a transaction's slot is `slotOf(txId, slotCount)`. */
  readonly slotCount: number;
  /** PREPARE_TIMEOUT_MS, RESEND_BASE_MS, RESEND_CAP_MS: stamped on every new record. */
  readonly coordinator: CoordinatorConfig;
}

/** Most leader slots a deployment may have (the same bound the coordinator functions use). */
export const SLOT_COUNT_MAX = 1024;

export function requiredEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value.trim();
}

/** A decimal integer in [min, max]; anything else (fractions, exponents, junk) fails. */
export function integerEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const raw = requiredEnv(env, name);
  const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `environment variable ${name} must be an integer from ${min} to ${max}, got '${raw}'`,
    );
  }
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  const values = requiredEnv(env, name)
    .split(',')
    .map((part) => part.trim());
  if (values.some((part) => part === '')) {
    throw new ConfigurationError(`${name} must be a comma-separated list of table names`);
  }
  return values;
}

/** PREPARE_TIMEOUT_MS, RESEND_BASE_MS and RESEND_CAP_MS (positive integers, base ≤ cap). */
export function readCoordinatorTimings(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const config: CoordinatorConfig = {
    prepareTimeoutMs: integerEnv(env, 'PREPARE_TIMEOUT_MS', 1, Number.MAX_SAFE_INTEGER),
    resendBaseMs: integerEnv(env, 'RESEND_BASE_MS', 1, Number.MAX_SAFE_INTEGER),
    resendCapMs: integerEnv(env, 'RESEND_CAP_MS', 1, Number.MAX_SAFE_INTEGER),
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
    ledgerShardTables: list(env, 'LEDGER_SHARD_TABLES'),
    inventoryTable: requiredEnv(env, 'INVENTORY_TABLE'),
    transactionsTable: requiredEnv(env, 'TRANSACTIONS_TABLE'),
    slotsTable: requiredEnv(env, 'SLOTS_TABLE'),
    coordinatorQueueUrl: requiredEnv(env, 'COORDINATOR_QUEUE_URL'),
    slotCount: integerEnv(env, 'SLOT_COUNT', 1, SLOT_COUNT_MAX),
    coordinator: readCoordinatorTimings(env),
  };
}

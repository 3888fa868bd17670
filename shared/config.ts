import { ConfigurationError } from './errors';

/** Environment of the API function, read once at cold start; a missing variable fails there. */
export interface ApiConfig {
  /** Table name of each ledger shard, in shard order. */
  readonly ledgerShardTables: readonly string[];
  readonly inventoryTable: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value.trim();
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  const values = required(env, name)
    .split(',')
    .map((part) => part.trim());
  if (values.some((part) => part === '')) {
    throw new ConfigurationError(`${name} must be a comma-separated list of table names`);
  }
  return values;
}

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    ledgerShardTables: list(env, 'LEDGER_SHARD_TABLES'),
    inventoryTable: required(env, 'INVENTORY_TABLE'),
  };
}

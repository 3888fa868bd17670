import { ConfigurationError } from './errors';

/** Environment of the API function, read once at cold start; a missing variable fails there. */
export interface ApiConfig {
  /** Table name of each ledger shard, in shard order. */
  readonly ledgerShardTables: readonly string[];
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value;
}

export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const ledgerShardTables = required(env, 'LEDGER_SHARD_TABLES')
    .split(',')
    .map((name) => name.trim());
  if (ledgerShardTables.some((name) => name === '')) {
    throw new ConfigurationError('LEDGER_SHARD_TABLES must be a comma-separated list of table names');
  }
  return { ledgerShardTables };
}

import type { Node } from 'constructs';

/** Deployment stages. `local` is the embedded emulator; only it may turn safety features off. */
export const STAGES = ['local', 'dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface TandemConfig {
  readonly stage: Stage;
  /** Number of ledger shards; each is its own table, queue and (later) function. Fixed per deployment. */
  readonly ledgerShardCount: number;
  /** Number of leader slots; transactions hash onto them. Fixed per deployment. */
  readonly slotCount: number;
  /** `iam` (SigV4) protects every route but /health; `none` is accepted only on the local stage. */
  readonly apiAuth: 'iam' | 'none';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function intContext(node: Node, key: string, fallback: number, min: number, max: number): number {
  const raw = node.tryGetContext(key);
  if (raw === undefined) return fallback;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`context '${key}' must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return value;
}

/** Reads and validates the deploy-time settings (`-c key=value` or cdk.json context). */
export function readConfig(node: Node): TandemConfig {
  const stage = (node.tryGetContext('stage') ?? 'dev') as string;
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new ConfigError(`context 'stage' must be one of ${STAGES.join(', ')}, got '${stage}'`);
  }
  const apiAuth = (node.tryGetContext('apiAuth') ?? 'iam') as string;
  if (apiAuth !== 'iam' && apiAuth !== 'none') {
    throw new ConfigError(`context 'apiAuth' must be 'iam' or 'none', got '${apiAuth}'`);
  }
  if (apiAuth === 'none' && stage !== 'local') {
    throw new ConfigError(`context 'apiAuth=none' is only allowed with 'stage=local' (got stage '${stage}')`);
  }
  return {
    stage: stage as Stage,
    ledgerShardCount: intContext(node, 'ledgerShards', 2, 1, 32),
    slotCount: intContext(node, 'slots', 64, 1, 1024),
    apiAuth,
  };
}

import type { Node } from 'constructs';
import { PAYMENTS_DEFAULT_PORT } from '../shared/payments/participant';

/** Deployment stages. `local` is the embedded emulator; only it may turn safety features off. */
export const STAGES = ['local', 'dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export interface TandemConfig {
  readonly stage: Stage;
  /** Number of ledger shards; each is its own table, queue and (later) function. Fixed per deployment. */
  readonly ledgerShardCount: number;
  /** Number of leader slots; transactions hash onto them. Fixed per deployment. */
  readonly slotCount: number;
  /**
   * `iam` (SigV4) protects every route but /health and /openapi.json; `jwt` uses a JWT authorizer
   * (jwtIssuer + jwtAudience); `none` is accepted only on the local stage.
   */
  readonly apiAuth: 'iam' | 'jwt' | 'none';
  readonly jwt?: { readonly issuer: string; readonly audience: readonly string[] };
  /** Origins allowed by CORS; none (no CORS headers at all) unless configured. */
  readonly corsOrigins: readonly string[];
  /** `customer`: tables are encrypted with a customer-managed KMS key of the stack (rotated yearly). */
  readonly tableKms: 'aws' | 'customer';
  /** Protocol timing (ms): undecided after prepareTimeoutMs → abort; re-sends back off base → cap. */
  readonly prepareTimeoutMs: number;
  readonly resendBaseMs: number;
  readonly resendCapMs: number;
  /** Slot leases: duration, and the clock-skew margin a holder stops acting before expiry. */
  readonly leaseDurationMs: number;
  readonly leaseSkewMarginMs: number;
  /**
   * Test deployments only: provisions the Faults table and lets handlers read fault plans from it
   * (crash and drop points). The default synth never sets it; `prod` refuses it.
   */
  readonly faults: boolean;
  /**
   * Benchmark deployments only (`-c bench=on`): every function meters its requests (TANDEM_METER)
   * and the baselines of `npm run bench` are deployed next to Tandem. `prod` refuses it.
   */
  readonly bench: boolean;
  /**
   * The one-phase fast path (`-c onePhase=off` to disable): a transaction whose operations are all in
   * this deployment's participant tables commits in one TransactWriteItems issued by the API.
   */
  readonly onePhase: boolean;
  /** Events out (`-c events=off` to disable): every terminal outcome on an EventBridge bus. */
  readonly events: boolean;
  /**
   * The loopback port of the app's payment service, an HTTPS participant (`-c paymentsPort=`):
   * the e2e tests serve it there (shared/payments/participant.ts).
   */
  readonly paymentsPort: number;
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
  if (apiAuth !== 'iam' && apiAuth !== 'jwt' && apiAuth !== 'none') {
    throw new ConfigError(`context 'apiAuth' must be 'iam', 'jwt' or 'none', got '${apiAuth}'`);
  }
  const jwtIssuer = node.tryGetContext('jwtIssuer') as string | undefined;
  const jwtAudience = node.tryGetContext('jwtAudience') as string | undefined;
  if (apiAuth === 'jwt' && (!jwtIssuer || !/^https:\/\//.test(jwtIssuer) || !jwtAudience)) {
    throw new ConfigError(`context 'apiAuth=jwt' needs 'jwtIssuer' (an https URL) and 'jwtAudience'`);
  }
  const corsOrigins = String(node.tryGetContext('corsOrigins') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(
        `context 'corsOrigins' must list origins like https://app.example.com, got '${origin}'`,
      );
    }
  }
  const tableKms = (node.tryGetContext('tableKms') ?? 'aws') as string;
  if (tableKms !== 'aws' && tableKms !== 'customer') {
    throw new ConfigError(`context 'tableKms' must be 'aws' or 'customer', got '${tableKms}'`);
  }
  if (apiAuth === 'none' && stage !== 'local') {
    throw new ConfigError(`context 'apiAuth=none' is only allowed with 'stage=local' (got stage '${stage}')`);
  }
  const faults = node.tryGetContext('faults');
  if (faults !== undefined && faults !== 'on' && faults !== true && faults !== 'true') {
    throw new ConfigError(`context 'faults' must be 'on' when given, got '${faults}'`);
  }
  if (faults !== undefined && stage === 'prod') {
    throw new ConfigError(`context 'faults' is not allowed with 'stage=prod'`);
  }
  const bench = node.tryGetContext('bench');
  if (bench !== undefined && bench !== 'on' && bench !== true && bench !== 'true') {
    throw new ConfigError(`context 'bench' must be 'on' when given, got '${bench}'`);
  }
  if (bench !== undefined && stage === 'prod') {
    throw new ConfigError(`context 'bench' is not allowed with 'stage=prod'`);
  }
  const onePhase = String(node.tryGetContext('onePhase') ?? 'on');
  if (onePhase !== 'on' && onePhase !== 'off') {
    throw new ConfigError(`context 'onePhase' must be 'on' or 'off', got '${onePhase}'`);
  }
  const eventsOut = String(node.tryGetContext('events') ?? 'on');
  if (eventsOut !== 'on' && eventsOut !== 'off') {
    throw new ConfigError(`context 'events' must be 'on' or 'off', got '${eventsOut}'`);
  }
  const resendBaseMs = intContext(node, 'resendBaseMs', 5_000, 100, 3_600_000);
  const resendCapMs = intContext(node, 'resendCapMs', 60_000, 100, 3_600_000);
  if (resendCapMs < resendBaseMs) throw new ConfigError(`context 'resendCapMs' must be ≥ 'resendBaseMs'`);
  const leaseDurationMs = intContext(node, 'leaseDurationMs', 30_000, 1_000, 3_600_000);
  const leaseSkewMarginMs = intContext(node, 'leaseSkewMarginMs', 2_000, 0, 60_000);
  if (leaseDurationMs <= 2 * leaseSkewMarginMs) {
    throw new ConfigError(`context 'leaseDurationMs' must exceed 2 × 'leaseSkewMarginMs'`);
  }
  return {
    stage: stage as Stage,
    ledgerShardCount: intContext(node, 'ledgerShards', 2, 1, 32),
    slotCount: intContext(node, 'slots', 64, 1, 1024),
    apiAuth,
    ...(apiAuth === 'jwt'
      ? {
          jwt: {
            issuer: jwtIssuer as string,
            audience: (jwtAudience as string).split(',').map((a) => a.trim()),
          },
        }
      : {}),
    corsOrigins,
    tableKms,
    prepareTimeoutMs: intContext(node, 'prepareTimeoutMs', 30_000, 1_000, 3_600_000),
    resendBaseMs,
    resendCapMs,
    leaseDurationMs,
    leaseSkewMarginMs,
    faults: faults !== undefined,
    bench: bench !== undefined,
    onePhase: onePhase === 'on',
    events: eventsOut === 'on',
    paymentsPort: intContext(node, 'paymentsPort', PAYMENTS_DEFAULT_PORT, 1, 65_535),
  };
}

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InfrastructureError } from '../errors';
import type { Clock } from '../ports';

/**
 * The secrets a call may be signed with, the current one first and, during a rotation, the previous
 * one. `fresh`: no secret matched a call; a source that caches may read again (at a bounded rate,
 * as anyone can send a call that matches nothing). Throws InfrastructureError when it cannot read.
 */
export type SecretsSource = (options?: { readonly fresh?: boolean }) => Promise<readonly string[]>;

/** Secrets given as they are, or read from a source. */
export type Secrets = readonly string[] | SecretsSource;

export interface SecretsManagerSecretsOptions {
  /** Built once per process by default (region and endpoint from the SDK's standard settings). */
  readonly client?: SecretsManagerClient;
  /** How long a read is kept; 5 minutes by default. */
  readonly maxAgeMs?: number;
  /** Fresh reads asked for by a mismatch happen at most this often; 30 s by default. */
  readonly freshReadIntervalMs?: number;
  readonly clock?: Clock;
}

const SECRETS_MAX_AGE_MS = 5 * 60_000;
const SECRETS_FRESH_READ_INTERVAL_MS = 30_000;

/**
 * The signing secret kept in AWS Secrets Manager (`secretId`: its name or ARN; the SecretString is
 * the secret itself), as a SecretsSource: the AWSCURRENT version and, when the secret has one, the
 * AWSPREVIOUS version, so calls signed with either are accepted while a rotation spreads.
 *
 * Reads go through Powertools' SecretsProvider (its cache, user agent and POWERTOOLS_* settings),
 * one provider per stage: its cache is keyed by the secret's name and transform only, not by
 * `VersionStage`, so one provider would answer AWSPREVIOUS with the cached AWSCURRENT. A secret
 * without an AWSPREVIOUS version (never rotated) is noted as such for `maxAgeMs`.
 *
 * When a call matches neither, the endpoint asks for a fresh read (at most every
 * `freshReadIntervalMs`): a rotation is then accepted at once rather than after `maxAgeMs`.
 */
export function secretsManagerSecrets(
  secretId: string,
  options: SecretsManagerSecretsOptions = {},
): SecretsSource {
  const maxAgeMs = options.maxAgeMs ?? SECRETS_MAX_AGE_MS;
  const intervalMs = options.freshReadIntervalMs ?? SECRETS_FRESH_READ_INTERVAL_MS;
  const clock = options.clock ?? { nowMs: Date.now };
  let client = options.client;
  let providers: { current: SecretsProvider; previous: SecretsProvider } | undefined;
  let freshReadAtMs = Number.NEGATIVE_INFINITY;
  let noPreviousUntilMs = Number.NEGATIVE_INFINITY;
  const maxAge = Math.max(1, Math.round(maxAgeMs / 1000));

  const read = async (provider: SecretsProvider, stage: string, forceFetch: boolean) => {
    const value = await provider.get(secretId, { maxAge, forceFetch, sdkOptions: { VersionStage: stage } });
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
  };

  return async ({ fresh = false } = {}) => {
    client ??= new SecretsManagerClient({});
    providers ??= {
      current: new SecretsProvider({ awsSdkV3Client: client }),
      previous: new SecretsProvider({ awsSdkV3Client: client }),
    };
    const nowMs = clock.nowMs();
    const force = fresh && nowMs - freshReadAtMs >= intervalMs;
    if (force) freshReadAtMs = nowMs;
    let current: string | undefined;
    try {
      current = await read(providers.current, 'AWSCURRENT', force);
    } catch (error) {
      throw new InfrastructureError(`could not read the secret ${secretId} (AWSCURRENT)`, { cause: error });
    }
    if (current === undefined || current === '') {
      throw new InfrastructureError(`the secret ${secretId} has no AWSCURRENT SecretString`);
    }
    let previous: string | undefined;
    if (force || nowMs >= noPreviousUntilMs) {
      try {
        previous = await read(providers.previous, 'AWSPREVIOUS', force);
      } catch (error) {
        if (!isNotFound(error)) {
          throw new InfrastructureError(`could not read the secret ${secretId} (AWSPREVIOUS)`, {
            cause: error,
          });
        }
      }
      // Found: read it (from the provider's cache) on every call; absent: not again for a while.
      noPreviousUntilMs = previous === undefined ? nowMs + maxAgeMs : Number.NEGATIVE_INFINITY;
    }
    return previous !== undefined && previous !== '' && previous !== current
      ? [current, previous]
      : [current];
  };
}

/** Secrets Manager's answer for a version stage the secret does not have. */
function isNotFound(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && depth < 5; depth++) {
    if ((cause as { name?: string })?.name === 'ResourceNotFoundException') return true;
    cause = (cause as { cause?: unknown })?.cause;
  }
  return false;
}

/** The secrets of `secrets` as a source (a list is returned as it is). */
export function secretsSourceOf(secrets: Secrets): SecretsSource {
  if (typeof secrets === 'function') return secrets;
  const list = [...secrets];
  return async () => list;
}

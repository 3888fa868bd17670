import { ConfigurationError } from '../errors';
import type { Phase } from './contract';
import type { RelaySettings } from './relay';

/**
 * What the relay function of an HTTPS participant is told by its construct
 * (infra/constructs/https-participant.ts), and the metrics it writes. No AWS import here: the
 * construct reads this module at synth.
 */

/** How the relay proves itself to the endpoint. */
export type RelayAuth =
  /** `tandem-signature` HMAC with the secret in Secrets Manager (its AWSCURRENT version). */
  | { readonly type: 'hmac'; readonly secretArn: string }
  /** AWS SigV4 with the function's credentials, for `execute-api` or `lambda` (function URLs). */
  | { readonly type: 'sigv4'; readonly service: string; readonly region?: string }
  /** Nothing: for a loopback endpoint in tests only. */
  | { readonly type: 'none' };

export interface RelayConfig {
  readonly settings: RelaySettings;
  readonly auth: RelayAuth;
}

/** The one environment variable that carries the relay's settings (JSON of RelayConfig). */
export const RELAY_CONFIG_ENV = 'RELAY_CONFIG';

/** How long the relay keeps the HMAC secret before reading it again (rotation takes this long). */
export const SECRET_MAX_AGE_S = 300;

/** A host only this machine reaches: where plain `http://` and auth `none` are allowed (tests). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The SigV4 service and region an endpoint's URL implies: a Lambda function URL
 * (`<id>.lambda-url.<region>.on.aws`) → `lambda`, an API Gateway URL
 * (`<id>.execute-api.<region>.amazonaws.com`) → `execute-api`; undefined for any other host.
 */
export function sigV4TargetOf(
  url: string,
): { readonly service: string; readonly region: string } | undefined {
  const { hostname } = new URL(url);
  const lambdaUrl = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(hostname);
  if (lambdaUrl) return { service: 'lambda', region: lambdaUrl[1]! };
  const executeApi = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(hostname);
  if (executeApi) return { service: 'execute-api', region: executeApi[1]! };
  return undefined;
}

/** Reads and checks RELAY_CONFIG; a bad one fails at cold start. */
export function parseRelayConfig(raw: string | undefined): RelayConfig {
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigurationError(`environment variable ${RELAY_CONFIG_ENV} is required`);
  }
  let parsed: RelayConfig;
  try {
    parsed = JSON.parse(raw) as RelayConfig;
  } catch {
    throw new ConfigurationError(`environment variable ${RELAY_CONFIG_ENV} is not JSON`);
  }
  const { settings, auth } = parsed ?? {};
  const fail = (what: string) => {
    throw new ConfigurationError(`${RELAY_CONFIG_ENV}: ${what}`);
  };
  let url: URL;
  try {
    url = new URL(settings?.baseUrl);
  } catch {
    return fail(`baseUrl is not a URL: ${JSON.stringify(settings?.baseUrl)}`);
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    fail(`baseUrl must be https (plain http only on a loopback host), got ${url.origin}`);
  }
  const positive = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0;
  if (!positive(settings.timeoutMs)) fail('timeoutMs must be a positive integer');
  if (!positive(settings.budgetMs)) fail('budgetMs must be a positive integer');
  const retry = settings.retry;
  if (!retry || !positive(retry.baseMs) || !positive(retry.capMs) || !positive(retry.attemptsMax)) {
    fail('retry needs positive integers baseMs, capMs and attemptsMax');
  }
  switch (auth?.type) {
    case 'hmac':
      if (typeof auth.secretArn !== 'string' || auth.secretArn === '') fail('auth hmac needs secretArn');
      break;
    case 'sigv4':
      if (auth.service !== 'execute-api' && auth.service !== 'lambda') {
        fail(`auth sigv4 service must be execute-api or lambda, got ${JSON.stringify(auth.service)}`);
      }
      break;
    case 'none':
      if (!loopback) fail('auth none is only for a loopback endpoint (tests)');
      break;
    default:
      fail(
        `auth type must be hmac, sigv4 or none, got ${JSON.stringify((auth as { type?: unknown })?.type)}`,
      );
  }
  return { settings, auth };
}

// ─── Metrics ─────────────────────────────────────────────────────────────────────────────────

/** The relay's metrics (dimension `service` = the participant id), per phase. */
export const RELAY_METRIC = {
  /** Calls made (`HttpsTryAttempts`, …). */
  attempts: (phase: Phase) => `Https${capitalized(phase)}Attempts`,
  /** Each call's duration, answered or not. */
  latency: (phase: Phase) => `Https${capitalized(phase)}LatencyMs`,
  /** Messages given up on (a try votes NO; a confirm or cancel waits for the coordinator's re-send). */
  giveUps: (phase: Phase) => `Https${capitalized(phase)}GiveUps`,
  /**
   * Confirms and cancels given up on, together: what the give-ups alarm watches (one plain metric,
   * since metric math in alarms is not everywhere, the emulator included).
   */
  finishGiveUps: 'HttpsFinishGiveUps',
  /** Answers the contract does not allow (the endpoint has a bug). */
  violations: 'HttpsContractViolations',
} as const;

function capitalized(phase: Phase): string {
  return phase.charAt(0).toUpperCase() + phase.slice(1);
}

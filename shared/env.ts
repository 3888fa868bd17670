import { ConfigurationError } from './errors';

/** Typed reads of a function's environment; a missing or malformed variable fails at cold start. */
export function envString(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value.trim();
}

/** A decimal integer in [min, max]; anything else (fractions, exponents, hex, junk) fails. */
export function envInt(env: NodeJS.ProcessEnv, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = envString(env, name);
  const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `environment variable ${name} must be an integer from ${min} to ${max}, got '${raw}'`,
    );
  }
  return value;
}

/** A JSON object of strings, e.g. participant id → queue URL. */
export function envStringMap(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const raw = envString(env, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`environment variable ${name} must be a JSON object`);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    Object.values(parsed).some((v) => typeof v !== 'string')
  ) {
    throw new ConfigurationError(`environment variable ${name} must be a JSON object of strings`);
  }
  return parsed as Record<string, string>;
}

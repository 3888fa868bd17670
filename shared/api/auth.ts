import { ConfigurationError } from '../errors';

/**
 * Who may call the API's protected routes, as the stage's authorizer checks it. The function does
 * not authenticate anyone itself: it knows the mode only to describe it in `GET /openapi.json`.
 */
export type ApiAuth =
  | { readonly type: 'iam' }
  | { readonly type: 'jwt'; readonly issuer: string; readonly audience: readonly string[] }
  | { readonly type: 'none' };

/**
 * The API function's environment for `auth`, read back by readApiAuth:
 *   API_AUTH           `iam` | `jwt` | `none`
 *   API_JWT_ISSUER     the issuer (jwt only)
 *   API_JWT_AUDIENCE   the audiences, comma-separated (jwt only)
 */
export function apiAuthEnvironment(auth: ApiAuth): Record<string, string> {
  if (auth.type !== 'jwt') return { API_AUTH: auth.type };
  return { API_AUTH: 'jwt', API_JWT_ISSUER: auth.issuer, API_JWT_AUDIENCE: auth.audience.join(',') };
}

/** The stage's auth from the function's environment; a missing or unknown mode fails at cold start. */
export function readApiAuth(env: NodeJS.ProcessEnv = process.env): ApiAuth {
  const type = env.API_AUTH;
  if (type === 'iam' || type === 'none') return { type };
  if (type !== 'jwt') {
    throw new ConfigurationError(`API_AUTH must be 'iam', 'jwt' or 'none', got '${type ?? ''}'`);
  }
  const issuer = env.API_JWT_ISSUER?.trim() ?? '';
  const audience = (env.API_JWT_AUDIENCE ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (!/^https:\/\//.test(issuer) || audience.length === 0) {
    throw new ConfigurationError(
      'API_AUTH=jwt needs API_JWT_ISSUER (an https URL) and API_JWT_AUDIENCE (comma-separated)',
    );
  }
  return { type: 'jwt', issuer, audience };
}

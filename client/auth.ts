import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/** AWS credentials, as the AWS SDK's credential providers give them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A source of credentials, called for each request (any AWS SDK credential provider fits). */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

/**
 * How the client proves who calls, matching the deployment's `apiAuth`:
 * - `iam`: SigV4 for the service `execute-api`, with `credentials` or else the AWS SDK's default
 *   credential chain (environment, SSO, shared files, container and instance roles); the region
 *   is `region`, else the one in the API's URL, else `AWS_REGION` / `AWS_DEFAULT_REGION`.
 * - `jwt`: `Authorization: Bearer <token>`; a function is called for each request, so it can
 *   hand out a refreshed token.
 * - `none`: no credentials, for a local stage deployed with `apiAuth=none`.
 */
export type TandemAuth =
  | {
      readonly auth: 'iam';
      readonly region?: string;
      readonly credentials?: AwsCredentials | AwsCredentialsProvider;
    }
  | { readonly auth: 'jwt'; readonly token: string | (() => string | Promise<string>) }
  | { readonly auth: 'none' };

/** A request about to be sent; `headers` by lower-case name. */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
}

/** Adds what proves the caller to a request's headers. */
export type Authorizer = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** The service name API Gateway's IAM authorization signs for. */
const EXECUTE_API = 'execute-api';

/** Builds the authorizer of `auth` for an API at `baseUrl`; throws a TypeError for an unusable setting. */
export function authorizerOf(auth: TandemAuth, baseUrl: URL): Authorizer {
  switch (auth.auth) {
    case 'none':
      return async (request) => ({ ...request.headers });
    case 'jwt': {
      const { token } = auth;
      if (typeof token !== 'function' && (typeof token !== 'string' || token === '')) {
        throw new TypeError("TandemClient: auth 'jwt' needs a token: a non-empty string or a function");
      }
      return async (request) => {
        const value = typeof token === 'function' ? await token() : token;
        if (typeof value !== 'string' || value === '') {
          throw new TypeError("TandemClient: the token function of auth 'jwt' gave no token");
        }
        return { ...request.headers, authorization: `Bearer ${value}` };
      };
    }
    case 'iam': {
      const region = auth.region ?? regionOfUrl(baseUrl) ?? regionOfEnvironment();
      if (!region) {
        throw new TypeError(
          "TandemClient: auth 'iam' needs a region: pass { region }, or set AWS_REGION (the API's URL names none)",
        );
      }
      const signer = sigV4Signer({
        service: EXECUTE_API,
        region,
        credentials: auth.credentials ?? defaultCredentials(),
      });
      return (request) => signer(request);
    }
    default:
      throw new TypeError(
        `TandemClient: auth must be 'iam', 'jwt' or 'none', got ${JSON.stringify((auth as { auth: unknown }).auth)}`,
      );
  }
}

export interface SigV4Settings {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentials | AwsCredentialsProvider;
}

/**
 * Signs requests with AWS Signature Version 4 (headers: `host`, `x-amz-date`, the request's own,
 * and `x-amz-security-token` for temporary credentials). `signingDate` is for tests; the body is
 * hashed into the signature, the way API Gateway checks it.
 */
export function sigV4Signer(settings: SigV4Settings) {
  const signer = new SignatureV4({
    service: settings.service,
    region: settings.region,
    credentials: settings.credentials,
    sha256: Sha256,
    // API Gateway needs no x-amz-content-sha256 header (S3 does); without it, AWS's test vectors hold.
    applyChecksum: false,
  });
  return async (request: OutgoingRequest, signingDate = new Date()): Promise<Record<string, string>> => {
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? (values[0] as string) : values;
    }
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        // `host` as fetch will send it (with a port that is not the scheme's default).
        headers: { ...request.headers, host: url.host },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      { signingDate },
    );
    // fetch sends `host` itself, from the URL signed above.
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}

/** The region of an API Gateway URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
function regionOfUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

function regionOfEnvironment(): string | undefined {
  const env = globalThis.process?.env ?? {};
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/**
 * The AWS SDK's default credential chain, loaded on first use (a client that never signs need not
 * load it) and then kept: it caches credentials and refreshes them before they expire.
 */
function defaultCredentials(): AwsCredentialsProvider {
  let provider: Promise<AwsCredentialsProvider> | undefined;
  return async () => {
    provider ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider());
    return (await provider)();
  };
}

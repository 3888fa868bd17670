import { type AwsCredentialsProvider, sigV4Signer } from '../../client/auth';
import { signCall } from './contract';
import type { CallSigner, HttpPort, HttpRequest, HttpResponse } from './relay';

/**
 * The relay's ports over the real world: HTTP through Node's fetch, and the three ways a call is
 * signed. The Lambda wiring (shared/https/handler.ts) picks them from the relay's settings.
 */

/** Most bytes of an answer the relay reads: enough for any reason, never a whole page. */
const ANSWER_BYTES_MAX = 64 * 1024;

/**
 * HTTP over Node's fetch: each call aborted after its `timeoutMs`, redirects not followed (a 3xx
 * is an answer the contract does not give, so the call is judged, not sent elsewhere with its
 * signature). A timeout or a connection failure rejects with the reason, its cause's code included.
 */
export class FetchHttp implements HttpPort {
  constructor(private readonly fetchFn: typeof fetch = fetch) {}

  async send(request: HttpRequest): Promise<HttpResponse> {
    let response: Response;
    try {
      response = await this.fetchFn(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs),
      });
    } catch (error) {
      throw new Error(describeFetchError(error, request.timeoutMs), { cause: error });
    }
    const body = (await response.text().catch(() => '')).slice(0, ANSWER_BYTES_MAX);
    return { status: response.status, body, header: (name) => response.headers.get(name) ?? undefined };
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.code
    ? `${message} (${cause.code})`
    : cause?.message
      ? `${message}: ${cause.message}`
      : message;
}

/** A secret's current value (the source caches it; a rotation is seen within its max age). */
export interface SecretSource {
  current(): Promise<string>;
}

/** `tandem-timestamp` and `tandem-signature`: HMAC-SHA256 with the participant's shared secret. */
export function hmacSigner(secret: SecretSource, nowMs: () => number = Date.now): CallSigner {
  return {
    headers: async (call) => signCall(await secret.current(), call, nowMs()),
  };
}

/** AWS SigV4 for `service` (`execute-api` or `lambda`) in `region`, with the function's credentials. */
export function sigV4CallSigner(settings: {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialsProvider;
}): CallSigner {
  const sign = sigV4Signer(settings);
  return {
    headers: (call) =>
      sign({
        method: call.method,
        url: new URL(call.url),
        headers: { 'content-type': 'application/json' },
        body: call.body,
      }),
  };
}

/** No authentication (a loopback endpoint in tests). */
export const NO_SIGNER: CallSigner = { headers: async () => ({}) };

/**
 * The answer of a Lambda-backed CloudFormation custom resource: a JSON document PUT to the request's
 * `ResponseURL` (a presigned S3 URL on AWS, the emulator's own endpoint locally). CloudFormation
 * waits for it up to the resource's ServiceTimeout, so an answer that cannot be delivered is retried
 * here and then thrown, which makes Lambda retry the asynchronous invocation.
 */

/** The fields of a CloudFormation request that its answer repeats, and where the answer goes. */
export interface CustomResourceRequest {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

export type CustomResourceAnswer =
  | { readonly status: 'SUCCESS'; readonly physicalResourceId: string }
  | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string };

/** CloudFormation accepts an answer of up to 4 KB; a longer reason is cut to fit. */
const REASON_MAX_CHARS = 3_000;

export function responseBody(request: CustomResourceRequest, answer: CustomResourceAnswer): string {
  const reason =
    answer.status === 'FAILED'
      ? answer.reason.length > REASON_MAX_CHARS
        ? `${answer.reason.slice(0, REASON_MAX_CHARS - 1)}…`
        : answer.reason
      : undefined;
  return JSON.stringify({
    Status: answer.status,
    ...(reason === undefined ? {} : { Reason: reason }),
    PhysicalResourceId: answer.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  });
}

export type Put = (
  url: string,
  init: { method: 'PUT'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number }>;

export class ResponseNotDeliveredError extends Error {
  override readonly name = 'ResponseNotDeliveredError';
}

/** PUTs the answer, up to `attempts` times with a short pause between them. */
export async function sendResponse(
  request: CustomResourceRequest,
  answer: CustomResourceAnswer,
  { put = fetch as Put, attempts = 3, pauseMs = 1_000, timeoutMs = 10_000 } = {},
): Promise<void> {
  const body = responseBody(request, answer);
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      // An empty content type: the presigned URL was signed without one.
      const response = await put(request.ResponseURL, {
        method: 'PUT',
        headers: { 'content-type': '' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new ResponseNotDeliveredError(
    `could not deliver the custom resource answer after ${attempts} attempts: ${last}`,
  );
}

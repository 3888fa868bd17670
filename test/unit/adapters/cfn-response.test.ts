import { describe, expect, it } from 'vitest';
import {
  type Put,
  ResponseNotDeliveredError,
  responseBody,
  sendResponse,
} from '../../../shared/adapters/cfn-response';

const request = {
  ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/Tandem-dev/1234',
  RequestId: 'req-1',
  LogicalResourceId: 'DeployGuard74415E4E',
};

/** A PUT that answers each call with the next status (or throws for `'error'`), and records the calls. */
function puts(...answers: Array<number | 'error'>) {
  const calls: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const put: Put = async (url, init) => {
    calls.push({ url, headers: init.headers, body: init.body });
    const answer = answers[calls.length - 1] ?? 200;
    if (answer === 'error') throw new Error('connect ECONNREFUSED');
    return { ok: answer >= 200 && answer < 300, status: answer };
  };
  return { put, calls };
}

describe('custom resource answers', () => {
  it('repeat the request ids and carry the status, physical id and reason', () => {
    // Act
    const failed = JSON.parse(
      responseBody(request, { status: 'FAILED', physicalResourceId: 'p', reason: 'no' }),
    );
    const succeeded = JSON.parse(responseBody(request, { status: 'SUCCESS', physicalResourceId: 'p' }));
    // Assess
    expect(failed).toEqual({
      Status: 'FAILED',
      Reason: 'no',
      PhysicalResourceId: 'p',
      StackId: request.StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'DeployGuard74415E4E',
    });
    expect(succeeded).not.toHaveProperty('Reason');
    expect(succeeded.Status).toBe('SUCCESS');
  });

  it('cut a reason that would not fit in the 4 KB CloudFormation accepts', () => {
    // Act
    const body = responseBody(request, {
      status: 'FAILED',
      physicalResourceId: 'p',
      reason: 'x'.repeat(10_000),
    });
    // Assess
    expect(body.length).toBeLessThan(4_096);
    expect(JSON.parse(body).Reason).toMatch(/x…$/);
  });

  it('are PUT to the response URL with an empty content type (the URL was signed without one)', async () => {
    // Prepare
    const { put, calls } = puts(200);
    // Act
    await sendResponse(request, { status: 'SUCCESS', physicalResourceId: 'p' }, { put });
    // Assess
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(request.ResponseURL);
    expect(calls[0]?.headers).toEqual({ 'content-type': '' });
    expect(JSON.parse(calls[0]?.body ?? '')).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'p' });
  });

  it('are sent again after an error or a refusal, and thrown when they never get through', async () => {
    // Prepare
    const retried = puts('error', 503, 200);
    const lost = puts('error', 'error', 403);
    const answer = { status: 'SUCCESS', physicalResourceId: 'p' } as const;
    // Act
    await sendResponse(request, answer, { put: retried.put, pauseMs: 0 });
    const failure = sendResponse(request, answer, { put: lost.put, pauseMs: 0 });
    // Assess
    expect(retried.calls).toHaveLength(3);
    await expect(failure).rejects.toThrow(ResponseNotDeliveredError);
    await expect(failure).rejects.toThrow('after 3 attempts: HTTP 403');
  });
});

import { describe, expect, it } from 'vitest';
import { FetchHttp, sigV4CallSigner } from '../../../shared/https/adapters';
import {
  isLoopbackHost,
  parseRelayConfig,
  RELAY_METRIC,
  type RelayConfig,
  sigV4TargetOf,
} from '../../../shared/https/relay-config';

// The relay's adapters and settings, without the network: fetch is replaced by a fake.

const request = {
  url: 'https://pay.example.com/try',
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{}',
  timeoutMs: 50,
};

describe('FetchHttp', () => {
  it('sends the call without following redirects, with a timeout signal, and reads the answer', async () => {
    // Prepare
    let seen: RequestInit | undefined;
    const http = new FetchHttp((async (_url: string, init: RequestInit) => {
      seen = init;
      return new Response('{"reason":"x"}', { status: 409, headers: { 'Retry-After': '3' } });
    }) as typeof fetch);

    // Act
    const response = await http.send(request);

    // Assess
    expect(seen).toMatchObject({ method: 'POST', body: '{}', redirect: 'manual' });
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(response.status).toBe(409);
    expect(response.body).toBe('{"reason":"x"}');
    expect(response.header('retry-after')).toBe('3');
  });

  it('rejects with "no answer within" on a timeout, and with the code of a refused connection', async () => {
    const timedOut = new FetchHttp((async () => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    }) as typeof fetch);
    await expect(timedOut.send(request)).rejects.toThrow('no answer within 50 ms');
    const refused = new FetchHttp((async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof fetch);
    await expect(refused.send(request)).rejects.toThrow('fetch failed (ECONNREFUSED)');
  });
});

describe('sigV4CallSigner', () => {
  it('signs the call for its service with the credentials given', async () => {
    const signer = sigV4CallSigner({
      service: 'lambda',
      region: 'eu-west-1',
      credentials: async () => ({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'tok',
      }),
    });
    const headers = await signer.headers({
      method: 'POST',
      url: 'https://abc.lambda-url.eu-west-1.on.aws/try',
      path: '/try',
      body: '{}',
    });
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('tok');
  });
});

describe('relay settings', () => {
  const good: RelayConfig = {
    settings: {
      baseUrl: 'https://pay.example.com',
      timeoutMs: 1000,
      retry: { baseMs: 100, capMs: 1000, attemptsMax: 3 },
      budgetMs: 5000,
    },
    auth: { type: 'hmac', secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
  };
  const withChange = (change: object) => JSON.stringify({ ...good, ...change });

  it('reads a good RELAY_CONFIG as it is', () => {
    expect(parseRelayConfig(JSON.stringify(good))).toEqual(good);
  });

  it.each([
    [undefined, /RELAY_CONFIG is required/],
    ['{', /is not JSON/],
    [withChange({ settings: { ...good.settings, baseUrl: 'http://pay.example.com' } }), /must be https/],
    [withChange({ settings: { ...good.settings, timeoutMs: 0 } }), /timeoutMs must be a positive integer/],
    [withChange({ auth: { type: 'none' } }), /auth none is only for a loopback endpoint/],
    [withChange({ auth: { type: 'sigv4', service: 's3' } }), /service must be execute-api or lambda/],
    [withChange({ auth: { type: 'basic' } }), /auth type must be hmac, sigv4 or none/],
  ])('refuses %s at cold start', (raw, message) => {
    expect(() => parseRelayConfig(raw)).toThrow(message);
  });

  it('tells loopback hosts and the SigV4 target of AWS URLs', () => {
    expect(['127.0.0.1', 'localhost', '[::1]', '127.1.2.3'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.1', 'example.com', '127.0.0.1.example.com'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
    ]);
    expect(sigV4TargetOf('https://a1.execute-api.us-west-2.amazonaws.com/prod')).toEqual({
      service: 'execute-api',
      region: 'us-west-2',
    });
    expect(sigV4TargetOf('https://x.lambda-url.eu-central-1.on.aws/')).toEqual({
      service: 'lambda',
      region: 'eu-central-1',
    });
    expect(sigV4TargetOf('https://pay.example.com')).toBeUndefined();
  });

  it('names the metrics per phase', () => {
    expect([
      RELAY_METRIC.attempts('try'),
      RELAY_METRIC.latency('confirm'),
      RELAY_METRIC.giveUps('cancel'),
    ]).toEqual(['HttpsTryAttempts', 'HttpsConfirmLatencyMs', 'HttpsCancelGiveUps']);
  });
});

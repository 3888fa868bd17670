import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AwsCredentials, TandemClient } from '../../../client';
import { sigV4Signer } from '../../../client/auth';
import { type Received, serve } from './server';

// Each auth mode's headers, and SigV4 signatures checked against AWS's published test suite and
// by a server that re-derives them from what arrived on the wire.

afterEach(() => {
  vi.unstubAllEnvs();
});

/** AWS's SigV4 test-suite credentials, date and scope. */
const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  signingDate: new Date('2015-08-30T12:36:00Z'),
  scope: 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request',
};

describe('SigV4 signing', () => {
  it.each([
    [
      'get-vanilla',
      'GET',
      'https://example.amazonaws.com/',
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ],
    [
      'get-vanilla-query-order-key-case',
      'GET',
      'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
    [
      'post-vanilla',
      'POST',
      'https://example.amazonaws.com/',
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ],
  ])("matches AWS's test vector %s", async (_name, method, url, signature) => {
    // Prepare
    const sign = sigV4Signer({ service: 'service', region: 'us-east-1', credentials: SUITE.credentials });

    // Act
    const headers = await sign(
      { method, url: new URL(url), headers: {}, body: undefined },
      SUITE.signingDate,
    );

    // Assess
    expect(headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${SUITE.scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    });
  });
});

/** Whether a request that arrived is signed by `credentials` for execute-api in `region`. */
async function verifies(request: Received, credentials: AwsCredentials, region: string): Promise<boolean> {
  const authorization = String(request.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const url = new URL(request.target, `http://${request.headers.host}`);
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials,
    sha256: Sha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(signedNames.map((name) => [name, String(request.headers[name])])),
      ...(request.body !== '' ? { body: request.body } : {}),
    },
    { signingDate },
  );
  return expected.headers.authorization === authorization;
}

const ok = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"txId":"tx_1"}' });

describe('auth modes', () => {
  it("sends no Authorization header with auth 'none'", async () => {
    const server = await serve(ok);
    try {
      await new TandemClient({ url: server.url, auth: 'none' }).getTransaction('tx_1');
      expect(server.received[0]?.headers.authorization).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("sends a bearer token with auth 'jwt', asking a token function anew for each request", async () => {
    // Prepare
    const server = await serve(ok);
    const tokens = ['first', 'second'];
    const fixed = new TandemClient({ url: server.url, auth: 'jwt', token: 'abc.def.ghi' });
    const rotating = new TandemClient({
      url: server.url,
      auth: 'jwt',
      token: async () => tokens.shift() ?? '',
    });

    try {
      // Act
      await fixed.getTransaction('tx_1');
      await rotating.getTransaction('tx_1');
      await rotating.getTransaction('tx_1');
      const exhausted = await rotating.getTransaction('tx_1').catch((e) => e);

      // Assess
      expect(server.received.map((r) => r.headers.authorization)).toEqual([
        'Bearer abc.def.ghi',
        'Bearer first',
        'Bearer second',
      ]);
      expect(exhausted).toEqual(
        new TypeError("TandemClient: the token function of auth 'jwt' gave no token"),
      );
    } finally {
      await server.close();
    }
  });

  it("refuses auth 'jwt' without a token, and an unknown auth mode", () => {
    expect(() => new TandemClient({ url: 'http://localhost', auth: 'jwt', token: '' })).toThrow(
      "TandemClient: auth 'jwt' needs a token",
    );
    expect(() => new TandemClient({ url: 'http://localhost', auth: 'cognito' } as never)).toThrow(
      `TandemClient: auth must be 'iam', 'jwt' or 'none', got "cognito"`,
    );
  });

  it("signs with SigV4 for execute-api with auth 'iam': what arrives verifies, path, query, body and key included", async () => {
    // Prepare
    const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'session-1' };
    const server = await serve(ok);
    const client = new TandemClient({
      url: `${server.url}/stage`,
      auth: 'iam',
      region: 'eu-west-1',
      credentials,
    });

    try {
      // Act
      await client.getAccount('a:b@c d');
      await client.transfer({ from: 'a', to: 'b', amount: 3, idempotencyKey: 'k-1' }, { wait: 5 });

      // Assess
      const [get, post] = server.received as [Received, Received];
      expect(get.target).toBe('/stage/accounts/a%3Ab%40c%20d');
      expect(post.target).toBe('/stage/transfers?wait=5');
      for (const request of [get, post]) {
        expect(request.headers.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=/,
        );
        expect(request.headers['x-amz-security-token']).toBe('session-1');
        expect(await verifies(request, credentials, 'eu-west-1')).toBe(true);
        expect(await verifies(request, { ...credentials, secretAccessKey: 'other' }, 'eu-west-1')).toBe(
          false,
        );
      }
      expect(post.headers.authorization).toContain(
        'SignedHeaders=content-type;host;idempotency-key;x-amz-date;x-amz-security-token,',
      );
      expect(await verifies({ ...post, body: post.body.replace('3', '4') }, credentials, 'eu-west-1')).toBe(
        false,
      );
    } finally {
      await server.close();
    }
  });

  it("takes the region of auth 'iam' from the API's URL, else from AWS_REGION, else refuses", async () => {
    // Prepare
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    const authorizations: string[] = [];
    const fetch: typeof globalThis.fetch = async (_url, init) => {
      authorizations.push(new Headers(init?.headers).get('authorization') ?? '');
      return new Response('{"status":"ok"}', { status: 200 });
    };
    const credentials = async () => ({ accessKeyId: 'AKIDPROVIDED', secretAccessKey: 'secret' });

    // Act
    await new TandemClient({
      url: 'https://a1b2c3.execute-api.ap-southeast-2.amazonaws.com',
      auth: 'iam',
      credentials,
      fetch,
    }).health();
    const noRegion = () =>
      new TandemClient({ url: 'https://api.example.test', auth: 'iam', credentials, fetch });
    expect(noRegion).toThrow("TandemClient: auth 'iam' needs a region: pass { region }, or set AWS_REGION");
    vi.stubEnv('AWS_REGION', 'ca-central-1');
    await noRegion().health();

    // Assess
    expect(authorizations.map((a) => /Credential=([^,]+)/.exec(a)?.[1])).toEqual([
      `AKIDPROVIDED/${today()}/ap-southeast-2/execute-api/aws4_request`,
      `AKIDPROVIDED/${today()}/ca-central-1/execute-api/aws4_request`,
    ]);
  });

  it("signs with the default credential chain when auth 'iam' is given no credentials", async () => {
    // Prepare: the chain's first source, the environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    const server = await serve(ok);

    try {
      // Act
      await new TandemClient({ url: server.url, auth: 'iam', region: 'us-east-1' }).getTransaction('tx_1');

      // Assess
      const [request] = server.received as [Received];
      expect(request.headers.authorization).toContain(`Credential=AKIDFROMENV/${today()}/us-east-1/`);
      const fromEnv = { accessKeyId: 'AKIDFROMENV', secretAccessKey: 'env-secret' };
      expect(await verifies(request, fromEnv, 'us-east-1')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

/** Today (UTC) as SigV4 scopes name it. */
function today(): string {
  return new Date().toISOString().slice(0, 10).replaceAll('-', '');
}

import { describe, expect, it } from 'vitest';
import {
  TandemApiError,
  TandemAuthError,
  TandemClient,
  TandemConflictError,
  TandemNetworkError,
  TandemNotFoundError,
  TandemServerError,
  TandemThrottledError,
  TandemUnprocessableError,
  TandemValidationError,
} from '../../../client';
import { serve } from './server';

// How the client reads answers it did not expect: every error status, bodies that are not problem
// documents or not JSON, and requests that got no answer; and the input it refuses to send.
const URL_BASE = 'https://api.example.test/v1';

/** A client whose fetch answers every request with `status`, `body` and `headers`. */
function answering(status: number, body: string, headers: Record<string, string> = {}, statusText = '') {
  const sent: string[] = [];
  const fetch: typeof globalThis.fetch = async (url, init) => {
    sent.push(`${init?.method} ${String(url)}`);
    return new Response(body === '' ? null : body, { status, statusText, headers });
  };
  return { client: new TandemClient({ url: URL_BASE, auth: 'none', fetch }), fetch, sent };
}

const problem = (status: number, slug: string, title: string) =>
  JSON.stringify({
    type: `urn:tandem:problem:${slug}`,
    title,
    status,
    detail: `${title}!`,
    instance: '/accounts',
  });

describe('errors of TandemClient', () => {
  it.each([
    [400, TandemValidationError],
    [401, TandemAuthError],
    [403, TandemAuthError],
    [404, TandemNotFoundError],
    [409, TandemConflictError],
    [422, TandemUnprocessableError],
    [429, TandemThrottledError],
    [500, TandemServerError],
    [503, TandemServerError],
    [418, TandemApiError],
  ])('raises a %i problem as %O with the problem fields', async (status, ErrorClass) => {
    // Prepare
    const { client } = answering(status, problem(status, 'x', 'Some title'), {
      'content-type': 'application/problem+json',
    });

    // Act
    const error = await client.createAccount({ accountId: 'a', initialBalance: 1 }).catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(TandemApiError);
    expect(error.name).toBe(ErrorClass.name);
    expect(error).toMatchObject({
      status,
      type: 'urn:tandem:problem:x',
      title: 'Some title',
      detail: 'Some title!',
      instance: '/accounts',
      errors: [],
      method: 'POST',
      url: `${URL_BASE}/accounts`,
      message: `POST ${URL_BASE}/accounts answered ${status} (Some title): Some title!`,
    });
  });

  it("keeps a validation problem's issues, and drops malformed ones", async () => {
    const body = JSON.stringify({
      type: 'urn:tandem:problem:invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: 'transfer is invalid',
      errors: [{ path: 'amount', message: 'Too small' }, { path: 3 }, 'junk'],
    });
    const { client } = answering(400, body, { 'content-type': 'application/problem+json' });

    const error = await client.transfer({ from: 'a', to: 'b', amount: 0 }).catch((e) => e);

    expect(error).toBeInstanceOf(TandemValidationError);
    expect(error.errors).toEqual([{ path: 'amount', message: 'Too small' }]);
  });

  it("reads API Gateway's own answers ({message}) into a typed error with a readable message", async () => {
    const { client } = answering(
      403,
      '{"message":"Missing Authentication Token"}',
      { 'content-type': 'application/json' },
      'Forbidden',
    );

    const error = await client.getAccount('alice').catch((e) => e);

    expect(error).toBeInstanceOf(TandemAuthError);
    expect(error).toMatchObject({
      status: 403,
      type: 'about:blank',
      title: 'Forbidden',
      detail: 'Missing Authentication Token',
      body: { message: 'Missing Authentication Token' },
      message: `GET ${URL_BASE}/accounts/alice answered 403 (Forbidden): Missing Authentication Token`,
    });
  });

  it('reads a body that is not JSON into the detail, cut short when long', async () => {
    const page = `<html><body>${'Bad gateway. '.repeat(100)}</body></html>`;
    const { client } = answering(502, page, { 'content-type': 'text/html' }, 'Bad Gateway');

    const error = await client.health().catch((e) => e);

    expect(error).toBeInstanceOf(TandemServerError);
    expect(error.title).toBe('Bad Gateway');
    expect(error.detail).toBe(`${page.slice(0, 500)}…`);
    expect(error.body).toBe(page);
  });

  it('says when an error answer has no body', async () => {
    const { client } = answering(500, '');
    const error = await client.health().catch((e) => e);
    expect(error).toBeInstanceOf(TandemServerError);
    expect(error.message).toBe(`GET ${URL_BASE}/health answered 500 (error): (empty body)`);
  });

  it('refuses a success answer that is not a JSON object', async () => {
    const { client } = answering(200, 'OK', { 'content-type': 'text/plain' });
    const error = await client.getItem('pen').catch((e) => e);
    expect(error).toBeInstanceOf(TandemApiError);
    expect(error.message).toBe(
      `GET ${URL_BASE}/inventory/items/pen answered 200 (not JSON): expected a JSON object, got "OK"`,
    );
  });

  it('raises a request that got no answer as a TandemNetworkError naming the URL and the reason', async () => {
    // Prepare: a port that was just free, so nothing listens on it.
    const server = await serve(() => ({ status: 204 }));
    await server.close();
    const client = new TandemClient({ url: server.url, auth: 'none' });

    // Act
    const error = await client.getAccount('alice').catch((e) => e);

    // Assess
    expect(error).toBeInstanceOf(TandemNetworkError);
    expect(error).toMatchObject({ method: 'GET', url: `${server.url}/accounts/alice` });
    expect(error.message).toMatch(
      new RegExp(`^GET ${server.url}/accounts/alice got no answer: fetch failed \\(.*ECONNREFUSED.*\\)$`),
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses bad input before sending anything, saying what is wrong', async () => {
    // Prepare
    const { client, sent } = answering(200, '{}');
    const transfer = { from: 'a', to: 'b', amount: 1 };

    // Act + Assess
    for (const wait of [21, 1.5, -1]) {
      await expect(client.transfer(transfer, { wait })).rejects.toThrow(
        new TypeError(`TandemClient: wait must be a whole number of seconds from 0 to 20, got ${wait}`),
      );
    }
    await expect(client.transfer({ ...transfer, idempotencyKey: 'has space' })).rejects.toThrow(
      /^TandemClient: idempotencyKey must be 1–128 visible ASCII characters \(no spaces\), got "has space"$/,
    );
    await expect(client.getAccount('')).rejects.toThrow('TandemClient: accountId must be a non-empty string');
    await expect(client.getTransaction('', { wait: 1 })).rejects.toThrow('txId must be a non-empty string');
    await expect(client.send('GET', 'health')).rejects.toThrow("a path starts with '/', got 'health'");
    expect(sent).toEqual([]);
    expect(() => new TandemClient({ url: 'localhost:4566', auth: 'none' })).toThrow(
      "TandemClient: url must be an http(s) URL, got 'localhost:4566'",
    );
    expect(() => new TandemClient({ url: '/relative', auth: 'none' })).toThrow(
      'must be an absolute http(s) URL',
    );
    expect(() => new TandemClient({ url: 'https://api.example.test/?stage=x', auth: 'none' })).toThrow(
      'must have no query or fragment',
    );
  });

  it('accepts a base URL with a path and a trailing slash', async () => {
    const { fetch, sent } = answering(200, '{"status":"ok"}');
    await new TandemClient({ url: `${URL_BASE}/`, auth: 'none', fetch }).health();
    expect(sent).toEqual([`GET ${URL_BASE}/health`]);
  });
});

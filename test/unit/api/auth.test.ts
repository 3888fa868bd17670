import { describe, expect, it } from 'vitest';
import { type ApiAuth, apiAuthEnvironment, readApiAuth } from '../../../shared/api/auth';
import { ConfigurationError } from '../../../shared/errors';

describe("the API function's auth mode", () => {
  it.each<ApiAuth>([
    { type: 'iam' },
    { type: 'none' },
    { type: 'jwt', issuer: 'https://id.example.com', audience: ['tandem', 'ops'] },
  ])('reads back what the construct wrote: %o', (auth) => {
    expect(readApiAuth(apiAuthEnvironment(auth))).toEqual(auth);
  });

  it.each([
    [{}, /API_AUTH must be/],
    [{ API_AUTH: 'open' }, /API_AUTH must be/],
    [{ API_AUTH: 'jwt', API_JWT_AUDIENCE: 'a' }, /API_JWT_ISSUER/],
    [{ API_AUTH: 'jwt', API_JWT_ISSUER: 'http://id.example.com', API_JWT_AUDIENCE: 'a' }, /https/],
    [
      { API_AUTH: 'jwt', API_JWT_ISSUER: 'https://id.example.com', API_JWT_AUDIENCE: ' , ' },
      /API_JWT_AUDIENCE/,
    ],
  ])('refuses %o at cold start', (env, message) => {
    expect(() => readApiAuth(env)).toThrow(ConfigurationError);
    expect(() => readApiAuth(env)).toThrow(message);
  });
});

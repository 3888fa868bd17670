import {
  type GetSecretValueCommandInput,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { InfrastructureError } from '../../../shared/errors';
import { secretsManagerSecrets } from '../../../shared/https/secrets';

/**
 * A Secrets Manager client whose requests never leave the process: a middleware answers each
 * GetSecretValue from `versions` (stage → SecretString; absent: ResourceNotFoundException).
 */
function fakeSecretsManager(versions: Record<string, string | Error>) {
  const calls: string[] = [];
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const input = (args as { input: GetSecretValueCommandInput }).input;
      const stage = input.VersionStage ?? 'AWSCURRENT';
      calls.push(stage);
      const value = versions[stage];
      if (value instanceof Error) throw value;
      if (value === undefined) {
        throw new ResourceNotFoundException({ message: `no ${stage}`, $metadata: {} });
      }
      return { output: { SecretString: value, $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'fakeSecretsManager' },
  );
  return { client, calls };
}

describe('secretsManagerSecrets', () => {
  it('reads AWSCURRENT and AWSPREVIOUS, current first, and keeps them for maxAgeMs', async () => {
    const { client, calls } = fakeSecretsManager({ AWSCURRENT: 'new', AWSPREVIOUS: 'old' });
    const source = secretsManagerSecrets('tandem/seats', { client });

    expect(await source()).toEqual(['new', 'old']);
    expect(await source()).toEqual(['new', 'old']);
    expect(calls).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('takes a secret never rotated (no AWSPREVIOUS), and does not ask again each call', async () => {
    const { client, calls } = fakeSecretsManager({ AWSCURRENT: 'only' });
    const source = secretsManagerSecrets('tandem/seats', { client });

    expect(await source()).toEqual(['only']);
    expect(await source()).toEqual(['only']);
    expect(calls).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('reads afresh when asked (a mismatch), at most once per interval', async () => {
    const versions: Record<string, string> = { AWSCURRENT: 'v1' };
    const { client, calls } = fakeSecretsManager(versions);
    const now = { ms: 1_000_000 };
    const source = secretsManagerSecrets('s', { client, clock: { nowMs: () => now.ms } });
    await source();
    versions.AWSCURRENT = 'v2';
    versions.AWSPREVIOUS = 'v1';

    const fresh = await source({ fresh: true });
    now.ms += 1_000;
    const tooSoon = await source({ fresh: true });

    expect(fresh).toEqual(['v2', 'v1']);
    expect(tooSoon).toEqual(['v2', 'v1']);
    expect(calls).toEqual(['AWSCURRENT', 'AWSPREVIOUS', 'AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('fails with InfrastructureError when the secret cannot be read (the endpoint answers 503)', async () => {
    const { client } = fakeSecretsManager({ AWSCURRENT: new Error('AccessDenied') });

    await expect(secretsManagerSecrets('s', { client })()).rejects.toBeInstanceOf(InfrastructureError);
  });
});

import { describe, expect, it } from 'vitest';
import { arnOfCallerIdentity, callerIdentity } from '../../../shared/ops/identity';

describe('callerIdentity', () => {
  it('is local against an emulator, without calling STS', async () => {
    const never = (async () => {
      throw new Error('no call expected');
    }) as unknown as typeof fetch;
    expect(
      await callerIdentity({ stackName: 'Tandem-local', endpoint: 'http://127.0.0.1:4566' }, never),
    ).toBe('local');
  });

  it('reads the ARN of a GetCallerIdentity answer', () => {
    const xml =
      '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/ops/alice</Arn>' +
      '<UserId>AROA:alice</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>';
    expect(arnOfCallerIdentity(xml)).toBe('arn:aws:sts::123456789012:assumed-role/ops/alice');
    expect(arnOfCallerIdentity('<Error/>')).toBeUndefined();
  });
});

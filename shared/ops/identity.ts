import { sigV4Signer } from '../../client/auth';
import type { Target } from './target';

/**
 * Who the operator is, for the console's audit trail: the ARN STS GetCallerIdentity answers for
 * the SDK's default credentials, or `local` against an emulator (any credentials pass there).
 * Never throws: an identity that cannot be read is said so, and the console still starts.
 */
export async function callerIdentity(target: Target, fetchImpl: typeof fetch = fetch): Promise<string> {
  if (target.endpoint) return 'local';
  try {
    // The global endpoint signs as us-east-1; no @aws-sdk/client-sts needed for one call.
    const url = new URL('https://sts.amazonaws.com/');
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    const sign = sigV4Signer({ service: 'sts', region: 'us-east-1', credentials: defaultProvider() });
    const signed = await sign({ method: 'POST', url, headers, body });
    const response = await fetchImpl(url, { method: 'POST', headers: { ...headers, ...signed }, body });
    const text = await response.text();
    const arn = arnOfCallerIdentity(text);
    if (!response.ok || arn === undefined) return `local (identity unknown: STS answered ${response.status})`;
    return arn;
  } catch (error) {
    return `local (identity unknown: ${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The `<Arn>` of a GetCallerIdentity answer (XML). */
export function arnOfCallerIdentity(xml: string): string | undefined {
  return /<Arn>([^<]+)<\/Arn>/.exec(xml)?.[1]?.trim();
}

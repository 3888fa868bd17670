import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// `tandem/client` runs in a team's own services: bundled, it must hold no server-side code of
// Tandem (its adapters, handlers, infrastructure) nor the SDK clients and libraries they use.
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

const SERVER_ONLY_PACKAGES = [
  /^@aws-sdk\/client-/,
  /^@aws-sdk\/lib-/,
  /^@aws-sdk\/util-dynamodb$/,
  /^@aws-lambda-powertools\//,
  /^aws-cdk-lib$/,
  /^constructs$/,
];

/** The package a bundle input comes from (`@scope/name` or `name`), or undefined for the repo's own files. */
function packageOf(input: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1];
}

describe('the tandem/client bundle', () => {
  it('holds the client and pure shared modules only: no adapters, handlers or server SDK clients', async () => {
    // Act
    const { metafile } = await build({
      entryPoints: [resolve(ROOT, 'client/index.ts')],
      absWorkingDir: ROOT,
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });

    // Assess
    const inputs = Object.keys(metafile.inputs);
    const own = inputs.filter((input) => packageOf(input) === undefined);
    const packages = [...new Set(inputs.flatMap((input) => packageOf(input) ?? []))];
    expect(own).toContain('client/client.ts');
    expect(own.filter((input) => !/^(client|shared)\//.test(input))).toEqual([]);
    expect(own.filter((input) => input.startsWith('shared/adapters/'))).toEqual([]);
    expect(packages).toContain('@smithy/signature-v4');
    expect(packages.filter((name) => SERVER_ONLY_PACKAGES.some((rule) => rule.test(name)))).toEqual([]);
  });
});

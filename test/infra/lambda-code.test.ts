import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeFunction } from '../../infra/constructs/node-function';
import {
  builtLambdaCode,
  findPackageRoot,
  LAMBDA_ENTRIES,
  lambdaCodeDir,
  packageRoot,
} from '../../infra/lambda-code';

const scratch = mkdtempSync(join(tmpdir(), 'tandem-lambda-code-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the package root', () => {
  it('is the repository when the constructs run from their sources', () => {
    expect(packageRoot()).toBe(join(import.meta.dirname, '..', '..'));
  });

  it("is the nearest directory above whose package.json is Tandem's, whatever lies between", () => {
    const installed = join(scratch, 'app', 'node_modules', 'tandem');
    const nested = join(installed, 'dist', 'lib', 'infra');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(scratch, 'app', 'package.json'), '{ "name": "app" }');
    writeFileSync(join(installed, 'package.json'), '{ "name": "tandem" }');
    writeFileSync(join(installed, 'dist', 'package.json'), '{ "type": "module" }');
    expect(findPackageRoot(nested)).toBe(installed);
    expect(() => findPackageRoot(join(scratch, 'app'))).toThrow(/cannot find Tandem's package.json/);
  });
});

describe('pre-built Lambda code', () => {
  it('is found for every entry of the table once built', () => {
    for (const name of Object.keys(LAMBDA_ENTRIES)) {
      expect(builtLambdaCode(name)).toBe(lambdaCodeDir(name));
    }
  });

  it('fails the synth with what to do when a bundle was never built', () => {
    const stack = new Stack(new App(), 'Unbuilt');
    const missing = join(scratch, 'unbuilt');
    mkdirSync(missing, { recursive: true });
    expect(() => builtLambdaCode('api', missing)).toThrow(
      `Tandem's Lambda code "api" is not built: ${join(missing, 'dist', 'lambda', 'api', 'index.js')} is missing. Run \`npm run build\` in ${missing} first`,
    );
    const unknown = () =>
      new NodeFunction(stack, 'Fn', {
        // @ts-expect-error: a name that is not in the table, as plain JavaScript could pass one
        code: 'nope',
        description: 'x',
        removalPolicy: RemovalPolicy.DESTROY,
      });
    expect(unknown).toThrow(/unknown Tandem Lambda code "nope"; known: api, coordinator, /);
  });
});

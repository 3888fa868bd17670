/**
 * The package as a team gets it: `npm pack` (its prepack builds dist/), then an empty project in the
 * system's temporary directory, outside this repository, installs the tarball with aws-cdk-lib and
 * constructs (Tandem's peers, at this repository's versions; from the local npm cache when it has
 * them) and nothing else, and uses Tandem from an ES module, from CommonJS and from TypeScript,
 * synthesizing a stack of Tandem's constructs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../dev/emulator';
import { LAMBDA_ENTRIES } from '../../infra/lambda-code';
import { packTandem, run, installedVersionOf as versionOf } from '../support/consumer';

const work = mkdtempSync(join(tmpdir(), 'tandem-pack-'));
const consumer = join(work, 'consumer');
const installed = join(consumer, 'node_modules', 'tandem');
// The same stack from both module systems: a Tandem with a participant that is Tandem's counter
// function, and one that is the team's own function (bundled its own way; inline here).
const STACK = `
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const t = new tandem.Tandem(stack, 'Tandem', { removalPolicy: RemovalPolicy.DESTROY, slots: 4 });
t.addParticipant('stock', {
  counter: { entity: 'item', quantity: 'stock', idField: 'sku', amountField: 'quantity', actions: { reserve: 'take', restock: 'give' } },
});
const seats = participant.defineParticipant({
  operation: z.strictObject({ flight: z.string(), seat: z.string() }),
  itemKey: ['flight', 'seat'],
  prepare: () => [], commit: () => undefined, abort: () => undefined,
});
const seatsFn = new lambda.Function(stack, 'SeatsFn', {
  runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
});
t.addParticipant('seats', { definition: seats, handler: seatsFn });
t.addRequestQueue('orders', { fifo: true });
`;
const report = `console.log(JSON.stringify({ cdk: Object.keys(tandem), participant: Object.keys(participant), intake: Object.keys(intake), client: Object.keys(client) }));`;
const FILES: Record<string, string> = {
  'package.json': '{ "name": "tandem-consumer", "private": true }\n',
  // ES module: builds the stack (the constructs find their bundles) without synthesizing it.
  'esm.mjs': `import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as tandem from 'tandem/cdk';
import * as participant from 'tandem/participant';
import * as intake from 'tandem/intake';
import * as client from 'tandem/client';
import * as z from 'zod';
${STACK}
${report}
`,
  // CommonJS (require of Tandem's ES modules): builds the stack and synthesizes it into cdk.out.
  'cjs.cjs': `const { App, RemovalPolicy, Stack } = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const tandem = require('tandem/cdk');
const participant = require('tandem/participant');
const intake = require('tandem/intake');
const client = require('tandem/client');
const z = require('zod');
${STACK}
app.synth();
${report}
`,
  // TypeScript in both module systems, resolving Tandem's types through its package exports.
  'types.mts': `import { Stack } from 'aws-cdk-lib';
import { LEDGER_COUNTER, Tandem, type TandemProps } from 'tandem/cdk';
import { defineParticipant, participantHandler } from 'tandem/participant';
import { eventIntakeHandler, type TransactionInput } from 'tandem/intake';
import { TandemClient } from 'tandem/client';
import * as z from 'zod';
const props: TandemProps = { slots: 4, api: { auth: { type: 'jwt', issuer: 'https://issuer', audience: ['a'] } } };
const tandem = new Tandem(new Stack(), 'T', props);
tandem.addParticipant('ledger', { counter: LEDGER_COUNTER, shards: 2 });
const seats = defineParticipant({
  operation: z.strictObject({ flight: z.string(), seat: z.string() }),
  prepare: (op, tx) => ({ ConditionCheck: { TableName: tx.table, Key: { pk: op.flight + op.seat }, ConditionExpression: 'attribute_exists(pk)' } }),
  commit: () => undefined,
  abort: () => undefined,
});
export const handler = participantHandler(seats);
export const intake = eventIntakeHandler<{ from: string; to: string; cents: number }>((event): TransactionInput => ({
  operations: [
    { participant: 'ledger', action: 'debit', accountId: event.detail.from, amount: event.detail.cents },
    { participant: 'ledger', action: 'credit', accountId: event.detail.to, amount: event.detail.cents },
  ],
}));
tandem.addEventIntake('orders', { eventPattern: { source: ['shop'] } });
export const client = new TandemClient({ url: 'https://api.example.com', auth: 'none' });
`,
  // As a CommonJS CDK app (cdk init's tsconfig: module NodeNext) writes it; compiled to require().
  'types.cts': `import { Tandem } from 'tandem/cdk';
export const construct: typeof Tandem = Tandem;
`,
};

let tarballFiles: string[];

beforeAll(() => {
  const tarball = packTandem(work);
  tarballFiles = run('listing the tarball', 'tar', ['-tzf', tarball], work)
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
  mkdirSync(consumer);
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(consumer, name), text);
  run(
    'installing the tarball into an empty project',
    'npm',
    [
      'install',
      ...['--prefer-offline', '--no-audit', '--no-fund'],
      tarball,
      `aws-cdk-lib@${versionOf('aws-cdk-lib')}`,
      `constructs@${versionOf('constructs')}`,
      // A participant's schema is a zod schema of the team's own.
      `zod@${versionOf('zod')}`,
    ],
    consumer,
    {
      hint: 'It installs from the local npm cache where it can (--prefer-offline) and from the registry otherwise.',
    },
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface FunctionProperties {
  readonly Handler: string;
  readonly Code: { readonly S3Key?: string; readonly ZipFile?: string };
}
interface AssetManifestEntry {
  readonly source: { readonly path: string; readonly packaging: string };
  readonly destinations: Record<string, { readonly objectKey: string }>;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sorted = (keys: string[]) => [...keys].sort();
const sourceKeys = async () => ({
  cdk: sorted(Object.keys(await import('../../infra/index'))),
  participant: sorted(Object.keys(await import('../../shared/participant/sdk'))),
  intake: sorted(Object.keys(await import('../../shared/intake/sdk'))),
  client: sorted(Object.keys(await import('../../client/index'))),
});
const consumerKeys = (output: string) => {
  const keys = JSON.parse(output) as Record<'cdk' | 'participant' | 'intake' | 'client', string[]>;
  return {
    cdk: sorted(keys.cdk),
    participant: sorted(keys.participant),
    intake: sorted(keys.intake),
    client: sorted(keys.client),
  };
};
/** The CommonJS consumer's output, run once: it also synthesizes the stack into cdk.out. */
let cjsOutput: string | undefined;
const runCommonJs = () => {
  cjsOutput ??= run('the CommonJS consumer', process.execPath, ['cjs.cjs'], consumer);
  return cjsOutput;
};

describe('the npm package', () => {
  it('holds the built library and every Lambda bundle, and no sources', () => {
    for (const name of Object.keys(LAMBDA_ENTRIES)) {
      expect(tarballFiles).toContain(`dist/lambda/${name}/index.js`);
      expect(tarballFiles).toContain(`dist/lambda/${name}/index.js.map`);
    }
    for (const entry of [
      'infra/index',
      'shared/participant/sdk',
      'shared/intake/sdk',
      'client/index',
      'shared/https/participant-check',
    ]) {
      expect(tarballFiles).toContain(`dist/lib/${entry}.js`);
      expect(tarballFiles).toContain(`dist/lib/${entry}.d.ts`);
    }
    expect(tarballFiles.filter((path) => /\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
    expect(
      tarballFiles.filter((path) => !/^(dist\/(lambda|lib)\/|package\.json$|README\.md$)/.test(path)),
    ).toEqual([]);
  });

  it('installs without a bundler or cdk-nag', () => {
    const resolve = createRequire(join(consumer, 'package.json')).resolve;
    expect(resolve('tandem/package.json')).toBe(join(installed, 'package.json'));
    expect(() => resolve('esbuild')).toThrow(/Cannot find module 'esbuild'/);
    expect(() => resolve('cdk-nag')).toThrow(/Cannot find module 'cdk-nag'/);
  });

  it('installs the conformance kit as a command that reads its arguments', () => {
    const bin = join(consumer, 'node_modules', '.bin', 'tandem-participant-check');
    const help = spawnSync(bin, ['--help'], { cwd: consumer, encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('npx tandem-participant-check --url');
    const bad = spawnSync(bin, ['--secret', 's'], { cwd: consumer, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('participant-check: --url is required');
  });

  it('exports the same entry points to an ES module and to CommonJS as the sources do', async () => {
    const expected = await sourceKeys();
    expect(consumerKeys(run('the ES module consumer', process.execPath, ['esm.mjs'], consumer))).toEqual(
      expected,
    );
    expect(consumerKeys(runCommonJs())).toEqual(expected);
  });

  it("synthesizes a consumer's stack whose functions deploy Tandem's pre-built bundles", () => {
    runCommonJs();
    const assembly = join(consumer, 'cdk.out');
    const read = <T>(file: string) => JSON.parse(readFileSync(join(assembly, file), 'utf8')) as T;
    const template = read<{ Resources: Record<string, { Type: string; Properties: FunctionProperties }> }>(
      'Consumer.template.json',
    );
    // What `cdk deploy` uploads for each S3 key: the asset manifest's source of that file asset.
    const assets = read<{ files: Record<string, AssetManifestEntry> }>('Consumer.assets.json');
    const sourceOf = (key: string) =>
      Object.values(assets.files).find((asset) =>
        Object.values(asset.destinations).some((destination) => destination.objectKey === key),
      )?.source;
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((fn) => fn.Properties.Handler)).toEqual(Array(9).fill('index.handler'));
    // Tandem's eight (the requests queue's intake function among them) come from file assets; the
    // team's own function is its own business (inline here).
    const keys = functions.flatMap((fn) => fn.Properties.Code.S3Key ?? []);
    expect(functions.filter((fn) => fn.Properties.Code.ZipFile !== undefined)).toHaveLength(1);
    const deployed = keys.map((key) => {
      const source = sourceOf(key);
      expect(source?.packaging, key).toBe('zip');
      const dir = join(assembly, source?.path ?? `(no file asset for ${key})`);
      expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
      return sha256(join(dir, 'index.js'));
    });
    const shipped = [
      'api',
      'coordinator',
      'timers',
      'sweeper',
      'events',
      'deploy-guard',
      'participant',
      'intake',
    ].map((name) => sha256(join(installed, 'dist', 'lambda', name, 'index.js')));
    expect(deployed.sort()).toEqual(shipped.sort());
  });

  it('gives TypeScript its types through the exports, from ES modules and CommonJS', () => {
    run(
      'type-checking the TypeScript consumer',
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      [
        ...['--noEmit', '--strict', '--skipLibCheck', '--types', ''],
        ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
        'types.mts',
        'types.cts',
      ],
      consumer,
    );
  });
});
